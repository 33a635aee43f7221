/** Privilege transitions, exceptions, paging/TLB, exits and interrupts. */
import { describe, expect, it } from 'vitest';
import { asmMachine } from '../../test/asmTest';
import { HANDLER_BASE, IDT_BASE, runUntilHalt, STACK_TOP } from '../../test/testEnv';

const IF = 0x200;

describe('privilege levels', () => {
  it('iretq to CPL 3, then syscall back to CPL 0; sysret returns to CPL 3', () => {
    const m = asmMachine(`
      mov ecx, 0xc0000082      ; LSTAR
      lea rax, [rel kentry]
      mov rdx, rax
      shr rdx, 32
      wrmsr
      push 0x1b                ; SS
      push 0x80000             ; RSP
      push 0x2                 ; RFLAGS
      push 0x23                ; CS (user)
      lea rax, [rel user]
      push rax
      iretq
    user:
      mov rbx, 1
      syscall
      mov r13, 3
      hlt                      ; #GP at CPL 3
    kentry:
      mov r12, 2
      sysretq`);
    const r = runUntilHalt(m.vcpu, 1000);
    expect(r.exit.reason).toBe('hlt');
    const v = m.vcpu;
    expect(v.getGpr(3)).toBe(1n);
    expect(v.getGpr(12)).toBe(2n);
    expect(v.getGpr(13)).toBe(3n);
    expect(v.lastException?.vector).toBe(13);
    expect(v.rip).toBe(HANDLER_BASE + 13 * 16);
    expect(v.cpl).toBe(0);
    // #GP from CPL 3 switched to RSP0 and pushed SS:RSP of the user stack
    const sp = Number(v.getGpr(4));
    expect(v.ram.view.getUint32(sp + 8 * 4, true)).toBe(0x80000);
    expect(v.ram.view.getUint32(sp + 8 * 2, true)).toBe(0x23);
  });

  it('a CPL 3 access to a supervisor page faults after a syscall/sysret round trip with a warm TLB', () => {
    // The kernel makes 0x200000 supervisor-only and reads it (a TLB entry with supervisor
    // rights), goes to CPL 3 with sysret, comes back with syscall, reads it again, returns:
    // the user read must still walk-check U/S (the TLB keeps rights per privilege, §4.10.2.2).
    const m = asmMachine(`
      mov ecx, 0xc0000081      ; STAR: syscall CS 0x08, sysret base 0x10 (CS 0x23, SS 0x1b)
      xor eax, eax
      mov edx, 0x00100008
      wrmsr
      mov ecx, 0xc0000082      ; LSTAR
      lea rax, [rel kentry]
      mov rdx, rax
      shr rdx, 32
      wrmsr
      mov rax, [0x5000]        ; PTE of 0x200000 (page tables at 0x4000)
      and rax, -5              ; clear U/S
      mov [0x5000], rax
      invlpg [0x200000]
      mov qword [0x200000], 0x1234
      mov rax, [0x200000]      ; supervisor read: TLB entry with supervisor rights
      lea rcx, [rel user]
      mov r11, 2
      sysretq
    user:
      mov rbx, 1
      mov rax, [0x100000]      ; a user page reads fine at CPL 3
      syscall
      mov rbx, 2
      mov r14, [0x200000]      ; #PF (U=1, P=1): supervisor page
      mov r13, 3
      hlt
    kentry:
      mov r12, [0x200000]
      sysretq`);
    const r = runUntilHalt(m.vcpu, 1000);
    expect(r.exit.reason).toBe('hlt');
    const v = m.vcpu;
    expect(v.getGpr(12)).toBe(0x1234n);
    expect(v.getGpr(3)).toBe(2n);
    expect(v.getGpr(14)).toBe(0n);
    expect(v.getGpr(13)).toBe(0n);
    expect(v.lastException?.vector).toBe(14);
    expect(v.lastException?.errorCode).toBe(5);
    expect(v.cr2).toBe(0x200000);
    expect(v.rip).toBe(HANDLER_BASE + 14 * 16);
  });

  it('int n delivers through the gate with the next RIP', () => {
    const m = asmMachine('int 0x80\nhlt');
    runUntilHalt(m.vcpu, 100);
    expect(m.vcpu.rip).toBe(HANDLER_BASE + 0x80 * 16);
    expect(m.vcpu.ram.view.getUint32(STACK_TOP - 40, true)).toBe(0x100002);
  });
});

