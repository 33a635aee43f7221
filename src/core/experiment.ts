/**
 * The seed's experiment as pure functions: run one workload under one strategy and cost model
 * to its end and keep what the table, the chart and the what-if view need (cycles by stage,
 * the units charged per cost constant, whether the guest saw time pass). `npm run bench`, the
 * experiment's Worker and the tests all run workloads through `runWorkload`, so the page shows
 * the numbers the bench prints. This module is pure figures (no machine: the page's main thread
 * imports it); runWorkload, which builds machines, is in experimentRun.ts.
 *
 * What-if: a run that did not see time pass takes the same path under any costs, so its cycles
 * under another model are units × constants (`whatIfCycles`), exact and instant. A run that
 * did (a timer-driven guest) takes other paths under other costs: units × constants is then an
 * estimate until the run is repeated with the new model.
 */
import {
  COST_CONSTANTS, cyclesOfUnits, STAGE_CONSTANTS, type CostConstant, type CostModel, type CostUnits,
} from './cost';
import type { CycleCounters, Strategy } from './events';

/** The seed's workloads, as scenarios (src/scenarios), in the order the seed reports them. */
export const EXPERIMENT_WORKLOADS = [
  'lapic-microbench', 'cpu-bound-timer', 'syscall-loop', 'memory-copy', 'boot-cold-path',
] as const;

/** The seed's published figure for each workload, with the icache strategy against none. */
export interface SeedFigure {
  /** What the seed reports, in words. */
  text: string;
  /** The reported speed-up as a range of fractions ([0.35, 0.40] for "35–40%"), if any. */
  band: readonly [number, number] | null;
  /** The seed measured no difference. */
  noDifference: boolean;
}

export const SEED_FIGURES: Readonly<Record<string, SeedFigure>> = {
  'lapic-microbench': { text: '35-40% faster with the cache', band: [0.35, 0.40], noDifference: false },
  'cpu-bound-timer': { text: 'no difference (shell loop)', band: null, noDifference: true },
  'syscall-loop': { text: 'no difference (getuid)', band: null, noDifference: true },
  'memory-copy': { text: 'no difference (dd)', band: null, noDifference: true },
};

/** The seed's band for the microbenchmark, as fractions. */
export const SEED_BAND: readonly [number, number] = [0.35, 0.40];

/** What one run of one workload under one strategy leaves behind (plain data). */
export interface RunRecord {
  scenario: string;
  strategy: Strategy;
  /** Why the run ended ('halted' for a clean end) and the stop message. */
  stop: string;
  stopMessage: string;
  /** Guest instructions retired (all vCPUs). */
  retired: number;
  exits: number;
  /** Instruction-cache hits / lookups; null when nothing was looked up. */
  hitRate: number | null;
  /** Modeled cycles by stage, as the machine counted them. */
  cycles: CycleCounters;
  /** Units charged per cost constant: cycles under any model = cyclesOfUnits(units, model). */
  units: CostUnits;
  /** The part of `units` charged for emulated instructions' memory operands (walk and copy constants a cache does not save). */
  operandUnits: CostUnits;
  /** The guest saw modeled time pass: another model changes its path, not only its cost. */
  sawTime: boolean;
  /** Host time of the VMM's own exit handling, ns per exit (this machine's, not modeled). */
  hostNsPerExit: number;
  /** Host time of the whole run in ms, when the caller gave a clock (else 0). */
  hostMs: number;
}

/** Speed-up of a strategy over `none`: cycles of none ÷ cycles of the strategy − 1 (0.617 = +61.7%). */
export function speedup(noneCycles: number, cycles: number): number {
  return noneCycles / cycles - 1;
}

/**
 * The same comparison read as time saved: 1 − cycles of the strategy ÷ cycles of none
 * (0.382 = the run takes 38.2% less time). Throughput gained s and time saved t are two
 * readings of one ratio: t = s / (1 + s).
 */
