; title: CPU-bound loop with a periodic timer
; watch: Almost all time is guest computation. Besides the timer's set-up writes, the write that masks it at the end and the final out and hlt, each tick costs two exits (under icache, also two write-protect faults): the tick kicks the computing vCPU out (an external-interrupt exit, as bhyve's vlapic callout does with its IPI; the tick is injected at the next entry), then the handler's EOI write exits. The cache can help only the EOI's exit: it saves a walk, a fetch and a decode per tick, which disappears in the total: the seed saw no difference on its shell loop. Under apicv, posted interrupts deliver the tick and the EOI is virtualized: no exit per tick.
; seed: no measurable difference (CPU-intensive shell loop, 1 and 2 vCPUs)
; A CPU-bound loop (the seed's `a=$((a+1))` shell loop) with a periodic LAPIC timer
; whose handler acknowledges each tick with an EOI.
LOOPS equ 400000
TIMER_VECTOR equ 32

_start:
    mov rbx, LAPIC_BASE
    mov dword [rbx + LAPIC_SVR], 0x1FF           ; APIC software enable, spurious vector 0xFF
    mov dword [rbx + LAPIC_TIMER_DCR], 0xB       ; divide by 1
    mov dword [rbx + LAPIC_LVT_TIMER], 0x20000 | TIMER_VECTOR ; periodic
    mov dword [rbx + LAPIC_TIMER_ICR], 50000     ; a tick every 50,000 bus cycles
    sti
    xor eax, eax
    mov ecx, LOOPS
.work:
    add rax, rcx
    imul rax, rax, 3
    xor rax, rcx
    dec ecx
    jnz .work
    cli
    mov dword [rbx + LAPIC_LVT_TIMER], 0x10000  ; mask the timer
    mov [rel result], rax
    mov al, 'o'
    out DEBUG_PORT, al
    hlt

isr_32:                                         ; the timer tick
    push rax
    mov rax, LAPIC_BASE
    mov dword [rax + LAPIC_EOI], 0             ; EOI: exits, emulated
    inc qword [rel ticks]
    pop rax
    iretq

section .data
result: dq 0
ticks:  dq 0
