import { describe, expect, it } from 'vitest';
import type { Counters } from '../../../worker/protocol';
import { cyclesPerExitHandled, exitShare, handlingCycles, hitRate, runCyclesPerExit } from './runFigures';

function counters(p: { exits: number; total: number; guest: number; apicv?: number; hits?: number; misses?: number }): Counters {
  const apicv = p.apicv ?? 0;
  return {
    retired: 100,
    exits: { total: p.exits, byReason: { mmio: p.exits } },
    icache: { lookups: (p.hits ?? 0) + (p.misses ?? 0), hits: p.hits ?? 0, misses: p.misses ?? 0, inserts: 0, evictions: 0, invalidations: 0, wpFaults: 0 },
    cycles: { total: p.total, guest: p.guest, exit: 0, walk: 0, fetch: 0, decode: 0, emulate: apicv, device: 0, icache: 0, lookup: 0, insert: 0, protect: 0, invalidate: 0 },
    apicv: { virtualized: apicv ? 10 : 0, cycles: apicv },
    hostNsPerExit: 0,
  };
}

describe('run figures', () => {
  it('keeps the cost of one exit apart from the run cycles per exit', () => {
    const c = counters({ exits: 10, total: 100_000, guest: 60_000 });
    expect(cyclesPerExitHandled(c)).toBe(4000);
    expect(runCyclesPerExit(c)).toBe(10_000);
    expect(exitShare(c)).toBeCloseTo(0.4);
  });

  it('does not spread virtualized APIC accesses over the exits that remain', () => {
    const c = counters({ exits: 3, total: 2_000_000, guest: 40_000, apicv: 1_940_000 });
    expect(handlingCycles(c)).toBe(20_000);
    expect(cyclesPerExitHandled(c)).toBeCloseTo(6666.67, 1);
    expect(exitShare(c)).toBeCloseTo(0.01);
  });

  it('has no figure where there is nothing to divide by', () => {
    const c = counters({ exits: 0, total: 0, guest: 0 });
    expect(cyclesPerExitHandled(c)).toBeNull();
    expect(runCyclesPerExit(c)).toBeNull();
    expect(exitShare(c)).toBeNull();
    expect(hitRate(c)).toBeNull();
    expect(hitRate(counters({ exits: 4, total: 1, guest: 0, hits: 3, misses: 1 }))).toBe(0.75);
  });
});
