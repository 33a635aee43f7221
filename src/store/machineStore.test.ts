import { describe, expect, it } from 'vitest';
import { createMachineStore, defaultMachineStore, useMachineStore } from './machineStore';
import type { Counters } from '../worker/protocol';

const counters = (exits: number): Counters => ({
  retired: exits * 10,
  exits: { total: exits, byReason: { mmio: exits } },
  icache: { lookups: exits, hits: Math.max(0, exits - 1), misses: 1, inserts: 1, evictions: 0, invalidations: 0, wpFaults: 0 },
  cycles: { total: 0, guest: 0, exit: 0, walk: 0, fetch: 0, decode: 0, emulate: 0, icache: 0, lookup: 0, insert: 0, protect: 0, invalidate: 0 },
  apicv: { virtualized: 0, cycles: 0 },
  hostNsPerExit: 0,
});

describe('machine store', () => {
  it('two stores are independent (A/B mode)', () => {
    const a = createMachineStore(() => 0);
    const b = createMachineStore(() => 0);
    a.getState().ingest({ type: 'ready' });
    a.getState().ingest({ type: 'frame', running: true, counters: counters(4), exits: [], droppedExits: 0, view: null as never, stop: null });
    expect(a.getState().counters?.exits.total).toBe(4);
    expect(b.getState().counters).toBeNull();
    expect(b.getState().ready).toBe(false);
  });

  it('useMachineStore.getState is the default store', () => {
    expect(useMachineStore.getState()).toBe(defaultMachineStore.getState());
  });

  it('a failed worker status stops the run with a message; starting clears the run', () => {
    const s = createMachineStore(() => 0);
    s.getState().ingest({ type: 'frame', running: true, counters: counters(1), exits: [], droppedExits: 0, view: null as never, stop: null });
    s.getState().setWorkerStatus('crashed', 'boom');
    expect(s.getState()).toMatchObject({ workerStatus: 'crashed', running: false, error: 'boom' });
    s.getState().setWorkerStatus('starting');
    expect(s.getState()).toMatchObject({ workerStatus: 'starting', error: null, counters: null, loaded: false });
  });

  it('samples hit rate into the chart history', () => {
    let t = 0;
    const s = createMachineStore(() => t);
    t = 1000;
    s.getState().ingest({ type: 'frame', running: true, counters: counters(4), exits: [], droppedExits: 0, view: null as never, stop: null });
    expect(s.getState().history[0].hitRate).toBeCloseTo(0.75);
  });

  it('charts every exit by reason, not only the few a frame lists at full speed', () => {
    let t = 0;
    const s = createMachineStore(() => t);
    const listed = (n: number) => Array.from({ length: n }, (_, i) => ({ seq: i, reason: 'mmio', stages: [] })) as never;
    t = 500;
    s.getState().ingest({ type: 'frame', running: true, counters: counters(10_000), exits: listed(3), droppedExits: 9_997, view: null as never, stop: null });
    t = 1500;
    s.getState().ingest({ type: 'frame', running: true, counters: counters(30_000), exits: listed(2), droppedExits: 19_998, view: null as never, stop: null });
    const [first, second] = s.getState().history;
    // 10,000 exits in the run's first 500 ms; 20,000 in the next second.
    expect(first.byReasonPerSec.mmio).toBeCloseTo(20_000);
    expect(first.exitsPerSec).toBeCloseTo(20_000);
    expect(second.byReasonPerSec.mmio).toBeCloseTo(20_000);
    expect(second.exitsPerSec).toBeCloseTo(20_000);
  });
});
