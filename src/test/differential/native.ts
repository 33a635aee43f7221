/**
 * The native side of the differential test: one GNU as file with every case and a small C
 * driver, built with gcc, run once. The driver reads the cases' initial states on stdin, runs
 * each case at CPL 3 on this machine's CPU, and writes the final states and each case's code
 * bytes and addresses (what the vCPU will run, where) on stdout.
 *
 * Harness (all in the .s file): `diff_run(code)` saves the C callee-saved registers and RSP,
 * loads RFLAGS with POPFQ on a scratch stack, loads the 16 GPRs from `diff_in` (RDI last),
 * and jumps to the case. Every case ends with `jmp diff_exit`, which stores the 16 GPRs into
 * `diff_out` with RIP-relative moves (no register needed), then RFLAGS through PUSHFQ on the
 * scratch stack, clears DF (the C ABI requires it) and returns. A fault (SIGFPE for #DE, or a
 * SIGSEGV from a generator bug) is caught on an alternate stack: the handler records the
 * registers from the signal context and siglongjmps back to the driver.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DiffCase } from './generator.ts';
import { CODE_ADDR, GS_BASE, MEM_ADDR, MEM_SIZE } from './layout.ts';

/** The two pages holding the buffer (a section of the harness, linked there). */
const MAP_BASE = MEM_ADDR & ~0xfff;

/**
 * How a case ended: 'ok' (ran to its end), 'exception' (a CPU exception, `detail` = its vector:
 * natively derived from the signal), 'fault' (the harness went wrong: a write outside the
 * buffer, or on the vCPU a stop or an unexpected exit; `detail` says which).
 */
export type Outcome = 'ok' | 'exception' | 'fault';

export interface CaseResult {
  outcome: Outcome;
  /**
   * For 'exception': RIP in the frame minus the case's first byte (the faulting instruction;
   * for a trap like INT3, the next one).
   */
  faultOffset: number;
  detail: number;
  gpr: bigint[];
  rflags: number;
  mem: Uint8Array;
}

/** A case's machine code (without the final jmp to the harness) and where it is linked. */
export interface CaseCode {
  addr: number;
  bytes: Uint8Array;
}

export interface NativeRun {
  results: CaseResult[];
  code: CaseCode[];
  buildMs: number;
  runMs: number;
}

/** Why the native side cannot run here, or null if it can. */
export function nativeUnavailable(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `needs Linux on x86-64 (this is ${process.platform}/${process.arch})`;
  for (const tool of ['gcc', 'as']) {
    const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) return `\`${tool}\` is not installed (apt-get install gcc binutils)`;
  }
  return null;
}

/**
 * Templates whose instructions this CPU does not have (from /proc/cpuinfo): run natively they
 * would be something else (LZCNT/TZCNT execute as BSR/BSF without ABM/BMI1) or #UD.
 */
export function unsupportedTemplates(): Set<string> {
  let flags: Set<string>;
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    flags = new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
  const out = new Set<string>();
  if (!flags.has('abm')) out.add('lzcnt');
  if (!flags.has('bmi1')) out.add('tzcnt');
  if (!flags.has('popcnt')) out.add('popcnt');
  if (!flags.has('cx16')) out.add('cmpxchg8b').add('raise');
  return out;
}

export function caseAsm(cases: readonly DiffCase[]): string {
  // The cases live in their own section linked at CODE_ADDR, the vCPU's code address, so
  // RIP-relative operands, CALL and RET see the same addresses on both sides.
  const out: string[] = [HARNESS_ASM, '  .section .diffcases,"ax",@progbits'];
  for (const c of cases) {
    out.push(`  .balign 16`, `diff_case_${c.id}:`);
    for (const line of c.lines.flatMap((l) => l.split('\n'))) {
      const t = line.trim();
      out.push(t.endsWith(':') ? t : `  ${t}`);
    }
    out.push(`diff_case_${c.id}_end:`, '  jmp diff_exit');
  }
  out.push('  .section .rodata', '  .balign 8', '  .globl diff_case_table', 'diff_case_table:');
  for (const c of cases) out.push(`  .quad diff_case_${c.id}, diff_case_${c.id}_end`);
  out.push('  .globl diff_case_count', 'diff_case_count:', `  .quad ${cases.length}`);
  out.push('  .section .note.GNU-stack,"",@progbits', '');
  return out.join('\n');
}

