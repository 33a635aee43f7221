/** The Worker's time travel under random command sequences (hostWalk.ts says what is checked). */
import { describe, expect, it } from 'vitest';
import { hostWalk } from './hostWalk';
import { walkPrograms } from './walkPrograms';

/** Fixed, so that `npm test` gives one verdict; HOST_WALK_SEED=n explores others (and `npm run soak` many). */
const SEED = Number(process.env.HOST_WALK_SEED ?? 20261207) >>> 0;
const STEPS = 60;

describe('MachineHost time travel under random command sequences', () => {
  const programs = walkPrograms();
  for (const [i, p] of programs.entries()) {
    it(`${p.name}: whatever the host shows after each command is the reference machine at that point`, async () => {
      expect(await hostWalk(p.name, p.source, SEED + i, { steps: STEPS })).toEqual([]);
    }, 120_000);
  }
});