describe('exception escalation (SDM Vol. 3A Table 6-5)', () => {
  it('#GP while delivering #PF (gate not present) becomes #DF', () => {
    const m = asmMachine(`mov byte [${IDT_BASE + 14 * 16 + 5}], 0\nmov rax, 0x10000000\nmov [rax], al\nhlt`);
    runUntilHalt(m.vcpu, 100);
    expect(m.vcpu.rip).toBe(HANDLER_BASE + 8 * 16);
  });
  it('a fault while delivering #DF is a triple fault: a VM exit (basic reason 2) that stops the run', () => {
    const m = asmMachine(`mov byte [${IDT_BASE + 14 * 16 + 5}], 0\nmov byte [${IDT_BASE + 8 * 16 + 5}], 0\nmov rax, 0x10000000\nmov [rax], al\nhlt`);
    const r = runUntilHalt(m.vcpu, 100);
    expect(r.exit.reason).toBe('triple-fault');
    expect(r.exit.stop?.reason).toBe('triple-fault');
    expect(r.exit.stop?.message).toMatch(/triple fault/);
  });
  it('ud2 with no #UD handler escalates as the SDM says, to a triple fault that names it; an instruction the vCPU lacks stops, naming it', () => {
    const m = asmMachine(`mov byte [${IDT_BASE + 6 * 16 + 5}], 0\nmov byte [${IDT_BASE + 13 * 16 + 5}], 0\nmov byte [${IDT_BASE + 8 * 16 + 5}], 0\nnop\nud2`);
    const r = runUntilHalt(m.vcpu, 100);
    expect(r.exit.reason).toBe('triple-fault');
    expect(r.exit.stop).toEqual({ reason: 'triple-fault', message: 'ud2 at rip 0x100019 (0f 0b) raises #UD (invalid opcode) by design, and the guest has no #UD handler (IDT vector 6), so it escalates to a triple fault: #GP while delivering #DF (after #GP, then #GP) at rip 0x100019' });
    // With a #GP handler, the #GP that the missing #UD gate raises is delivered to it (Table 6-5: #UD is benign).
    const g = asmMachine(`mov byte [${IDT_BASE + 6 * 16 + 5}], 0\nnop\nud2`);
    runUntilHalt(g.vcpu, 100);
    expect(g.vcpu.rip).toBe(HANDLER_BASE + 13 * 16);
    // An instruction the vCPU does not implement is not "by design".
    const m2 = asmMachine(`mov byte [${IDT_BASE + 6 * 16 + 5}], 0\nvzeroupper`);
    expect(runUntilHalt(m2.vcpu, 100).exit.stop?.message).toMatch(/^unsupported instruction at rip 0x[0-9a-f]+: vzeroupper \(c5 f8 77\)$/);
  });
});

