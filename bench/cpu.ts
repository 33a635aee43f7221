/**
 * npm run bench:cpu — guest MIPS at steady state on five kernels (tight add/sub/jnz loop, memory
 * copy, call/ret, sieve, a store beside the loop's code), measured the same way for qemu-x86_64
 * (Debian qemu-user) and for us:
 *
 *   steady-state MIPS = (insns(long) - insns(short)) / (time(long) - time(short))
 *
 * where short and long are the same program with a smaller and a larger outer count, so start-up
 * (qemu's process and translation, our assembly, translation and V8 warm-up) cancels out. Times
 * are CPU time (user + system: this process's for ours, the child's from `times` for qemu), so
 * other load on a shared host disturbs them less than wall time; each is the best of 5 runs.
 * qemu's long run retires at least 1 G guest instructions.
 *
 * Ours runs three ways: through the `Machine` as the CLI runs it (`runToEnd`), through the
 * `Machine` as the Worker runs it (`run(20_000)` chunks, host.ts CHUNK_INSNS), and the bare vCPU
 * (`vcpu.run` until hlt), so the cost of the machine's scheduling shows beside the vCPU's.
 * Each kernel is measured in a fresh node process of its own (this script with `--kernel i`),
 * as a user's CLI process runs one program: no kernel's code runs on V8 state (type feedback,
 * field representations, the `new Function` cache) left by another. In it, every path is
 * warmed up once before any is timed (the first Machine generalizes the vCPU's field
 * representations), and the 5 repetitions go round the paths (short and long of bare, CLI,
 * Worker, then again), so a burst of other load on the host falls on all three alike.
 * Instruction counts come from our runs (the kernels are linear in their outer count; qemu
 * runs the same instructions, its exit syscall differs from our hlt by a constant that cancels).
 * Prints a table, then one JSON line. Timings are host-dependent: nothing here is a test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { asmMachine } from '../src/test/asmTest';
import { buildMachine, DEFAULT_MACHINE_CONFIG, type Machine } from '../src/core/machine';

interface Kernel {
  name: string;
  /** Setup for an outer count `n` (Intel syntax, our assembler's dialect). */
  setup: (n: number) => string;
  body: string;
  /**
   * Outer counts [short, long] for our runs and for qemu's (qemu's long >= 1 G instructions);
   * null: not run under qemu (a static ELF's text is read-only, so it cannot store beside its code).
   */
  ours: [number, number];
  qemu: [number, number] | null;
}

const kernels: Kernel[] = [
  {
    name: 'tight add/sub/jnz', setup: (n) => `mov rcx, ${n}\nxor eax, eax\nmov rbx, 3`,
    body: 'l1: add rax, rbx\nsub rcx, 1\njnz l1', ours: [12_000_000, 240_000_000], qemu: [80_000_000, 400_000_000],
  },
  {
    name: 'memory copy (8 B/iter)', setup: (n) => `mov r8, ${n}\nxor eax, eax`, ours: [400, 8000], qemu: [5000, 25_000],
    body: `outer2: lea rsi, [rel 0x400000]\nlea rdi, [rel 0x600000]\nmov rcx, 8192\nl2: mov rax, [rsi]\nmov [rdi], rax\nadd rsi, 8\nadd rdi, 8\nsub rcx, 1\njnz l2\nsub r8, 1\njnz outer2`,
  },
  {
    name: 'call/ret', setup: (n) => `mov rcx, ${n}`, ours: [1_200_000, 24_000_000], qemu: [40_000_000, 200_000_000],
    body: 'l3: call f3\nsub rcx, 1\njnz l3\njmp done3\nf3: add rax, 1\nret\ndone3:',
  },
  {
    name: 'sieve (65536)', setup: (n) => `mov r9, ${n}`, ours: [40, 800], qemu: [300, 1500],
    body: `outer4: lea rdi, [rel 0x400000]
mov rcx, 65536
xor eax, eax
clr4: mov byte [rdi + rcx - 1], 0
sub rcx, 1
jnz clr4
mov rbx, 2
next4: mov rax, rbx
imul rax, rbx
cmp rax, 65536
jae fin4
cmp byte [rdi + rbx], 0
jne skip4
mark4: mov byte [rdi + rax], 1
add rax, rbx
cmp rax, 65536
jb mark4
skip4: add rbx, 1
jmp next4
fin4: sub r9, 1
jnz outer4`,
  },
  {
    // A variable on the loop's own code page: every store reports its bytes to the page tracker.
    name: 'store beside code', setup: (n) => `mov rcx, ${n}\nxor eax, eax`, ours: [400_000, 8_000_000], qemu: null,
    body: 'jmp l5\nvar5: dq 0\nl5: mov [rel var5], rcx\nadd rax, [rel var5]\nsub rcx, 1\njnz l5',
  },
];

const REPEATS = 5;
/** The Worker's chunk at speed "max" (src/worker/host.ts CHUNK_INSNS). */
const WORKER_CHUNK = 20_000;

