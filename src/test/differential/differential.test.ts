import { describe, expect, it } from 'vitest';
import { assemble } from '../../core/asm/index.ts';
import { buildMachine } from '../../core/machine.ts';
import { Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction } from '../../core/iced.ts';
import { DEFAULT_SEED, type DiffCase, caseText, generateCases } from './generator.ts';
import { CODE_ADDR, INITIAL_RSP, MEM_ADDR, MEM_SIZE } from './layout.ts';
import { type CaseCode, type CaseResult, type NativeRun, nativeUnavailable, runNative, unsupportedTemplates } from './native.ts';
import { diffCase, formatMismatch } from './compare.ts';
import { createVcpuRunner } from './vcpuRun.ts';
import { caseProgram, programmable } from './program.ts';
import { TEMPLATES } from './templates.ts';
import { CF, GPR64, IF, OF, PF, RFLAGS_FIXED, SF, ZF } from './x86.ts';

const SEED = process.env.DIFF_SEED ? Number(process.env.DIFF_SEED) : DEFAULT_SEED;
const COUNT = process.env.DIFF_CASES ? Number(process.env.DIFF_CASES) : 4000;
const LONG_COUNT = Math.ceil(COUNT / 4);
const PROGRAM_COUNT = Math.ceil(COUNT / 40);
const SLOW = 180_000;
const ASM_COUNT = Math.ceil(COUNT / 2);
const whyNot = nativeUnavailable();
if (whyNot) console.warn(`[differential] native side skipped: ${whyNot}`);
const EXCLUDE = whyNot ? new Set<string>() : unsupportedTemplates();
if (EXCLUDE.size) console.warn(`[differential] this CPU lacks what these templates need; left out: ${[...EXCLUDE].join(', ')}`);

/** A hand-written case: GPRs default to i * 0x1111, flags to bit 1 | IF, buffer to 0..255. */
function handCase(lines: string[], gpr: Record<number, bigint> = {}, flags = 0): DiffCase {
  const regs = Array.from({ length: 16 }, (_, i) => BigInt(i) * 0x1111n);
  regs[4] = BigInt(INITIAL_RSP);
  for (const [i, v] of Object.entries(gpr)) regs[Number(i)] = v;
  return {
    id: 0, lines, forms: [], gpr: regs, rflags: RFLAGS_FIXED | IF | flags,
    mem: Uint8Array.from({ length: MEM_SIZE }, (_, i) => i & 0xff),
    templates: [], undefFlags: 0, undefFlagsAny: 0, undefRegs: new Array<bigint>(16).fill(0n), raises: false,
  };
}

describe('differential case generator', () => {
  it('is deterministic for a seed', () => {
    const a = generateCases(7, 50);
    const b = generateCases(7, 50);
    expect(a.map((c) => c.lines.join(';'))).toEqual(b.map((c) => c.lines.join(';')));
    expect(a.map((c) => c.gpr)).toEqual(b.map((c) => c.gpr));
  });

  it('starts a case with every template, each first instruction from its template', () => {
    const cases = generateCases(SEED, TEMPLATES.length * 2);
    const first = new Set(cases.map((c) => c.templates[0]));
    expect([...TEMPLATES.map((t) => t.name)].filter((n) => !first.has(n))).toEqual([]);
  });
});

/** The generated cases and their native run, shared by the tests below (built once). */
let shared: { cases: DiffCase[]; native: NativeRun } | null = null;
function generatedRun(): { cases: DiffCase[]; native: NativeRun } {
  if (!shared) {
    const cases = generateCases(SEED, COUNT, EXCLUDE);
    shared = { cases, native: runNative(cases) };
  }
  return shared;
}