describe('memory', () => {
  it('accesses that cross a page boundary read and write both pages', () => {
    const m = asmMachine('mov rax, 0x1122334455667788\nmov [0x200ffc], rax\nmov rbx, [0x200ffc]\nmov ecx, [0x200ffe]\nhlt');
    runUntilHalt(m.vcpu, 100);
    expect(m.vcpu.getGpr(3)).toBe(0x1122334455667788n);
    expect(m.vcpu.getGpr(1)).toBe(0x33445566n);
    expect(m.vcpu.ram.view.getUint32(0x201000, true)).toBe(0x11223344);
  });
  it('a page-crossing write whose second page faults writes nothing', () => {
    // 0x3fff000.. is the last RAM page; map nothing above 64 MiB: write at the last 4 bytes crosses into unmapped
    const m = asmMachine('mov rax, -1\nmov rbx, 0x3fffffc\nmov [rbx], rax\nhlt');
    runUntilHalt(m.vcpu, 100);
    expect(m.vcpu.lastException?.vector).toBe(14);
    expect(m.vcpu.ram.view.getUint32(0x3fffffc, true)).toBe(0);
  });
  it('CR3 reload flushes the TLB; stale entries survive until then (SDM §4.10.4)', () => {
    // Remap linear 0x200000 to 0x300000 by editing the PTE, read (stale), reload CR3, read (new).
    const m = asmMachine(`
      mov qword [0x200000], 1
      mov qword [0x300000], 2
      mov rax, [0x200000]
      mov rbx, [0x4000 + 1*4096 + 0]   ; PTE of 0x200000 (PT #1, entry 0)
      mov rcx, rbx
      add rcx, 0x100000
      mov [0x4000 + 1*4096], rcx
      mov rdx, [0x200000]
      mov rsi, cr3
      mov cr3, rsi
      mov rdi, [0x200000]
      invlpg [0x200000]
      hlt`);
    runUntilHalt(m.vcpu, 100);
    expect(m.vcpu.getGpr(0)).toBe(1n);
    expect(m.vcpu.getGpr(2)).toBe(1n);
    expect(m.vcpu.getGpr(7)).toBe(2n);
  });
  for (const pages of [3, 5000]) {
    it(`a CR3 reload after ${pages} pages were read drops the stale translation (a flush clears the slots filled, or all past 4096 fills)`, () => {
      // Read `pages` pages from 0x400000 up, then 0x200000; remap 0x200000 to 0x300000; reload CR3.
      const m = asmMachine(`
        mov qword [0x200000], 1
        mov qword [0x300000], 2
        mov rbx, 0x400000
        mov ecx, ${pages}
      .touch:
        mov rax, [rbx]
        add rbx, 4096
        dec ecx
        jnz .touch
        mov rax, [0x200000]
        mov rbx, [0x4000 + 1*4096 + 0]
        add rbx, 0x100000
        mov [0x4000 + 1*4096], rbx
        mov rsi, cr3
        mov cr3, rsi
        mov rdi, [0x200000]
        hlt`);
      runUntilHalt(m.vcpu, 10 * pages + 100);
      expect(m.vcpu.getGpr(0)).toBe(1n);
      expect(m.vcpu.getGpr(7)).toBe(2n);
    });
  }
});