const HARNESS_ASM = `  .intel_syntax noprefix
  .section .diffmem,"aw",@nobits
diff_page: .skip 0x2000
  .set diff_buf, diff_page + ${MEM_ADDR - MAP_BASE}
  .bss
  .balign 16
  .globl diff_in, diff_out
diff_in: .skip 17*8
diff_out: .skip 17*8
diff_saved_rsp: .skip 8
diff_target: .skip 8
  .skip 256
diff_scratch_top: .skip 16
  .text
  .globl diff_run
# void diff_run(const void *code)
diff_run:
  push rbx
  push rbp
  push r12
  push r13
  push r14
  push r15
  mov [rip + diff_saved_rsp], rsp
  mov [rip + diff_target], rdi
  lea rsp, [rip + diff_scratch_top]
  push qword ptr [rip + diff_in + 128]
  popfq
  lea rdi, [rip + diff_in]
  mov rax, [rdi + 0]
  mov rcx, [rdi + 8]
  mov rdx, [rdi + 16]
  mov rbx, [rdi + 24]
  mov rsp, [rdi + 32]
  mov rbp, [rdi + 40]
  mov rsi, [rdi + 48]
  mov r8, [rdi + 64]
  mov r9, [rdi + 72]
  mov r10, [rdi + 80]
  mov r11, [rdi + 88]
  mov r12, [rdi + 96]
  mov r13, [rdi + 104]
  mov r14, [rdi + 112]
  mov r15, [rdi + 120]
  mov rdi, [rdi + 56]
  jmp qword ptr [rip + diff_target]
diff_exit:
  mov [rip + diff_out + 0], rax
  mov [rip + diff_out + 8], rcx
  mov [rip + diff_out + 16], rdx
  mov [rip + diff_out + 24], rbx
  mov [rip + diff_out + 32], rsp
  mov [rip + diff_out + 40], rbp
  mov [rip + diff_out + 48], rsi
  mov [rip + diff_out + 56], rdi
  mov [rip + diff_out + 64], r8
  mov [rip + diff_out + 72], r9
  mov [rip + diff_out + 80], r10
  mov [rip + diff_out + 88], r11
  mov [rip + diff_out + 96], r12
  mov [rip + diff_out + 104], r13
  mov [rip + diff_out + 112], r14
  mov [rip + diff_out + 120], r15
  lea rsp, [rip + diff_scratch_top]
  pushfq
  pop qword ptr [rip + diff_out + 128]
  cld
  mov rsp, [rip + diff_saved_rsp]
  pop r15
  pop r14
  pop r13
  pop r12
  pop rbp
  pop rbx
  ret
`;

/** Size of one case's record on stdin: 17 u64 + the buffer. */
const IN_RECORD = 17 * 8 + MEM_SIZE;
/** Size of one result record on stdout (before the code bytes): outcome, detail, offset, state, buffer. */
const OUT_RECORD = 4 + 4 + 8 + 17 * 8 + MEM_SIZE;

const DRIVER_C = `
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define MEM_ADDR ${MEM_ADDR}UL
#define MEM_SIZE ${MEM_SIZE}
#define MAP_BASE ${MAP_BASE}UL
#define GS_BASE ${GS_BASE}UL
#define MAP_SIZE 0x2000UL
#define IN_RECORD ${IN_RECORD}

extern uint64_t diff_in[17], diff_out[17];
extern const uint64_t diff_case_table[];
extern const uint64_t diff_case_count;
void diff_run(const void *code);

static sigjmp_buf env;
static volatile int fault_sig, fault_code;
static uint64_t fault_regs[17];
static uint64_t fault_rip;

/* Register order of the results = hardware order; map from ucontext's REG_* indices. */
static void on_fault(int sig, siginfo_t *si, void *ctx) {
  fault_code = si->si_code;
  greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
  static const int order[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15 };
  for (int i = 0; i < 16; i++) fault_regs[i] = (uint64_t)g[order[i]];
  fault_regs[16] = (uint64_t)g[REG_EFL];
  fault_rip = (uint64_t)g[REG_RIP];
  fault_sig = sig;
  siglongjmp(env, 1);
}

static void put(const void *p, size_t n) {
  if (fwrite(p, 1, n, stdout) != n) { perror("write"); exit(3); }
}

int main(void) {
  size_t cap = 1 << 20, len = 0;
  unsigned char *in = malloc(cap);
  for (;;) {
    if (len == cap) in = realloc(in, cap *= 2);
    size_t n = fread(in + len, 1, cap - len, stdin);
    if (n == 0) break;
    len += n;
  }
  uint64_t count = diff_case_count;
  if (len != count * IN_RECORD) { fprintf(stderr, "stdin: %zu bytes, expected %lu\\n", len, (unsigned long)(count * IN_RECORD)); return 2; }

  unsigned char *map = (unsigned char *)MAP_BASE;
  unsigned char *buf = (unsigned char *)MEM_ADDR;
  /* GS-relative operands: glibc does not use GS on x86-64, so the case may own its base. */
  if (syscall(SYS_arch_prctl, ARCH_SET_GS, GS_BASE)) { perror("arch_prctl(ARCH_SET_GS)"); return 2; }

  static unsigned char altstack[65536];
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  if (sigaltstack(&ss, 0)) { perror("sigaltstack"); return 2; }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  int sigs[] = { SIGFPE, SIGSEGV, SIGBUS, SIGILL, SIGTRAP };
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, 0);
  alarm(60);

  for (uint64_t i = 0; i < count; i++) {
    const unsigned char *rec = in + i * IN_RECORD;
    memset(map, 0xcc, MAP_SIZE);
    memcpy(diff_in, rec, 17 * 8);
    memcpy(buf, rec + 17 * 8, MEM_SIZE);
    const unsigned char *code = (const unsigned char *)diff_case_table[2 * i];
    uint32_t outcome = 0, detail = 0;
    uint64_t offset = 0;
    fault_sig = 0;
    if (sigsetjmp(env, 1) == 0) {
      diff_run(code);
    } else {
      /* Signal -> exception vector (Linux arch/x86/kernel/traps.c): #DE SIGFPE, #UD SIGILL,
         #BP SIGTRAP, #GP SIGSEGV with si_code SI_KERNEL, #PF SIGSEGV, #SS SIGBUS. */
      outcome = 1;
      switch (fault_sig) {
        case SIGFPE: detail = 0; break;
        case SIGILL: detail = 6; break;
        case SIGTRAP: detail = 3; break;
        case SIGSEGV: detail = fault_code == SI_KERNEL ? 13 : 14; break;
        case SIGBUS: detail = 12; break;
        default: outcome = 2; detail = (uint32_t)fault_sig;
      }
      offset = fault_rip - (uint64_t)code;
      memcpy(diff_out, fault_regs, sizeof fault_regs);
    }
    /* A write outside the buffer is a generator bug: report it as a fault (detail 0). */
    for (size_t k = 0; k < MAP_SIZE; k++) {
      size_t a = MAP_BASE + k;
      if ((a < MEM_ADDR || a >= MEM_ADDR + MEM_SIZE) && map[k] != 0xcc) { outcome = 2; detail = 1000; offset = a; break; }
    }
    put(&outcome, 4);
    put(&detail, 4);
    put(&offset, 8);
    put(diff_out, 17 * 8);
    put(buf, MEM_SIZE);
  }
  for (uint64_t i = 0; i < count; i++) {
    uint64_t at = diff_case_table[2 * i];
    uint32_t n = (uint32_t)(diff_case_table[2 * i + 1] - at);
    put(&at, 8);
    put(&n, 4);
    put((const void *)at, n);
  }
  return fflush(stdout) ? 3 : 0;
}
`;

