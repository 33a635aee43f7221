/**
 * The sensitivity of the microbenchmark's speed-up to each cost constant: for one constant, the
 * speed-up of each strategy over none as the constant moves across its slider's range (the
 * others as set), and the values that put it inside the seed's band. Pure: from the runs'
 * units, which make cycles linear in every constant (exact for the microbenchmark, whose guest
 * never sees time).
 */
import type { CostConstant, CostModel } from '../../core/cost';
import type { Strategy } from '../../core/events';
import { bandInterval, whatIfSpeedup, type RunRecord } from '../../core/experiment';
import { int } from '../panels/lib/format';

/** The strategies charted against none (apicv's microbenchmark speed-up is far off this scale). */
export const SENSITIVITY_STRATEGIES = ['icache', 'decode-assist'] as const satisfies readonly Strategy[];
export type SensitivityStrategy = (typeof SENSITIVITY_STRATEGIES)[number];

export interface SensitivityLine {
  strategy: SensitivityStrategy;
  /** Speed-up over none at each of `values`. */
  speedups: number[];
  /** Values of the constant (≥ 0) that put this speed-up inside the band, or null: none do. */
  band: [number, number] | null;
}

export interface Sensitivity {
  constant: CostConstant;
  /** Evenly spaced from 0 to the slider's end. */
  values: number[];
  lines: SensitivityLine[];
}

/** Whether a run pair charges the constant at all: if neither does, the speed-up cannot move with it. */
export function charges(records: readonly Pick<RunRecord, 'units'>[], constant: CostConstant): boolean {
  return records.some((r) => r.units[constant] > 0);
}

/** The curves for one constant over [0, max], `points` values, the other constants as in `model`. */
export function sensitivity(
  none: Pick<RunRecord, 'units'>, runs: Partial<Record<SensitivityStrategy, Pick<RunRecord, 'units'>>>,
  model: Readonly<CostModel>, constant: CostConstant, max: number, points = 41,
): Sensitivity {
  const values = Array.from({ length: points }, (_, i) => (max * i) / (points - 1));
  const lines: SensitivityLine[] = [];
  for (const strategy of SENSITIVITY_STRATEGIES) {
    const run = runs[strategy];
    if (!run) continue;
    lines.push({
      strategy,
      speedups: values.map((v) => whatIfSpeedup(none, run, { ...model, [constant]: v })),
      band: bandInterval(none, run, model, constant),
    });
  }
  return { constant, values, lines };
}

/** A constant's value as the sliders print it: integers with separators, small ones to 3 places. */
export function formatConstant(v: number): string {
  return v >= 100 ? int(v) : String(Number(v.toFixed(3)));
}

/** Characters the band column holds ("3,127–3,644"). */
const BAND_CHARS = 11;

/**
 * `v` rounded towards the inside of a band (`up` for its low end, down for its high end) to the
 * step it is printed at: a printed end is inside the band. (Rounded to the nearest, "3,126–3,645"
 * named two values whose speed-ups, 40.002 % and 34.996 %, are outside.) `sig`: 3 significant
 * digits (a long band in k or M), else as formatConstant prints.
 */
function inward(v: number, up: boolean, sig: boolean): number {
  const step = sig ? 10 ** (Math.floor(Math.log10(Math.abs(v) || 1)) - 2) : v >= 100 ? 1 : 0.001;
  // A hair of slack: an end solved exactly on a step stays on it.
  const q = v / step;
  return (up ? Math.ceil(q - 1e-9) : Math.floor(q + 1e-9)) * step;
}

/** 2,150,000 as "2.15M", 16,800 as "16.8k". */
function shortConstant(v: number): string {
  for (const [unit, n] of [['M', 1e6], ['k', 1e3]] as const) if (v >= n) return `${Number((v / n).toPrecision(3))}${unit}`;
  return formatConstant(v);
}

/**
 * The band interval in words: the printed values of the constant that put the speed-up in the
 * band, its true ends rounded inwards, past the slider's end too (a band of 1,676–2,195 beyond a
 * slider that ends at 1,600 had read "> 1,600", where 3,000 is out of it).
 */
export function bandText(interval: [number, number] | null): string {
  if (interval === null) return 'never';
  const text = (sig: boolean, fmt: (v: number) => string) => {
    const lo = inward(interval[0], true, sig);
    if (!Number.isFinite(interval[1])) return `≥ ${fmt(lo)}`;
    const hi = inward(interval[1], false, sig);
    // Narrower than a printed step: the one value, within it.
    return lo > hi ? `≈ ${fmt(interval[0])}` : `${fmt(lo)}–${fmt(hi)}`;
  };
  const exact = text(false, formatConstant);
  return exact.length <= BAND_CHARS ? exact : text(true, shortConstant);
}
