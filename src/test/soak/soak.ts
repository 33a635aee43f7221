/**
 * `npm run soak` (not part of `npm test`): reliability at scale, in three parts, each with its
 * seed printed so that any failure can be rerun alone.
 *
 *   differential  N cases (default 10,000) from the differential generator, run natively
 *                 (gcc + as) and on the vCPU, compared register by register and flag by flag
 *   stress        N stress programs (default 2,000) from the invariants generator, run under
 *                 `none` and compared with icache, decode-assist and apicv
 *   hostile       N programs (default 1,000) mutated from the examples, stress programs and
 *                 differential programs, or written to be hostile (see mutate.ts), run through
 *                 the CLI's `run` command: each must end in a clean stop or in file:line:col
 *                 diagnostics, without an exception, within the time and memory bounds
 *   timetravel    N programs (default 400), stress and hostile ones in turn, each under one
 *                 strategy (in turn) with a checkpoint spacing drawn from a few and, one time
 *                 in three, a memory budget small enough to thin the snapshots: recorded,
 *                 then back to three exits drawn at random and one instruction, and forward
 *                 again to the same exits and final state (src/test/timetravel/determinism.ts)
 *   hostwalk      N walks (default 100) of 60 random commands on the Worker's host
 *                 (src/test/timetravel/hostWalk.ts) over stress programs and the examples, each
 *                 under one strategy (in turn): what the host shows is the reference machine there
 *   storewalk     N walks (default 100) of 60 random commands through the page's client and store
 *                 (src/test/timetravel/storeWalk.ts), some sent ahead of their answers, over the
 *                 same programs: what the store holds for the panels is the reference's
 *
 * Usage: node scripts/run-bundled.mjs src/test/soak/soak.ts [--seed S] [--only part]
 *        [--differential N] [--stress N] [--hostile N]
 *        [--timetravel N] [--hostwalk N] [--storewalk N]
 * Prints counts per part and the seed (and case/program index) of every failure; exits 1 when
 * anything failed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../cli/run';
import { diffCase } from '../differential/compare';
import { generateCases, type DiffCase } from '../differential/generator';
import { nativeUnavailable, runNative, unsupportedTemplates, type CaseResult } from '../differential/native';
import { caseProgram, programmable } from '../differential/program';
import { createVcpuRunner } from '../differential/vcpuRun';
import { loadScenarios } from '../../scenarios/loadFromDisk';
import { generateProgram } from '../invariants/generator';
import { describeFailures, runStress } from '../invariants/stress';
import { Prng } from '../differential/prng';
import { hostileProgram, type HostileProgram } from './mutate';
import { buildMachine } from '../../core/machine';
import { STRATEGIES } from '../../core/events';
import { checkDeterminism } from '../timetravel/determinism';
import { hostWalk } from '../timetravel/hostWalk';
import { storeWalk } from '../timetravel/storeWalk';

interface Args { seed: number; only: string | null; differential: number; stress: number; hostile: number; timetravel: number; hostwalk: number; storewalk: number }

function parseArgs(argv: string[]): Args {
  const a: Args = { seed: 20261203, only: null, differential: 10_000, stress: 2_000, hostile: 1_000, timetravel: 400, hostwalk: 100, storewalk: 100 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--seed': a.seed = Number(v) >>> 0; i++; break;
      case '--only': a.only = v ?? null; i++; break;
      case '--differential': a.differential = Number(v); i++; break;
      case '--stress': a.stress = Number(v); i++; break;
      case '--hostile': a.hostile = Number(v); i++; break;
      case '--timetravel': a.timetravel = Number(v); i++; break;
      case '--hostwalk': a.hostwalk = Number(v); i++; break;
      case '--storewalk': a.storewalk = Number(v); i++; break;
      default: throw new Error(`soak: unknown argument ${argv[i]}`);
    }
  }
  return a;
}

/** Per hostile program: wall-clock and heap bounds (a soak is about not hanging or leaking). */
const HOSTILE_MAX_INSNS = 50_000;
const HOSTILE_MAX_MS = 60_000;
const HOSTILE_MAX_HEAP_MB = 1_500;

const failures: string[] = [];
const now = () => performance.now();
const log = (s: string) => console.log(s);

