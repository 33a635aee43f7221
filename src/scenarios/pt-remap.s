; title: page-table remap under a cached instruction
; watch: The program builds its own page tables and calls code at linear 0x40000000 again and again, remapping that page to different code and back in each of 4 passes. The PTE write lands on a page-table page the cache write-protected when it walked RIP: an EPT violation invalidates the stale entry.
; seed: write-protecting every guest page-table page walked to translate RIP
; Same RIP, same CR3, different code: only the page-table write-protection catches it.
REMAP_VA equ 0x40000000
PTE_FLAGS equ 7                     ; present | writable | user
LARGE_FLAGS equ 0x87                ; present | writable | user | 2 MiB page
MMIO_FLAGS equ 0x9F                 ; present | writable | user | PWT | PCD | 2 MiB page

_start:
    ; pml4[0] -> pdpt;  pdpt[0] -> pd_low (identity, 2 MiB pages); pdpt[1] -> pd_remap -> pt_remap;
    ; pdpt[3] -> pd_mmio (the 2 MiB page holding the LAPIC, uncached)
    lea rax, [rel pdpt]
    or rax, PTE_FLAGS
    mov [rel pml4], rax
    lea rax, [rel pd_low]
    or rax, PTE_FLAGS
    mov [rel pdpt], rax
    lea rax, [rel pd_remap]
    or rax, PTE_FLAGS
    mov [rel pdpt + 1*8], rax
    lea rax, [rel pd_mmio]
    or rax, PTE_FLAGS
    mov [rel pdpt + 3*8], rax
    mov qword [rel pd_low], LARGE_FLAGS
    mov qword [rel pd_low + 8], 0x200000 | LARGE_FLAGS
    mov eax, 0xFEE00000 | MMIO_FLAGS
    mov [rel pd_mmio + 503*8], rax          ; 0xFEE00000 >> 21 & 511 = 503
    lea rax, [rel pt_remap]
    or rax, PTE_FLAGS
    mov [rel pd_remap], rax
    lea rax, [rel page_a]
    or rax, PTE_FLAGS
    mov [rel pt_remap], rax
    lea rax, [rel pml4]
    mov cr3, rax

    mov rbx, LAPIC_BASE
    mov dword [rbx + LAPIC_TPR], 0x20
    mov r12d, 4
    xor r13d, r13d
    mov r14, REMAP_VA
.pass:
    call r14                        ; page_a: reads LAPIC_ID
    add r13d, eax
    call r14                        ; again: a cache hit under icache
    add r13d, eax
    lea rax, [rel page_b]
    or rax, PTE_FLAGS
    mov [rel pt_remap], rax         ; remap: write to a write-protected page-table page
    invlpg [r14]
    call r14                        ; page_b: same RIP and CR3, reads LAPIC_TPR
    add r13d, eax
    lea rax, [rel page_a]
    or rax, PTE_FLAGS
    mov [rel pt_remap], rax
    invlpg [r14]
    dec r12d
    jnz .pass
    mov al, 'o'
    out DEBUG_PORT, al
    hlt

align 4096
page_a:
    mov eax, [rbx + LAPIC_ID]
    ret
align 4096
page_b:
    mov eax, [rbx + LAPIC_TPR]
    ret

section .data
align 4096
pml4:     times 512 dq 0
pdpt:     times 512 dq 0
pd_low:   times 512 dq 0
pd_remap: times 512 dq 0
pd_mmio:  times 512 dq 0
pt_remap: times 512 dq 0
