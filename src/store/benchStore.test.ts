import { describe, expect, it } from 'vitest';
import { createMachineStore, type LoadedProgram } from './machineStore';
import { useBenchStore, watchBench } from './benchStore';
import type { StopInfo } from '../core/events';
import type { Counters } from '../worker/protocol';

const counters = (exits: number): Counters => ({
  retired: exits * 2,
  exits: { total: exits, byReason: { mmio: exits } },
  icache: { lookups: 0, hits: 0, misses: 0, inserts: 0, evictions: 0, invalidations: 0, wpFaults: 0 },
  cycles: { total: exits * 100, guest: exits, exit: 0, walk: 0, fetch: 0, decode: 0, emulate: 0, device: 0, icache: 0, lookup: 0, insert: 0, protect: 0, invalidate: 0 },
  apicv: { virtualized: 0, cycles: 0 },
  hostNsPerExit: 0,
});

const program = (source: string, strategy: 'icache' | 'none', preset = 'nehalem-2014'): LoadedProgram => ({
  source, file: 'a.s', config: { strategy, preset, icacheSize: 64, maxInsns: 1e9 },
});

function frame(exits: number, stop: StopInfo | null) {
  return { type: 'frame' as const, running: stop === null, counters: counters(exits), exits: [], droppedExits: 0, stop };
}

function setup() {
  useBenchStore.getState().clear();
  const machine = createMachineStore();
  watchBench(machine);
  return { machine };
}

describe('bench store', () => {
  it('records a run once it halts, under the program and config it was loaded with', () => {
    const { machine } = setup();
    machine.getState().beginLoad(program('p1', 'icache'));
    machine.getState().ingest({ type: 'loaded', ok: true, diagnostics: [], lineMap: [], exitLines: [] });
    machine.getState().ingest(frame(5, null));
    expect(useBenchStore.getState().runs).toHaveLength(0);
    machine.getState().ingest(frame(7, { reason: 'halted', message: 'hlt' }));
    expect(useBenchStore.getState().runs).toMatchObject([{ source: 'p1', strategy: 'icache', icacheSize: 64, counters: { exits: { total: 7 } } }]);
  });

  it('records a run once: back at its end after a seek, the row keeps the host time the run measured', () => {
    const { machine } = setup();
    machine.getState().beginLoad(program('p1', 'icache'));
    machine.getState().ingest({ type: 'loaded', ok: true, diagnostics: [], lineMap: [], exitLines: [] });
    machine.getState().ingest({ ...frame(7, { reason: 'halted', message: 'hlt' }), counters: { ...counters(7), hostNsPerExit: 800 } });
    const timeline = { first: 0, end: 7, at: null, retired: 14, marks: [], bytes: 0, budget: 1 };
    const travel = (at: number | null, hostNsPerExit: number, stop: StopInfo | null) => machine.getState().ingest({
      type: 'timeTravel', counters: { ...counters(at ?? 7), hostNsPerExit }, view: null as never, stop, timeline: { ...timeline, at }, exit: null, passed: [],
    });
    travel(3, 810, null);
    // The seek's re-run took host time too: the present's counters come back with another figure.
    travel(null, 790, { reason: 'halted', message: 'hlt' });
    expect(useBenchStore.getState().runs.map((r) => r.counters.hostNsPerExit)).toEqual([800]);
  });

  it('leaves out runs that did not end by halting, and frames of the program before a load', () => {
    const { machine } = setup();
    machine.getState().beginLoad(program('p1', 'icache'));
    machine.getState().ingest({ type: 'loaded', ok: true, diagnostics: [], lineMap: [], exitLines: [] });
    machine.getState().ingest(frame(5, { reason: 'unsupported', message: 'xor' }));
    // The strategy changes: a late frame of the icache run must not become a 'none' row.
    machine.getState().beginLoad(program('p1', 'none'));
    machine.getState().ingest(frame(9, { reason: 'halted', message: 'late frame of the old machine' }));
    expect(useBenchStore.getState().runs).toHaveLength(0);
    machine.getState().ingest({ type: 'loaded', ok: true, diagnostics: [], lineMap: [], exitLines: [] });
    machine.getState().ingest(frame(11, { reason: 'halted', message: 'hlt' }));
    expect(useBenchStore.getState().runs.map((r) => [r.strategy, r.icacheSize, r.counters.exits.total])).toEqual([['none', null, 11]]);
  });
});
