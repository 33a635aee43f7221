; title: x2APIC: the LAPIC through MSRs
; watch: The same TPR work twice: first through the MMIO page (each access an EPT exit that is walked, fetched, decoded and emulated), then, after setting EXTD in IA32_APIC_BASE, through RDMSR/WRMSR of MSR 0x808. An MSR exit's reason names only the instruction; the MSR number (ECX) and the value (EDX:EAX) are guest registers the VMM has already saved: no walk, no fetch, no decode. Compare the cycles of the two kinds of exit; in x2APIC mode the MMIO page no longer reaches the APIC (here reads give all ones, as in KVM; FreeBSD bhyve's read gives 0, and the SDM does not say).
; The x2APIC interface: SDM Vol. 3A, section "Extended XAPIC (x2APIC)". MSR = 0x800 + (MMIO offset >> 4).
ITERATIONS equ 1000
SELF_VECTOR equ 64

_start:
    mov rbx, LAPIC_BASE
    ; Phase 1, xAPIC: three accesses to the MMIO page per round.
    mov ecx, ITERATIONS
    xor r8d, r8d
.mmio:
    mov dword [rbx + LAPIC_TPR], 0x10
    mov eax, [rbx + LAPIC_TPR]
    add r8d, eax
    mov dword [rbx + LAPIC_TPR], 0
    dec ecx
    jnz .mmio

    ; Switch to x2APIC: IA32_APIC_BASE.EXTD (bit 10), EN (bit 11) stays set.
    mov ecx, MSR_APIC_BASE
    rdmsr
    or eax, APIC_BASE_EXTD
    wrmsr

    ; Phase 2, x2APIC: the same three accesses as WRMSR/RDMSR of the TPR MSR.
    mov esi, ITERATIONS
    xor r9d, r9d
    xor edx, edx
.msr:
    mov ecx, MSR_X2APIC_TPR
    mov eax, 0x10
    wrmsr
    rdmsr
    add r9d, eax
    xor eax, eax
    wrmsr
    dec esi
    jnz .msr

    ; The MMIO page no longer reaches the APIC: this read returns all ones here (as in KVM; not architectural).
    mov r10d, [rbx + LAPIC_ID]
    ; The x2APIC ID is a full 32-bit register (no shift by 24 as in xAPIC).
    mov ecx, MSR_X2APIC_ID
    rdmsr
    mov r11d, eax

    ; A self IPI through the SELF IPI MSR (0x83F), acknowledged by a WRMSR to EOI (0x80B).
    mov ecx, MSR_X2APIC_SVR
    mov eax, 0x1FF                     ; software enable
    xor edx, edx
    wrmsr
    xor r12d, r12d
    mov ecx, MSR_X2APIC_SELF_IPI
    mov eax, SELF_VECTOR
    wrmsr
    sti
    nop                                ; the interrupt arrives after sti's shadow
    cli

    ; "ok" when both phases read the same TPR values, the page read all ones, the ID is 0
    ; and the self IPI ran its handler once.
    cmp r8d, r9d
    jne .bad
    cmp r8d, 0x10 * ITERATIONS
    jne .bad
    cmp r10d, 0xFFFFFFFF
    jne .bad
    test r11d, r11d
    jnz .bad
    cmp r12d, 1
    jne .bad
    mov al, 'o'
    out DEBUG_PORT, al
    mov al, 'k'
    out DEBUG_PORT, al
    hlt
.bad:
    mov al, '!'
    out DEBUG_PORT, al
    hlt

isr_64:
    inc r12d
    mov ecx, MSR_X2APIC_EOI
    xor eax, eax
    xor edx, edx
    wrmsr
    iretq
