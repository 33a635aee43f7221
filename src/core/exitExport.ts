/**
 * Exit logs as files: Chrome trace-event JSON (opens in Perfetto and chrome://tracing) and CSV.
 * Pure: exit records in, text out.
 *
 * The trace's time axis is modeled cycles, shown as a nominal 1 GHz clock (1 ns shown = 1 cycle),
 * never host time. Perfetto stores nanoseconds and truncates `ts * 1000`, so every timestamp is
 * written as (integer cycles + 0.5) / 1000: truncation then gives back the exact integer, and
 * a stage (child slice) cut from the same integer grid as its exit (parent) always nests in it.
 * (Trace Event Format, "Timestamps" and "Nesting"; Perfetto json_utils CoerceToTs.)
 */
import type { ExitEvent, StageName } from './events';
import { hex } from './hex';

/** One trace event of the JSON Object Format (the fields this export writes). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'C' | 'M';
  pid: number;
  tid: number;
  cat?: string;
  ts?: number;
  dur?: number;
  args?: Record<string, string | number>;
}

export interface ChromeTrace {
  displayTimeUnit: 'ns';
  otherData: Record<string, string | number>;
  traceEvents: TraceEvent[];
}

/** What a stage is called in the trace (the names of the exit path, in the order it runs). */
export const TRACE_STAGE_NAME: Record<StageName, string> = {
  exit: 'exit + resume',
  icache: 'lookup',
  walk: 'walk',
  fetch: 'fetch',
  decode: 'decode',
  insert: 'insert',
  protect: 'write-protect',
  emulate: 'emulate',
  invalidate: 'invalidate',
  device: 'device',
};

export interface TraceOptions {
  /** Said in the trace's metadata: which program, strategy and cost preset. */
  title?: string;
  /** Exits the source had but the list lacks (e.g. not streamed at full speed); said in the metadata. */
  missingExits?: number;
}

/** Microseconds for an integer cycle count (see the header: +0.5 survives Perfetto's truncation). */
const us = (cycles: number) => (cycles + 0.5) / 1000;

/**
 * The exits as a Chrome trace: per exit one complete event ("X", category "exit") on the
 * thread of its vCPU (process = VM), its stages as nested "X" slices (category "stage") laid
 * end to end inside it in the order they ran, and an "icache hit rate" counter after every exit
 * that consulted the cache. Exits need `atCycle` (the vCPU's modeled clock when it exited);
 * an exit without it starts where the previous exit of its vCPU ended.
 */
export function exitsToChromeTrace(exits: readonly ExitEvent[], opts: TraceOptions = {}): ChromeTrace {
  const ev: TraceEvent[] = [];
  const threads = new Map<string, { pid: number; tid: number; end: number }>();
  const pids = new Set<number>();
  let lookups = 0;
  let hits = 0;
  for (const e of exits) {
    const key = `${e.vm}/${e.vcpu}`;
    let th = threads.get(key);
    if (!th) {
      th = { pid: e.vm + 1, tid: e.vcpu + 1, end: 0 };
      threads.set(key, th);
      if (!pids.has(th.pid)) {
        pids.add(th.pid);
        ev.push({ name: 'process_name', ph: 'M', pid: th.pid, tid: 0, args: { name: `VM ${e.vm} (modeled cycles, 1 ns = 1 cycle)` } });
      }
      ev.push({ name: 'thread_name', ph: 'M', pid: th.pid, tid: th.tid, args: { name: `vCPU ${e.vcpu}` } });
    }
    // One integer grid per exit: the parent and every child come from the same numbers.
    const start = Math.max(th.end, Math.floor(e.atCycle ?? th.end));
    const stageCycles = e.stages.map((s) => Math.max(0, Math.round(s.cycles)));
    const total = stageCycles.reduce((a, c) => a + c, 0);
    const args: Record<string, string | number> = {
      seq: e.seq, reason: e.reason, rip: hex(e.rip), cycles: e.cycles, start_cycle: start, retired: e.retired,
    };
    if (e.gpa !== undefined) args.gpa = hex(e.gpa);
    if (e.icache) args.icache = e.icache;
    if (e.insn) args.insn = e.insn;
    if (e.invalidated) args.invalidated = e.invalidated;
    if (e.wp) {
      args.wp_cause = e.wp.cause;
      if (e.wp.deliveringVector !== undefined) args.wp_delivering_vector = e.wp.deliveringVector;
      args.wp_entries = e.wp.entries.map((x) => hex(x.rip)).join(' ');
    }
    if (e.line !== undefined) args.line = e.line;
    ev.push({ name: exitName(e), cat: 'exit', ph: 'X', ts: us(start), dur: us(total), pid: th.pid, tid: th.tid, args });
    let at = start;
    e.stages.forEach((s, i) => {
      const d = stageCycles[i];
      const sargs: Record<string, string | number> = { cycles: s.cycles };
      if (s.detail) sargs.detail = s.detail;
      if (d > 0) ev.push({ name: TRACE_STAGE_NAME[s.name] ?? s.name, cat: 'stage', ph: 'X', ts: us(at), dur: us(d), pid: th.pid, tid: th.tid, args: sargs });
      at += d;
    });
    th.end = start + total;
    if (e.icache === 'hit' || e.icache === 'miss') {
      lookups++;
      if (e.icache === 'hit') hits++;
      ev.push({ name: 'icache hit rate', ph: 'C', ts: us(th.end), pid: th.pid, tid: th.tid, args: { 'hit %': Math.round((10_000 * hits) / lookups) / 100 } });
    }
  }
  const otherData: Record<string, string | number> = {
    timeAxis: 'modeled cycles at a nominal 1 GHz: 1 ns shown = 1 cycle (not host time)',
    exits: exits.length,
  };
  if (opts.title) otherData.title = opts.title;
  if (opts.missingExits) otherData.missingExits = opts.missingExits;
  return { displayTimeUnit: 'ns', otherData, traceEvents: ev };
}

function exitName(e: ExitEvent): string {
  if (e.reason === 'mmio') return `mmio ${e.icache === 'hit' ? '(hit)' : e.icache === 'miss' ? '(miss)' : ''}`.trim();
  return e.reason;
}

/** Columns of the exit-log CSV, in order. */
export const EXIT_CSV_COLUMNS = [
  'seq', 'vm', 'vcpu', 'reason', 'rip', 'cr3', 'gla', 'gpa', 'access', 'icache', 'insn',
  'cycles', 'at_cycle', 'retired', 'invalidated', 'stages',
] as const;

function csvCell(v: string | number | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The exit log as CSV: a header, then one line per exit; `stages` is "name:cycles" joined by spaces. */
export function exitsToCsv(exits: readonly ExitEvent[]): string {
  const lines = [EXIT_CSV_COLUMNS.join(',')];
  for (const e of exits) {
    lines.push([
      e.seq, e.vm, e.vcpu, e.reason, hex(e.rip), hex(e.cr3),
      e.gla === undefined ? undefined : hex(e.gla), e.gpa === undefined ? undefined : hex(e.gpa),
      e.access, e.icache, e.insn, e.cycles, e.atCycle, e.retired, e.invalidated,
      e.stages.map((s) => `${s.name}:${s.cycles}`).join(' '),
    ].map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}
