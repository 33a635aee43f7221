; title: an instruction straddling two pages
; watch: x86 instructions are 1 to 15 bytes long, so one can start on one page and end on the next. The 10-byte LAPIC write here starts 4 bytes before a page boundary: to fetch it the VMM must translate both pages, two 2D walks, and copy from two mappings. Compare its walk and fetch with the 3-byte read that sits inside one page.
; Variable length (SDM Vol. 2A ch. 2, instruction format) and the second translation bhyve's vmm_fetch_instruction makes.
_start:
    mov rbx, LAPIC_BASE
    mov eax, [rbx + LAPIC_VERSION]        ; 8B 43 30: 3 bytes, on one page
    mov r8d, eax
    call straddle
    cmp r9d, 0x10
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

align 4096
    times 4096 - 4 db 0x90                ; padding, never run
straddle:                                 ; 4 bytes before the page boundary
    mov dword [rbx + LAPIC_TPR], 0x10     ; C7 83 80 00 00 00 10 00 00 00: 10 bytes, 4 + 6
    mov r9d, [rbx + LAPIC_TPR]
    ret