describe.skipIf(whyNot !== null)('native harness (gcc + as on this CPU)', () => {
  it('runs known cases and gets known results', () => {
    const cases = [
      handCase(['add eax, ebx'], { 0: 0xffff_ffff_7fff_ffffn, 3: 1n }),
      handCase(['mov ecx, 0', 'div ecx'], { 0: 10n, 2: 0n }),
      handCase(['push rbx', 'pop rax'], { 3: 0x1234_5678_9abc_def0n }),
      handCase(['mov rdi, ' + String(MEM_ADDR), 'mov eax, dword ptr [rdi + 4]']),
      handCase(['stc', 'adc al, 0xff'], { 0: 0n }),
    ].map((c, id) => ({ ...c, id }));
    const run = runNative(cases);
    const [add, div, pushPop, load, adc] = run.results;
    // 0x7fffffff + 1: signed overflow, upper half of RAX cleared by the 32-bit write.
    expect(add?.outcome).toBe('ok');
    expect(add?.gpr[0]).toBe(0x8000_0000n);
    expect((add?.rflags ?? 0) & (OF | SF | ZF | CF)).toBe(OF | SF);
    // div ecx with ECX = 0: #DE at the div (after the 5-byte mov).
    expect(div?.outcome).toBe('exception');
    expect(div?.detail).toBe(0);
    expect(div?.faultOffset).toBe(5);
    expect(pushPop?.gpr[0]).toBe(0x1234_5678_9abc_def0n);
    expect(pushPop?.gpr[4]).toBe(BigInt(INITIAL_RSP));
    expect(pushPop?.mem.slice(0x178, 0x180)).toEqual(Uint8Array.from([0xf0, 0xde, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12]));
    expect(load?.gpr[0]).toBe(0x07060504n);
    // 0 + 0xff + CF = 0x100: AL = 0, CF = 1, ZF = 1, PF = 1.
    expect(adc?.gpr[0]).toBe(0n);
    expect((adc?.rflags ?? 0) & (CF | ZF | PF | SF | OF)).toBe(CF | ZF | PF);
    expect(run.code[0]?.bytes).toEqual(Uint8Array.from([0x01, 0xd8]));
    expect(run.code[0]?.addr).toBe(CODE_ADDR);
  });

  it(`runs ${COUNT} generated cases (seed ${SEED}) without a stray fault`, () => {
    const { cases, native: run } = generatedRun();
    expect(run.results).toHaveLength(COUNT);
    const stray = (r: CaseResult, c: DiffCase): boolean => r.outcome === 'fault' || (r.outcome === 'exception' && r.detail !== 0 && !c.raises);
    const faults = run.results.flatMap((r, i) => (stray(r, cases[i] as DiffCase) ? [`case ${i}: ${r.outcome} ${r.detail}: ${cases[i]?.lines.join('; ')}`] : []));
    expect(faults).toEqual([]);
  });
});

describe.skipIf(whyNot !== null)('vCPU against this CPU', () => {
  it(`agrees on ${COUNT} generated cases (seed ${SEED}; DIFF_SEED, DIFF_CASES override)`, () => {
    const { cases, native } = generatedRun();
    const runner = createVcpuRunner(native.code);
    const reports: string[] = [];
    let mismatches = 0;
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i] as DiffCase;
      const diffs = diffCase(c, native.results[i] as CaseResult, runner.run(i, c));
      if (diffs.length === 0) continue;
      mismatches++;
      if (reports.length < 20) reports.push(formatMismatch(c, (native.code[i] as CaseCode).bytes, diffs, SEED));
    }
    if (mismatches) console.error(`[differential] ${mismatches} of ${COUNT} cases differ; first ${reports.length}:\n\n${reports.join('\n\n')}`);
    expect(mismatches, reports.join('\n\n')).toBe(0);
   }, SLOW);
});

describe.skipIf(whyNot !== null)('vCPU against this CPU, long sequences', () => {
  it(`agrees on ${LONG_COUNT} cases of 4 to 8 instructions (lazy flags and flag liveness across a block)`, () => {
    const cases = generateCases(SEED + 1, LONG_COUNT, EXCLUDE, { long: true });
    const native = runNative(cases);
    const runner = createVcpuRunner(native.code);
    const reports: string[] = [];
    let mismatches = 0;
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i] as DiffCase;
      const diffs = diffCase(c, native.results[i] as CaseResult, runner.run(i, c));
      if (diffs.length === 0) continue;
      mismatches++;
      if (reports.length < 20) reports.push(formatMismatch(c, (native.code[i] as CaseCode).bytes, diffs, SEED + 1));
    }
    expect(mismatches, reports.join('\n\n')).toBe(0);
   }, SLOW);
});

