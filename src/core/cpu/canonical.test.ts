/**
 * Non-canonical addresses in 64-bit mode (SDM Vol. 3A §3.3.7.1, §6.15): a data access raises
 * #GP(0), or #SS(0) when it references SS (an RSP/RBP-based operand, an implicit stack access).
 */
import { describe, expect, it } from 'vitest';
import { asmMachine, symbolOf } from './asmTest';
import { HANDLER_BASE, IDT_BASE, runUntilHalt, TSS_BASE, type TestMachine } from './testEnv';

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
