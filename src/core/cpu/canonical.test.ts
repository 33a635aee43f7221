/**
 * Non-canonical addresses in 64-bit mode (SDM Vol. 3A §3.3.7.1, §6.15): a data access raises
 * #GP(0), or #SS(0) when it references SS (an RSP/RBP-based operand, an implicit stack access).
 */
import { describe, expect, it } from 'vitest';
import { asmMachine, symbolOf } from '../../test/asmTest';
import { assemble } from '../asm';
import { HANDLER_BASE, IDT_BASE, PML4_ADDR, runUntilHalt, TSS_BASE, type TestMachine } from '../../test/testEnv';

const IST1_TOP = 0x80000;
const NC = '0x8000000000001000';

/** Run `src`; the #SS and #GP gates use IST1, so a non-canonical RSP still gets a frame. */
function run(src: string): TestMachine & { vector: number; err: bigint; frameRip: number; frameRsp: bigint } {
  const m = asmMachine(src);
  for (const v of [12, 13]) m.ram.bytes[IDT_BASE + v * 16 + 4] = 1;
  m.ram.view.setBigUint64(TSS_BASE + 0x24, BigInt(IST1_TOP), true);
  runUntilHalt(m.vcpu, 1000);
  const v = m.vcpu;
  const vector = v.rip >= HANDLER_BASE && v.rip < HANDLER_BASE + 4096 ? (v.rip - HANDLER_BASE) >> 4 : -1;
  const sp = Number(v.getGpr(4));
  const at = (k: number): bigint => m.ram.view.getBigUint64(sp + 8 * k, true);
  return { ...m, vector, err: at(0), frameRip: Number(at(1)), frameRsp: at(4) };
}


describe('#SS(0), not #GP(0), for a non-canonical address that references SS', () => {
  it('a memory operand with RBP as base raises #SS(0)', () => {
    const src = `mov rbp, ${NC}\nt: mov rax, [rbp + 8]\nhlt`;
    const r = run(src);
    expect([r.vector, r.err, r.frameRip]).toEqual([12, 0n, symbolOf(src, 't')]);
  });
  it('a memory operand with RSP as base raises #SS(0) (load and store)', () => {
    expect(run(`mov rsp, ${NC}\nmov rax, [rsp]\nhlt`).vector).toBe(12);
    expect(run(`mov rsp, ${NC}\nmov qword [rsp + 16], 1\nhlt`).vector).toBe(12);
    expect(run(`mov rsp, ${NC}\nadd [rsp], eax\nhlt`).vector).toBe(12);
    expect(run(`mov rsp, ${NC}\nbts qword [rsp], 3\nhlt`).vector).toBe(12);
  });
  it('RBP as an index (segment DS) and other bases still raise #GP(0)', () => {
    expect(run(`mov rbp, 0x0000800000000000\nxor eax, eax\nmov rbx, [rax + rbp*4]\nhlt`).vector).toBe(13);
    const r = run(`mov rax, ${NC}\nmov rbx, [rax]\nhlt`);
    expect([r.vector, r.err]).toEqual([13, 0n]);
  });
  it('push, pop, call, ret, pushfq, popfq, leave and enter with a non-canonical stack raise #SS(0) and change nothing', () => {
    for (const insn of ['push rax', 'push 5', 'pop rbx', 'call f', 'ret', 'pushfq', 'popfq', 'push qword [rax]']) {
      const src = `mov rax, 0x2000\nmov rsp, ${NC}\nt: ${insn}\nhlt\nf: hlt`;
      const r = run(src);
      expect([insn, r.vector, r.err, r.frameRip, r.frameRsp]).toEqual([insn, 12, 0n, symbolOf(src, 't'), BigInt(NC)]);
    }
    expect(run(`mov rbp, ${NC}\nleave\nhlt`).vector).toBe(12);
    expect(run(`mov rsp, ${NC}\nenter 16, 0\nhlt`).vector).toBe(12);
  });
});

/** The last canonical page of the lower half, mapped (P|RW) to a RAM page; code there can branch past 2^47. */
const TOP_PAGE = 0x7fff_ffff_f000;
const TOP_PHYS = 0x3f03000;
function runAtTop(src: string): TestMachine & { vector: number; frameRip: number } {
  const r = assemble(src, { origin: TOP_PAGE });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const m = asmMachine('hlt');
  const { ram, vcpu } = m;
  const tables = [0x3f00000, 0x3f01000, 0x3f02000];
  ram.view.setBigUint64(PML4_ADDR + 255 * 8, BigInt(tables[0]! | 7), true);
  ram.view.setBigUint64(tables[0]! + 511 * 8, BigInt(tables[1]! | 7), true);
  ram.view.setBigUint64(tables[1]! + 511 * 8, BigInt(tables[2]! | 7), true);
  ram.view.setBigUint64(tables[2]! + 511 * 8, BigInt(TOP_PHYS | 7), true);
  ram.bytes.set(r.segments[0]!.bytes, TOP_PHYS);
  vcpu.rip = TOP_PAGE;
  runUntilHalt(vcpu, 10_000);
  const vector = vcpu.rip >= HANDLER_BASE && vcpu.rip < HANDLER_BASE + 4096 ? (vcpu.rip - HANDLER_BASE) >> 4 : -1;
  const sp = Number(vcpu.getGpr(4));
  return { ...m, vector, frameRip: Number(ram.view.getBigUint64(sp + 8, true)) };
}

describe('a near branch to a non-canonical target raises #GP(0) at the branch (SDM Vol. 3A §6.15)', () => {
  it('direct jmp, jcc (taken), call and loop to past 2^47 fault with RIP at the branch and no effect', () => {
    // Near the end of the page, so that LOOP's rel8 reaches past 2^47 too.
    const far = 'mov ecx, 3\ntimes 0xfd0 nop\nt: INSN 0x800000000010\nhlt';
    for (const insn of ['jmp', 'jz', 'call', 'loop']) {
      const src = far.replace('INSN', insn);
      const m = runAtTop(`xor eax, eax\n${src}`);
      const at = symbolOf(`xor eax, eax\n${src}`, 't', TOP_PAGE);
      expect([insn, m.vector, m.frameRip]).toEqual([insn, 13, at]);
      // RSP (CALL pushed nothing) and RCX (LOOP did not count) are as before the branch.
      expect(m.ram.view.getBigUint64(Number(m.vcpu.getGpr(4)) + 32, true)).toBe(0x90000n);
      expect(m.vcpu.getGpr(1)).toBe(3n);
    }
  });
  it('a jcc or loop that is not taken falls through', () => {
    const m = runAtTop('mov ecx, 1\nor eax, 1\ntimes 0xfd0 nop\njz 0x800000000010\nloop 0x800000000010\nmov ebx, 9\nhlt');
    expect(m.vector).toBe(-1);
    expect(m.vcpu.getGpr(3)).toBe(9n);
    expect(m.vcpu.getGpr(1)).toBe(0n);
  });
  it('indirect jmp/call (register, memory) and ret to a non-canonical target fault at the branch', () => {
    for (const insn of ['jmp rax', 'call rax', 'jmp [rbx]', 'call [rbx]', 'ret']) {
      const src = `mov rax, ${NC}\nmov rbx, 0x200000\nmov [rbx], rax\npush rax\nt: ${insn}\nhlt`;
      const r = run(src);
      expect([insn, r.vector, r.err, r.frameRip, r.frameRsp]).toEqual([insn, 13, 0n, symbolOf(src, 't'), 0x90000n - 8n]);
    }
  });
});