function differential(seed: number, count: number): void {
  const why = nativeUnavailable();
  if (why) { log(`differential: skipped (${why})`); return; }
  const t0 = now();
  const exclude = unsupportedTemplates();
  let compared = 0, mismatched = 0, programs = 0, programMismatched = 0;
  // In chunks: one native program and one vCPU machine per 2,500 cases keeps memory flat.
  const CHUNK = 2_500;
  for (let from = 0; from < count; from += CHUNK) {
    const chunkSeed = (seed + from) >>> 0;
    const cases: DiffCase[] = generateCases(chunkSeed, Math.min(CHUNK, count - from), exclude);
    const native = runNative(cases);
    const runner = createVcpuRunner(native.code);
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const diffs = diffCase(c, native.results[i] as CaseResult, runner.run(i, c));
      compared++;
      if (diffs.length) {
        mismatched++;
        failures.push(`differential: DIFF_SEED=${chunkSeed} case ${i}: ${c.lines.join('; ')}: ${diffs.slice(0, 3).join('; ')}`);
      }
    }
    // Every 25th case also as a whole program through the CLI's path (assembler, firmware, machine).
    for (let i = 0; i < cases.length; i += 25) {
      const c = cases[i]!;
      const r = native.results[i] as CaseResult;
      if (r.outcome !== 'ok' || !programmable(c)) continue;
      programs++;
      const out = runProgramThroughCli(caseProgram(c), `diff-${chunkSeed}-${i}.s`, 100_000);
      if (out.kind !== 'ran' || out.stop !== 'halted') {
        programMismatched++;
        failures.push(`differential program: DIFF_SEED=${chunkSeed} case ${i}: ${describe(out)}`);
      }
    }
    log(`  differential: ${compared} cases compared, ${mismatched} differ (${((now() - t0) / 1000).toFixed(0)} s)`);
  }
  log(`differential: ${compared} cases against this CPU, ${mismatched} differ; ${programs} as whole programs, ${programMismatched} failed (seed ${seed})`);
}

function stress(seed: number, count: number): void {
  const t0 = now();
  let programs = 0, divergent = 0, invalid = 0, exits = 0, wpFaults = 0;
  const CHUNK = 100;
  for (let from = 0; from < count; from += CHUNK) {
    const r = runStress({ seed, from, count: Math.min(CHUNK, count - from), strategies: ['icache', 'decode-assist', 'apicv'] });
    programs += r.programs;
    invalid += r.invalid.length;
    exits += r.exits;
    wpFaults += r.icache.wpFaults;
    const progs = new Set(r.divergences.map((d) => d.program.index));
    divergent += progs.size;
    for (const d of r.divergences) failures.push(`stress: STRESS_SEED=${seed} program ${d.program.index} under ${d.strategy}: ${d.diffs.slice(0, 3).join('; ')}`);
    for (const inv of r.invalid) failures.push(`stress: STRESS_SEED=${seed} program ${inv.program.index}: reference did not halt: ${JSON.stringify(inv.state.stop)}`);
    if (r.divergences.length || r.invalid.length) log(describeFailures(r));
    log(`  stress: ${programs} programs, ${divergent} divergent, ${invalid} invalid (${((now() - t0) / 1000).toFixed(0)} s)`);
  }
  log(`stress: ${programs} programs x 4 strategies, ${divergent} divergent, ${invalid} whose reference did not halt; ${exits} reference exits, ${wpFaults} icache write-protect faults (seed ${seed})`);
}

type CliOutcome =
  | { kind: 'ran'; stop: string; message: string }
  | { kind: 'diagnostics'; lines: string[] }
  | { kind: 'bad'; detail: string };

let workDir = '';

