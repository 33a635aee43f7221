/**
 * npm run bench:exits — end-to-end exit throughput in Node: the LAPIC microbenchmark scaled 10x
 * (every iteration: 4 MMIO exits, ~2 guest instructions per exit), on a warm machine, under
 * `icache` (the cache-hit path) and `none` (the miss path: full walk, fetch, decode). Best of
 * 3 runs; prints exits/s by wall clock and by this process's CPU time (steadier on a shared host).
 *
 * Three ways to run the same machine, one column each (`--mode bare,timeline,worker`):
 * - bare: `Machine.runToEnd()` with nothing attached (what the core alone sustains);
 * - timeline: the same with time travel's recording attached (`attachTimeline`);
 * - worker: the Worker's own `MachineHost` (src/worker/host.ts) driven in Node with its real
 *   scheduling (12 ms slices of 20,000-instruction chunks, frames every 50 ms, views every
 *   200 ms, sampled walks, the exit ring), each message it posts structured-cloned as
 *   postMessage would. From the run command to the frame that says the run stopped; the load
 *   before it (which the page's Run and bench:ui's Worker-alone span include) is printed beside.
 *   One host for every run, as one Worker serves the page's runs.
 * `node --cpu-prof scripts/run-bundled.mjs bench/exits.ts --mode worker icache` shows where the
 * Worker's time goes beyond the bare machine.
 */
import { performance } from 'node:perf_hooks';
import { deserialize, serialize } from 'node:v8';
import { buildMachine, DEFAULT_MACHINE_CONFIG } from '../src/core/machine';
import { loadScenarios } from '../src/scenarios/loadFromDisk';
import { MachineHost } from '../src/worker/host';
import type { Strategy } from '../src/core/events';
import type { WorkerEvent } from '../src/worker/protocol';

export type ExitBenchMode = 'bare' | 'timeline' | 'worker';
export const EXIT_BENCH_MODES: readonly ExitBenchMode[] = ['bare', 'timeline', 'worker'];

export interface ExitThroughput {
  strategy: Strategy; mode: ExitBenchMode; exits: number; wallMs: number; cpuMs: number; exitsPerSec: number; exitsPerCpuSec: number;
  /** worker mode: bytes posted (every message structured-cloned, v8.serialize) and frames. */
  postedBytes?: number; frames?: number;
  /**
   * worker mode: wall ms of the load before the timed span (the page's Run after a finished run
   * reloads the program: its span includes this, bench:ui's Worker-alone figure too).
   */
  loadMs?: number;
}

function lapicLoop(iterations: number): string {
  const base = loadScenarios().find((s) => s.name === 'lapic-microbench');
  if (!base) throw new Error('lapic-microbench scenario not found');
  return base.source.replace(/^ITERATIONS equ \d+/m, `ITERATIONS equ ${iterations}`);
}

/** One run in the process's own thread: bare or with the timeline attached. */
function runInline(source: string, strategy: Strategy, timeline: boolean): { exits: number; wallMs: number; cpuMs: number } {
  const built = buildMachine(source, { strategy }, 'lapic-microbench.s');
  if (!built.ok) throw new Error(built.diagnostics.map((d) => d.message).join('; '));
  const m = built.machine;
  if (timeline) m.attachTimeline();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  m.runToEnd();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (m.stopInfo()?.reason !== 'halted') throw new Error(`lapic-microbench (${strategy}): ${m.stopInfo()?.message}`);
  return { exits: m.counters().exits.total, wallMs, cpuMs: (c.user + c.system) / 1000 };
}

/** A MachineHost driven in Node, its posts delivered to whoever listens now. */
class HostInNode {
  listener: (e: WorkerEvent) => void = () => {};
  readonly host = new MachineHost((e) => this.listener(e));
}

/**
 * One run through the Worker's MachineHost: load, then Run at full speed until the stopped
 * frame, timed from the Run (the load's wall time beside it). The runs share one host, as the
 * page's runs share its Worker: each load replaces the machine before it (the page's Run after
 * a finished run reloads the program), and after each run the host fills in snapshots while
 * idle, as between the page's runs.
 */
