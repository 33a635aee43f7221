/**
 * Compares a case's native result (the truth) with the vCPU's, and writes mismatches so a
 * reader can act on them: the case's assembly and bytes, its inputs, and per register, flag and
 * buffer range what was expected and what the vCPU produced.
 */
import { hexBytes } from '../../core/hex';
import type { DiffCase } from './generator.ts';
import { caseText } from './generator.ts';
import { MEM_ADDR } from './layout.ts';
import type { CaseResult } from './native.ts';
import { COMPARED_FLAGS, GPR64, flagNames } from './x86.ts';

const VECTORS: Record<number, string> = { 0: '#DE', 3: '#BP', 6: '#UD', 12: '#SS', 13: '#GP', 14: '#PF' };
const vectorName = (v: number): string => VECTORS[v] ?? `vector ${v}`;
const h64 = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;

/** The differences between native and vCPU results (empty when they agree). */
export function diffCase(c: DiffCase, native: CaseResult, vcpu: CaseResult & { message?: string }): string[] {
  const out: string[] = [];
  const what = (r: CaseResult & { message?: string }): string =>
    r.outcome === 'ok' ? 'completed' : r.outcome === 'exception' ? `${vectorName(r.detail)} at +${r.faultOffset}`
      : `harness fault ${r.detail}${r.message ? ` (${r.message})` : ''}`;
  if (native.outcome === 'fault' || (native.outcome === 'exception' && native.detail !== 0 && !c.raises)) {
    out.push(`natively: ${what(native)}: a generator bug (the case should not fault there)`);
    return out;
  }
  const sameEnd = native.outcome === vcpu.outcome &&
    (native.outcome !== 'exception' || (native.detail === vcpu.detail && native.faultOffset === vcpu.faultOffset));
  if (!sameEnd) {
    out.push(`outcome: expected ${what(native)}, got ${what(vcpu)}`);
    return out;
  }
  for (let i = 0; i < 16; i++) {
    const mask = ~(c.undefRegs[i] as bigint) & 0xffff_ffff_ffff_ffffn;
    const e = (native.gpr[i] as bigint) & mask;
    const g = (vcpu.gpr[i] as bigint) & mask;
    if (e !== g) {
      const note = mask !== 0xffff_ffff_ffff_ffffn ? ` (compared bits ${h64(mask)})` : '';
      out.push(`${GPR64[i]}: expected ${h64(native.gpr[i] as bigint)}, got ${h64(vcpu.gpr[i] as bigint)}${note}`);
    }
  }
  const undef = native.outcome === 'exception' ? c.undefFlagsAny : c.undefFlags;
  const fmask = COMPARED_FLAGS & ~undef;
  const fdiff = (native.rflags ^ vcpu.rflags) & fmask;
  if (fdiff) {
    out.push(`rflags: expected ${flagNames(native.rflags & COMPARED_FLAGS)}, got ${flagNames(vcpu.rflags & COMPARED_FLAGS)}; ` +
      `wrong: ${flagNames(fdiff)} (undefined, not compared: ${flagNames(undef)})`);
  }
  for (let i = 0; i < native.mem.length; i++) {
    if (native.mem[i] === vcpu.mem[i]) continue;
    let j = i;
    while (j + 1 < native.mem.length && j + 1 - i < 16 && native.mem[j + 1] !== vcpu.mem[j + 1]) j++;
    out.push(`mem[0x${(MEM_ADDR + i).toString(16)}..+${j - i + 1}]: expected ${hexBytes(native.mem.subarray(i, j + 1))}, got ${hexBytes(vcpu.mem.subarray(i, j + 1))}`);
    i = j;
    if (out.length > 40) break;
  }
  return out;
}

/** A full, readable report of one mismatching case. */
export function formatMismatch(c: DiffCase, code: Uint8Array, diffs: string[], seed: number): string {
  const regs = c.gpr.map((v, i) => `${GPR64[i]}=${h64(v)}`);
  const rows: string[] = [];
  for (let i = 0; i < 16; i += 4) rows.push('    ' + regs.slice(i, i + 4).join(' '));
  return [
    `case ${c.id} (DIFF_SEED=${seed}): ${c.forms.join(' | ')}`,
    ...caseText(c).split('\n').map((l) => `    ${l}`),
    `  bytes: ${hexBytes(code)}`,
    `  inputs:`,
    ...rows,
    `    rflags=0x${c.rflags.toString(16)} (${flagNames(c.rflags & COMPARED_FLAGS)})`,
    `  mismatches:`,
    ...diffs.map((d) => `    ${d}`),
  ].join('\n');
}
