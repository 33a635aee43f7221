/**
 * Minimal reproducers of bugs the stress test found in other modules, all fixed, kept as
 * regression tests. Each asserts what the architecture requires: the run halts normally and
 * every strategy ends in the reference state with the values the guest expects.
 */
import { describe, expect, it } from 'vitest';
import { STRATEGIES } from '../../core/events';
import { diffStates, prepare, runStrategy, type GuestState } from './runner';

function runAll(source: string, name: string): GuestState[] {
  const p = prepare(source, name);
  return STRATEGIES.map((s) => runStrategy(p, s));
}

function expectHaltedAndAgreeing(states: GuestState[]): void {
  const [ref, ...rest] = states;
  expect(ref.stop?.reason, ref.stop?.message).toBe('halted');
  for (const s of rest) expect(diffStates(ref, s)).toEqual([]);
}

/** cpu (codegen bt / Vcpu.btMem): the MMIO exit of `bt m32, imm8` reports the GLA of the byte holding the bit. */
const BT_MMIO = `; bt with an immediate bit offset on MMIO: the access is the operand at the EA (SDM BT), not the byte holding the bit
_start:
    mov rbx, IORAM_BASE
    mov dword [rbx], 0x20000
    bt dword [rbx], 17          ; exit gla must be IORAM_BASE (decoded EA), vCPU reports +2
    setc al
    out DEBUG_PORT, al
    hlt
`;

/** cpu (Vcpu fetch path): an A-bit update on a write-protected table page during a fetch walk stops the run. */
const FETCH_WALK_AD = `; exitscope: vms=1 vcpus=1
; An instruction fetch whose page walk must set the A bit of a PTE on a page-table page the
; icache write-protected: that is an EPT violation (write) to handle, not a fatal fetch error.
_start:
    mov rbx, LAPIC_BASE
    mov eax, pml4
    mov cr3, rax
    mov r14d, 0x40000000
    call r14                    ; page A at 0x40000000: its MMIO read gets cached, pt is protected
    mov r14d, 0x40001000
    call r14                    ; first fetch at 0x40001000: walk sets A in pt[1] (protected page)
    mov al, 'o'
    out DEBUG_PORT, al
    hlt
align 4096
page_a:
    mov eax, [rbx + LAPIC_ID]
    ret
align 4096
page_b:
    mov eax, [rbx + LAPIC_VERSION]
    ret
section .data
align 4096
pml4: dq pdpt + 7
align 4096
pdpt: dq pd_low + 7, pd_win + 7, 0, pd_mmio + 7
align 4096
pd_low: dq 0x87, 0x200087
align 4096
pd_mmio: resq 503
    dq 0xFEE0009F
align 4096
pd_win: dq pt + 7
align 4096
pt: dq page_a + 7, page_b + 7
align 4096
`;

/** cpu (block cache): an instruction straddling two linear pages keeps its decode after the second is remapped. */
const STRADDLE_REMAP = `; An MMIO instruction straddles linear pages 0x401FF000/0x40200000. Remapping the second page
; (PTE write + invlpg of that page) changes the instruction; the vCPU must not run its old decode.
_start:
    mov rbx, IORAM_BASE
    mov dword [rbx + 0x10], 0x11111111
    mov dword [rbx + 0x20], 0x22222222
    mov eax, pml4
    mov cr3, rax
    mov r14d, 0x401fffff
    call r14                    ; mov rax, [rbx + 0x10]   (48 | 8b 43 10 on the second page)
    mov r8, rax
    mov qword [rel pt_hi], b2 + 7
    invlpg [0x40200000]
    call r14                    ; now mov rax, [rbx + 0x20]
    mov r9, rax
    hlt
align 4096
    resb 4095
a1:
    mov rax, [rbx + 0x10]
    ret
align 4096
    resb 4095
b1:
    mov rax, [rbx + 0x20]
    ret
b2 equ b1 + 1
a2 equ a1 + 1
section .data
align 4096
pml4: dq pdpt + 7
align 4096
pdpt: dq pd_low + 7, pd_win + 7, 0, pd_mmio + 7
align 4096
pd_low: dq 0x87, 0x200087
align 4096
pd_mmio: resq 504
    dq 0xFF00009F
align 4096
pd_win: dq pt_lo + 7, pt_hi + 7
align 4096
pt_lo: resq 511
    dq a1 + 1 - 4096 + 7
align 4096
pt_hi: dq a2 + 7
align 4096
`;

