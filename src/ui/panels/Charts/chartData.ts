/** Chart rows and CSV from the store's history samples. Pure. */
import type { ExitReason, StageName } from '../../../core/events';
import { percent } from '../../../core/percent';
import type { HistorySample } from '../../../store/machineStore';
import { STAGE_ORDER } from '../lib/stages';
import { fixed, int } from '../lib/format';

/** At most `max` samples, evenly spaced, always keeping the newest. */
export function downsample<T>(xs: readonly T[], max: number): T[] {
  return downsampledPrefix(xs, xs.length, max);
}

/**
 * The samples a chart draws of a history whose first `shown` samples are shown (time travel:
 * the charts end at the exit shown): the whole history's `downsample`, up to the cut, then the
 * last sample shown, where the machine stands. The same points at every exit shown, so the
 * line keeps its shape as the timeline moves; with every sample shown, `downsample` itself.
 */
export function downsampledPrefix<T>(xs: readonly T[], shown: number, max: number): T[] {
  const n = Math.min(shown, xs.length);
  if (n <= 0) return [];
  if (xs.length <= max) return xs.slice(0, n);
  const out: T[] = [];
  const step = (xs.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) {
    const j = Math.round(i * step);
    if (j >= n) break;
    out.push(xs[j]);
  }
  if (out[out.length - 1] !== xs[n - 1]) out.push(xs[n - 1]);
  return out;
}

export function reasonsOf(history: readonly HistorySample[]): string[] {
  const s = new Set<string>();
  for (const h of history) for (const k of Object.keys(h.exitsByReason)) s.add(k);
  return [...s].sort();
}

export function stagesOf(history: readonly HistorySample[]): StageName[] {
  const s = new Set<StageName>();
  for (const h of history) for (const k of Object.keys(h.cyclesPerExitByStage) as StageName[]) s.add(k);
  return STAGE_ORDER.filter((x) => s.has(x));
}

/** A sample's figures by name; `hitRate` is null before the first lookup (not plotted). */
export type ChartRow = { retired: number; hitRate: number | null; cyclesTotal: number } & Record<string, number | null>;

/** One row per sample: instructions retired (the x axis), exits so far by reason, hit rate (%), cycles per exit by stage. */
export function chartRows(history: readonly HistorySample[], reasons: readonly string[], stages: readonly StageName[]): ChartRow[] {
  return history.map((h) => {
    const row: ChartRow = { retired: h.retired, hitRate: h.hitRate === null ? null : h.hitRate * 100, cyclesTotal: h.cyclesTotal };
    for (const r of reasons) row[`r:${r}`] = h.exitsByReason[r as ExitReason] ?? 0;
    for (const s of stages) row[`s:${s}`] = h.cyclesPerExitByStage[s] ?? 0;
    return row;
  });
}

/**
 * Exits per 1,000 guest instructions retired ("0.052", "12.5", "500"): how often the guest
 * exits, which bounds what any exit-path saving can gain. Null before an instruction retired.
 * Never "1,000" unless every instruction exited: 9,996 exits in 10,000 instructions is "999.6".
 */
export function exitsPerThousand(exits: number, retired: number): string | null {
  if (retired <= 0) return null;
  const v = (exits * 1000) / retired;
  if (v === 0) return '0';
  if (v < 1) return v.toPrecision(2);
  if (v < 100) return v.toFixed(1);
  if (Math.round(v) !== 1000 || v === 1000) return int(v);
  let d = 1;
  while (d < 3 && Number(v.toFixed(d)) === 1000) d++;
  return fixed(v, d);
}

/**
 * How side `a`'s modeled cycles compare with side `b`'s at the same point of the program, as
 * the words between the two names ("38% fewer than", "0.1% more than", "37× as many as", "the
 * same as" only when equal): only when both stand at the same instruction count (both halted,
 * say), where the comparison is exact; null otherwise.
 */
export function cyclesVersus(a: { retired: number; cycles: number }, b: { retired: number; cycles: number }): string | null {
  if (a.retired !== b.retired || a.retired === 0 || b.cycles <= 0) return null;
  const ratio = a.cycles / b.cycles;
  if (ratio >= 2) return `${ratio.toFixed(ratio < 10 ? 1 : 0)}× as many as`;
  if (ratio === 1) return 'the same as';
  // Whole percent, but never "the same" for a difference, nor "100% fewer" for cycles spent (core/percent).
  return `${percent(Math.abs(ratio - 1), 0)} ${ratio < 1 ? 'fewer' : 'more'} than`;
}

/** A null cell is empty: a hit rate before any lookup is no figure, not 0. */
function csvCell(v: string | number | null): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v;
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The history as CSV, one line per sample, with a header; `side` labels A/B runs. */
export function historyToCsv(sides: readonly { label: string; history: readonly HistorySample[] }[]): string {
  const all = sides.flatMap((s) => s.history);
  const reasons = reasonsOf(all);
  const stages = stagesOf(all);
  const header = ['side', 't_ms', 'retired', 'exits', 'hit_rate', 'cycles_total',
    ...reasons.map((r) => `exits_${r}`), ...stages.map((s) => `cycles_per_exit_${s}`)];
  const lines = [header.join(',')];
  for (const side of sides) {
    for (const h of side.history) {
      lines.push([side.label, h.t, h.retired, h.exits, h.hitRate, h.cyclesTotal,
        ...reasons.map((r) => h.exitsByReason[r as ExitReason] ?? 0), ...stages.map((s) => h.cyclesPerExitByStage[s] ?? 0)].map(csvCell).join(','));
    }
  }
  return lines.join('\n') + '\n';
}

/** How many of the samples (taken in exit order) were taken at or before exit `at`: the charts at exit `at` show these. */
export function samplesUpTo(history: readonly HistorySample[], at: number): number {
  let n = 0;
  while (n < history.length && history[n].exits <= at) n++;
  return n;
}
