/** What the page's store shows under random command sequences (storeWalk.ts says what is checked). */
import { describe, expect, it } from 'vitest';
import { storeWalk } from './storeWalk';
import { walkPrograms } from './walkPrograms';

/** Fixed, so that `npm test` gives one verdict; STORE_WALK_SEED=n explores others. */
const SEED = Number(process.env.STORE_WALK_SEED ?? 20261208) >>> 0;
const STEPS = Number(process.env.STORE_WALK_STEPS ?? 60);

describe('the machine store under random command sequences through the MachineClient', () => {
  const programs = walkPrograms();
  for (const [i, p] of programs.entries()) {
    it(`${p.name}: whenever the store has settled, every number it holds for the panels is the reference machine's`, async () => {
      expect(await storeWalk(p.name, p.source, SEED + i, { steps: STEPS })).toEqual([]);
    }, 120_000);
  }
});
