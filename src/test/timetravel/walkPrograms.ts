/** The programs the random walks (hostWalk, storeWalk) run in `npm test`: a long loop and four examples with interrupts, write-protect faults, two VMs. */
import { SCENARIOS } from '../../scenarios';

const LOOP = '_start:\n  mov rbx, LAPIC_BASE\n  mov ecx, 3000\n.l:\n  mov eax, [rbx + LAPIC_ID]\n  mov dword [rbx + LAPIC_TPR], 0x10\n  dec ecx\n  jnz .l\n  hlt\n';

export function walkPrograms(): { name: string; source: string }[] {
  return [
    { name: 'loop-6001-exits', source: LOOP },
    ...['ipi-pingpong', 'smc-then-remap', 'cpu-bound-timer', 'two-vms'].map((n) => {
      const s = SCENARIOS.find((x) => x.name === n);
      if (!s) throw new Error(`no scenario ${n}`);
      return { name: n, source: s.source };
    }),
  ];
}
