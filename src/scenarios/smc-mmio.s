; title: self-modifying code rewrites an MMIO instruction
; watch: The loop's LAPIC read is cached; then the program patches that instruction's displacement. The write hits the write-protected code page: an EPT violation exit, the cached entry is invalidated, the next execution misses and decodes the new bytes. (The first patch is caught a step earlier, by the CPU setting the dirty bit in the code page's PTE, on a write-protected page-table page; the call's stack push sets an accessed/dirty bit the same way.)
; seed: the write-protection that keeps the cache honest
; Patch the displacement of a cached MMIO instruction, then run it again.
_start:
    mov rbx, LAPIC_BASE
    mov dword [rbx + LAPIC_TPR], 0x30
    mov r12d, 3
.pass:
    call probe                      ; executes the instruction at patch_site
    mov r13d, eax
    call probe
    ; rewrite the instruction's disp8: LAPIC_ID (0x20) -> the version register (0x30)
    mov byte [rel patch_site + 2], LAPIC_VERSION
    call probe
    add r13d, eax
    mov byte [rel patch_site + 2], LAPIC_ID
    dec r12d
    jnz .pass
    mov al, 'o'
    out DEBUG_PORT, al
    hlt

probe:
patch_site:
    mov eax, [rbx + LAPIC_ID]       ; 8B 43 20: the byte at +2 is the displacement
    ret
