import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMachineStore } from '../store/machineStore';
import type { Command, Counters, MachineView, RunConfig, WorkerEvent } from '../worker/protocol';
import { MachineClient, isWorkerEvent, type WorkerLike } from './machineClient';

class FakeWorker implements WorkerLike {
  sent: Command[] = [];
  terminated = false;
  onmessage: ((e: MessageEvent) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  onmessageerror: ((e: MessageEvent) => void) | null = null;
  postMessage(m: Command) { this.sent.push(m); }
  terminate() { this.terminated = true; }
  emit(ev: WorkerEvent | object) { this.onmessage?.({ data: ev } as MessageEvent); }
  crash(message: string) { this.onerror?.({ message, filename: '', lineno: 0 } as unknown as ErrorEvent); }
}

const config: RunConfig = { strategy: 'icache', preset: 'nehalem-2014', icacheSize: 64, maxInsns: 1000 };

const counters = (exits: number): Counters => ({
  retired: exits * 10,
  exits: { total: exits, byReason: { mmio: exits } },
  icache: { lookups: exits, hits: Math.max(0, exits - 1), misses: Math.min(1, exits), inserts: Math.min(1, exits), evictions: 0, invalidations: 0, wpFaults: 0 },
  cycles: { total: 0, guest: 0, exit: 0, walk: 0, fetch: 0, decode: 0, emulate: 0, device: 0, icache: 0, lookup: 0, insert: 0, protect: 0, invalidate: 0 },
  apicv: { virtualized: 0, cycles: 0 },
  hostNsPerExit: 0,
});
const view = (ripLine: number): MachineView => ({ vcpus: [], icache: [], buckets: [], pages: [], lines: [], console: `rip on line ${ripLine}` });
const loaded: WorkerEvent = { type: 'loaded', ok: true, diagnostics: [], lineMap: [], exitLines: [], start: { counters: counters(0), view: view(1), stop: null } };
const frame = (exits: number, running: boolean): WorkerEvent => ({
  type: 'frame', running, counters: counters(exits), exits: [], droppedExits: 0, view: view(running ? 3 : 4),
  stop: running ? null : { reason: 'halted', message: 'hlt' },
});

function setup() {
  const workers: FakeWorker[] = [];
  let t = 0;
  const store = createMachineStore();
  const client = new MachineClient(store, {
    createWorker: () => { const w = new FakeWorker(); workers.push(w); return w; },
    now: () => t,
    setInterval: () => 0,
    clearInterval: () => {},
    stallMs: 1000,
    startMs: 5000,
  });
  return { store, client, workers, advance: (ms: number) => { t += ms; client.checkHealth(); } };
}

describe('MachineClient', () => {
  it('posts commands and feeds events into its store', () => {
    const { store, client, workers } = setup();
    client.load('hlt', 'a.s', config);
    client.run();
    expect(workers[0].sent.map((c) => c.type)).toEqual(['load', 'run']);
    workers[0].emit({ type: 'ready' });
    expect(store.getState().ready).toBe(true);
    expect(store.getState().workerStatus).toBe('ready');
  });

  it('drops messages that are not worker events', () => {
    expect(isWorkerEvent({ type: 'frame' })).toBe(true);
    expect(isWorkerEvent({ text: [] })).toBe(false);
    expect(isWorkerEvent(null)).toBe(false);
    const { store, workers } = setup();
    workers[0].emit({ type: 'bogus' });
    expect(store.getState().error).toBeNull();
  });

  it('ignores stale diagnostics answers', () => {
    const { store, client, workers } = setup();
    client.assemble('a', 'a.s');
    client.assemble('ab', 'a.s');
    const [first, second] = workers[0].sent as Extract<Command, { type: 'assemble' }>[];
    workers[0].emit({ type: 'diagnostics', requestId: first.requestId, diagnostics: [{ file: 'a.s', line: 1, col: 1, severity: 'error', message: 'old' }] });
    expect(store.getState().diagnostics).toEqual([]);
    workers[0].emit({ type: 'diagnostics', requestId: second.requestId, diagnostics: [{ file: 'a.s', line: 1, col: 1, severity: 'error', message: 'new' }] });
    expect(store.getState().diagnostics[0].message).toBe('new');
  });

  it('reports a crash, and Reset recreates the worker and replays the program', () => {
    const { store, client, workers } = setup();
    client.setSpeed(10);
    client.setBreakpoints([3]);
    client.load('hlt', 'a.s', config);
    client.setConfig({ strategy: 'none' });
    workers[0].crash('boom');
    expect(store.getState().workerStatus).toBe('crashed');
    expect(store.getState().error).toMatch(/crashed: boom/);
    client.run(); // ignored while crashed
    expect(workers[0].sent.at(-1)?.type).toBe('setConfig');
    client.reset();
    expect(workers[0].terminated).toBe(true);
    expect(workers).toHaveLength(2);
    expect(store.getState().workerStatus).toBe('starting');
    expect(store.getState().error).toBeNull();
    const replay = workers[1].sent;
    expect(replay.map((c) => c.type)).toEqual(['setSpeed', 'setBreakpoints', 'load']);
    const load = replay[2] as Extract<Command, { type: 'load' }>;
    expect(load.config.strategy).toBe('none');
    // A late message from the dead worker changes nothing.
    workers[0].emit({ type: 'error', message: 'late' });
    expect(store.getState().error).toBeNull();
  });

  it('flags a worker that stops sending frames while running', () => {
    const { store, client, workers, advance } = setup();
    workers[0].emit({ type: 'ready' });
    workers[0].emit({ type: 'loaded', ok: true, diagnostics: [], lineMap: [], exitLines: [] });
    advance(10_000);
    expect(store.getState().workerStatus).toBe('ready'); // idle: nothing owed
    client.run();
    advance(600);
    expect(store.getState().workerStatus).toBe('ready');
    advance(600);
    expect(store.getState().workerStatus).toBe('ready'); // silent once: maybe the page was busy
    advance(500);
    expect(store.getState().workerStatus).toBe('unresponsive');
    client.reset();
    expect(workers).toHaveLength(2);
  });

  it('a worker flagged as not answering that answers after all is ready again: its frames show, the message goes, commands reach it', () => {
    const { store, client, workers, advance } = setup();
    workers[0].emit({ type: 'ready' });
    workers[0].emit({ type: 'loaded', ok: true, diagnostics: [], lineMap: [], exitLines: [] });
    client.run();
    for (let i = 0; i < 4; i++) advance(600);
    expect(store.getState().workerStatus).toBe('unresponsive');
    workers[0].emit({ type: 'frame', running: false, counters: counters(7), exits: [], droppedExits: 0, view: view(1), stop: null });
    expect(store.getState()).toMatchObject({ workerStatus: 'ready', error: null });
    expect(store.getState().counters?.exits.total).toBe(7);
    const posted = workers[0].sent.length;
    client.run();
    expect(workers[0].sent.length).toBe(posted + 1);
    expect(workers).toHaveLength(1);
  });

  it('expects no answer to Run when there is no machine to run', () => {
    const { store, client, workers, advance } = setup();
    workers[0].emit({ type: 'ready' });
    workers[0].emit({ type: 'loaded', ok: false, diagnostics: [], lineMap: [], exitLines: [] });
    client.run();
    advance(10_000);
    expect(store.getState().workerStatus).toBe('ready');
  });

  it('flags a worker that never starts', () => {
    const { store, advance } = setup();
    advance(4000);
    expect(store.getState().workerStatus).toBe('starting');
    advance(2000);
    expect(store.getState().workerStatus).toBe('starting');
    advance(500);
    expect(store.getState().workerStatus).toBe('unresponsive');
  });

  it('gives a load as long as a start: assembling a long program takes seconds', () => {
    const { store, client, workers, advance } = setup();
    workers[0].emit({ type: 'ready' });
    client.load('hlt', 'a.s', config);
    for (let i = 0; i < 8; i++) advance(500);
    expect(store.getState().workerStatus).toBe('ready');
    for (let i = 0; i < 10; i++) advance(500);
    expect(store.getState().workerStatus).toBe('unresponsive');
    expect(store.getState().error).toMatch(/no answer to a load for 5 s/);
  });

  it('does not blame a worker whose answer waits behind a busy page', () => {
    const { store, client, workers, advance } = setup();
    workers[0].emit({ type: 'ready' });
    client.load('hlt', 'a.s', config);
    // The page was blocked for 3 s; its overdue check runs before the Worker's queued answer.
    advance(3000);
    workers[0].emit({ type: 'loaded', ok: true, diagnostics: [], lineMap: [], exitLines: [] });
    advance(500);
    expect(store.getState().workerStatus).toBe('ready');
  });

  it('a plain reset goes to the live worker', () => {
    const { client, workers } = setup();
    workers[0].emit({ type: 'ready' });
    client.reset();
    expect(workers).toHaveLength(1);
    expect(workers[0].sent.at(-1)).toEqual({ type: 'reset' });
  });

  describe('Run after the end', () => {
    afterEach(() => vi.useRealTimers());

    /** A client whose machine ran to its end (3 exits, halted). */
    function halted() {
      const t = setup();
      t.workers[0].emit({ type: 'ready' });
      t.client.load('hlt', 'a.s', config);
      t.workers[0].emit(loaded);
      t.workers[0].emit(frame(3, false));
      expect(t.store.getState().stop?.reason).toBe('halted');
      return t;
    }

    it('the load\'s answer waits for the run\'s first frame: the store goes from the previous run straight to the running one', () => {
      const { store, client, workers } = halted();
      client.load('hlt', 'a.s', config);
      client.run();
      expect(workers[0].sent.slice(-2).map((c) => c.type)).toEqual(['load', 'run']);
      expect(store.getState()).toMatchObject({ restarting: true, counters: { exits: { total: 3 } } });
      workers[0].emit(loaded);
      // Held: the previous run still shows, marked.
      expect(store.getState()).toMatchObject({ restarting: true, counters: { exits: { total: 3 } } });
      const seen: [boolean, number | undefined][] = [];
      store.subscribe((s) => seen.push([s.restarting, s.counters?.exits.total]));
      workers[0].emit(frame(40, true));
      // Both in one task: exit 0 never reached the page on its own (React renders the task's last state).
      expect(store.getState()).toMatchObject({ restarting: false, running: true, counters: { exits: { total: 40 } } });
      expect(seen).toEqual([[false, 0], [false, 40]]);
    });

    it('without a frame the answer shows after a beat; a Reset\'s answer (no run follows) shows at once', () => {
      vi.useFakeTimers();
      const { store, client, workers } = halted();
      client.load('hlt', 'a.s', config);
      client.run();
      workers[0].emit(loaded);
      expect(store.getState().restarting).toBe(true);
      vi.advanceTimersByTime(600);
      expect(store.getState()).toMatchObject({ restarting: false, counters: { exits: { total: 0 } } });

      workers[0].emit(frame(3, false));
      client.reset();
      expect(store.getState()).toMatchObject({ restarting: true, counters: { exits: { total: 3 } } });
      workers[0].emit(loaded);
      expect(store.getState()).toMatchObject({ restarting: false, counters: { exits: { total: 0 } } });
    });
  });
});
