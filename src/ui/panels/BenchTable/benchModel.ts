/**
 * The bench table of the current program: the latest counters of each strategy run on it, and
 * what each strategy saves against `none` (bhyve without the cache). Pure.
 */
import type { Counters, Strategy } from '../../../worker/protocol';

export interface BenchRow {
  strategy: Strategy;
  retired: number;
  exits: number;
  hitRate: number | null;
  cyclesTotal: number;
  /** Modeled VMM cycles per exit. */
  cyclesPerExit: number;
  /** Modeled cycles per guest instruction: comparable between runs of different lengths. */
  cpi: number;
  /** cpi(none) / cpi(this): how much faster than bhyve without the cache, if `none` ran. */
  speedup: number | null;
  /** VMM cycles per exit saved against `none`. */
  savedPerExit: number | null;
  hostNsPerExit: number;
}

export function benchRows(results: Partial<Record<Strategy, Counters>>, order: readonly Strategy[]): BenchRow[] {
  const base = results.none;
  const baseCpi = base && base.retired ? base.cycles.total / base.retired : null;
  const basePerExit = base && base.exits.total ? (base.cycles.total - base.cycles.guest) / base.exits.total : null;
  const rows: BenchRow[] = [];
  for (const strategy of order) {
    const c = results[strategy];
    if (!c) continue;
    const lookups = c.icache.hits + c.icache.misses;
    const cpi = c.retired ? c.cycles.total / c.retired : 0;
    const perExit = c.exits.total ? (c.cycles.total - c.cycles.guest) / c.exits.total : 0;
    rows.push({
      strategy,
      retired: c.retired,
      exits: c.exits.total,
      hitRate: lookups ? c.icache.hits / lookups : null,
      cyclesTotal: c.cycles.total,
      cyclesPerExit: perExit,
      cpi,
      speedup: baseCpi !== null && cpi > 0 ? baseCpi / cpi : null,
      savedPerExit: basePerExit !== null && c.exits.total ? basePerExit - perExit : null,
      hostNsPerExit: c.hostNsPerExit,
    });
  }
  return rows;
}
