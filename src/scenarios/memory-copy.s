; title: memory copy (dd)
; watch: rep movsq copies RAM to RAM inside the guest. There are no MMIO accesses, so no exits to emulate: the cache has nothing to do, as in the seed's dd test. The model charges a whole rep movsq (2,048 moves) as one guest instruction, so the guest's share of the cycles here is far too small: the out and hlt exits look large beside it, where the real copy would dwarf them.
; seed: no difference (dd if=/dev/zero of=/dev/zero bs=256)
; Copy a 16 KiB buffer back and forth, like dd between two memory devices.
ROUNDS equ 200
QWORDS equ 2048

_start:
    cld
    mov r8d, ROUNDS
.round:
    lea rsi, [rel src]
    lea rdi, [rel dst]
    mov ecx, QWORDS
    rep movsq
    lea rsi, [rel dst]
    lea rdi, [rel src]
    mov ecx, QWORDS
    rep movsq
    inc qword [rel src]             ; change the data a little each round
    dec r8d
    jnz .round
    mov rax, [rel src]
    mov al, 'o'
    out DEBUG_PORT, al
    hlt

section .data
align 4096
src: times QWORDS dq 0x0123456789abcdef
dst: times QWORDS dq 0
