/**
 * What the log's Export trace and CSV buttons save, as what, under which name, and what their
 * tooltips say. Pure: the log, the filter, the timeline's exit and the program in; the plan out.
 *
 * They save the exits the log shows, as far as the machine shown has taken them: at a past exit
 * k the listed exits handled before #k (the strip's count, k; the rows after k are the recorded
 * future), with the filter on the exits it shows. Whatever the file lacks of the exits taken
 * (not listed at full speed, filtered out) is said: in the trace's metadata, in the CSV's file
 * name ("…-156-of-20003.csv": the CSV stays a plain table) and in both tooltips.
 */
import type { ExitEvent, ExitReason } from '../../../core/events';
import { programTitle, type TraceOptions } from '../../../core/exitExport';
import { int, plural } from '../lib/format';
import { rowAtOrBefore } from '../lib/rowSearch';

export interface ExportInput {
  /** The log's listed exits, in seq order. */
  log: readonly ExitEvent[];
  /** Positions in the log of the rows the filter shows (the FilterIndex's), or null: no filter. */
  shown: readonly number[] | null;
  /** The reasons the filter shows (empty: no filter). */
  filter: ReadonlySet<ExitReason>;
  /** The timeline's past exit, or null at the present. */
  travelAt: number | null;
  /** At the present, the exits taken that the log does not list (the store's `droppedExits`). */
  dropped: number;
  /** The program the log is of: its file name and configuration (null before a load). */
  program: { file: string; strategy: string; preset: string } | null;
}

export interface ExportPlan {
  /** How many exits the files hold. */
  count: number;
  /** Exits the machine shown had taken (k at a past exit k). */
  taken: number;
  /** What the files hold (made when asked: a click, not every render of a seek). */
  exits(): ExitEvent[];
  trace: TraceOptions;
  traceName: string;
  csvName: string;
  traceTitle: string;
  csvTitle: string;
}

/** A file's name part from the program's file name: "smc-mmio.s" -> "smc-mmio". */
function stemOf(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? '';
  const stem = base.replace(/\.(s|asm|S)$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  return stem || 'program';
}

/** The plan, in O(log n) of the log (binary searches: it is made in every render of a seek). */
export function exportPlan({ log, shown, filter, travelAt, dropped, program }: ExportInput): ExportPlan {
  const k = travelAt;
  const seqAt = (i: number) => log[i].seq;
  // Rows of exits handled before #k: those up to #k-1.
  const listed = k === null ? log.length : rowAtOrBefore(log.length, seqAt, k - 1) + 1;
  const n = shown === null ? listed : k === null ? shown.length : rowAtOrBefore(shown.length, (i) => seqAt(shown[i]), k - 1) + 1;
  const taken = k === null ? log.length + dropped : k;
  const missing = Math.max(0, taken - listed);
  const reasons = shown === null ? [] : [...filter].sort();
  const trace: TraceOptions = {
    ...(program && { title: programTitle(program.file, program.strategy, program.preset) }),
    ...(missing > 0 && { missingExits: missing }),
    ...(k !== null && { atExit: k }),
    ...(reasons.length > 0 && { filter: `${reasons.join(', ')}: ${int(n)} shown of ${int(listed)} listed` }),
  };
  const exits = () => (shown === null ? log.slice(0, listed) : shown.slice(0, n).map((i) => log[i]));

  const name = ['exitscope', ...(program ? [stemOf(program.file), program.strategy] : []),
    ...(k !== null ? [`before-${k}`] : []), ...reasons].join('-');
  const traceName = `${name}-trace.json`;
  const csvName = `${name}-exits${n < taken ? `-${n}-of-${taken}` : ''}.csv`;

  const of = k === null ? 'of the run' : `handled before #${k}`;
  const what = n === taken ? `the ${int(n)} ${plural(n, 'exit')} ${of}`
    : `${reasons.length ? `the ${int(n)} ${reasons.join(' and ')} ${plural(n, 'exit')} shown` : `the ${int(n)} listed`} of the ${int(taken)} ${plural(taken, 'exit')} ${of}`
      + (reasons.length > 0 && missing > 0 ? ` (${int(missing)} not listed)` : '');
  const future = k !== null ? ` The recorded exits from #${k} on are not saved.` : '';
  // The trace leaves the counter out of any filtered file too (exitExport's incompleteBecause).
  const noRate = (n < taken || reasons.length > 0) && program?.strategy === 'icache' ? ' No hit-rate counter: the rate of part of the run is not the run\'s.' : '';
  const traceTitle = `Save ${what} as Chrome trace-event JSON: open it in ui.perfetto.dev or chrome://tracing (time axis: modeled cycles).${future}${noRate}`;
  const csvTitle = `Save ${what} as CSV, one line per exit${n < taken ? ` (its name says so: …-${n}-of-${taken}.csv)` : ''}.${future}`;
  return { count: n, taken, exits, trace, traceName, csvName, traceTitle, csvTitle };
}
