import { describe, expect, it } from 'vitest';
import type { BenchRun } from '../../../store/benchStore';
import type { Counters, Strategy } from '../../../worker/protocol';
import { benchRows, hostClockSteps, ROUGH_BELOW_STEPS } from './benchModel';

const ORDER: Strategy[] = ['none', 'icache', 'decode-assist', 'apicv'];

function counters(retired: number, exits: number, guest: number, vmm: number, hits = 0, misses = 0, apicv = 0): Counters {
  return {
    retired,
    exits: { total: exits, byReason: { mmio: exits } },
    icache: { lookups: hits + misses, hits, misses, inserts: misses, evictions: 0, invalidations: 0, wpFaults: 0 },
    cycles: { total: guest + vmm + apicv, guest, exit: vmm, walk: 0, fetch: 0, decode: 0, emulate: apicv, device: 0, icache: 0, lookup: 0, insert: 0, protect: 0, invalidate: 0 },
    apicv: { virtualized: apicv ? 100 : 0, cycles: apicv },
    hostNsPerExit: exits ? 100 : 0,
  };
}

function run(strategy: Strategy, c: Counters, preset = 'nehalem-2014', source = 'p'): BenchRun {
  return { source, file: `${source}.s`, strategy, preset, icacheSize: strategy === 'icache' ? 256 : null, counters: c };
}

describe('benchRows', () => {
  it('compares each strategy with none of the same preset, per guest instruction', () => {
    const rows = benchRows([
      run('icache', counters(2000, 200, 2000, 8000, 190, 10)),
      run('none', counters(1000, 100, 1000, 9000)),
    ], 'p', ORDER);
    expect(rows.map((r) => r.strategy)).toEqual(['none', 'icache']);
    expect(rows[0].speedup).toBe(1);
    expect(rows[1].cpi).toBe(5);
    expect(rows[1].speedup).toBe(2);
    expect(rows[1].hitRate).toBeCloseTo(0.95);
    expect(rows[0].hitRate).toBeNull();
    expect(rows[1]).toMatchObject({ file: 'p.s', preset: 'nehalem-2014', icacheSize: 256, cyclesPerExit: 40 });
  });

  it('a run without exits has no cost per exit and no host time per exit (not 0); nor one whose exits the VMM did not emulate', () => {
    const [row] = benchRows([run('none', counters(1000, 0, 1000, 0))], 'p', ORDER);
    expect(row.cyclesPerExit).toBeNull();
    expect(row.hostNsPerExit).toBeNull();
    expect(benchRows([run('none', counters(1000, 10, 1000, 90))], 'p', ORDER)[0].hostNsPerExit).toBe(100);
    // apicv's lapic-microbench: 3 exits, none through the emulation path, nothing timed ("0" before).
    expect(benchRows([run('apicv', { ...counters(1000, 3, 1000, 90), hostNsPerExit: 0 })], 'p', ORDER)[0].hostNsPerExit).toBeNull();
  });

  it('never mixes in another program, and compares within one preset only', () => {
    const rows = benchRows([
      run('none', counters(1000, 100, 1000, 9000), 'nehalem-2014'),
      run('icache', counters(1000, 100, 1000, 4000, 99, 1), 'skylake-2020'),
      run('none', counters(5, 5, 5, 5), 'nehalem-2014', 'other program'),
    ], 'p', ORDER);
    expect(rows.map((r) => [r.strategy, r.preset])).toEqual([['none', 'nehalem-2014'], ['icache', 'skylake-2020']]);
    expect(rows[1].speedup).toBeNull();
  });

  it('does not spread virtualized APIC accesses over the exits that remain', () => {
    const [r] = benchRows([run('apicv', counters(1000, 3, 1000, 3000, 0, 0, 2_000_000))], 'p', ORDER);
    expect(r.cyclesPerExit).toBe(1000);
    expect(r.virtualized).toBe(100);
  });

  it("counts the host clock's steps the timed exits spanned: 20,000 exits of 2 µs on a 100 µs clock is rough, on a 5 µs one it is not", () => {
    const c = { ...counters(40_000, 20_000, 40_000, 1), hostNsPerExit: 2000 };
    // 1 in 16 timed: 1,250 exits of 2 µs = 2.5 ms measured in all.
    expect(hostClockSteps(c, 100_000)).toBe(25);
    expect(hostClockSteps(c, 5_000)).toBe(500);
    expect(benchRows([run('none', c)], 'p', ORDER, 100_000)[0].hostClockSteps).toBeLessThan(ROUGH_BELOW_STEPS);
    expect(benchRows([run('none', c)], 'p', ORDER, 5_000)[0].hostClockSteps).toBeGreaterThanOrEqual(ROUGH_BELOW_STEPS);
    // Only the exits the VMM emulated were timed: io exits add nothing.
    const withIo = { ...c, exits: { total: 20_010, byReason: { mmio: 20_000, io: 10 } } };
    expect(hostClockSteps(withIo, 100_000)).toBe(25);
  });
});