describe('exits', () => {
  it('a write to an EPT write-protected page exits ept-violation; reads do not', () => {
    const m = asmMachine('mov rax, [0x200000]\nmov qword [0x200000], 5\nhlt');
    m.ept.setWriteProtect(0x200000, true);
    const e = m.vcpu.run(100);
    expect(e.reason).toBe('ept-violation');
    expect(e.gpa).toBe(0x200000);
    expect(e.access).toBe('write');
    expect(m.vcpu.retired).toBe(1);
    expect(m.vcpu.ram.view.getUint32(0x200000, true)).toBe(0);
  });
  it('bt/bts/btr/btc m, imm access the operand at the EA (SDM BT): the MMIO exit reports the EA, not the byte holding the bit', () => {
    for (const insn of ['bt dword [rbx], 17', 'bts dword [rbx], 31', 'btr word [rbx], 9', 'btc qword [rbx], 63', 'bt qword [rbx], 100']) {
      const m = asmMachine(`mov rbx, 0xff000010\n${insn}\nhlt`);
      const e = m.vcpu.run(100);
      expect(e.reason, insn).toBe('mmio');
      expect(e.gla, insn).toBe(0xff000010);
      expect(e.gpa, insn).toBe(0xff000010);
      expect(e.access, insn).toBe(insn.startsWith('bt ') ? 'read' : 'write');
    }
    // A register offset selects the operand-sized unit holding the bit: EA + 4 * (40 DIV 32).
    const m = asmMachine('mov rbx, 0xff000010\nmov ecx, 40\nbt dword [rbx], ecx\nhlt');
    const e = m.vcpu.run(100);
    expect(e.reason).toBe('mmio');
    expect(e.gla).toBe(0xff000014);
  });
  it('bt m, imm reads the whole operand: a dword that crosses into an unmapped page faults even when the bit is in the first byte', () => {
    // RAM ends at 64 MiB; 0x4000000 is unmapped. A byte access at 0x3fffffe would not fault.
    const m = asmMachine('mov rbx, 0x3fffffe\nbt dword [rbx], 1\nhlt');
    runUntilHalt(m.vcpu, 100);
    expect(m.vcpu.lastException?.vector).toBe(14);
    expect(m.vcpu.cr2).toBe(0x4000000);
    const r = asmMachine('mov rbx, 0x200ffe\nmov dword [rbx], 0x80000002\nbt dword [rbx], 31\nsetc al\nbtr dword [rbx], 1\nbtc qword [rbx], 40\nhlt');
    runUntilHalt(r.vcpu, 100);
    expect(r.vcpu.getGpr(0) & 0xffn).toBe(1n);
    expect(r.vcpu.ram.view.getUint32(0x200ffe, true)).toBe(0x80000000);
    expect(r.vcpu.ram.view.getUint32(0x201002, true)).toBe(0x100);
  });
  it('a fetch walk that must set an A bit on an EPT write-protected page-table page exits ept-violation (write, the entry\'s gpa), fault-like, and the fetch retries', () => {
    // Code at 0x100000 jumps to 0x300000, whose PTE (not yet accessed) is in the PT at 0x5000.
    const m = asmMachine('mov eax, 1\nmov rcx, 0x300000\njmp rcx');
    m.ram.bytes.set([0xbb, 2, 0, 0, 0, 0xf4], 0x300000); // mov ebx, 2; hlt
    m.ept.setWriteProtect(0x5000, true);
    const e = m.vcpu.run(100);
    expect(e.reason).toBe('ept-violation');
    expect(e.access).toBe('write');
    expect(e.gpa).toBe(0x5000 + 0x100 * 8);
    expect(e.rip).toBe(0x300000);
    expect(e.insnLength).toBe(0);
    expect(e.retired).toBe(3);
    expect(m.vcpu.stopInfo).toBeNull();
    expect(m.ram.view.getUint32(0x5800, true) & 0x20).toBe(0); // A not set: the walk had no effect
    // The VMM lifts the protection; re-entry retries the fetch, which sets A and runs on.
    m.ept.setWriteProtect(0x5000, false);
    const r = runUntilHalt(m.vcpu, 100);
    expect(r.exit.reason).toBe('hlt');
    expect(m.vcpu.getGpr(3)).toBe(2n);
    expect(m.ram.view.getUint32(0x5800, true) & 0x20).toBe(0x20);
  });
  it('rep stosb into MMIO exits before writing the first byte', () => {
    const m = asmMachine('mov rdi, 0xff000000\nmov rcx, 4\nmov al, 1\nrep stosb\nhlt');
    const e = m.vcpu.run(100);
    expect(e.reason).toBe('mmio');
    expect(m.vcpu.getGpr(1)).toBe(4n);
    expect(e.gpa).toBe(0xff000000);
  });
  it('the APICv fast path completes an access without exiting and can request apic-write', () => {
    const m = asmMachine('mov rbx, 0xfee00000\nmov eax, [rbx + 0x20]\nmov dword [rbx + 0xb0], 0\nmov ecx, 1\nhlt');
    const seen: string[] = [];
    m.vcpu.mmioFastPath = (gpa, size, isWrite) => {
      seen.push(`${isWrite ? 'w' : 'r'}${size}@${gpa.toString(16)}`);
      if (isWrite) { m.vcpu.apicWritePending = true; return true; }
      return 0x05000000n;
    };
    const e = m.vcpu.run(100);
    expect(e.reason).toBe('apic-write');
    expect(m.vcpu.getGpr(0)).toBe(0x05000000n);
    expect(seen).toEqual(['r4@fee00020', 'w4@fee000b0']);
    expect(m.vcpu.run(100).reason).toBe('hlt');
  });
  it('interrupt window: opens after the instruction following sti; injectInterrupt delivers', () => {
    const m = asmMachine('sti\nnop\nnop\nl: jmp l');
    const v = m.vcpu;
    v.requestInterruptWindow = true;
    const e = v.run(100);
    expect(e.reason).toBe('interrupt-window');
    expect(v.retired).toBe(2); // sti + the shadowed nop
    expect(v.interruptWindowOpen()).toBe(true);
    v.requestInterruptWindow = false;
    v.injectInterrupt(0x30);
    v.run(1);
    expect(v.rip).toBe(HANDLER_BASE + 0x30 * 16);
    expect(v.getRflags() & IF).toBe(0);
    const sp = Number(v.getGpr(4));
    expect(v.ram.view.getUint32(sp, true)).toBe(0x100002);
  });
  it('MOV SS shadow: the interrupt window opens only after the instruction following mov ss, with IF already set', () => {
    const m = asmMachine('mov ss, ax\nnop\nnop\nl: jmp l');
    const v = m.vcpu;
    v.setGpr(0, 0x10n);
    v.setRflags(v.getRflags() | IF);
    v.run(1); // mov ss
    expect(v.interruptWindowOpen()).toBe(false);
    v.requestInterruptWindow = true;
    const e = v.run(100);
    expect(e.reason).toBe('interrupt-window');
    expect(v.retired).toBe(2); // mov ss + the shadowed nop
    expect(v.interruptWindowOpen()).toBe(true);
  });
  it('MOV SS shadow: from memory too; a mov ss in the shadow of another does not extend it', () => {
    const m = asmMachine('mov rbx, 0x200000\nmov word [rbx], 0x10\nmov ss, [rbx]\nmov ss, ax\nnop\nl: jmp l');
    const v = m.vcpu;
    v.setRflags(v.getRflags() | IF);
    v.run(3); // ..., the first mov ss
    v.requestInterruptWindow = true;
    expect(v.run(100).reason).toBe('interrupt-window');
    expect(v.retired).toBe(4); // the second mov ss ran in the first one's shadow; the window opens after it
  });
  it('POP SS (17) is #UD in 64-bit mode', () => {
    const m = asmMachine('db 0x17\nhlt');
    m.vcpu.run(10);
    expect(m.vcpu.rip).toBe(HANDLER_BASE + 6 * 16);
  });
  it('injectException with CR2 and error code', () => {
    const m = asmMachine('nop\nhlt');
    m.vcpu.injectException(14, 6, 0xdead000);
    m.vcpu.run(1);
    expect(m.vcpu.cr2).toBe(0xdead000);
    expect(m.vcpu.rip).toBe(HANDLER_BASE + 14 * 16);
  });
});

