import { describe, expect, it } from 'vitest';
import type { Counters } from '../../../worker/protocol';
import { benchRows } from './benchModel';

function counters(retired: number, exits: number, guest: number, vmm: number, hits = 0, misses = 0): Counters {
  return {
    retired,
    exits: { total: exits, byReason: { mmio: exits } },
    icache: { lookups: hits + misses, hits, misses, inserts: misses, evictions: 0, invalidations: 0, wpFaults: 0 },
    cycles: { total: guest + vmm, guest, exit: vmm, walk: 0, fetch: 0, decode: 0, emulate: 0, icache: 0 },
    hostNsPerExit: 100,
  };
}

describe('benchRows', () => {
  it('compares each strategy with none per guest instruction', () => {
    const rows = benchRows({
      none: counters(1000, 100, 1000, 9000),
      icache: counters(2000, 200, 2000, 8000, 190, 10),
    }, ['none', 'icache', 'decode-assist', 'apicv']);
    expect(rows.map((r) => r.strategy)).toEqual(['none', 'icache']);
    expect(rows[0].speedup).toBe(1);
    expect(rows[1].cpi).toBe(5);
    expect(rows[1].speedup).toBe(2);
    expect(rows[1].savedPerExit).toBe(50);
    expect(rows[1].hitRate).toBeCloseTo(0.95);
    expect(rows[0].hitRate).toBeNull();
  });
  it('has no speed-up without a none run', () => {
    expect(benchRows({ icache: counters(10, 1, 10, 10) }, ['icache'])[0].speedup).toBeNull();
  });
});
