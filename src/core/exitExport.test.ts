import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../scenarios';
import type { ExitEvent } from './events';
import { EXIT_CSV_COLUMNS, exitsToChromeTrace, exitsToCsv, type TraceEvent } from './exitExport';
import { buildMachine } from './machine';

/** Every exit of a real run of `name`, with the given strategy. */
function exitsOf(name: string, strategy: 'icache' | 'none' = 'icache', maxInsns = 60_000): ExitEvent[] {
  const sc = SCENARIOS.find((s) => s.name === name);
  if (!sc) throw new Error(`no scenario ${name}`);
  const built = buildMachine(sc.source, { strategy, maxInsns, ramBytes: 16 * 1024 * 1024 }, `${name}.s`);
  if (!built.ok) throw new Error('does not assemble');
  const exits: ExitEvent[] = [];
  built.machine.onExit = (e) => exits.push(e);
  built.machine.runToEnd();
  return exits;
}

/** Perfetto's conversion of a JSON microsecond value to integer nanoseconds (truncating). */
const ns = (us: number) => Math.trunc(us * 1000);

describe('Chrome trace export', () => {
  it('validates: a traceEvents array with one complete event of category "exit" per exit, on the thread of its vCPU', () => {
    const exits = exitsOf('lapic-microbench');
    expect(exits.length).toBeGreaterThan(100);
    const trace = JSON.parse(JSON.stringify(exitsToChromeTrace(exits, { title: 'lapic-microbench' }))) as { traceEvents: TraceEvent[] };
    expect(Array.isArray(trace.traceEvents)).toBe(true);
    const exitEvents = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'exit');
    expect(exitEvents).toHaveLength(exits.length);
    const malformed = trace.traceEvents.filter((e) => typeof e.name !== 'string' || !['X', 'C', 'M'].includes(e.ph)
      || !Number.isInteger(e.pid) || !Number.isInteger(e.tid)
      || (e.ph === 'X' && !((e.ts ?? -1) >= 0 && (e.dur ?? 0) > 0))
      || (e.ph === 'C' && Object.values(e.args ?? {}).some((v) => typeof v !== 'number')));
    expect(malformed).toEqual([]);
    const mismatched = exitEvents.filter((e, i) => e.args?.seq !== exits[i].seq || e.tid !== exits[i].vcpu + 1
      || e.args?.start_cycle !== Math.floor(exits[i].atCycle ?? -1));
    expect(mismatched).toEqual([]);
    expect(trace.traceEvents.some((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'vCPU 0')).toBe(true);
  });

  it('nests every stage inside its exit, exactly, after Perfetto truncates to nanoseconds; exits of one vCPU do not overlap', () => {
    const exits = exitsOf('lapic-microbench');
    const { traceEvents } = exitsToChromeTrace(exits);
    const problems: string[] = [];
    let parent: TraceEvent | null = null;
    let prevEnd = -1;
    let stageSum = 0;
    const check = () => {
      if (parent && stageSum !== ns(parent.dur ?? 0)) problems.push(`stages of exit ${parent.args?.seq} do not fill it`);
    };
    for (const e of traceEvents) {
      if (e.ph !== 'X') continue;
      const start = ns(e.ts ?? 0);
      const end = start + ns(e.dur ?? 0);
      if (e.cat === 'exit') {
        check();
        if (start < prevEnd) problems.push(`exit ${e.args?.seq} overlaps the one before`);
        prevEnd = end;
        parent = e;
        stageSum = 0;
      } else {
        const p = parent as TraceEvent;
        const pStart = ns(p.ts ?? 0);
        if (e.cat !== 'stage' || start < pStart || end > pStart + ns(p.dur ?? 0)) problems.push(`stage ${e.name} of exit ${p.args?.seq} is outside it`);
        stageSum += ns(e.dur ?? 0);
      }
    }
    check();
    expect(problems).toEqual([]);
  });

  it('names the stages lookup, walk, fetch, decode, insert, write-protect, emulate on a miss and only lookup and emulate on a hit', () => {
    const exits = exitsOf('lapic-microbench');
    const { traceEvents } = exitsToChromeTrace(exits);
    const stagesOf = (icache: string) => {
      const i = traceEvents.findIndex((e) => e.cat === 'exit' && e.args?.icache === icache);
      const names: string[] = [];
      for (let j = i + 1; j < traceEvents.length && traceEvents[j].cat === 'stage'; j++) names.push(traceEvents[j].name);
      return names;
    };
    expect(stagesOf('miss')).toEqual(['exit + resume', 'lookup', 'walk', 'fetch', 'decode', 'insert', 'write-protect', 'emulate']);
    expect(stagesOf('hit')).toEqual(['exit + resume', 'lookup', 'emulate']);
  });

  it('counts the hit rate after every exit that looked in the cache, ending at the run\'s rate', () => {
    const exits = exitsOf('lapic-microbench');
    const counters = exitsToChromeTrace(exits).traceEvents.filter((e) => e.ph === 'C');
    const looked = exits.filter((e) => e.icache === 'hit' || e.icache === 'miss');
    expect(counters).toHaveLength(looked.length);
    const hits = looked.filter((e) => e.icache === 'hit').length;
    expect(counters.at(-1)?.args?.['hit %']).toBeCloseTo((100 * hits) / looked.length, 2);
  });

  it('puts each vCPU of each VM on its own thread', () => {
    const exits = exitsOf('two-vms', 'icache', 200_000);
    const threads = new Set(exitsToChromeTrace(exits).traceEvents.filter((e) => e.cat === 'exit').map((e) => `${e.pid}/${e.tid}`));
    expect(threads.size).toBe(new Set(exits.map((e) => `${e.vm}/${e.vcpu}`)).size);
    expect(threads.size).toBeGreaterThan(1);
  });
});

describe('exit log CSV', () => {
  it('has a header and one line per exit; quotes cells with commas', () => {
    const exits = exitsOf('lapic-microbench', 'none', 50_000);
    const csv = exitsToCsv(exits);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(EXIT_CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(exits.length + 1);
    const withComma = exits.findIndex((e) => e.insn?.includes(','));
    expect(withComma).toBeGreaterThanOrEqual(0);
    expect(lines[withComma + 1]).toContain(`"${exits[withComma].insn}"`);
    expect(lines[1].split(',')[0]).toBe(String(exits[0].seq));
  });
});
