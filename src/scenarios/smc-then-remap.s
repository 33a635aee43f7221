; title: self-modifying code, then a page-table remap
; watch: First the program patches a cached MMIO instruction: the store hits the write-protected code page, and the CPU's own dirty-bit update hits a write-protected page-table page. Then it rewrites the PTE of a code page so the same RIP and CR3 run other code: that store lands on a write-protected page-table page and invalidates the entry keyed to the old mapping.
; seed: write-protecting the code page and every page-table page walked to translate RIP
; Part 1 patches an instruction the cache holds; part 2 remaps the page under a cached RIP.
_start:
    ; Find page_a's PTE and write it back unchanged while nothing is cached: the CPU sets the
    ; accessed and dirty bits of the table page's own mapping now, so part 2's remap is a plain store.
    lea rdi, [rel page_a]
    call pte_of                     ; rax = address of page_a's PTE in the firmware's tables
    mov r15, rax
    mov r14, [r15]                  ; the PTE as it is: page_a's frame and flags
    mov [r15], r14
    mov rbx, LAPIC_BASE
    mov dword [rbx + LAPIC_TPR], 0x30

    ; ---- part 1: self-modifying code
    mov r12d, 3
.patch:
    call probe                      ; executes the instruction at patch_site
    mov r13d, eax
    call probe
    ; rewrite the instruction's disp8: LAPIC_ID (0x20) -> the version register (0x30)
    mov byte [rel patch_site + 2], LAPIC_VERSION
    call probe
    add r13d, eax
    mov byte [rel patch_site + 2], LAPIC_ID
    dec r12d
    jnz .patch

    ; ---- part 2: remap the linear page of page_a to page_b's physical page
    lea rdi, [rel page_a]
    mov r12d, 3
.remap:
    call rdi                        ; page_a: reads LAPIC_ID (a miss, then cached)
    add r13d, eax
    call rdi                        ; again: a hit under icache
    add r13d, eax
    lea rax, [rel page_b]
    mov rcx, r14
    and ecx, 0xFFF                  ; keep the flags, swap the frame
    or rax, rcx
    mov [r15], rax                  ; the remap: a store to a write-protected page-table page
    invlpg [rdi]
    call rdi                        ; same RIP, same CR3, page_b's code: reads LAPIC_TPR
    add r13d, eax
    mov [r15], r14                  ; map page_a back
    invlpg [rdi]
    dec r12d
    jnz .remap
    mov al, 'o'
    out DEBUG_PORT, al
    hlt

; rdi = a linear address mapped with a 4 KiB page; returns rax = the address of its PTE.
; Walks the 4 levels from CR3 (the firmware's tables are identity-mapped).
pte_of:
    mov r8, 0x000FFFFFFFFFF000      ; address bits of CR3 and of a table entry
    mov rax, cr3
    mov ecx, 39                     ; PML4 index = bits 47:39, then 38:30, 29:21, 20:12
.level:
    and rax, r8
    mov rdx, rdi
    shr rdx, cl
    and edx, 511
    lea rax, [rax + rdx*8]
    cmp ecx, 12
    je .found
    mov rax, [rax]
    sub ecx, 9
    jmp .level
.found:
    ret

probe:
patch_site:
    mov eax, [rbx + LAPIC_ID]       ; 8B 43 20: the byte at +2 is the displacement
    ret

align 4096
page_a:
    mov eax, [rbx + LAPIC_ID]
    ret
align 4096
page_b:
    mov eax, [rbx + LAPIC_TPR]
    ret