export function timeSaved(noneCycles: number, cycles: number): number {
  return 1 - cycles / noneCycles;
}

/** A run's modeled cycles under `model`, from its units (exact when !record.sawTime). */
export function whatIfCycles(record: Pick<RunRecord, 'units'>, model: Readonly<CostModel>): number {
  return cyclesOfUnits(record.units, model);
}

const WALK_FETCH_DECODE: readonly CostConstant[] = [
  ...STAGE_CONSTANTS.walk, ...STAGE_CONSTANTS.fetch, ...STAGE_CONSTANTS.decode,
];

/** The "why" of a run: the two numbers that decide whether any instruction cache can help. */
export interface WhyFigures {
  /** VM exits per 1,000 retired guest instructions. */
  exitsPerKiloInsn: number;
  /** Share of the run's modeled cycles spent walking, fetching and decoding (0..1). */
  walkFetchDecodeShare: number;
}

export function whyFigures(record: Pick<RunRecord, 'units' | 'operandUnits' | 'exits' | 'retired'>, model: Readonly<CostModel>): WhyFigures {
  const total = cyclesOfUnits(record.units, model);
  // RIP's walk, fetch and decode: the same constants charged for a memory operand are emulation's.
  const wfd = cyclesOfUnits(record.units, model, WALK_FETCH_DECODE) - cyclesOfUnits(record.operandUnits, model, WALK_FETCH_DECODE);
  return {
    exitsPerKiloInsn: record.retired ? (record.exits * 1000) / record.retired : 0,
    walkFetchDecodeShare: total ? wfd / total : 0,
  };
}

/** The constants a set of runs charged at all (the ones a what-if slider can move). */
export function chargedConstants(records: readonly Pick<RunRecord, 'units'>[]): CostConstant[] {
  return COST_CONSTANTS.filter((k) => records.some((r) => r.units[k] > 0));
}

// ---- sensitivity: the microbenchmark's speed-up as one constant moves ------------------------

/** Speed-up of `strategy` over `none` under `model`, from the two runs' units. */
export function whatIfSpeedup(none: Pick<RunRecord, 'units'>, strategy: Pick<RunRecord, 'units'>, model: Readonly<CostModel>): number {
  return speedup(whatIfCycles(none, model), whatIfCycles(strategy, model));
}

/**
 * The values of constant `key` (the others as in `model`, values ≥ 0) that put the speed-up of
 * `strategy` over `none` inside `band`: cycles are linear in each constant (a + b·v over
 * c + d·v), so the band is where two linear inequalities hold, solved exactly. Returns
 * [low, high] (high may be Infinity), or null when no value does.
 */
export function bandInterval(
  none: Pick<RunRecord, 'units'>, strategy: Pick<RunRecord, 'units'>, model: Readonly<CostModel>,
  key: CostConstant, band: readonly [number, number] = SEED_BAND,
): [number, number] | null {
  const zero = { ...model, [key]: 0 };
  const a = whatIfCycles(none, zero);
  const b = none.units[key];
  const c = whatIfCycles(strategy, zero);
  const d = strategy.units[key];
  let lo = 0;
  let hi = Infinity;
  // alpha·v >= beta, intersected into [lo, hi].
  const atLeast = (alpha: number, beta: number): boolean => {
    if (alpha > 0) lo = Math.max(lo, beta / alpha);
    else if (alpha < 0) hi = Math.min(hi, beta / alpha);
    else if (beta > 0) return false;
    return true;
  };
  // (1 + band[0]) (c + d v) <= a + b v <= (1 + band[1]) (c + d v); c + d v > 0 for every run.
  if (!atLeast(b - (1 + band[0]) * d, (1 + band[0]) * c - a)) return null;
  if (!atLeast((1 + band[1]) * d - b, a - (1 + band[1]) * c)) return null;
  return lo <= hi ? [lo, hi] : null;
}
