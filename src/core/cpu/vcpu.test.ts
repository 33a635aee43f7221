import { describe, expect, it } from 'vitest';
import { asmMachine } from '../../test/asmTest';
import { HANDLER_BASE, runUntilHalt, STACK_TOP } from '../../test/testEnv';
import { BLOCK_CALL_INSNS } from './vcpu';
import { WARM_CALL_INSNS, WARM_CALLS } from './blocks';
import type { BlockFn } from './codeCache';

const run = (src: string, max = 100000) => {
  const m = asmMachine(src);
  const r = runUntilHalt(m.vcpu, max);
  return { ...m, r, v: m.vcpu };
};
const CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const STATUS = CF | PF | AF | ZF | SF | OF;

describe('vCPU basics', () => {
  it('runs mov/add/loop/call/ret/push/pop to hlt and counts retired instructions', () => {
    const { r, v } = run(`
      mov rax, 5
      mov rbx, 7
      add rax, rbx
      mov rcx, 10
    l: add rax, 1
      sub rcx, 1
      jnz l
      push rax
      pop rdx
      call f
      hlt
    f: mov rsi, 0x1234
      ret`);
    expect(r.exit.reason).toBe('hlt');
    expect(v.getGpr(0)).toBe(22n);
    expect(v.getGpr(2)).toBe(22n);
    expect(v.getGpr(6)).toBe(0x1234n);
    expect(v.retired).toBe(4 + 30 + 2 + 1 + 2);
    expect(v.getGpr(4)).toBe(BigInt(STACK_TOP));
  });

  it('runs a loop longer than one block call (BLOCK_CALL_INSNS) in one entry, each instruction retired once', () => {
    const iters = BLOCK_CALL_INSNS + 12_345;
    const src = `mov rcx, ${iters}\nxor eax, eax\nl: add rax, 3\nsub rcx, 1\njnz l\nhlt`;
    const whole = asmMachine(src).vcpu;
    expect(whole.run(1e9).reason).toBe('hlt');
    expect(whole.retired).toBe(2 + 3 * iters);
    expect(whole.getGpr(0)).toBe(BigInt(3 * iters));
    // An entry's budget still ends it exactly, across the block calls it takes.
    const parts = asmMachine(src).vcpu;
    const e = parts.run(2 * BLOCK_CALL_INSNS + 7);
    expect(e.reason).toBe('budget');
    expect(e.retired).toBe(2 * BLOCK_CALL_INSNS + 7);
    expect(parts.run(1e9).reason).toBe('hlt');
    expect(parts.retired).toBe(whole.retired);
    expect(parts.getGpr(0)).toBe(whole.getGpr(0));
  });

  it('gives a new loop block WARM_CALLS short calls (WARM_CALL_INSNS), then calls of BLOCK_CALL_INSNS', () => {
    const iters = 200_000;
    const src = `mov rcx, ${iters}\nxor eax, eax\nl: add rax, 3\nsub rcx, 1\njnz l\nhlt`;
    const v = asmMachine(src).vcpu;
    // The entry block (mov, xor and the loop's first iteration), then one call of the loop block.
    expect(v.run(5 + 3).reason).toBe('budget');
    const loop = [...v.codeCache.blocks()].find((b) => b.rip === v.rip && b.n === 3)!;
    const fn = loop.fn;
    const budgets: number[] = [];
    loop.fn = ((c, R, budget) => { budgets.push(budget); return fn(c, R, budget); }) as BlockFn;
    expect(v.run(1e9).reason).toBe('hlt');
    expect(v.retired).toBe(2 + 3 * iters);
    expect(v.getGpr(0)).toBe(BigInt(3 * iters));
    // The first call (budget 3) was one of the warm-up calls.
    expect(budgets.slice(0, WARM_CALLS - 1)).toEqual(new Array(WARM_CALLS - 1).fill(WARM_CALL_INSNS));
    expect(budgets.slice(WARM_CALLS - 1, -1).every((b) => b === BLOCK_CALL_INSNS)).toBe(true);
    expect(budgets.length).toBeGreaterThan(WARM_CALLS);
  });

  it('step() retires exactly one instruction at a time', () => {
    const m = asmMachine('mov eax, 1\nadd eax, 2\nadd eax, 3\nhlt');
    m.vcpu.step();
    expect(m.vcpu.getGpr(0)).toBe(1n);
    expect(m.vcpu.retired).toBe(1);
    m.vcpu.step();
    expect(m.vcpu.getGpr(0)).toBe(3n);
    m.vcpu.step();
    expect(m.vcpu.getGpr(0)).toBe(6n);
    expect(m.vcpu.step().reason).toBe('hlt');
    expect(m.vcpu.retired).toBe(3);
  });
});