interface Run { insns: number; ms: number }
type Path = 'machineCli' | 'machineWorker' | 'bare';

function program(k: Kernel, n: number): string {
  return `_start:\n${k.setup(n)}\n${k.body}\nhlt`;
}

/** CPU time of this process in ms (all its threads: V8's compiler and GC threads included). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function runBare(src: string): Run {
  const v = asmMachine(src).vcpu;
  const t0 = cpuMs();
  for (;;) {
    const e = v.run(1_000_000_000);
    if (e.reason === 'hlt') break;
    if (e.reason === 'stop') throw new Error(`bare vCPU: ${e.stop?.message}`);
  }
  return { insns: v.retired, ms: cpuMs() - t0 };
}

function buildForBench(src: string): Machine {
  const built = buildMachine(src, { ...DEFAULT_MACHINE_CONFIG, maxInsns: 4_000_000_000 }, 'bench.s');
  if (!built.ok) throw new Error(built.diagnostics.map((d) => d.message).join('\n'));
  return built.machine;
}

function finish(m: Machine, t0: number): Run {
  const ms = cpuMs() - t0;
  const stop = m.stopInfo();
  if (stop?.reason !== 'halted') throw new Error(`machine: ${stop?.reason}: ${stop?.message}`);
  return { insns: m.counters().retired, ms };
}

function runMachine(src: string, worker: boolean): Run {
  const m = buildForBench(src);
  const t0 = cpuMs();
  if (worker) { while (!m.stopInfo()) m.run(WORKER_CHUNK); } else m.runToEnd();
  return finish(m, t0);
}

function runOurs(path: Path, src: string): Run {
  return path === 'bare' ? runBare(src) : runMachine(src, path === 'machineWorker');
}

const PATHS: readonly Path[] = ['bare', 'machineCli', 'machineWorker'];

/** One kernel on our three paths, as its own process reports it (see the file comment). */
interface OursResult {
  mips: Record<Path, number>;
  /** Guest instructions per outer iteration, and those outside the outer loop (bare vCPU). */
  perOuter: number;
  baseInsns: number;
}

/** Steady-state MIPS of kernel `k` on every path: best of REPEATS, repetitions round the paths. */
function measureOurs(k: Kernel): OursResult {
  const [nS, nL] = k.ours;
  const srcS = program(k, nS), srcL = program(k, nL);
  // Warm-up: V8 compiles the dispatcher and accessors, and the first Machine generalizes the
  // vCPU's field representations (cyclesPerInsn = 0.75), before anything is timed.
  for (const path of PATHS) runOurs(path, srcS);
  const short = new Map<Path, Run>(), long = new Map<Path, Run>();
  const keepBest = (m: Map<Path, Run>, path: Path, r: Run) => { const b = m.get(path); if (b === undefined || r.ms < b.ms) m.set(path, r); };
  for (let i = 0; i < REPEATS; i++) {
    for (const path of PATHS) {
      keepBest(short, path, runOurs(path, srcS));
      keepBest(long, path, runOurs(path, srcL));
    }
  }
  const mips = { machineCli: 0, machineWorker: 0, bare: 0 };
  let perOuter = 0, baseInsns = 0;
  for (const path of PATHS) {
    const s = short.get(path)!, l = long.get(path)!;
    const po = (l.insns - s.insns) / (nL - nS);
    if (path === 'bare') { perOuter = po; baseInsns = s.insns - po * nS; }
    // The same loop retires the same instructions on every path (the machine also counts the
    // final hlt, which it emulates).
    else if (po !== perOuter) throw new Error(`${k.name}: ${path} retires ${po} instructions per outer iteration, the bare vCPU ${perOuter}`);
    mips[path] = steady(s, l);
  }
  return { mips, perOuter, baseInsns };
}