/** cpu (block cache): the same, when a CR3 switch maps the second linear page elsewhere. */
const STRADDLE_CR3 = `; Two CR3 trees map linear 0x401FF000 to the same physical page and 0x40200000 to different
; ones; an MMIO instruction straddles the two linear pages. After mov cr3 the instruction is
; a different one: the vCPU must not reuse its old decode.
_start:
    mov rbx, IORAM_BASE
    mov dword [rbx + 0x10], 0x11111111
    mov dword [rbx + 0x20], 0x22222222
    mov eax, pml4_a
    mov cr3, rax
    mov r14d, 0x401fffff
    call r14                    ; tree a: mov rax, [rbx + 0x10]
    mov r8, rax
    mov eax, pml4_b
    mov cr3, rax
    call r14                    ; tree b: mov rax, [rbx + 0x20]
    mov r9, rax
    hlt
align 4096
    resb 4095
a1:
    mov rax, [rbx + 0x10]
    ret
align 4096
    resb 4095
b1:
    mov rax, [rbx + 0x20]
    ret
section .data
align 4096
pd_low: dq 0xa7, 0x2000a7
align 4096
pd_mmio: resq 504
    dq 0xFF0000bF
align 4096
pml4_a: dq pdpt_a + 0x27
align 4096
pdpt_a: dq pd_low + 0x27, pd_win_a + 0x27, 0, pd_mmio + 0x27
align 4096
pd_win_a: dq pt_lo + 0x27, pt_hi_a + 0x27
align 4096
pml4_b: dq pdpt_b + 0x27
align 4096
pdpt_b: dq pd_low + 0x27, pd_win_b + 0x27, 0, pd_mmio + 0x27
align 4096
pd_win_b: dq pt_lo + 0x27, pt_hi_b + 0x27
align 4096
pt_lo: resq 511
    dq a1 + 1 - 4096 + 0x27
align 4096
pt_hi_a: dq a1 + 1 + 0x27
align 4096
pt_hi_b: dq b1 + 1 + 0x27
align 4096
`;

/**
 * machine (Machine.run): after any VM exit the same vCPU gets a fresh slice (`current` moves on
 * only after 'budget' or 'hlt'), so a vCPU that exits more often than every sliceInsns
 * instructions never yields. It also makes the interleaving of vCPUs depend on the strategy
 * (icache adds EPT-violation exits).
 */
const STARVE = `; exitscope: vms=1 vcpus=2
; vCPU 0 polls a flag in a loop that also reads the LAPIC (an exit every iteration); vCPU 1 sets the flag.
_start:
    mov rbx, LAPIC_BASE
.wait:
    mov eax, [rbx + LAPIC_ID]
    cmp byte [rel flag], 1
    jne .wait
    hlt
ap_start:
    mov byte [rel flag], 1
    hlt
section .data
flag: db 0
`;

describe('bugs the stress test found, fixed (regressions)', () => {
  it('machine: a vCPU that polls with an MMIO read in its loop lets the other vCPU run', () => {
    const p = prepare(STARVE, 'starve.s');
    const s = runStrategy(p, 'none', { config: { maxInsns: 200_000 } });
    expect(s.stop?.reason, s.stop?.message).toBe('halted');
  });

  it('cpu: bt dword [IORAM], 17 exits with the operand\'s address (SDM BT: the operand at the EA), not EA + 2', () => {
    const states = runAll(BT_MMIO, 'bt-mmio.s');
    expectHaltedAndAgreeing(states);
    expect(states[0].console).toBe('\x01');
  });

  it('cpu: a fetch walk that sets A on a page-table page the icache protects exits (EPT violation), it does not stop', () => {
    const states = runAll(FETCH_WALK_AD, 'fetch-walk-ad.s');
    expectHaltedAndAgreeing(states);
  });

  it('cpu: an instruction straddling into a remapped page (PTE write + invlpg) runs its new bytes', () => {
    const states = runAll(STRADDLE_REMAP, 'straddle-remap.s');
    expectHaltedAndAgreeing(states);
    for (const s of states) expect(s.vcpus[0].regs.r9, s.strategy).toBe(0x22222222n);
  });

  it('cpu: an instruction straddling into a page that a CR3 switch maps elsewhere runs the new bytes', () => {
    const states = runAll(STRADDLE_CR3, 'straddle-cr3.s');
    expectHaltedAndAgreeing(states);
    for (const s of states) expect(s.vcpus[0].regs.r9, s.strategy).toBe(0x22222222n);
  });
});