describe('width rules (SDM Vol. 1 §3.4.1.1)', () => {
  it('32-bit writes zero-extend, 8/16-bit writes preserve, AH..BH without REX', () => {
    const { v } = run(`
      mov rax, -1
      mov eax, 0x12345678
      mov rbx, -1
      mov bx, 0x1234
      mov rcx, -1
      mov cl, 0x56
      mov rdx, 0
      mov dh, 0x9a
      hlt`);
    expect(v.getGpr(0)).toBe(0x12345678n);
    expect(v.getGpr(3)).toBe(0xffffffffffff1234n);
    expect(v.getGpr(1)).toBe(0xffffffffffffff56n);
    expect(v.getGpr(2)).toBe(0x9a00n);
  });
});

describe('arithmetic flags (SDM Vol. 1 Appendix A)', () => {
  const flagsOf = (src: string): number => {
    const { v } = run(src + '\npushfq\npop r15\nhlt');
    return Number(v.getGpr(15)) & STATUS;
  };
  it('add 0x7fffffff + 1 (32-bit): OF SF AF PF', () => {
    expect(flagsOf('mov eax, 0x7fffffff\nadd eax, 1')).toBe(OF | SF | AF | PF);
  });
  it('sub 0 - 1 (64-bit): CF SF AF PF', () => {
    expect(flagsOf('xor eax, eax\nsub rax, 1')).toBe(CF | SF | AF | PF);
  });
  it('add 0xff + 1 (8-bit): CF ZF AF PF', () => {
    expect(flagsOf('mov al, 0xff\nadd al, 1')).toBe(CF | ZF | AF | PF);
  });
  it('64-bit add carry out of bit 63', () => {
    expect(flagsOf('mov rax, 0x8000000000000000\nadd rax, rax')).toBe(CF | ZF | OF | PF);
  });
  it('inc keeps CF, dec sets OF at the signed minimum', () => {
    expect(flagsOf('stc\nmov eax, 1\ninc eax')).toBe(CF);
    expect(flagsOf('clc\nmov eax, 0x80000000\ndec eax')).toBe(OF | AF | PF);
  });
  it('adc and sbb use the carry', () => {
    const { v } = run('stc\nmov rax, -1\nmov rbx, 0\nadc rbx, rax\nstc\nmov rcx, 5\nsbb rcx, 2\nhlt');
    expect(v.getGpr(3)).toBe(0n);
    expect(v.getGpr(1)).toBe(2n);
  });
  it('cmp with jl/jb signed and unsigned branches', () => {
    const { v } = run(`
      mov rax, -1
      cmp rax, 1
      setl bl
      setb cl
      seta dl
      hlt`);
    expect(v.getGpr(3) & 0xffn).toBe(1n);
    expect(v.getGpr(1) & 0xffn).toBe(0n);
    expect(v.getGpr(2) & 0xffn).toBe(1n);
  });
});

