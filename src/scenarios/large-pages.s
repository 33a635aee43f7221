; title: 2 MiB pages in the guest and in the EPT
; exitscope: ept=2m
; watch: The same LAPIC read twice. First from code on a 4 KiB page under the firmware's tables, where the EPT also has 4 KiB leaves: translating RIP takes 24 references. Then, under page tables of the program's own that map everything with 2 MiB pages, from code in a region the EPT maps with 2 MiB leaves: 3 guest levels, each EPT walk 3 levels, (3+1)x(3+1)-1 = 15 references. Compare the walk of the two exits.
; A program that maps its code with 2 MiB pages; the header asks the EPT for 2 MiB leaves above 2 MiB.
LARGE_FLAGS equ 0x83                ; present | writable | 2 MiB page
TABLE_FLAGS equ 3                   ; present | writable
MMIO_FLAGS equ 0x9B                 ; present | writable | PWT | PCD | 2 MiB page

_start:
    mov rbx, LAPIC_BASE
    ; 1. The firmware's tables: 4 KiB pages here, and 4 KiB EPT leaves below 2 MiB.
    mov r8d, [rbx + LAPIC_VERSION]

    ; 2. Tables of our own, in the 2 MiB-EPT region: the first GiB identity-mapped with 2 MiB
    ;    pages, and the 2 MiB page holding the LAPIC.
    lea rdi, [rel pd_low]
    mov eax, LARGE_FLAGS
    mov ecx, 512
.fill:
    mov [rdi], rax
    add rdi, 8
    add rax, 0x200000
    dec ecx
    jnz .fill
    mov eax, 0xFEE00000 | MMIO_FLAGS
    mov [rel pd_mmio + 503*8], rax  ; 0xFEE00000 >> 21 & 511 = 503
    lea rax, [rel pdpt]
    or rax, TABLE_FLAGS
    mov [rel pml4], rax
    lea rax, [rel pd_low]
    or rax, TABLE_FLAGS
    mov [rel pdpt], rax
    lea rax, [rel pd_mmio]
    or rax, TABLE_FLAGS
    mov [rel pdpt + 3*8], rax
    lea rax, [rel pml4]
    mov cr3, rax

    ; 3. The same read from code at 16 MiB: a 2 MiB guest page over a 2 MiB EPT leaf.
    call high_read
    mov r9d, eax

    cmp r8d, r9d
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

section .data
org 0x1000000                       ; 16 MiB: above the firmware's 4 KiB region
align 4096
pml4:    times 512 dq 0
pdpt:    times 512 dq 0
pd_low:  times 512 dq 0
pd_mmio: times 512 dq 0
high_read:
    mov eax, [rbx + LAPIC_VERSION]
    ret
