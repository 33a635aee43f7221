; title: IPI ping-pong between vCPUs
; exitscope: vms=1 vcpus=2
; watch: Two vCPUs bounce an inter-processor interrupt. Each bounce is two ICR writes (the destination in ICR high, then ICR low sends it: two exits, emulated), an interrupt injected on the other vCPU's next VM entry, and an EOI write (a third exit). The ICR and EOI instructions are few and hot: ideal for the cache.
; seed: interrupt-heavy work is where LAPIC emulation cost shows
; vCPU 0 and vCPU 1 send each other fixed IPIs with vector 64.
ROUNDS equ 200
IPI_VECTOR equ 64

_start:
    mov rbx, LAPIC_BASE
    mov dword [rbx + LAPIC_SVR], 0x1FF       ; software enable
    mov eax, [rbx + LAPIC_ID]
    shr eax, 24
    mov r15d, eax                            ; my APIC ID: 0 or 1
    test r15d, r15d
    jnz .ap
.bsp:
    cmp byte [rel ap_ready], 1               ; wait until vCPU 1 can take interrupts
    je .serve
    pause
    jmp .bsp
.serve:
    sti
    call send_to_other
    jmp .wait
.ap:
    mov byte [rel ap_ready], 1
.wait:                                       ; sleep until done; sti's shadow covers hlt
    cli
    cmp byte [rel done], 1
    je .finish
    sti
    hlt
    jmp .wait
.finish:
    mov al, 'A'
    add al, r15b
    out DEBUG_PORT, al
    hlt                                      ; IF = 0: this vCPU stops

isr_64:
    lock inc qword [rel rounds]
    mov dword [rbx + LAPIC_EOI], 0
    cmp byte [rel done], 1
    je .out
    cmp qword [rel rounds], ROUNDS
    jb .send
    mov byte [rel done], 1                   ; last round: wake the other side to finish
.send:
    call send_to_other
.out:
    iretq

send_to_other:
    mov eax, r15d
    xor eax, 1
    shl eax, 24
    mov [rbx + LAPIC_ICR_HI], eax            ; destination APIC ID
    mov dword [rbx + LAPIC_ICR_LO], IPI_VECTOR ; fixed, physical, edge: sends it
    ret

section .data
rounds:   dq 0
ap_ready: db 0
done:     db 0
