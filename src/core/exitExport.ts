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
import type { ExitEvent } from './events';
import { hex } from './hex';
import { percentValue } from './percent';
import { STAGE_LABEL } from './stageNames';

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

export interface TraceOptions {
  /** Said in the trace's metadata: which program, strategy and cost preset. */
  title?: string;
  /**
   * Exits the source took (before `atExit`, when given) that the list lacks (e.g. not streamed at
   * full speed, past the CLI's cap); said in the metadata.
   */
  missingExits?: number;
  /**
   * The file is the machine at exit k (the timeline's past exit, the CLI's --at-exit): the exits
   * handled before it, #0 to #k-1, are what it may hold; said in the metadata.
   */
  atExit?: number;
  /** The exits are a selection of those listed, in words (the log's filter: "ept-violation"); said in the metadata. */
  filter?: string;
}

/** A trace's title, the same from the page and the CLI: "smc-mmio.s (icache, nehalem-2014)". */
export function programTitle(file: string, strategy: string, preset: string): string {
  return `${file} (${strategy}, ${preset})`;
}

/** Microseconds for an integer cycle count (see the header: +0.5 survives Perfetto's truncation). */
const us = (cycles: number) => (cycles + 0.5) / 1000;

/**
 * Why a hit rate from these exits would not be the run's (null: it would). It is only when the
 * file holds every exit: #0 onwards without a gap (to #k-1 at exit k), none missing, none filtered.
 */
export function incompleteBecause(exits: readonly ExitEvent[], opts: TraceOptions = {}): string | null {
  const k = opts.atExit;
  if (opts.filter) return `only the exits the log's filter shows (${opts.filter})`;
  if (opts.missingExits) {
    return `${opts.missingExits.toLocaleString('en-US')} of the run's exits${k !== undefined ? ` before #${k}` : ''} are not in this file`;
  }
  const gap = exits.findIndex((e, i) => e.seq !== i);
  if (gap === 0) return `the file starts at exit #${exits[0].seq}, not #0`;
  if (gap > 0) return exits[gap].seq > gap ? `exit #${gap} is not in this file` : `exit #${exits[gap].seq} is in this file twice or out of order`;
  if (k !== undefined && exits.length > k) return `the file holds exits from #${k} on, after the exit it is at`;
  if (k !== undefined && exits.length < k) return `exits #${exits.length} to #${k - 1} are not in this file`;
  return null;
}

/**
 * The exits as a Chrome trace: per exit one complete event ("X", category "exit") on the
 * thread of its vCPU (process = VM), its stages as nested "X" slices (category "stage", named as
 * the charts name them, a 0-cycle stage as a slice of length 0) laid end to end inside it in the
 * order they ran. Exits need `atCycle` (the vCPU's modeled clock when it exited); an exit
 * without it starts where the previous exit of its vCPU ended.
 *
 * Each VM (the cache is per VM) has an "icache hit rate" counter with a sample at the end of
 * every exit of it that consulted the cache, its running rate in the order of that VM's modeled
 * clock. Only when the file holds every exit (`incompleteBecause`): the rate of a part is not the
 * run's (156 exits listed of 20,003 read 100%, where the run's was 99.98%). Otherwise the
 * metadata says why there is none (`hitRateOmitted`).
 */
export function exitsToChromeTrace(exits: readonly ExitEvent[], opts: TraceOptions = {}): ChromeTrace {
  const ev: TraceEvent[] = [];
  const threads = new Map<string, { pid: number; tid: number; end: number }>();
  const pids = new Set<number>();
  /** Per VM (pid), each lookup's outcome where it ended on its vCPU's clock. */
  const lookups = new Map<number, { ts: number; seq: number; hit: boolean }[]>();
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
      if (e.wp.delivering) {
        args.wp_delivering_vector = e.wp.delivering.vector;
        args.wp_delivering_kind = e.wp.delivering.kind;
        args.wp_delivering_access = e.wp.delivering.access;
      }
      args.wp_entries = e.wp.entries.map((x) => hex(x.rip)).join(' ');
    }
    if (e.line !== undefined) args.line = e.line;
    ev.push({ name: exitName(e), cat: 'exit', ph: 'X', ts: us(start), dur: us(total), pid: th.pid, tid: th.tid, args });
    let at = start;
    e.stages.forEach((s, i) => {
      const d = stageCycles[i];
      const sargs: Record<string, string | number> = { cycles: s.cycles };
      if (s.detail) sargs.detail = s.detail;
      // A walk slice's counts as numbers too, for a trace processor's queries (Perfetto's args).
      if (s.refs !== undefined) sargs.refs = s.refs;
      if (s.held !== undefined) sargs.pages_held = s.held;
      if (s.operand !== undefined) sargs.operand = s.operand;
      // A 0-cycle stage (a write-protect of pages protected already) ran: a slice of length 0,
      // as the pipeline draws "0 cyc".
      ev.push({ name: STAGE_LABEL[s.name] ?? s.name, cat: 'stage', ph: 'X', ts: us(at), dur: us(d), pid: th.pid, tid: th.tid, args: sargs });
      at += d;
    });
    th.end = start + total;
    if (e.icache === 'hit' || e.icache === 'miss') {
      let l = lookups.get(th.pid);
      if (!l) lookups.set(th.pid, (l = []));
      l.push({ ts: th.end, seq: e.seq, hit: e.icache === 'hit' });
    }
  }
  const otherData: Record<string, string | number> = {
    timeAxis: 'modeled cycles at a nominal 1 GHz: 1 ns shown = 1 cycle (not host time)',
    exits: exits.length,
  };
  if (opts.title) otherData.title = opts.title;
  if (opts.atExit !== undefined) {
    otherData.atExit = opts.atExit;
    otherData.atExitMeans = `the machine at exit #${opts.atExit}, before the VMM handles it: the exits handled before it, #0 to #${opts.atExit - 1}; the recorded run after it is not in this file`;
  }
  if (opts.filter) otherData.filter = opts.filter;
  if (opts.missingExits) otherData.missingExits = opts.missingExits;
  const incomplete = incompleteBecause(exits, opts);
  if (incomplete) {
    otherData.hitRateOmitted = `no "icache hit rate" counter: ${incomplete}, and the rate of a part is not the run's`;
  } else {
    for (const [pid, l] of lookups) {
      // On the VM's clock: its vCPUs' lookups in time order (each vCPU's clock starts at 0).
      l.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
      let hits = 0;
      l.forEach((x, i) => {
        if (x.hit) hits++;
        ev.push({ name: 'icache hit rate', ph: 'C', ts: us(x.ts), pid, tid: 0, args: { 'hit %': percentValue(hits / (i + 1), 2) } });
      });
    }
  }
  return { displayTimeUnit: 'ns', otherData, traceEvents: ev };
}

/** The exits handled before exit k (seq < k): what a file of the machine at exit k holds. */
export function exitsBefore(exits: readonly ExitEvent[], k: number): ExitEvent[] {
  return exits.filter((e) => e.seq < k);
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
