; title: LAPIC microbenchmark
; watch: Every LAPIC access exits and goes through the emulation path. Without the cache each exit walks the guest page tables through the EPT (24 references), fetches and decodes; with icache only the first pass misses. Compare modeled cycles per exit under none and icache.
; seed: 35-40% faster with the instruction cache (kernel module hammering LAPIC registers)
; The seed's microbenchmark: a kernel-module-like loop that reads and writes LAPIC
; registers many times. Four MMIO instructions, each run ITERATIONS times.
ITERATIONS equ 5000

_start:
    mov rbx, LAPIC_BASE
    mov ecx, ITERATIONS
    xor r8d, r8d
.loop:
    mov eax, [rbx + LAPIC_ID]         ; read: exit, emulate mov r32, m32
    add r8d, eax
    mov dword [rbx + LAPIC_TPR], 0x10 ; write: exit, emulate mov m32, imm32
    mov eax, [rbx + LAPIC_TPR]
    add r8d, eax
    mov dword [rbx + LAPIC_TPR], 0
    dec ecx
    jnz .loop
    mov al, 'o'
    out DEBUG_PORT, al
    mov al, 'k'
    out DEBUG_PORT, al
    hlt                                ; IF = 0: the run ends here
