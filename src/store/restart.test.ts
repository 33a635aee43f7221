/**
 * Loading a program again with the real Worker host (in Node) feeding a real machine store: the
 * same program (Run after the end, Reset) keeps the previous run, marked `restarting`, until the
 * load's answer, which brings the new machine's exit 0; another program, another configuration
 * or a program with errors clears the run at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MachineHost } from '../worker/host';
import type { RunConfig, WorkerEvent } from '../worker/protocol';
import { createMachineStore, type LoadedProgram, type MachineState, type MachineStore } from './machineStore';

const LOOP = '_start:\n  mov rbx, LAPIC_BASE\n  mov ecx, 30\n.l:\n  mov eax, [rbx + LAPIC_ID]\n  mov dword [rbx + LAPIC_TPR], 0x10\n  dec ecx\n  jnz .l\n  hlt\n';
const CONFIG: RunConfig = { strategy: 'icache', preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 1_000_000 };

const hosts: MachineHost[] = [];
afterEach(() => {
  for (const h of hosts.splice(0)) h.dispose();
});

/** A store fed by a real host, as the MachineClient does (every event, in order). */
function machine() {
  const store = createMachineStore();
  const events: WorkerEvent[] = [];
  const host = new MachineHost((e) => {
    events.push(e);
    store.getState().ingest(e);
  });
  hosts.push(host);
  const load = (program: LoadedProgram) => {
    store.getState().beginLoad(program);
    host.handle({ type: 'load', ...program });
  };
  const runToEnd = () => {
    for (let i = 0; i < 200 && !store.getState().stop; i++) host.handle({ type: 'stepExit' });
  };
  return { store, host, events, load, runToEnd };
}

/** Every state the store goes through from now on. */
function states(store: MachineStore): MachineState[] {
  const seen: MachineState[] = [];
  store.subscribe((s) => seen.push(s));
  return seen;
}

const figures = (s: MachineState) => ({
  exits: s.counters?.exits.total ?? null,
  retired: s.counters?.retired ?? null,
  viewRetired: s.view?.vcpus[0].retired ?? null,
  ripLine: s.view?.vcpus[0].line ?? null,
  log: s.exitLog.length,
  timelineEnd: s.timeline?.end ?? null,
});

describe('loading a program again', () => {
  it('the same program: the previous run stays, marked restarting, with no empty view until the answer brings the new machine at exit 0', () => {
    const { store, host, events, load, runToEnd } = machine();
    load({ source: LOOP, file: 'loop.s', config: CONFIG });
    // The load's answer is the new machine before its first instruction: no frame is needed.
    expect(figures(store.getState())).toMatchObject({ exits: 0, retired: 0, viewRetired: 0, log: 0, timelineEnd: 0 });
    const exitZero = figures(store.getState());
    runToEnd();
    const end = store.getState();
    expect(end.stop?.reason).toBe('halted');
    expect(end.counters?.exits.total).toBe(61);
    const midRun = events.find((e): e is Extract<WorkerEvent, { type: 'frame' }> => e.type === 'frame' && e.counters.exits.total === 30);
    expect(midRun).toBeDefined();
    const runId = end.runId;

    const seen = states(store);
    // Run after the end (or Reset): the same program, as a new object.
    store.getState().beginLoad({ source: LOOP, file: 'loop.s', config: { ...CONFIG } });
    const restarting = store.getState();
    expect(restarting).toMatchObject({ restarting: true, awaitingLoad: true, running: false, stop: null, loaded: false, runId });
    // Every figure and view of the previous run is still there, and the same program.
    expect(figures(restarting)).toEqual(figures(end));
    expect(restarting.view).toBe(end.view);
    expect(restarting.history).toBe(end.history);
    expect(restarting.selectedExit).toBe(end.selectedExit);
    expect(restarting.program).toBe(end.program);
    expect(restarting.lineMap).toBe(end.lineMap);
    // A frame the old machine sent before the load is not shown as the new run's.
    store.getState().ingest(midRun!);
    expect(figures(store.getState())).toEqual(figures(end));

    host.handle({ type: 'load', source: LOOP, file: 'loop.s', config: CONFIG });
    const fresh = store.getState();
    // One update from the previous run to the new machine at exit 0.
    expect(fresh).toMatchObject({ restarting: false, awaitingLoad: false, loaded: true, stop: null, selectedExit: null, droppedExits: 0 });
    expect(fresh.runId).toBe(runId + 1);
    expect(figures(fresh)).toEqual(exitZero);
    expect(fresh.history).toEqual([]);
    // No state in between had no view or no counters.
    expect(seen.every((s) => s.view !== null && s.counters !== null)).toBe(true);
    expect(seen.filter((s) => !s.restarting).map(figures)).toEqual([exitZero]);
  });

  it('another program, another configuration, or a program with errors: the run clears at once', () => {
    const { store, load, runToEnd } = machine();
    load({ source: LOOP, file: 'loop.s', config: CONFIG });
    runToEnd();
    expect(store.getState().stop?.reason).toBe('halted');

    // Another configuration of the same program: counters of two configurations never mix.
    const runId = store.getState().runId;
    store.getState().beginLoad({ source: LOOP, file: 'loop.s', config: { ...CONFIG, strategy: 'none' } });
    expect(store.getState()).toMatchObject({ restarting: false, view: null, counters: null, exitLog: [], history: [], timeline: null, selectedExit: null, lineMap: [] });
    expect(store.getState().runId).toBe(runId + 1);
    load({ source: LOOP, file: 'loop.s', config: { ...CONFIG, strategy: 'none' } });
    runToEnd();
    expect(store.getState().counters?.icache.lookups).toBe(0);

    // Another program (an edit): cleared at once, then its own exit 0.
    const edited = LOOP.replace('mov ecx, 30', 'mov ecx, 3');
    store.getState().beginLoad({ source: edited, file: 'loop.s', config: CONFIG });
    expect(store.getState()).toMatchObject({ restarting: false, view: null, counters: null, exitLog: [] });

    // A program with errors: its diagnostics, and no run state at all.
    load({ source: 'mov rax,\n', file: 'bad.s', config: CONFIG });
    const bad = store.getState();
    expect(bad).toMatchObject({ loaded: false, restarting: false, awaitingLoad: false, view: null, counters: null, timeline: null, exitLog: [] });
    expect(bad.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    // Loading it again keeps nothing either (there is no run to keep).
    store.getState().beginLoad({ source: 'mov rax,\n', file: 'bad.s', config: CONFIG });
    expect(store.getState()).toMatchObject({ restarting: false, view: null, counters: null });
  });

  it('a reload that fails with an error does not keep the previous run', () => {
    const { store, load, runToEnd } = machine();
    load({ source: LOOP, file: 'loop.s', config: CONFIG });
    runToEnd();
    store.getState().beginLoad({ source: LOOP, file: 'loop.s', config: CONFIG });
    expect(store.getState().restarting).toBe(true);
    store.getState().ingest({ type: 'error', message: 'out of memory' });
    expect(store.getState()).toMatchObject({ restarting: false, error: 'out of memory', view: null, counters: null, exitLog: [] });
  });
});