const hexAddr = (a: number): string => `0x${a.toString(16)}`;

/** Serializes the cases' initial states for the driver's stdin. */
function encodeInputs(cases: readonly DiffCase[]): Buffer {
  const buf = Buffer.alloc(cases.length * IN_RECORD);
  cases.forEach((c, i) => {
    const at = i * IN_RECORD;
    c.gpr.forEach((v, r) => buf.writeBigUInt64LE(v, at + 8 * r));
    buf.writeBigUInt64LE(BigInt(c.rflags), at + 128);
    buf.set(c.mem, at + 136);
  });
  return buf;
}

function decodeOutputs(out: Buffer, count: number): { results: CaseResult[]; code: CaseCode[] } {
  const results: CaseResult[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const kind = out.readUInt32LE(at);
    const detail = out.readUInt32LE(at + 4);
    const faultOffset = Number(out.readBigUInt64LE(at + 8));
    const gpr: bigint[] = [];
    for (let r = 0; r < 16; r++) gpr.push(out.readBigUInt64LE(at + 16 + 8 * r));
    const rflags = Number(out.readBigUInt64LE(at + 16 + 128));
    const mem = new Uint8Array(out.subarray(at + 16 + 136, at + OUT_RECORD));
    results.push({ outcome: kind === 0 ? 'ok' : kind === 1 ? 'exception' : 'fault', detail, faultOffset, gpr, rflags, mem });
    at += OUT_RECORD;
  }
  const code: CaseCode[] = [];
  for (let i = 0; i < count; i++) {
    const addr = Number(out.readBigUInt64LE(at));
    const n = out.readUInt32LE(at + 8);
    code.push({ addr, bytes: new Uint8Array(out.subarray(at + 12, at + 12 + n)) });
    at += 12 + n;
  }
  if (at !== out.length) throw new Error(`native driver output: ${out.length} bytes, parsed ${at}`);
  return { results, code };
}

/**
 * Builds the harness with the cases in a temporary directory and runs it.
 * Throws with the assembler's or the driver's message if anything fails.
 */
export function runNative(cases: readonly DiffCase[]): NativeRun {
  const dir = mkdtempSync(join(tmpdir(), 'exitscope-diff-'));
  try {
    writeFileSync(join(dir, 'cases.s'), caseAsm(cases));
    writeFileSync(join(dir, 'driver.c'), DRIVER_C);
    const t0 = performance.now();
    const link = `-Wl,--section-start=.diffcases=${hexAddr(CODE_ADDR)},--section-start=.diffmem=${hexAddr(MAP_BASE)}`;
    const cc = spawnSync('gcc', ['-O0', '-no-pie', link, '-o', join(dir, 'diff'), join(dir, 'driver.c'), join(dir, 'cases.s')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc failed:\n${(cc.stderr || cc.error?.message || '').slice(0, 4000)}`);
    const t1 = performance.now();
    const out = execFileSync(join(dir, 'diff'), { input: encodeInputs(cases), maxBuffer: 1 << 30 });
    const t2 = performance.now();
    return { ...decodeOutputs(out, cases.length), buildMs: t1 - t0, runMs: t2 - t1 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
