/**
 * The stress test body, shared by stress.test.ts and stress.part2.test.ts so that vitest runs
 * the two halves of the programs in parallel (one worker per file).
 */
import { describe, expect, it } from 'vitest';
import { describeFailures, runStress, stressSeed } from './stress';

export const STRESS_COUNT = Number(process.env.STRESS_COUNT ?? 500);
/** Chunks, so that progress shows and no single test approaches the timeout. */
const CHUNK = 25;

/** Half `part` (0 or 1) of the STRESS_COUNT programs. */
export function stressSuite(part: 0 | 1): void {
  const half = Math.ceil(STRESS_COUNT / 2);
  const start = part * half;
  const end = Math.min(STRESS_COUNT, start + half);
  describe(`randomized stress: icache and decode-assist agree with none (seed ${stressSeed()}, programs ${start}..${end - 1})`, () => {
    const totals = { programs: 0, mutations: 0, hits: 0, wpFaults: 0, invalidations: 0, evictions: 0 };
    for (let from = start; from < end; from += CHUNK) {
      const count = Math.min(CHUNK, end - from);
      it(`programs ${from}..${from + count - 1}: 0 divergences`, () => {
        const r = runStress({ seed: stressSeed(), from, count, strategies: ['icache', 'decode-assist'] });
        totals.programs += r.programs;
        totals.mutations += r.mutations;
        totals.hits += r.icache.hits;
        totals.wpFaults += r.icache.wpFaults;
        totals.invalidations += r.icache.invalidations;
        totals.evictions += r.icache.evictions;
        expect(r.invalid.length, describeFailures({ ...r, divergences: [] })).toBe(0);
        expect(r.divergences.length, describeFailures(r)).toBe(0);
        expect(r.programs).toBe(count);
      });
    }
    it(`ran all ${end - start} programs, with code or mappings changed under cached instructions`, () => {
      expect(totals.programs).toBe(end - start);
      expect(totals.mutations).toBeGreaterThan(end - start);
      // The cache was exercised: entries hit, writes hit protected pages, entries were invalidated and evicted.
      const c = JSON.stringify(totals);
      expect(totals.hits, c).toBeGreaterThan(10 * (end - start));
      expect(totals.wpFaults, c).toBeGreaterThan(end - start);
      expect(totals.invalidations, c).toBeGreaterThan(end - start);
      expect(totals.evictions, c).toBeGreaterThan(0);
    });
  });
}