/** Run `measureOurs(kernels[i])` in a fresh node process (this script with `--kernel i`). */
function measureOursInChild(i: number): OursResult {
  const entry = process.argv[1]!;
  const runner = resolve(dirname(entry), '..', 'scripts', 'run-bundled.mjs');
  const r = spawnSync(process.execPath, [...process.execArgv, runner, entry, '--kernel', String(i)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench:cpu child for ${kernels[i]!.name} exited with ${r.status ?? r.signal}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as OursResult;
}

/** Steady-state MIPS from a short and a long run. */
function steady(short: Run, long: Run): number {
  return (long.insns - short.insns) / (long.ms - short.ms) / 1000;
}

function qemuPath(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v qemu-x86_64'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Build the kernel as a static Linux binary (GNU as, Intel syntax); null without binutils. */
function qemuBinary(k: Kernel, n: number): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cpu-'));
  const body = k.body.replace(/\[rel 0x400000\]/g, '[rip + buf4]').replace(/\[rel 0x600000\]/g, '[rip + buf6]')
    .replace(/\b(byte|word|dword|qword) \[/g, '$1 ptr [');
  const s = `.intel_syntax noprefix\n.globl _start\n.text\n_start:\n${k.setup(n)}\n${body}\nmov eax, 60\nxor edi, edi\nsyscall\n.bss\n.align 4096\nbuf4: .skip 0x200000\nbuf6: .skip 0x200000\n`;
  writeFileSync(join(dir, 'k.s'), s);
  try {
    execFileSync('as', ['-o', join(dir, 'k.o'), join(dir, 'k.s')]);
    execFileSync('ld', ['-static', '-o', join(dir, 'k'), join(dir, 'k.o')]);
    return join(dir, 'k');
  } catch {
    return null;
  }
}

/** qemu's CPU time (user + system, ms) for one run of `bin`, from the shell's `times`. */
function timeQemu(qemu: string, bin: string): number {
  const out = execFileSync('bash', ['-c', '"$0" "$1" && times', qemu, bin], { encoding: 'utf8' });
  const child = out.trim().split('\n').at(-1) ?? '';
  const secs = [...child.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (secs.length !== 2) throw new Error(`cannot read qemu's CPU time from: ${out}`);
  return (secs[0]! + secs[1]!) * 1000;
}

interface Row {
  kernel: string;
  /** Guest instructions per outer iteration (from our runs). */
  perOuter: number;
  qemuMips: number | null;
  qemuLongInsns: number | null;
  machineCliMips: number;
  machineWorkerMips: number;
  bareMips: number;
  /** machine (CLI) / qemu, bare / qemu, machine (CLI) / bare. */
  cliToQemu: number | null;
  bareToQemu: number | null;
  cliToBare: number;
}

const round = (v: number, d: number): number => Math.round(v * 10 ** d) / 10 ** d;

/** The parent: each kernel's child, qemu, then the table and the JSON line. */
function benchAll(): void {
  const qemu = qemuPath();
  const rows: Row[] = [];
  for (const [i, k] of kernels.entries()) {
    const { mips: mipsOf, perOuter, baseInsns } = measureOursInChild(i);
    let qemuMips: number | null = null, qemuLongInsns: number | null = null;
    const [qS, qL] = k.qemu ?? [0, 0];
    const binS = qemu && k.qemu ? qemuBinary(k, qS) : null, binL = qemu && k.qemu ? qemuBinary(k, qL) : null;
    if (qemu && binS && binL) {
      timeQemu(qemu, binS);
      const tS = Math.min(...Array.from({ length: REPEATS }, () => timeQemu(qemu, binS)));
      const tL = Math.min(...Array.from({ length: REPEATS }, () => timeQemu(qemu, binL)));
      qemuLongInsns = baseInsns + perOuter * qL;
      qemuMips = (perOuter * (qL - qS)) / (tL - tS) / 1000;
    }
    rows.push({
      kernel: k.name, perOuter, qemuMips: qemuMips === null ? null : round(qemuMips, 0), qemuLongInsns,
      machineCliMips: round(mipsOf.machineCli, 1), machineWorkerMips: round(mipsOf.machineWorker, 1), bareMips: round(mipsOf.bare, 1),
      cliToQemu: qemuMips === null ? null : round(mipsOf.machineCli / qemuMips, 3),
      bareToQemu: qemuMips === null ? null : round(mipsOf.bare / qemuMips, 3),
      cliToBare: round(mipsOf.machineCli / mipsOf.bare, 3),
    });
  }

  const cols: Array<[string, number, (r: Row) => string]> = [
    ['kernel', 24, (r) => r.kernel],
    ['qemu MIPS', 10, (r) => String(r.qemuMips ?? '-')],
    ['machine CLI', 12, (r) => String(r.machineCliMips)],
    ['machine Worker', 15, (r) => String(r.machineWorkerMips)],
    ['bare vCPU', 10, (r) => String(r.bareMips)],
    ['CLI/qemu', 9, (r) => String(r.cliToQemu ?? '-')],
    ['bare/qemu', 10, (r) => String(r.bareToQemu ?? '-')],
    ['CLI/bare', 9, (r) => String(r.cliToBare)],
  ];
  console.log('steady-state guest MIPS: (insns(long) - insns(short)) / (t(long) - t(short)), t = CPU time, best of 5; ours: one fresh process per kernel, repetitions round the paths');
  console.log(cols.map(([h, w], i) => (i === 0 ? h.padEnd(w) : h.padStart(w))).join(' '));
  for (const r of rows) console.log(cols.map(([, w, f], i) => (i === 0 ? f(r).padEnd(w) : f(r).padStart(w))).join(' '));
  if (!qemu) console.log('qemu-x86_64 not installed (Debian package qemu-user): no qemu comparison');
  console.log(JSON.stringify({ bench: 'cpu', method: 'steady-state from a short and a long run, CPU time, best of 5; ours: one fresh process per kernel, repetitions round the paths', qemu: qemu ?? null, results: rows }));
}

const kernelArg = process.argv.indexOf('--kernel');
// A child measures one kernel and reports it as one JSON line (no process.exit: the bundled
// runner removes its bundle when the module returns).
if (kernelArg >= 0) console.log(JSON.stringify(measureOurs(kernels[Number(process.argv[kernelArg + 1])]!)));
else benchAll();
