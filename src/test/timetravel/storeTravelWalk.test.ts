/** What the page's store shows under random command sequences (storeWalk.ts says what is checked). */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../scenarios';
import { storeWalk } from './storeWalk';

/** Fixed, so that `npm test` gives one verdict; STORE_WALK_SEED=n explores others. */
const SEED = Number(process.env.STORE_WALK_SEED ?? 20261208) >>> 0;
const STEPS = Number(process.env.STORE_WALK_STEPS ?? 60);

const LOOP = '_start:\n  mov rbx, LAPIC_BASE\n  mov ecx, 3000\n.l:\n  mov eax, [rbx + LAPIC_ID]\n  mov dword [rbx + LAPIC_TPR], 0x10\n  dec ecx\n  jnz .l\n  hlt\n';

describe('the machine store under random command sequences through the MachineClient', () => {
  const programs: { name: string; source: string }[] = [
    { name: 'loop-6001-exits', source: LOOP },
    ...['ipi-pingpong', 'smc-then-remap', 'cpu-bound-timer', 'two-vms'].map((n) => {
      const s = SCENARIOS.find((x) => x.name === n);
      if (!s) throw new Error(`no scenario ${n}`);
      return { name: n, source: s.source };
    }),
  ];
  for (const [i, p] of programs.entries()) {
    it(`${p.name}: whenever the store has settled, every number it holds for the panels is the reference machine's`, async () => {
      expect(await storeWalk(p.name, p.source, SEED + i, { steps: STEPS })).toEqual([]);
    }, 120_000);
  }
});
