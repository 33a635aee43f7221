; title: boot-like cold path
; watch: Hundreds of distinct MMIO instructions, each run once, like device probing at boot. Every lookup misses, so every exit pays a walk, a fetch, a decode and an insert (the first insert also write-protects the code page and its page tables): the cache only adds cost here. This is the worst case the seed warned about.
; seed: the cache only pays off for instructions that run again; at boot it costs a lookup and an insert per exit
; Many distinct instructions touching the LAPIC, each executed exactly once.
_start:
    mov rbx, LAPIC_BASE
    xor r8d, r8d
    times 200 mov eax, [rbx + LAPIC_ID]
    times 200 mov dword [rbx + LAPIC_TPR], 0
    times 100 add r8d, [rbx + LAPIC_TPR]
    mov al, 'o'
    out DEBUG_PORT, al
    hlt
