; title: one LAPIC read, one VM exit
; watch: A single read of the LAPIC version register. It exits (the LAPIC page is MMIO in the EPT), and the VMM runs its whole path once: walk the guest page tables from CR3 to find RIP's physical page (every reference through the EPT), fetch the bytes, decode them, emulate the read against the device, advance RIP. Step it with Next exit and watch each stage.
; The smallest exit: bhyve's vm_handle_inst_emul path, once.
_start:
    mov rbx, LAPIC_BASE
    mov eax, [rbx + LAPIC_VERSION]     ; exits: the VMM emulates this read
    cmp eax, 0x50014                   ; version 0x14, 6 LVT entries
    jne .bad
    mov al, 'v'
    out DEBUG_PORT, al
    hlt
.bad:
    mov al, '!'
    out DEBUG_PORT, al
    hlt