describe.skipIf(whyNot !== null)('our assembler on the same cases', () => {
  it(`encodes every case it accepts (of ${ASM_COUNT}) to the instruction stream GNU as produced`, () => {
    const { cases, native } = generatedRun();
    const decode = (bytes: Uint8Array, addr: number): string[] => {
      const d = new Decoder(64, bytes, DecoderOptions.None);
      d.ip = BigInt(addr);
      const f = new Formatter(FormatterSyntax.Intel);
      const ins = new Instruction();
      const out: string[] = [];
      while (d.canDecode) {
        d.decodeOut(ins);
        out.push(f.format(ins));
      }
      ins.free();
      f.free();
      d.free();
      return out;
    };
    const rejected = new Map<string, number>();
    const differ: string[] = [];
    for (const c of cases.slice(0, ASM_COUNT)) {
      // diff_buf is a label natively (RIP-relative to it); here it could only be a constant.
      if (c.lines.some((l) => l.includes('diff_buf'))) continue;
      const code = native.code[c.id] as CaseCode;
      const r = assemble(c.lines.join('\n') + '\n', { origin: code.addr });
      if (!r.ok) {
        const m = r.diagnostics[0]?.message ?? '';
        rejected.set(m, (rejected.get(m) ?? 0) + 1);
        continue;
      }
      const gas = decode(code.bytes, code.addr).join('; ');
      const ours = decode(r.segments[0]?.bytes ?? new Uint8Array(0), code.addr).join('; ');
      if (gas !== ours) differ.push(`${caseText(c).replace(/\n/g, ' / ')}\n  GNU as: ${gas}\n  ours:   ${ours}`);
    }
    // The cases are GNU as source (numeric local labels, {disp32}/{load}/{store}, .byte,
    // addr32, pushw, one-operand shifts): the assembler must accept every one of them.
    const top = [...rejected].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([m, n]) => `${n}x ${m}`);
    expect(top).toEqual([]);
    expect(differ.slice(0, 20)).toEqual([]);
   }, SLOW);
});

describe.skipIf(whyNot !== null)('the machine (assembler, firmware, vCPU) against this CPU', () => {
  it(`agrees on ${PROGRAM_COUNT} cases run as whole programs, the way the CLI runs them`, () => {
    const { cases, native } = generatedRun();
    const bad: string[] = [];
    let ran = 0;
    for (const c of cases) {
      if (ran >= PROGRAM_COUNT) break;
      const r = native.results[c.id] as CaseResult;
      if (r.outcome !== 'ok' || !programmable(c)) continue;
      ran++;
      // 8 MiB of RAM holds the program and the buffer; the default 64 MiB costs 100 ms a build.
      const built = buildMachine(caseProgram(c), { maxInsns: 100_000, ramBytes: 8 << 20 });
      if (!built.ok) {
        bad.push(`case ${c.id}: does not build: ${built.diagnostics.map((d) => d.message).join('; ')}`);
        continue;
      }
      built.machine.runToEnd();
      const stop = built.machine.stopInfo();
      const regs = built.machine.vcpuRegs(0, 0);
      const got: CaseResult = {
        outcome: stop?.reason === 'halted' ? 'ok' : 'fault', detail: 0, faultOffset: 0,
        gpr: GPR64.map((n) => regs[n]), rflags: Number(regs.rflags), mem: r.mem,
      };
      const diffs = diffCase(c, r, { ...got, message: stop?.message });
      if (diffs.length) bad.push(formatMismatch(c, (native.code[c.id] as CaseCode).bytes, diffs, SEED));
    }
    expect(ran).toBeGreaterThan(PROGRAM_COUNT / 2);
    expect(bad.slice(0, 10), bad.slice(0, 10).join('\n\n')).toEqual([]);
   }, SLOW);
});
