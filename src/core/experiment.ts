/**
 * The seed's experiment as pure functions: run one workload under one strategy and cost model
 * to its end and keep what the table, the chart and the what-if view need (cycles by stage,
 * the units charged per cost constant, whether the guest saw time pass). `npm run bench`, the
 * experiment's Worker and the tests all run workloads through `runWorkload`, so the page shows
 * the numbers the bench prints.
 *
 * What-if: a run that did not see time pass takes the same path under any costs, so its cycles
 * under another model are units × constants (`whatIfCycles`), exact and instant. A run that
 * did (a timer-driven guest) takes other paths under other costs: units × constants is then an
 * estimate until the run is repeated with the new model.
 */
import {
  COST_CONSTANTS, cyclesOfUnits, STAGE_CONSTANTS, type CostConstant, type CostModel, type CostUnits,
} from './cost';
import { buildMachine } from './machine';
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
  /** The guest saw modeled time pass: another model changes its path, not only its cost. */
  sawTime: boolean;
  /** Host time of the VMM's own exit handling, ns per exit (this machine's, not modeled). */
  hostNsPerExit: number;
  /** Host time of the whole run in ms, when the caller gave a clock (else 0). */
  hostMs: number;
}

export interface RunOptions {
  /** The preset's name (the machine's config) and, optionally, a model that replaces it. */
  preset: string;
  costModel?: Readonly<CostModel>;
  /** A millisecond clock to time the run with (the bench passes performance.now). */
  clock?: () => number;
}

/** Run `source` under `strategy` to its end. Throws when the program does not assemble. */
export function runWorkload(name: string, source: string, strategy: Strategy, opts: RunOptions): RunRecord {
  const built = buildMachine(source, { strategy, preset: opts.preset, costModel: opts.costModel }, `${name}.s`);
  if (!built.ok) throw new Error(`${name}: ${built.diagnostics.map((d) => d.message).join('; ')}`);
  const m = built.machine;
  const t0 = opts.clock?.() ?? 0;
  m.runToEnd();
  const hostMs = opts.clock ? opts.clock() - t0 : 0;
  const c = m.counters();
  const stop = m.stopInfo();
  return {
    scenario: name,
    strategy,
    stop: stop?.reason ?? '?',
    stopMessage: stop?.message ?? '',
    retired: c.retired,
    exits: c.exits.total,
    hitRate: c.icache.lookups ? c.icache.hits / c.icache.lookups : null,
    cycles: c.cycles,
    units: { ...m.units },
    sawTime: m.guestSawTime(),
    hostNsPerExit: c.hostNsPerExit,
    hostMs,
  };
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

export function whyFigures(record: Pick<RunRecord, 'units' | 'exits' | 'retired'>, model: Readonly<CostModel>): WhyFigures {
  const total = cyclesOfUnits(record.units, model);
  return {
    exitsPerKiloInsn: record.retired ? (record.exits * 1000) / record.retired : 0,
    walkFetchDecodeShare: total ? cyclesOfUnits(record.units, model, WALK_FETCH_DECODE) / total : 0,
  };
}

/** The constants a set of runs charged at all (the ones a what-if slider can move). */
export function chargedConstants(records: readonly Pick<RunRecord, 'units'>[]): CostConstant[] {
  return COST_CONSTANTS.filter((k) => records.some((r) => r.units[k] > 0));
}