/** `exitscope run FILE --json --max-insns N` in this process; what it printed, classified. */
function runProgramThroughCli(source: string, name: string, maxInsns: number): CliOutcome {
  const file = join(workDir, name);
  writeFileSync(file, source);
  const out: string[] = [], err: string[] = [];
  let status: number;
  try {
    status = runCommand([file, '--json', '--max-insns', String(maxInsns)], (l) => out.push(l), (l) => err.push(l));
  } catch (e) {
    return { kind: 'bad', detail: `threw ${(e as Error).stack ?? String(e)}` };
  } finally {
    rmSync(file, { force: true });
  }
  if (status === 0) {
    if (out.length !== 1 || err.length !== 0) return { kind: 'bad', detail: `status 0 with ${out.length} result lines and ${err.length} error lines` };
    const r = JSON.parse(out[0]!) as { stop: { reason: string; message: string } };
    return { kind: 'ran', stop: r.stop.reason, message: r.stop.message };
  }
  const diag = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: (error|warning): .+`);
  const lines = err.filter((l) => l.trim() !== '');
  if (status === 1 && out.length === 0 && lines.length > 0 && lines.every((l) => diag.test(l) || /^\s/.test(l))) return { kind: 'diagnostics', lines };
  return { kind: 'bad', detail: `status ${status}, stderr: ${err.slice(0, 3).join(' | ')}` };
}

function describe(o: CliOutcome): string {
  return o.kind === 'ran' ? `${o.stop}: ${o.message}` : o.kind === 'bad' ? `bad: ${o.detail}` : `diagnostics: ${o.lines[0]}`;
}

/** A stop that only an emulator bug (not the guest) can cause. */
function emulatorBug(stop: string, message: string): boolean {
  return stop === 'error' && /emulator error|codegen|TypeError|RangeError|ReferenceError|undefined|is not|cannot read/i.test(message);
}

/** What hostile programs are mutated from: the examples, stress programs and differential programs. */
function mutationSources(seed: number): { name: string; source: string }[] {
  return [
    ...loadScenarios().map((s) => ({ name: s.name, source: s.source })),
    ...Array.from({ length: 20 }, (_, i) => { const p = generateProgram(seed, i); return { name: p.name, source: p.source }; }),
    ...generateCases(seed, 200).filter(programmable).slice(0, 40).map((c) => ({ name: `differential case ${c.id}`, source: caseProgram(c) })),
  ];
}

function hostile(seed: number, count: number): void {
  const t0 = now();
  const rng = new Prng(seed);
  const sources = mutationSources(seed);
  const byOutcome = new Map<string, number>();
  let slowest = 0, slowestName = '', maxHeap = 0;
  for (let i = 0; i < count; i++) {
    const p: HostileProgram = hostileProgram(rng, sources);
    const t = now();
    const out = runProgramThroughCli(p.source, `hostile-${seed}-${i}.s`, HOSTILE_MAX_INSNS);
    const ms = now() - t;
    const heap = process.memoryUsage().heapUsed / 1e6;
    maxHeap = Math.max(maxHeap, heap);
    if (ms > slowest) { slowest = ms; slowestName = `#${i} (${p.how})`; }
    const key = out.kind === 'ran' ? `ran: ${out.stop}` : out.kind;
    byOutcome.set(key, (byOutcome.get(key) ?? 0) + 1);
    const where = `hostile: seed ${seed} program ${i} (${p.how})`;
    if (out.kind === 'bad') failures.push(`${where}: ${out.detail}`);
    else if (out.kind === 'ran' && emulatorBug(out.stop, out.message)) failures.push(`${where}: ${out.stop}: ${out.message}`);
    if (ms > HOSTILE_MAX_MS) failures.push(`${where}: took ${(ms / 1000).toFixed(1)} s (bound ${HOSTILE_MAX_MS / 1000} s)`);
    if (heap > HOSTILE_MAX_HEAP_MB) failures.push(`${where}: heap ${heap.toFixed(0)} MB after the run (bound ${HOSTILE_MAX_HEAP_MB} MB)`);
    if ((i + 1) % 100 === 0) log(`  hostile: ${i + 1} programs (${((now() - t0) / 1000).toFixed(0)} s)`);
  }
  const counts = [...byOutcome].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  log(`hostile: ${count} programs through the CLI: ${counts}; slowest ${(slowest / 1000).toFixed(1)} s (${slowestName}), heap at most ${maxHeap.toFixed(0)} MB (seed ${seed})`);
}

/** Checkpoint spacings (exits) a time-travel program is recorded with: 0 is the Machine's default. */
const TIMETRAVEL_SPACINGS = [1, 4, 16, 64, 0];
/**
 * A budget this much over what the timeline holds before the run (its first snapshot, about
 * half a MiB): a few hundred exits or a few dozen pages written outgrow it, so the oldest
 * snapshots are thinned out.
 */
const TIMETRAVEL_SMALL_BUDGET_OVER = 128 * 1024;
const TIMETRAVEL_MAX_INSNS = 200_000;