describe('self-modifying code', () => {
  it('a loop that patches its own immediate sees each new value', () => {
    const m = asmMachine(`
      xor ebx, ebx
      mov ecx, 3
    top:
      add ebx, [rel imm]
    k: mov eax, 1
      mov [rel k + 1], ecx
      add ebx, eax
      sub ecx, 1
      jnz top
      hlt
    imm: dd 0`);
    runUntilHalt(m.vcpu, 1000);
    // eax = 1 then 3 then 2 (patched with ecx before the next pass)
    expect(m.vcpu.getGpr(3)).toBe(1n + 3n + 2n);
  });
  it('codeCache.invalidatePage (VMM-emulated write) retranslates', () => {
    const m = asmMachine('mov eax, 1\nhlt');
    runUntilHalt(m.vcpu, 10);
    expect(m.vcpu.getGpr(0)).toBe(1n);
    m.ram.bytes[0x100001] = 9;
    m.codeCache.invalidatePage(0x100000);
    m.vcpu.rip = 0x100000;
    runUntilHalt(m.vcpu, 10);
    expect(m.vcpu.getGpr(0)).toBe(9n);
  });
  it('single-stepping a self-loop and a budget that ends mid-block are exact', () => {
    const m = asmMachine('mov rcx, 100\nl: add rax, 1\nsub rcx, 1\njnz l\nhlt');
    const v = m.vcpu;
    v.run(7);
    expect(v.retired).toBe(7);
    for (let i = 0; i < 5; i++) v.step();
    expect(v.retired).toBe(12);
    expect(v.getGpr(0)).toBe(4n); // mov + 3 full passes + add, sub of the 4th
    runUntilHalt(v, 1000);
    expect(v.getGpr(0)).toBe(100n);
    expect(v.retired).toBe(1 + 300);
  });
});

