/**
 * The bench table of the current program: one row per complete run of it (strategy, cost
 * preset, cache size), and what each strategy saves against `none` (bhyve without the cache)
 * under the same preset. Pure.
 */
import { HOST_SAMPLE, type Counters } from '../../../core/events';
import type { BenchRun } from '../../../store/benchStore';
import type { Strategy } from '../../../worker/protocol';
import { cyclesPerExitHandled, hitRate } from '../lib/runFigures';

export interface BenchRow {
  key: string;
  strategy: Strategy;
  file: string;
  preset: string;
  /** Cache capacity (icache only). */
  icacheSize: number | null;
  retired: number;
  exits: number;
  /** APICv: LAPIC accesses completed without an exit. */
  virtualized: number;
  hitRate: number | null;
  /** Modeled cycles per exit handled (see runFigures); null without exits. */
  cyclesPerExit: number | null;
  /** Modeled cycles per guest instruction: comparable between runs of different lengths. */
  cpi: number;
  /** cpi(none) / cpi(this) under the same preset: how much faster than bhyve without the cache. */
  speedup: number | null;
  /** Measured host time of the VMM per exit; null without exits. */
  hostNsPerExit: number | null;
  /** Steps of the host clock the timed exits spanned (see `hostClockSteps`); null without exits. */
  hostClockSteps: number | null;
}

/** Below this many clock steps a host figure is rough (±10 % and more): the table marks it ≈. */
export const ROUGH_BELOW_STEPS = 100;

/**
 * How many steps of a `tickNs` clock the run's timed exits spanned in all. A page that is not
 * cross-origin isolated reads a clock coarsened to 100 µs steps, and an exit takes 1–3 µs: each
 * timed exit then reads 0 or one step, and the mean is only as good as about 1/√steps (identical
 * runs had read 2,560 to 13,840 ns per exit).
 */
export function hostClockSteps(c: Counters, tickNs: number): number {
  const emulated = (c.exits.byReason.mmio ?? 0) + (c.exits.byReason['ept-violation'] ?? 0) + (c.exits.byReason['apic-write'] ?? 0);
  return tickNs > 0 ? (c.hostNsPerExit * emulated) / HOST_SAMPLE / tickNs : Infinity;
}

/** Rows of the runs of `source` only, by preset (in the order first run), then by strategy. */
export function benchRows(runs: readonly BenchRun[], source: string, order: readonly Strategy[], tickNs = 0): BenchRow[] {
  const mine = runs.filter((r) => r.source === source);
  const presets = [...new Set(mine.map((r) => r.preset))];
  const cpiOf = (r: BenchRun) => (r.counters.retired ? r.counters.cycles.total / r.counters.retired : 0);
  const rows: BenchRow[] = [];
  for (const preset of presets) {
    const base = mine.find((r) => r.preset === preset && r.strategy === 'none');
    const baseCpi = base ? cpiOf(base) : 0;
    const ofPreset = mine.filter((r) => r.preset === preset)
      .sort((a, b) => order.indexOf(a.strategy) - order.indexOf(b.strategy) || (a.icacheSize ?? 0) - (b.icacheSize ?? 0));
    for (const r of ofPreset) {
      const c = r.counters;
      const cpi = cpiOf(r);
      rows.push({
        key: JSON.stringify([r.strategy, r.preset, r.icacheSize]),
        strategy: r.strategy,
        file: r.file,
        preset: r.preset,
        icacheSize: r.icacheSize,
        retired: c.retired,
        exits: c.exits.total,
        virtualized: c.apicv.virtualized,
        hitRate: hitRate(c),
        cyclesPerExit: cyclesPerExitHandled(c),
        cpi,
        speedup: baseCpi > 0 && cpi > 0 ? baseCpi / cpi : null,
        // None when the VMM emulated no exit (apicv's runs, a run of I/O exits only): nothing was timed.
        hostNsPerExit: c.hostNsPerExit > 0 ? c.hostNsPerExit : null,
        hostClockSteps: c.hostNsPerExit > 0 ? hostClockSteps(c, tickNs) : null,
      });
    }
  }
  return rows;
}
