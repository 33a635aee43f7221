import { describe, expect, it } from 'vitest';
import { asmMachine, symbolOf } from '../../test/asmTest';
import { HANDLER_BASE, runUntilHalt, STACK_TOP } from '../../test/testEnv';

const run = (src: string, max = 1_000_000) => {
  const m = asmMachine(src);
  const r = runUntilHalt(m.vcpu, max);
  return { ...m, r, v: m.vcpu };
};

describe('blocks that follow calls, jumps and returns inside a page', () => {
  it('a call/ret loop in one page retires every instruction and leaves the stack balanced', () => {
    const { r, v } = run(`
      mov rcx, 1000
    l: call f
      sub rcx, 1
      jnz l
      jmp done
    f: add rax, 3
      ret
    done: hlt`);
    expect(r.exit.reason).toBe('hlt');
    expect(v.getGpr(0)).toBe(3000n);
    expect(v.retired).toBe(1 + 1000 * 5 + 1);
    expect(v.getGpr(4)).toBe(BigInt(STACK_TOP));
  });

  it('a callee that replaces its return address returns there, not after the call', () => {
    const { r, v } = run(`
      call f
      mov rbx, 1          ; skipped: f returns to 'other'
      hlt
    other: mov rdx, 2
      hlt
    f: lea rax, [rel other]
      mov [rsp], rax
      ret`);
    expect(r.exit.reason).toBe('hlt');
    expect(v.getGpr(3)).toBe(0n);
    expect(v.getGpr(2)).toBe(2n);
    expect(v.getGpr(4)).toBe(BigInt(STACK_TOP));
  });

  it('a fault in a callee reports the callee instruction and retires only what ran before it', () => {
    const src = `
      mov rcx, 1
      call f
      hlt
    f: mov rbx, 5
    bad: mov rax, [0x10000000]  ; beyond the identity map: #PF
      ret`;
    const { v } = run(src);
    expect(v.rip).toBe(HANDLER_BASE + 14 * 16);
    expect(v.lastException?.rip).toBe(symbolOf(src, 'bad'));
    expect(v.retired).toBe(3);
    expect(v.getGpr(3)).toBe(5n);
    expect(v.getGpr(1)).toBe(1n);
  });

  it('a jump chain through one page runs to its end and stores every register it wrote', () => {
    const { r, v } = run(`
      mov eax, 1
      jmp a
    c: add eax, 4
      jmp d
    a: add eax, 2
      jmp c
    d: mov ebx, eax
      hlt`);
    expect(r.exit.reason).toBe('hlt');
    expect(v.getGpr(0)).toBe(7n);
    expect(v.getGpr(3)).toBe(7n);
    expect(v.retired).toBe(7);
  });
});

describe('code a block follows is tracked as its own', () => {
  it('a store into a callee earlier in the page than the caller invalidates the block that followed the call', () => {
    // The block at l runs call f, f's body (before l in the page), the ret and the code
    // after the call: f's bytes are part of it, so each patch of f's immediate must be seen
    // by the next iteration (a real CPU: 1 + 3 + 2).
    const { r, v } = run(`
      jmp main
    f: mov eax, 1
      ret
    main: mov ecx, 3
    l: call f
      add ebx, eax
      mov byte [rel f+1], cl
      sub ecx, 1
      jnz l
      hlt`);
    expect(r.exit.reason).toBe('hlt');
    expect(v.getGpr(3)).toBe(6n);
  });

  it('a store into bytes a followed jump skips over leaves the block valid', () => {
    const src = `
      mov ecx, 3
    l: jmp over
    data: dq 0
    over: mov byte [rel data], cl
      sub ecx, 1
      jnz l
      hlt`;
    const { r, v } = run(src);
    expect(r.exit.reason).toBe('hlt');
    expect(v.retired).toBe(1 + 3 * 4); // the hlt that exits is not retired
    expect(v.codeCache.invalidated).toBe(0);
  });
});

describe('registers held in block locals', () => {
  it('REP MOVSB that faults mid-run in the block that set RCX keeps its progress in RCX, RSI and RDI', () => {
    const { v } = run(`
      mov rsi, 0x200000
      mov rdi, 0x3fffff0       ; 16 bytes below the end of the identity map
      mov rcx, 32
      rep movsb
      hlt`);
    expect(v.rip).toBe(HANDLER_BASE + 14 * 16);
    expect(v.cr2).toBe(0x4000000);
    expect(v.getGpr(1)).toBe(16n);
    expect(v.getGpr(6)).toBe(0x200010n);
    expect(v.getGpr(7)).toBe(0x4000000n);
  });

  it('a self-loop block stores its registers and flags when the budget ends it', () => {
    const m = asmMachine('mov rcx, 100000\nl: add rax, 2\nsub rcx, 1\njnz l\nhlt');
    const e = m.vcpu.run(1000);
    expect(e.reason).toBe('budget');
    expect(m.vcpu.retired).toBe(1000);
    // mov + 333 iterations of 3: rax = 666, rcx = 100000 - 333, ZF from the last sub.
    expect(m.vcpu.getGpr(0)).toBe(666n);
    expect(m.vcpu.getGpr(1)).toBe(BigInt(100000 - 333));
    expect(m.vcpu.getRflags() & 0x40).toBe(0); // ZF of the last sub (rcx != 0)
  });
});

describe('loop blocks that remember the page of each access', () => {
  it('a CR3 write inside the loop makes the next iteration translate the address again', () => {
    // Each iteration points the PTE of linear 0x200000 (testEnv's page table for 2..4 MiB is
    // at 0x5000) at the next physical page and reloads CR3 (a TLB flush that does not end the
    // block); the loop block runs from the second iteration on, so its third reads through a
    // mapping its second remembered.
    const { r, v } = run(`
      mov rsi, 0x200000
      mov qword [0x200000], 1
      mov qword [0x201000], 2
      mov qword [0x202000], 4
      mov rdx, 0x201007
      mov ecx, 3
    l: add rbx, [rsi]
      mov [0x5000], rdx
      mov rax, cr3
      mov cr3, rax
      add rdx, 0x1000
      sub ecx, 1
      jnz l
      hlt`);
    expect(r.exit.reason).toBe('hlt');
    expect(v.getGpr(3)).toBe(7n);
  });

  it('a loop that copies across page ends reads and writes every page through its own translation', () => {
    const { r, v, ram } = run(`
      mov rsi, 0x200ff8
      mov rdi, 0x300ffc        ; its first qword straddles a page end
      mov rcx, 0x401
      xor eax, eax
    fill: mov [rsi + rax*8], rax
      add rax, 1
      cmp rax, rcx
      jne fill
    l: mov rax, [rsi]
      mov [rdi], rax
      add rsi, 8
      add rdi, 8
      sub rcx, 1
      jnz l
      hlt`);
    expect(r.exit.reason).toBe('hlt');
    expect(v.getGpr(1)).toBe(0n);
    for (const k of [0, 1, 2, 512, 513, 1024]) {
      expect(ram.read64(0x300ffc + k * 8)).toBe(BigInt(k));
    }
  });
});