describe('instructions that straddle two linear pages', () => {
  // `mov eax, imm32; ret` at 0x200fff: the opcode on linear page 0x200000, the immediate on
  // 0x201000, which maps physical 0x201000 (imm 0x11111111) or 0x300000 (imm 0x22222222).
  const straddler = (m: ReturnType<typeof asmMachine>) => {
    m.ram.bytes[0x200fff] = 0xb8;
    m.ram.bytes.set([0x11, 0x11, 0x11, 0x11, 0xc3], 0x201000);
    m.ram.bytes.set([0x22, 0x22, 0x22, 0x22, 0xc3], 0x300000);
  };
  const PTE_201000 = 0x5000 + 1 * 8; // PT #1 (0x200000-0x3fffff), entry 1

  it('after the second page is remapped (PTE write + invlpg) the new bytes run; writes to the new second page retranslate', () => {
    const m = asmMachine(`
      mov rcx, 0x200fff
      call rcx
      mov r8d, eax
      mov qword [${PTE_201000}], 0x300007
      invlpg [0x201000]
      call rcx
      mov r9d, eax
      mov dword [0x300000], 0x33333333
      call rcx
      mov r10d, eax
      hlt`);
    straddler(m);
    expect(runUntilHalt(m.vcpu, 1000).exit.reason).toBe('hlt');
    expect(m.vcpu.getGpr(8)).toBe(0x11111111n);
    expect(m.vcpu.getGpr(9)).toBe(0x22222222n);
    expect(m.vcpu.getGpr(10)).toBe(0x33333333n);
  });

  it('after a CR3 switch to a tree that maps the second page elsewhere the new bytes run, and the old ones again after switching back', () => {
    const m = asmMachine(`
      mov rcx, 0x200fff
      call rcx
      mov r8d, eax
      mov rax, 0x400000
      mov cr3, rax
      call rcx
      mov r9d, eax
      mov rax, 0x1000
      mov cr3, rax
      call rcx
      mov r10d, eax
      hlt`);
    straddler(m);
    // Tree b: copies of the PML4, PDPT, PD and PT #1 at 0x400000.., PT #1 mapping 0x201000 -> 0x300000.
    const [pml4, pdpt, pd, pt] = [0x400000, 0x401000, 0x402000, 0x403000];
    m.ram.bytes.copyWithin(pml4, 0x1000, 0x2000);
    m.ram.bytes.copyWithin(pdpt, 0x2000, 0x3000);
    m.ram.bytes.copyWithin(pd, 0x3000, 0x4000);
    m.ram.bytes.copyWithin(pt, 0x5000, 0x6000);
    m.ram.view.setUint32(pml4, pdpt | 7, true);
    m.ram.view.setUint32(pdpt, pd | 7, true);
    m.ram.view.setUint32(pd + 8, pt | 7, true);
    m.ram.view.setUint32(pt + 8, 0x300000 | 7, true);
    expect(runUntilHalt(m.vcpu, 1000).exit.reason).toBe('hlt');
    expect(m.vcpu.getGpr(8)).toBe(0x11111111n);
    expect(m.vcpu.getGpr(9)).toBe(0x22222222n);
    expect(m.vcpu.getGpr(10)).toBe(0x11111111n);
  });
});

describe('cpuid and msrs', () => {
  it('cpuid leaf 0 vendor and leaf 0x80000001 long mode', () => {
    const m = asmMachine('xor eax, eax\ncpuid\nmov r8, rbx\nmov eax, 0x80000001\ncpuid\nhlt');
    runUntilHalt(m.vcpu, 100);
    const b = Number(m.vcpu.getGpr(8));
    expect(String.fromCharCode(b & 255, (b >> 8) & 255, (b >> 16) & 255, b >>> 24)).toBe('Exit');
    expect(Number(m.vcpu.getGpr(2)) & (1 << 29)).not.toBe(0);
  });
  it('wrmsr/rdmsr FS_BASE and fs-relative addressing; swapgs', () => {
    const m = asmMachine(`
      mov ecx, 0xc0000100
      mov eax, 0x200000
      xor edx, edx
      wrmsr
      mov qword [0x200010], 77
      mov rbx, fs:[0x10]
      mov ecx, 0xc0000102
      mov eax, 0x1234
      wrmsr
      swapgs
      mov ecx, 0xc0000101
      rdmsr
      hlt`);
    runUntilHalt(m.vcpu, 100);
    expect(m.vcpu.getGpr(3)).toBe(77n);
    expect(m.vcpu.getGpr(0)).toBe(0x1234n);
  });
});
