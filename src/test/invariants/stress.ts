/**
 * The randomized stress run: generate programs, run each under `none` (the reference, which
 * never caches) and under the strategies that cache or skip the fetch, and report every
 * divergence with the program that shows it.
 */
import type { Machine } from '../../core/machine';
import type { Strategy } from '../../core/events';
import { generateProgram, type StressProgram } from './generator';
import { diffStates, prepare, runStrategy, type GuestState } from './runner';

export const DEFAULT_STRESS_SEED = 20261126;
/** Guest RAM per VM: the programs live below 4 MiB (their own page tables map 0-4 MiB). */
const RAM_BYTES = 4 * 1024 * 1024;
const MAX_INSNS = 300_000;

export function stressSeed(): number {
  const s = process.env.STRESS_SEED;
  return s !== undefined && s !== '' ? Number(s) >>> 0 : DEFAULT_STRESS_SEED;
}

export interface Divergence {
  program: StressProgram;
  strategy: Strategy;
  diffs: string[];
}

export interface StressResult {
  programs: number;
  /** Programs whose reference run did not halt normally (a generator bug, or a bug every strategy shares). */
  invalid: { program: StressProgram; state: GuestState }[];
  divergences: Divergence[];
  /** Exits of the reference runs. */
  exits: number;
  mutations: number;
  /** Summed over the icache runs: the cache was exercised, not bypassed. */
  icache: { hits: number; wpFaults: number; invalidations: number; evictions: number };
}

export interface StressOptions {
  seed: number;
  from: number;
  count: number;
  strategies: readonly Strategy[];
  /** Applied to the machines of the compared strategies (not the reference). */
  prepareCompared?: (m: Machine) => void;
  /** Stop after this many divergent programs (the teeth test needs only a few). */
  stopAfter?: number;
}

export function runStress(o: StressOptions): StressResult {
  const res: StressResult = {
    programs: 0, invalid: [], divergences: [], exits: 0, mutations: 0,
    icache: { hits: 0, wpFaults: 0, invalidations: 0, evictions: 0 },
  };
  for (let i = o.from; i < o.from + o.count; i++) {
    const program = generateProgram(o.seed, i);
    const p = prepare(program.source, `${program.name}.s`);
    const config = { ...program.config, maxInsns: MAX_INSNS, ramBytes: RAM_BYTES };
    res.programs++;
    res.mutations += program.mutations;
    // The VMM's disassembly text only decorates exit events; without it the exit path takes
    // bhyve's parse alone (the bench's path), which keeps 500 programs within the test budget.
    const quiet = (m: Machine) => { m.vmm.disassemble = false; };
    const ref = runStrategy(p, 'none', { config, prepare: quiet });
    if (ref.stop?.reason !== 'halted' || /deadlock/.test(ref.stop.message)) {
      res.invalid.push({ program, state: ref });
      continue;
    }
    res.exits += ref.exits;
    let diverged = false;
    for (const strategy of o.strategies) {
      const got = runStrategy(p, strategy, { config, prepare: (m) => { quiet(m); o.prepareCompared?.(m); } });
      // With one vCPU per VM the instruction stream is fixed, so even the retired count must agree.
      const diffs = diffStates(ref, got, { retired: program.features.vcpus === 1 });
      if (strategy === 'icache') {
        res.icache.hits += got.icache.hits;
        res.icache.wpFaults += got.icache.wpFaults;
        res.icache.invalidations += got.icache.invalidations;
        res.icache.evictions += got.icache.evictions;
      }
      if (diffs.length > 0) {
        res.divergences.push({ program, strategy, diffs });
        diverged = true;
      }
    }
    if (diverged && o.stopAfter !== undefined && new Set(res.divergences.map((d) => d.program.index)).size >= o.stopAfter) break;
  }
  return res;
}

/** A failure report: the first divergent program in full, so it can be pasted and rerun. */
export function describeFailures(r: StressResult, limit = 1): string {
  const out: string[] = [];
  for (const d of r.divergences.slice(0, limit)) {
    out.push(
      `DIVERGENCE: ${d.program.name} under ${d.strategy} (rerun: STRESS_SEED=${d.program.seed}, program index ${d.program.index})`,
      `config: ${JSON.stringify(d.program.config)}`,
      ...d.diffs.slice(0, 20),
      '---- program ----',
      d.program.source,
    );
  }
  for (const inv of r.invalid.slice(0, limit)) {
    out.push(
      `REFERENCE RUN DID NOT HALT: ${inv.program.name}: ${JSON.stringify(inv.state.stop)}`,
      `config: ${JSON.stringify(inv.program.config)}`,
      '---- program ----',
      inv.program.source,
    );
  }
  if (r.divergences.length > limit) out.push(`... and ${r.divergences.length - limit} more divergences`);
  return out.join('\n');
}
