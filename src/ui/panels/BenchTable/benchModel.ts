/**
 * The bench table of the current program: one row per complete run of it (strategy, cost
 * preset, cache size), and what each strategy saves against `none` (bhyve without the cache)
 * under the same preset. Pure.
 */
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
}

/** Rows of the runs of `source` only, by preset (in the order first run), then by strategy. */
export function benchRows(runs: readonly BenchRun[], source: string, order: readonly Strategy[]): BenchRow[] {
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
      });
    }
  }
  return rows;
}
