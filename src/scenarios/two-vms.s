; title: two VMs with two vCPUs each
; exitscope: vms=2 vcpus=2
; watch: Four vCPUs in two VMs run the same program at the same RIPs under the same CR3 value. The cache is shared and keyed by VM, so VM 0's entries never serve VM 1: each VM misses once per instruction, then hits.
; seed: entries are keyed by the struct vm pointer as well as RIP and CR3
; Each vCPU reads its APIC ID and hammers its LAPIC.
_start:
    mov rbx, LAPIC_BASE
    mov eax, [rbx + LAPIC_ID]
    shr eax, 24
    mov r15d, eax                   ; this vCPU's APIC ID
    mov ecx, 1000
.loop:
    mov eax, [rbx + LAPIC_ID]
    mov dword [rbx + LAPIC_TPR], 0
    dec ecx
    jnz .loop
    mov al, '0'
    add al, r15b
    out DEBUG_PORT, al
    hlt