describe('exceptions through the IDT (SDM Vol. 3A §6.14)', () => {
  it('#DE on divide by zero pushes a frame without error code and halts in the handler', () => {
    const { r, v } = run('xor ecx, ecx\nmov eax, 1\ndiv ecx\nhlt');
    expect(r.exit.reason).toBe('hlt');
    expect(v.rip).toBe(HANDLER_BASE + 0 * 16);
    // frame: RIP CS RFLAGS RSP SS at the 16-aligned stack
    const sp = Number(v.getGpr(4));
    expect(sp).toBe(STACK_TOP - 40);
    expect(v.ram.view.getUint32(sp, true)).toBe(0x100000 + 2 + 5);
    expect(v.ram.view.getUint32(sp + 8, true)).toBe(0x08);
  });
  it('#UD on ud2, #GP on a non-canonical access', () => {
    expect(run('ud2').v.rip).toBe(HANDLER_BASE + 6 * 16);
    const { v } = run('mov rax, 0x0000800000000000\nmov rbx, [rax]\nhlt');
    expect(v.rip).toBe(HANDLER_BASE + 13 * 16);
  });
  it('#PF sets CR2 and the error code', () => {
    const { v } = run('mov rax, 0x10000000\nmov qword [rax], 1\nhlt'); // beyond the identity map
    expect(v.rip).toBe(HANDLER_BASE + 14 * 16);
    expect(v.cr2).toBe(0x10000000);
    const sp = Number(v.getGpr(4));
    expect(v.ram.view.getUint32(sp, true)).toBe(2); // not present, write, supervisor
  });
});

describe('VM exits are fault-like', () => {
  it('mmio store exits with gla/gpa/access and no effect', () => {
    const m = asmMachine('mov rbx, 0xfee00000\nmov rax, 7\npush rax\nmov dword [rbx + 0x80], eax\nhlt');
    const e = m.vcpu.run(100);
    expect(e.reason).toBe('mmio');
    expect(e.gla).toBe(0xfee00080);
    expect(e.gpa).toBe(0xfee00080);
    expect(e.access).toBe('write');
    expect(e.insnLength).toBe(6);
    expect([...e.insnBytes.subarray(0, e.insnByteCount)]).toEqual([0x89, 0x83, 0x80, 0, 0, 0]);
    expect(m.vcpu.retired).toBe(3);
    expect(m.vcpu.rip).toBe(e.rip);
  });
  it('pop into an mmio page exits before RSP changes', () => {
    const m = asmMachine('mov rbx, 0xfee00000\npush 5\npop qword [rbx]\nhlt');
    const rsp0 = m.vcpu.getGpr(4);
    const e = m.vcpu.run(100);
    expect(e.reason).toBe('mmio');
    expect(m.vcpu.getGpr(4)).toBe(rsp0 - 8n);
  });
  it('cpuid, io, hlt, vmcall, rdmsr exit with their details', () => {
    const m = asmMachine('cpuid\nmov al, 0x41\nout 0xe9, al\nvmcall\nmov ecx, 0x1b\nrdmsr\nhlt');
    const v = m.vcpu;
    expect(v.run(100).reason).toBe('cpuid');
    v.rip += 2;
    const io = v.run(100);
    expect([io.reason, io.port, io.ioSize, io.ioIn, io.ioValue]).toEqual(['io', 0xe9, 1, false, 0x41]);
    v.rip += io.insnLength;
    expect(v.run(100).reason).toBe('vmcall');
    v.rip += 3;
    const msr = v.run(100);
    expect([msr.reason, msr.msr]).toEqual(['rdmsr', 0x1b]);
    v.rip += 2;
    expect(v.run(100).reason).toBe('hlt');
  });
});

describe('self-modifying code', () => {
  it('a store into the running block takes effect on the next instruction', () => {
    const { v } = run(`
      lea rbx, [rel patch]
      mov byte [rbx + 1], 42
    patch:
      mov al, 1
      hlt`);
    expect(v.getGpr(0) & 0xffn).toBe(42n);
  });
});
