/**
 * kvm-unit-tests x86/emulator.c style: every instruction bhyve's emulator supports, at every
 * width it supports, run once against RAM (executed by the vCPU, itself checked against the
 * real CPU by the differential test) and once against IORAM (every access exits and the VMM
 * emulates it). Results, memory and the defined flags must agree.
 */
import { describe, expect, it } from 'vitest';
import { buildMachine } from '../machine';

/** Flags an instruction leaves undefined (SDM): masked before comparing. */
const STATUS = 0x8d5; // OF SF ZF AF PF CF
const AF = 0x10;

interface Case {
  name: string;
  /** The instruction under test; `[rbx]` / `[rbx+8]` is the memory operand. */
  insn: string;
  /** Flags the instruction defines (the rest are masked). */
  defined: number;
  /** Extra setup after the memory is initialised (registers, DF). */
  setup?: string;
  /** Registers that hold addresses into the buffer: compared relative to it. */
  addrRegs?: readonly ('rsi' | 'rdi')[];
}

const VALUES = ['0x0', '0xffffffffffffffff', '0x8000000000000001', '0x00000000ff00ff7f'];
const SIZES = [
  { ptr: 'byte', reg: 'cl', acc: 'al' },
  { ptr: 'word', reg: 'cx', acc: 'ax' },
  { ptr: 'dword', reg: 'ecx', acc: 'eax' },
  { ptr: 'qword', reg: 'rcx', acc: 'rax' },
] as const;

function cases(): Case[] {
  const out: Case[] = [];
  const arith = STATUS;
  const logic = STATUS & ~AF; // AF is undefined after AND/OR/TEST (SDM Vol. 2)
  for (const s of SIZES) {
    out.push({ name: `mov ${s.ptr} [mem], reg`, insn: `mov ${s.ptr} [rbx], ${s.reg}`, defined: STATUS });
    out.push({ name: `mov reg, ${s.ptr} [mem]`, insn: `mov ${s.reg}, ${s.ptr} [rbx]`, defined: STATUS });
    if (s.ptr !== 'byte') {
      // bhyve's table has the r, r/m forms of add/or/and/sub/cmp (03 0B 23 2B 3B) and cmp 39.
      out.push({ name: `add reg, ${s.ptr}`, insn: `add ${s.reg}, ${s.ptr} [rbx]`, defined: arith });
      out.push({ name: `or reg, ${s.ptr}`, insn: `or ${s.reg}, ${s.ptr} [rbx]`, defined: logic });
      out.push({ name: `and reg, ${s.ptr}`, insn: `and ${s.reg}, ${s.ptr} [rbx]`, defined: logic });
      out.push({ name: `sub reg, ${s.ptr}`, insn: `sub ${s.reg}, ${s.ptr} [rbx]`, defined: arith });
      out.push({ name: `cmp reg, ${s.ptr}`, insn: `cmp ${s.reg}, ${s.ptr} [rbx]`, defined: arith });
      out.push({ name: `cmp ${s.ptr}, reg`, insn: `cmp ${s.ptr} [rbx], ${s.reg}`, defined: arith });
      out.push({ name: `mov ${s.ptr} [mem], imm`, insn: `mov ${s.ptr} [rbx], -2`, defined: STATUS });
      out.push({ name: `or ${s.ptr} [mem], imm8`, insn: `or ${s.ptr} [rbx], 0x41`, defined: logic });
      out.push({ name: `and ${s.ptr} [mem], imm8`, insn: `and ${s.ptr} [rbx], -16`, defined: logic });
      out.push({ name: `cmp ${s.ptr} [mem], imm8`, insn: `cmp ${s.ptr} [rbx], 0x7f`, defined: arith });
      out.push({ name: `test ${s.ptr} [mem], imm`, insn: `test ${s.ptr} [rbx], 0x80000001`.replace(/0x80000001/, s.ptr === 'word' ? '0x8001' : '0x70000001'), defined: logic });
      out.push({ name: `bt ${s.ptr} [mem], imm8`, insn: `bt ${s.ptr} [rbx], 7`, defined: 0x1 /* CF only */ });
    } else {
      out.push({ name: 'mov byte [mem], imm', insn: 'mov byte [rbx], 0x9c', defined: STATUS });
      // bhyve's emulate_or/emulate_and handle 81 and 83 but not 80 (only emulate_cmp takes 80).
      out.push({ name: 'cmp byte [mem], imm8', insn: 'cmp byte [rbx], 0x7f', defined: arith });
    }
  }
  // bhyve's two-byte table: 0F B6/B7 movzx and 0F BE movsx (byte); 0F BF is not in it.
  for (const [src, dsts] of [['byte', ['cx', 'ecx', 'rcx']], ['word', ['ecx', 'rcx']]] as const) {
    for (const d of dsts) {
      out.push({ name: `movzx ${d}, ${src}`, insn: `movzx ${d}, ${src} [rbx]`, defined: STATUS });
      if (src === 'byte') out.push({ name: `movsx ${d}, ${src}`, insn: `movsx ${d}, ${src} [rbx]`, defined: STATUS });
    }
  }
  out.push({ name: 'push qword [mem]', insn: 'push qword [rbx]\n    pop rcx', defined: STATUS });
  out.push({ name: 'pop qword [mem]', insn: 'push rcx\n    pop qword [rbx]', defined: STATUS });
  for (const w of ['b', 'w', 'd', 'q']) {
    out.push({ name: `rep stos${w}`, insn: `rep stos${w}`, defined: STATUS, setup: 'lea rdi, [rbx + 8]\n    mov ecx, 3\n    cld', addrRegs: ['rdi'] });
    out.push({ name: `movs${w} (mem to mem)`, insn: `movs${w}`, defined: STATUS, setup: 'mov rsi, rbx\n    lea rdi, [rbx + 64]\n    cld', addrRegs: ['rsi', 'rdi'] });
  }
  return out;
}