function runInHost(h: HostInNode, source: string, strategy: Strategy): Promise<{ exits: number; wallMs: number; cpuMs: number; postedBytes: number; frames: number; loadMs: number }> {
  return new Promise((resolve, reject) => {
    let t0 = 0;
    let c0 = process.cpuUsage();
    let postedBytes = 0;
    let frames = 0;
    h.listener = (e: WorkerEvent) => {
      // What postMessage does with it: a structured clone (v8's serializer is the one it uses).
      const wire = serialize(e);
      if (t0 === 0) return;
      postedBytes += wire.length;
      const copy = deserialize(wire) as WorkerEvent;
      if (copy.type === 'error') reject(new Error(copy.message));
      if (copy.type !== 'frame') return;
      frames++;
      if (!copy.stop) return;
      const wallMs = performance.now() - t0;
      const c = process.cpuUsage(c0);
      t0 = 0;
      if (copy.stop.reason !== 'halted') reject(new Error(`lapic-microbench (${strategy}): ${copy.stop.message}`));
      const run = { exits: copy.counters.exits.total, wallMs, cpuMs: (c.user + c.system) / 1000, postedBytes, frames, loadMs };
      const idle = () => (h.host.fillingSnapshots ? setTimeout(idle, 1) : resolve(run));
      setTimeout(idle, 1);
    };
    const { preset, icacheSize, maxInsns } = DEFAULT_MACHINE_CONFIG;
    const l0 = performance.now();
    h.host.handle({ type: 'load', source, file: 'lapic-microbench.s', config: { strategy, preset, icacheSize, maxInsns } });
    const loadMs = performance.now() - l0;
    c0 = process.cpuUsage();
    t0 = performance.now();
    h.host.handle({ type: 'run' });
  });
}

/** Best of `runs` warm runs, bare or with the timeline attached (synchronous: bench/vmm.ts uses it too). */
export function measureExitThroughput(strategy: Strategy, iterations = 50_000, runs = 3, mode: Exclude<ExitBenchMode, 'worker'> = 'bare'): ExitThroughput {
  const source = lapicLoop(iterations);
  let best: ExitThroughput | null = null;
  for (let r = 0; r < runs + 1; r++) {
    const run = runInline(source, strategy, mode === 'timeline');
    if (r === 0) continue; // warm-up: V8 optimises the exit path
    if (!best || run.wallMs < best.wallMs) best = { strategy, mode, ...run, exitsPerSec: run.exits / (run.wallMs / 1000), exitsPerCpuSec: run.exits / (run.cpuMs / 1000) };
  }
  return best!;
}

/** Best of `runs` warm runs through the Worker's MachineHost. */
export async function measureWorkerThroughput(strategy: Strategy, iterations = 50_000, runs = 3): Promise<ExitThroughput> {
  const source = lapicLoop(iterations);
  let best: ExitThroughput | null = null;
  const h = new HostInNode();
  try {
    for (let r = 0; r < runs + 1; r++) {
      const run = await runInHost(h, source, strategy);
      if (r === 0) continue;
      if (!best || run.wallMs < best.wallMs) best = { strategy, mode: 'worker', ...run, exitsPerSec: run.exits / (run.wallMs / 1000), exitsPerCpuSec: run.exits / (run.cpuMs / 1000) };
    }
  } finally {
    h.host.dispose();
  }
  return best!;
}

const invoked = process.argv[1]?.endsWith('exits.ts');
if (invoked) {
  const args = process.argv.slice(2);
  const valueOf = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const iterations = valueOf('--iterations') !== undefined ? Number(valueOf('--iterations')) : undefined;
  const modes = (valueOf('--mode')?.split(',') ?? ['bare']) as ExitBenchMode[];
  for (const m of modes) if (!EXIT_BENCH_MODES.includes(m)) throw new Error(`--mode: ${m} is not one of ${EXIT_BENCH_MODES.join(', ')}`);
  const strategies = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) as Strategy[];
  for (const s of strategies.length ? strategies : (['icache', 'none'] as Strategy[])) {
    for (const mode of modes) {
      const r = mode === 'worker' ? await measureWorkerThroughput(s, iterations) : measureExitThroughput(s, iterations, 3, mode);
      const posted = r.postedBytes === undefined ? '' : `  ${r.frames} frames, ${Math.round(r.postedBytes / 1024).toLocaleString('en-US')} KB posted, load ${r.loadMs?.toFixed(1)} ms before`;
      console.log(`${s.padEnd(14)} ${mode.padEnd(9)} ${r.exits.toLocaleString('en-US').padStart(9)} exits  ${r.wallMs.toFixed(0).padStart(6)} ms wall  ${Math.round(r.exitsPerSec).toLocaleString('en-US').padStart(10)} exits/s  ${Math.round(r.exitsPerCpuSec).toLocaleString('en-US').padStart(10)} exits/cpu-s${posted}`);
    }
  }
}
