; title: two address spaces, same RIPs
; watch: Two page-table trees map linear 0x40000000 to different code. The program switches CR3 between them and calls the same RIP. The cache keys entries by (VM, RIP, CR3), so each address space keeps its own entry and both hit: the cache panel lists two entries at 0x40000000, each with the line of the code it holds.
; seed: the cache key includes CR3 because the same RIP means different code in different processes
; Switch CR3 between two address spaces that run different code at the same RIP.
SHARED_VA equ 0x40000000
PTE_FLAGS equ 7
LARGE_FLAGS equ 0x87
MMIO_FLAGS equ 0x9F

_start:
    ; the low 4 MiB (identity) and the LAPIC are shared by both trees
    mov qword [rel pd_low], LARGE_FLAGS
    mov qword [rel pd_low + 8], 0x200000 | LARGE_FLAGS
    mov eax, 0xFEE00000 | MMIO_FLAGS
    mov [rel pd_mmio + 503*8], rax
    lea rdi, [rel pml4_a]
    lea rsi, [rel page_a]
    call build_tree
    lea rdi, [rel pml4_b]
    lea rsi, [rel page_b]
    call build_tree

    mov rbx, LAPIC_BASE
    mov dword [rbx + LAPIC_TPR], 0x40
    lea r8, [rel pml4_a]
    lea r9, [rel pml4_b]
    mov r14, SHARED_VA
    mov r12d, 200
    xor r13d, r13d
.switch:
    mov cr3, r8
    call r14                        ; address space A: reads LAPIC_ID
    add r13d, eax
    mov cr3, r9
    call r14                        ; address space B: same RIP, reads LAPIC_TPR
    add r13d, eax
    dec r12d
    jnz .switch
    mov al, 'o'
    out DEBUG_PORT, al
    hlt

; rdi = a 4-page block: pml4, pdpt, pd, pt (each 4 KiB); rsi = the page to map at SHARED_VA
build_tree:
    lea rax, [rdi + 0x1000]         ; pdpt
    or rax, PTE_FLAGS
    mov [rdi], rax
    lea rax, [rel pd_low]
    or rax, PTE_FLAGS
    mov [rdi + 0x1000], rax         ; pdpt[0] -> shared identity pd
    lea rax, [rdi + 0x2000]
    or rax, PTE_FLAGS
    mov [rdi + 0x1000 + 8], rax     ; pdpt[1] -> private pd
    lea rax, [rel pd_mmio]
    or rax, PTE_FLAGS
    mov [rdi + 0x1000 + 24], rax    ; pdpt[3] -> shared LAPIC pd
    lea rax, [rdi + 0x3000]
    or rax, PTE_FLAGS
    mov [rdi + 0x2000], rax         ; pd[0] -> pt
    mov rax, rsi
    or rax, PTE_FLAGS
    mov [rdi + 0x3000], rax         ; pt[0] -> the code page
    ret

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
pd_low:  times 512 dq 0
pd_mmio: times 512 dq 0
pml4_a:  times 4*512 dq 0
pml4_b:  times 4*512 dq 0