/** The program: initialise 128 bytes at rbx, set registers and flags, run the instruction, collect state. */
function program(c: Case, memory: string, value: string, flags: number): string {
  return `
_start:
    ${memory === 'ram' ? 'lea rbx, [rel buf]' : 'mov rbx, IORAM_BASE'}
    mov rax, ${value}
    mov rdx, 0x0123456789abcdef
%INIT%
    mov rcx, rax
    not rcx
    ${c.setup ?? ''}
    push ${flags}
    popfq
    ${c.insn}
    pushfq
    pop r15
%DUMP%
    hlt

section .data
align 4096
buf: times 256 db 0
`.replace('%INIT%', Array.from({ length: 16 }, (_, i) => `    mov [rbx + ${i * 8}], ${i % 2 ? 'rdx' : 'rax'}`).join('\n'))
    .replace('%DUMP%', ['r8', 'r9', 'r10', 'r11', 'r12', 'r13'].map((r, i) => `    mov ${r}, [rbx + ${[0, 8, 16, 24, 64, 72][i]}]`).join('\n'));
}

function run(source: string) {
  const built = buildMachine(source, { strategy: 'none', ramBytes: 4 * 1024 * 1024 }, 'case.s');
  if (!built.ok) throw new Error(built.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n') + '\n' + source);
  built.machine.runToEnd();
  return { m: built.machine, regs: built.machine.vcpuRegs(0, 0), stop: built.machine.stopInfo() };
}

describe('emulated MMIO (IORAM) agrees with the vCPU on RAM', () => {
  const all = cases();
  it(`covers ${all.length} instruction forms of bhyve's table`, () => {
    expect(all.length).toBeGreaterThan(50);
  });
  for (const c of all) {
    it(c.name, () => {
      for (const [k, value] of VALUES.entries()) {
        const flags = k % 2 ? 0x8d7 : 0x2; // all status flags set, or none
        const ram = run(program(c, 'ram', value, flags));
        const io = run(program(c, 'ioram', value, flags));
        expect(ram.stop?.reason, `${c.insn} on RAM: ${ram.stop?.message}`).toBe('halted');
        expect(io.stop?.reason, `${c.insn} on IORAM: ${io.stop?.message}`).toBe('halted');
        expect(io.m.counters().exits.byReason.mmio ?? 0, 'every IORAM access exits').toBeGreaterThan(16);
        const what = `${c.insn} with memory ${value}, flags 0x${flags.toString(16)}`;
        for (const r of ['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13'] as const) {
          // String registers hold addresses: compare them relative to the buffer (rbx).
          const rel = (c.addrRegs as readonly string[] | undefined)?.includes(r) ?? false;
          expect(io.regs[r] - (rel ? io.regs.rbx : 0n), `${what}: ${r}`).toBe(ram.regs[r] - (rel ? ram.regs.rbx : 0n));
        }
        const mask = BigInt(c.defined | 0x400);
        expect(io.regs.r15 & mask, `${what}: rflags`).toBe(ram.regs.r15 & mask);
      }
    });
  }
});
