/**
 * A seeded randomized stress test of write-protection and invalidation. Each
 * generated program (MMIO instructions in loops, self-modifying code, page-table remaps,
 * CR3 switches, two vCPUs, two VMs; see generator.ts) must end in the same guest state under
 * `icache` and `decode-assist` as under `none`, which never caches: 0 divergences.
 *
 *   STRESS_SEED=N     another stream of programs (default DEFAULT_STRESS_SEED)
 *   STRESS_COUNT=N    programs per run (default 500)
 *
 * A failure prints the first divergent program in full with its machine config.
 */
import { describe, expect, it } from 'vitest';
import { describeFailures, runStress, stressSeed } from './stress';

import { stressSuite } from './stressSuite';

// The first half of the programs; stress.part2.test.ts runs the second half in parallel.
stressSuite(0);

describe('the stress test can fail', () => {
  it('with invalidation broken (InstructionCache.debugBreakInvalidation) it finds divergences', () => {
    const r = runStress({
      seed: stressSeed(), from: 0, count: 60, strategies: ['icache'], stopAfter: 3,
      prepareCompared: (m) => { m.icache.debugBreakInvalidation = true; },
    });
    const divergent = new Set(r.divergences.map((d) => d.program.index)).size;
    expect(divergent, `only ${divergent} of ${r.programs} programs diverged with invalidation broken`).toBeGreaterThanOrEqual(1);
    // The same programs agree once invalidation works: the divergence is the broken switch's doing.
    const first = r.divergences[0].program.index;
    const ok = runStress({ seed: stressSeed(), from: first, count: 1, strategies: ['icache'] });
    expect(ok.divergences, describeFailures(ok)).toEqual([]);
  });
});
