import { describe, expect, it } from 'vitest';
import { createMachineStore, defaultMachineStore, EXIT_LOG_CAPACITY, stageCyclesOf, useMachineStore } from './machineStore';
import { buildMachine } from '../core/machine';
import type { ExitEvent, StageName } from '../core/events';
import { SCENARIOS } from '../scenarios';
import type { Counters } from '../worker/protocol';
import { MachineHost } from '../worker/host';

const counters = (exits: number): Counters => ({
  retired: exits * 10,
  exits: { total: exits, byReason: { mmio: exits } },
  icache: { lookups: exits, hits: Math.max(0, exits - 1), misses: 1, inserts: 1, evictions: 0, invalidations: 0, wpFaults: 0 },
  cycles: { total: 0, guest: 0, exit: 0, walk: 0, fetch: 0, decode: 0, emulate: 0, device: 0, icache: 0, lookup: 0, insert: 0, protect: 0, invalidate: 0 },
  apicv: { virtualized: 0, cycles: 0 },
  hostNsPerExit: 0,
});

describe('machine store', () => {
  it('two stores are independent (A/B mode)', () => {
    const a = createMachineStore();
    const b = createMachineStore();
    a.getState().ingest({ type: 'ready' });
    a.getState().ingest({ type: 'frame', running: true, counters: counters(4), exits: [], droppedExits: 0, view: null as never, stop: null });
    expect(a.getState().counters?.exits.total).toBe(4);
    expect(b.getState().counters).toBeNull();
    expect(b.getState().ready).toBe(false);
  });

  it('useMachineStore.getState is the default store', () => {
    expect(useMachineStore.getState()).toBe(defaultMachineStore.getState());
  });

  it('exits the log drops past its capacity count as not listed, with those the Worker never sent', () => {
    const s = createMachineStore();
    const exit = (seq: number) => ({ seq }) as ExitEvent;
    const total = EXIT_LOG_CAPACITY + 5;
    const exits = Array.from({ length: total }, (_, i) => exit(i));
    s.getState().ingest({ type: 'frame', running: true, counters: counters(total + 7), exits, droppedExits: 7, view: null as never, stop: null });
    const { exitLog, droppedExits } = s.getState();
    expect(exitLog.length).toBe(EXIT_LOG_CAPACITY * 0.9);
    // Listed and not listed add up to the exits taken ("N not listed" had left the log's own drops out).
    expect(exitLog.length + droppedExits).toBe(total + 7);
    expect(exitLog[0].seq).toBe(total - EXIT_LOG_CAPACITY * 0.9);
  });

  it('running on from a past exit counts as not listed only the exits before it that the log lacks, not those of the dropped future too, and selects none of them', () => {
    const s = createMachineStore();
    const exit = (seq: number) => ({ seq }) as ExitEvent;
    // 100 exits, 6 listed (0-2 and 97-99): 94 not listed.
    s.getState().ingest({ type: 'frame', running: false, counters: counters(100), exits: [0, 1, 2, 97, 98, 99].map(exit), droppedExits: 94, view: null as never, stop: null });
    expect(s.getState().selectedExit?.seq).toBe(99);
    // Run from exit 50: exits 50-99 run again.
    s.getState().ingest({ type: 'futureDropped', at: 50 });
    expect(s.getState().exitLog.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(s.getState().droppedExits).toBe(47);
    // Exit 99, selected at the stop, is not taken yet: nothing is selected.
    expect(s.getState().selectedExit).toBeNull();
    // The new future: 50 more exits, 2 listed. Listed and not listed add up to the exits taken.
    s.getState().ingest({ type: 'frame', running: false, counters: counters(100), exits: [98, 99].map(exit), droppedExits: 48, view: null as never, stop: null });
    expect(s.getState().exitLog.length + s.getState().droppedExits).toBe(100);
  });

  it('a step back from exit k, which the machine has then not taken, selects no exit; a seek selects its own', () => {
    const s = createMachineStore();
    const h = new MachineHost((e) => s.getState().ingest(e));
    try {
      const source = '_start:\n  mov rbx, LAPIC_BASE\n  mov ecx, 30\n.l:\n  mov eax, [rbx + LAPIC_ID]\n  dec ecx\n  jnz .l\n  hlt\n';
      h.handle({ type: 'load', source, file: 'loop.s', config: { strategy: 'icache', preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 1_000_000 } });
      for (let i = 0; i < 40 && s.getState().stop === null; i++) h.handle({ type: 'stepExit' });
      h.handle({ type: 'seekExit', exit: 20 });
      expect(s.getState().selectedExit?.seq).toBe(20);
      h.handle({ type: 'stepBack' });
      expect(s.getState().counters?.exits.total).toBe(20);
      // The pipeline, walk and log had gone on showing exit #20 as taken.
      expect(s.getState().selectedExit).toBeNull();
      h.handle({ type: 'seekExit', exit: 10 });
      expect(s.getState().selectedExit?.seq).toBe(10);
    } finally {
      h.dispose();
    }
  });

  it('a failed worker status stops the run with a message; starting clears the run', () => {
    const s = createMachineStore();
    s.getState().ingest({ type: 'frame', running: true, counters: counters(1), exits: [], droppedExits: 0, view: null as never, stop: null });
    s.getState().setWorkerStatus('crashed', 'boom');
    expect(s.getState()).toMatchObject({ workerStatus: 'crashed', running: false, error: 'boom' });
    s.getState().setWorkerStatus('starting');
    expect(s.getState()).toMatchObject({ workerStatus: 'starting', error: null, counters: null, loaded: false });
  });

  it('a start or resume counts in `starts` and keeps the state the machine stood in; frames of the run keep it', () => {
    const s = createMachineStore();
    const frame = (running: boolean, exits: number) => s.getState().ingest({ type: 'frame', running, counters: counters(exits), exits: [], droppedExits: 0, view: null as never, stop: null });
    frame(true, 4);
    expect(s.getState().starts).toBe(1);
    frame(true, 8);
    frame(false, 190); // paused
    expect(s.getState().starts).toBe(1);
    frame(true, 260); // resumed: the first frame of the run on is already past the pause
    expect(s.getState()).toMatchObject({ starts: 2, running: true, counters: { exits: { total: 260 } } });
    expect(s.getState().stood).toMatchObject({ running: false, counters: { exits: { total: 190 } }, stood: null });
    frame(true, 300);
    expect(s.getState().stood?.counters?.exits.total).toBe(190);
    s.getState().clear(); // a new run: the old one's state is not kept
    expect(s.getState()).toMatchObject({ stood: null, starts: 2 });
  });

  it('takes the chart history from the Worker\'s points, hit rate and exits by reason from their counters', () => {
    const s = createMachineStore();
    const chart = [{ t: 5, counters: counters(4) }, { t: 9, counters: counters(8) }];
    s.getState().ingest({ type: 'frame', running: false, counters: counters(8), exits: [], droppedExits: 0, view: null as never, stop: null, chart });
    const [first, second] = s.getState().history;
    expect(first).toMatchObject({ t: 5, exits: 4, retired: 40, exitsByReason: { mmio: 4 } });
    expect(first.hitRate).toBeCloseTo(0.75);
    expect(second).toMatchObject({ exits: 8, exitsByReason: { mmio: 8 } });
    // Before any lookup (none looks nothing up) a sample has no hit rate, not 0.
    const none = { ...counters(3), icache: { ...counters(3).icache, lookups: 0, hits: 0, misses: 0 } };
    s.getState().ingest({ type: 'frame', running: false, counters: none, exits: [], droppedExits: 0, view: null as never, stop: null, chart: [{ t: 1, counters: none }] });
    expect(s.getState().history[0].hitRate).toBeNull();
    s.getState().ingest({ type: 'frame', running: false, counters: counters(8), exits: [], droppedExits: 0, view: null as never, stop: null, chart });
    // A frame without points (no view) keeps the history; one with points replaces it.
    s.getState().ingest({ type: 'frame', running: true, counters: counters(9), exits: [], droppedExits: 0, stop: null });
    expect(s.getState().history).toHaveLength(2);
    s.getState().ingest({ type: 'frame', running: true, counters: counters(9), exits: [], droppedExits: 0, view: null as never, stop: null, chart: chart.slice(0, 1) });
    expect(s.getState().history).toHaveLength(1);
  });

  it("shows a running frame's exit rate as the Worker measured it, every exit counted, and 0 once stopped", () => {
    const s = createMachineStore();
    const listed = (n: number) => Array.from({ length: n }, (_, i) => ({ seq: i, reason: 'mmio', stages: [] })) as never;
    s.getState().ingest({ type: 'loaded', ok: true, diagnostics: [], lineMap: [], exitLines: [], start: { counters: counters(0), view: null as never, stop: null } });
    // Two frames ingested in one task (the client batches them) keep each its own rate.
    s.getState().ingest({ type: 'frame', running: true, counters: counters(10_000), exits: listed(3), droppedExits: 9_997, exitsPerSec: 480_000, view: null as never, stop: null });
    expect(s.getState().exitsPerSec).toBe(480_000);
    s.getState().ingest({ type: 'frame', running: true, counters: counters(30_000), exits: listed(2), droppedExits: 19_998, exitsPerSec: 500_000, view: null as never, stop: null });
    expect(s.getState().exitsPerSec).toBe(500_000);
    s.getState().ingest({ type: 'frame', running: false, counters: counters(30_500), exits: [], droppedExits: 0, view: null as never, stop: null });
    expect(s.getState().exitsPerSec).toBe(0);
  });

  it('charts cycles per exit by stage over every exit of the interval, not the few a frame lists', () => {
    const s = createMachineStore();
    // The listed exits are the newest of the frame; they cost 9,999 cycles in 'walk' alone.
    const listed = (n: number) => Array.from({ length: n }, (_, i) => ({ seq: i, reason: 'mmio', stages: [{ name: 'walk', cycles: 9_999 }] })) as never;
    const withCycles = (exits: number, exit: number, walk: number, emulate: number, apicv: number): Counters => {
      const c = counters(exits);
      return { ...c, cycles: { ...c.cycles, exit, walk, emulate: emulate + apicv }, apicv: { virtualized: apicv / 10, cycles: apicv } };
    };
    const chart = [{ t: 500, counters: withCycles(1_000, 1_200_000, 0, 300_000, 50_000) }, { t: 1000, counters: withCycles(3_000, 3_600_000, 4_000_000, 900_000, 50_000) }];
    s.getState().ingest({ type: 'frame', running: true, counters: chart[1].counters, exits: listed(2), droppedExits: 1_998, view: null as never, stop: null, chart });
    const [first, second] = s.getState().history;
    // APICv's accesses that did not exit are no exit's emulation.
    expect(first.cyclesPerExitByStage).toEqual({ exit: 1_200, emulate: 300 });
    expect(second.cyclesPerExitByStage).toEqual({ exit: 1_200, walk: 2_000, emulate: 300 });
  });
});

describe('exit detail', () => {
  it("an exit's detail replaces the selected exit of its number, or fills an empty selection, never an exit picked since", () => {
    const scenario = SCENARIOS.find((x) => x.name === 'lapic-microbench')!;
    const built = buildMachine(scenario.source.replace(/^ITERATIONS equ \d+/m, 'ITERATIONS equ 3'), { strategy: 'none', ramBytes: 16 * 1024 * 1024 }, 'lapic-microbench.s');
    if (!built.ok) throw new Error(built.diagnostics[0].message);
    const exits: ExitEvent[] = [];
    built.machine.setRecordWalks('all');
    built.machine.onExit = (e) => { exits.push(e); };
    built.machine.runToEnd();
    const [first, second] = exits;
    expect(first.walk?.length).toBeGreaterThan(0);
    // As the log lists them at full speed: without their walks.
    const listed = (e: ExitEvent): ExitEvent => ({ ...e, walk: undefined });
    const s = createMachineStore();
    s.getState().selectExit(listed(first));
    s.getState().ingest({ type: 'exitDetail', exit: first });
    expect(s.getState().selectedExit).toBe(first);
    // Picked exit 1, then exit 2 before exit 1's detail came: exit 2 stays.
    s.getState().selectExit(listed(first));
    s.getState().selectExit(listed(second));
    s.getState().ingest({ type: 'exitDetail', exit: first });
    expect(s.getState().selectedExit?.seq).toBe(second.seq);
    // Nothing selected (a lesson's focus the log does not list): the detail is shown.
    s.getState().selectExit(null);
    s.getState().ingest({ type: 'exitDetail', exit: second });
    expect(s.getState().selectedExit).toBe(second);
  });
});

describe('a pick while running', () => {
  it('stays selected when the run stops, where a stop or a step otherwise selects the newest exit', () => {
    const s = createMachineStore();
    const exit = (seq: number): ExitEvent => ({ seq, vm: 0, vcpu: 0, reason: 'mmio', rip: 0x1000, cr3: 0x1000, retired: seq, cycles: 2_000, stages: [] });
    const counters = (n: number) => ({ exits: { total: n } }) as unknown as Counters;
    const frame = (running: boolean, exits: ExitEvent[]) => s.getState().ingest({ type: 'frame', running, counters: counters(exits.at(-1)?.seq ?? 0), exits, droppedExits: 0, stop: null });
    frame(true, [exit(1), exit(2)]);
    s.getState().selectExit(exit(1));
    expect(s.getState().pickedWhileRunning).toBe(true);
    frame(true, [exit(3)]);
    frame(false, [exit(4)]);
    expect(s.getState().selectedExit?.seq).toBe(1);
    // Kept once: a step after it shows the newest exit.
    frame(false, [exit(5)]);
    expect(s.getState().selectedExit?.seq).toBe(5);
    // A pick after the stop is no pick while running: the next run's stop selects its newest.
    s.getState().selectExit(exit(2));
    expect(s.getState().pickedWhileRunning).toBe(false);
    frame(true, [exit(6)]);
    frame(false, [exit(7)]);
    expect(s.getState().selectedExit?.seq).toBe(7);
  });
});

describe('a pick the Worker has not answered yet', () => {
  const exit = (seq: number): ExitEvent => ({ seq, vm: 0, vcpu: 0, reason: 'mmio', rip: 0x1000, cr3: 0x1000, retired: seq, cycles: 2_000, stages: [] });
  const counters = (n: number) => ({ exits: { total: n } }) as unknown as Counters;

  it("stands over the answers to commands sent before it (a Next exit's frame, a seek's), not over those sent after", () => {
    const s = createMachineStore();
    s.getState().ingest({ type: 'frame', running: false, counters: counters(5), exits: [exit(3), exit(4)], droppedExits: 0, stop: null });
    // Next exit is sent, then exit #3 is clicked before the Next exit's frame arrives.
    s.getState().selectExit(exit(3), true);
    s.getState().ingest({ type: 'frame', running: false, counters: counters(6), exits: [exit(5)], droppedExits: 0, stop: null });
    expect(s.getState().selectedExit?.seq).toBe(3);
    // A seek sent before the click answers after it: its counters show, the pick stays.
    const view = { vcpus: [], icache: [], buckets: [], pages: [], lines: [], console: '' };
    const timeline = { first: 0, end: 6, at: 2, retired: 2, marks: [], bytes: 0, budget: 1 };
    s.getState().ingest({ type: 'timeTravel', counters: counters(2), view, stop: null, timeline, exit: exit(2), passed: [] });
    expect(s.getState().counters?.exits.total).toBe(2);
    expect(s.getState().selectedExit?.seq).toBe(3);
    // The Worker's answer to the pick: what comes after answers later commands.
    s.getState().ingest({ type: 'picked', seq: 3, running: false });
    s.getState().ingest({ type: 'timeTravel', counters: counters(1), view, stop: null, timeline: { ...timeline, at: 1 }, exit: exit(1), passed: [] });
    expect(s.getState().selectedExit?.seq).toBe(1);
  });

  it('taken while the Worker ran (before the page heard of the run) stays at the stop; dropped with the future it was of, the stop selects its newest', () => {
    const s = createMachineStore();
    s.getState().ingest({ type: 'frame', running: false, counters: counters(5), exits: [exit(3), exit(4)], droppedExits: 0, stop: null });
    s.getState().selectExit(exit(3), true);
    s.getState().ingest({ type: 'picked', seq: 3, running: true });
    s.getState().ingest({ type: 'frame', running: true, counters: counters(7), exits: [exit(5), exit(6)], droppedExits: 0, stop: null });
    s.getState().ingest({ type: 'frame', running: false, counters: counters(8), exits: [exit(7)], droppedExits: 0, stop: null });
    expect(s.getState().selectedExit?.seq).toBe(3);
    // Run from exit 2 with exit #4 (of the future it drops) clicked before the answers.
    s.getState().selectExit(exit(4), true);
    s.getState().ingest({ type: 'futureDropped', at: 2 });
    expect(s.getState().selectedExit).toBeNull();
    s.getState().ingest({ type: 'picked', seq: 4, running: true });
    s.getState().ingest({ type: 'frame', running: true, counters: counters(4), exits: [exit(2), exit(3)], droppedExits: 0, stop: null });
    s.getState().ingest({ type: 'frame', running: false, counters: counters(8), exits: [exit(7)], droppedExits: 0, stop: null });
    expect(s.getState().selectedExit?.seq).toBe(7);
  });
});

describe('stageCyclesOf', () => {
  it("is the sum of every exit's stages, from a real machine under each strategy", () => {
    for (const [name, strategy] of [['lapic-microbench', 'apicv'], ['lapic-microbench', 'none'], ['smc-mmio', 'icache']] as const) {
      const scenario = SCENARIOS.find((s) => s.name === name)!;
      const built = buildMachine(scenario.source.replace(/^ITERATIONS equ \d+/m, 'ITERATIONS equ 200'), { strategy, ramBytes: 16 * 1024 * 1024 }, `${name}.s`);
      if (!built.ok) throw new Error(built.diagnostics[0].message);
      const sums: Partial<Record<StageName, number>> = {};
      built.machine.onExit = (e) => { for (const s of e.stages) sums[s.name] = (sums[s.name] ?? 0) + s.cycles; };
      built.machine.runToEnd();
      const byStage = stageCyclesOf(built.machine.counters());
      const nonZero = Object.fromEntries(Object.entries(byStage).filter(([, v]) => v !== 0));
      expect(nonZero, `${name} under ${strategy}`).toEqual(sums);
    }
  });
});