function timetravel(seed: number, count: number): void {
  const t0 = now();
  // Its own stream: the hostile part's programs for the seed stay as they were.
  const rng = new Prng((seed ^ 0x7e1e7a5e) >>> 0);
  const sources = mutationSources(seed);
  let recorded = 0, notAssembled = 0, thinned = 0, exits = 0;
  for (let i = 0; i < count; i++) {
    const stressProgram = i % 2 === 0;
    const p = stressProgram ? generateProgram(seed, i >> 1) : null;
    const h = p ? null : hostileProgram(rng, sources);
    const strategy = STRATEGIES[(i >> 1) % STRATEGIES.length]!;
    const spacing = rng.pick(TIMETRAVEL_SPACINGS);
    const small = rng.int(3) === 0;
    const fractions = [rng.u32() / 0x1_0000_0000, rng.u32() / 0x1_0000_0000, rng.u32() / 0x1_0000_0000];
    const name = p ? p.name : `hostile-${i}`;
    let where = `timetravel: seed ${seed} program ${i} (${p ? `stress ${i >> 1}` : h!.how}) under ${strategy}, checkpoints every ${spacing || 'default'}`;
    let problems: string[];
    try {
      const built = buildMachine(p ? p.source : h!.source, {
        ...(p ? p.config : {}), strategy, maxInsns: TIMETRAVEL_MAX_INSNS, ...(spacing ? { checkpointEvery: spacing } : {}),
      }, `${name}.s`);
      if (!built.ok) { notAssembled++; continue; }
      const m = built.machine;
      m.vmm.disassemble = false;
      // Attached before the run, the timeline holds just its first snapshot (checkDeterminism attaches anew).
      const budgetBytes = small ? m.attachTimeline().info().bytes + TIMETRAVEL_SMALL_BUDGET_OVER : undefined;
      if (budgetBytes) where += `, budget ${budgetBytes}`;
      problems = checkDeterminism(m, { exits: fractions, budgetBytes });
      recorded++;
      exits += m.counters().exits.total;
      if (m.getTimeline()?.info().first) thinned++;
    } catch (e) {
      problems = [`threw ${(e as Error).stack ?? String(e)}`];
    }
    for (const x of problems.slice(0, 3)) failures.push(`${where}: ${x}`);
    if ((i + 1) % 50 === 0) log(`  timetravel: ${i + 1} programs (${((now() - t0) / 1000).toFixed(0)} s)`);
  }
  log(`timetravel: ${recorded} programs recorded (${notAssembled} did not assemble), ${thinned} of them beyond a thinned reach, ${exits} exits; back and forward again (seed ${seed})`);
}

/** `part`'s walks (hostWalk or storeWalk), each a program and a strategy in turn. */
async function walks(part: string, walk: typeof hostWalk, seed: number, count: number): Promise<void> {
  const t0 = now();
  const scenarios = loadScenarios();
  for (let i = 0; i < count; i++) {
    // Even walks on a stress program, odd ones on an example, in turn.
    const p = i % 2 === 0 ? generateProgram(seed, i >> 1) : null;
    const s = p ? null : scenarios[(i >> 1) % scenarios.length]!;
    const name = p ? p.name : s!.name;
    const source = p ? p.source : s!.source;
    const strategy = STRATEGIES[(i >> 1) % STRATEGIES.length]!;
    let problems: string[];
    try {
      problems = await walk(name, source, (seed + i) >>> 0, { steps: 60, strategy });
    } catch (e) {
      problems = [`${name} (${strategy}) seed ${(seed + i) >>> 0}: threw ${(e as Error).stack ?? String(e)}`];
    }
    for (const x of problems.slice(0, 2)) failures.push(`${part}: ${x}`);
    if ((i + 1) % 20 === 0) log(`  ${part}: ${i + 1} walks (${((now() - t0) / 1000).toFixed(0)} s)`);
  }
  log(`${part}: ${count} walks of 60 commands (seed ${seed})`);
}

const args = parseArgs(process.argv.slice(2));
workDir = mkdtempSync(join(tmpdir(), 'exitscope-soak-'));
const start = now();
try {
  log(`soak: seed ${args.seed}`);
  if (args.only === null || args.only === 'differential') differential(args.seed, args.differential);
  if (args.only === null || args.only === 'stress') stress(args.seed, args.stress);
  if (args.only === null || args.only === 'hostile') hostile(args.seed, args.hostile);
  if (args.only === null || args.only === 'timetravel') timetravel(args.seed, args.timetravel);
  if (args.only === null || args.only === 'hostwalk') await walks('hostwalk', hostWalk, args.seed, args.hostwalk);
  if (args.only === null || args.only === 'storewalk') await walks('storewalk', storeWalk, args.seed, args.storewalk);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
log(`soak: ${failures.length} failure${failures.length === 1 ? '' : 's'} in ${((now() - start) / 1000).toFixed(0)} s`);
for (const f of failures.slice(0, 50)) log(`FAIL ${f}`);
process.exitCode = failures.length ? 1 : 0;
