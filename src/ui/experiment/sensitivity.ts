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

/** The band interval in words, within a slider that ends at `max`. */
export function bandText(interval: [number, number] | null, max: number): string {
  if (interval === null) return 'never';
  if (interval[0] > max) return `> ${formatConstant(max)}`;
  return interval[1] > max ? `≥ ${formatConstant(interval[0])}` : `${formatConstant(interval[0])}–${formatConstant(interval[1])}`;
}
