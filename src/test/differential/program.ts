/**
 * A differential case as a whole guest program for the machine (what the CLI runs): it writes
 * the buffer, sets GS base, RFLAGS and the 16 GPRs with plain instructions, runs the case and
 * halts. This is the path a program typed by a user takes: our assembler, the firmware, the
 * machine, the vCPU.
 */
import { assemble } from '../../core/asm/index.ts';
import type { DiffCase } from './generator.ts';
import { GS_BASE, MEM_ADDR, MEM_SIZE } from './layout.ts';
import { GPR64, IF, RSP } from './x86.ts';

/**
 * Whether the case can run as a program: its text must be accepted by our assembler (GNU-only
 * spellings are not), and it must not depend on where its code is (the program's code address
 * differs from the native one) or end in an exception (the firmware's handlers differ).
 */
export function programmable(c: DiffCase): boolean {
  if (c.raises || c.lines.some((l) => l.includes('diff_buf'))) return false;
  if (c.templates.some((t) => t === 'call' || t === 'lea rip')) return false;
  return assemble(c.lines.join('\n') + '\n').ok;
}

export function caseProgram(c: DiffCase): string {
  const out = ['bits 64', 'mov ecx, 0xc0000101', `mov eax, ${GS_BASE}`, 'xor edx, edx', 'wrmsr ; GS base'];
  out.push('lea rsi, [rel diff_init]', `mov edi, ${MEM_ADDR}`, `mov ecx, ${MEM_SIZE}`, 'cld', 'rep movsb');
  // IF = 0 so that the final HLT ends the run (the guest contract).
  out.push(`mov rax, 0x${(c.rflags & ~IF).toString(16)}`, 'push rax', 'popfq');
  for (let i = 0; i < 16; i++) if (i !== RSP) out.push(`mov ${GPR64[i]}, 0x${(c.gpr[i] as bigint).toString(16)}`);
  out.push(`mov rsp, 0x${(c.gpr[RSP] as bigint).toString(16)}`);
  // CLI: a case may have set IF with POPFQ.
  out.push(...c.lines, 'cli', 'hlt');
  // The buffer's initial contents, copied in by the REP MOVSB above.
  out.push('diff_init:');
  for (let k = 0; k < MEM_SIZE; k += 64) out.push(`db ${[...c.mem.subarray(k, k + 64)].join(', ')}`);
  return out.join('\n') + '\n';
}
