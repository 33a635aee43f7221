; title: getuid-like syscall loop
; watch: syscall and sysret switch privilege without leaving the guest: no VM exits in the loop (only the final out and hlt exit), so no strategy changes anything. The seed measured its getuid loop the same with and without the cache.
; seed: no difference (getuid loop)
; A user program calls a getuid-like system call in a loop (syscall/sysret, CPL 3 <-> 0).
CALLS equ 20000
SYS_GETUID equ 102
SYS_EXIT equ 60

_start:
    mov ecx, MSR_EFER
    rdmsr
    or eax, 1                       ; EFER.SCE: enable syscall/sysret
    wrmsr
    mov ecx, MSR_STAR
    xor eax, eax
    mov edx, 0x00130008             ; sysret CS/SS base 0x10 (+16 = 0x23 user CS), syscall CS 0x08
    wrmsr
    mov ecx, MSR_LSTAR
    lea rax, [rel syscall_entry]
    mov rdx, rax
    shr rdx, 32
    wrmsr
    mov ecx, MSR_FMASK
    mov eax, 0x200                  ; clear IF on entry
    xor edx, edx
    wrmsr
    lea rcx, [rel user_main]
    mov r11, 0x002                  ; user RFLAGS: IF = 0
    lea rsp, [rel user_stack_top]
    o64 sysret                      ; to CPL 3

user_main:
    mov ebx, CALLS
.again:
    mov eax, SYS_GETUID
    syscall
    add r12, rax
    dec ebx
    jnz .again
    mov eax, SYS_EXIT
    syscall

syscall_entry:                      ; CPL 0, RCX = user RIP, R11 = user RFLAGS
    cmp eax, SYS_EXIT
    je .exit
    mov eax, 1000                   ; uid
    o64 sysret
.exit:
    mov al, 'o'
    out DEBUG_PORT, al
    hlt

section .data
align 16
user_stack: times 512 db 0
user_stack_top:
