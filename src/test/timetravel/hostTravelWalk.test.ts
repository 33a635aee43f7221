/** The Worker's time travel under random command sequences (hostWalk.ts says what is checked). */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../scenarios';
import { hostWalk } from './hostWalk';

/** Fixed, so that `npm test` gives one verdict; HOST_WALK_SEED=n explores others (and `npm run soak` many). */
const SEED = Number(process.env.HOST_WALK_SEED ?? 20261207) >>> 0;
const STEPS = 60;

const LOOP = '_start:\n  mov rbx, LAPIC_BASE\n  mov ecx, 3000\n.l:\n  mov eax, [rbx + LAPIC_ID]\n  mov dword [rbx + LAPIC_TPR], 0x10\n  dec ecx\n  jnz .l\n  hlt\n';

describe('MachineHost time travel under random command sequences', () => {
  const programs: { name: string; source: string }[] = [
    { name: 'loop-6001-exits', source: LOOP },
    ...['ipi-pingpong', 'smc-then-remap', 'cpu-bound-timer', 'two-vms'].map((n) => {
      const s = SCENARIOS.find((x) => x.name === n);
      if (!s) throw new Error(`no scenario ${n}`);
      return { name: n, source: s.source };
    }),
  ];
  for (const [i, p] of programs.entries()) {
    it(`${p.name}: whatever the host shows after each command is the reference machine at that point`, async () => {
      expect(await hostWalk(p.name, p.source, SEED + i, { steps: STEPS })).toEqual([]);
    }, 120_000);
  }
});
