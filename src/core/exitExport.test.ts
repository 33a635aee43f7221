import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../scenarios';
import type { ExitEvent } from './events';
import { EXIT_CSV_COLUMNS, exitsBefore, exitsToChromeTrace, exitsToCsv, type TraceEvent } from './exitExport';
import { STAGE_LABEL } from './stageNames';
import { buildMachine } from './machine';
import { runLogged } from '../test/runLogged';

/** Every exit of a real run of `name`, with the given strategy. */
function exitsOf(name: string, strategy: 'icache' | 'none' = 'icache', maxInsns = 60_000): ExitEvent[] {
  const sc = SCENARIOS.find((s) => s.name === name);
  if (!sc) throw new Error(`no scenario ${name}`);
  return runLogged(sc.source, { strategy, maxInsns, ramBytes: 16 * 1024 * 1024 }, `${name}.s`).exits;
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

  it('names the stages as the charts do, VM exit + entry first, on a miss and on a hit', () => {
    const exits = exitsOf('lapic-microbench');
    const { traceEvents } = exitsToChromeTrace(exits);
    const stagesOf = (icache: string) => {
      const i = traceEvents.findIndex((e) => e.cat === 'exit' && e.args?.icache === icache);
      const names: string[] = [];
      for (let j = i + 1; j < traceEvents.length && traceEvents[j].cat === 'stage'; j++) names.push(traceEvents[j].name);
      return names;
    };
    // The walk is two slices: its guest entries, then its EPT references and page holds.
    expect(stagesOf('miss')).toEqual(['VM exit + entry', 'cache lookup', 'page walk', 'page walk', 'fetch', 'decode', 'cache insert', 'write-protect', 'emulate']);
    expect(stagesOf('hit')).toEqual(['VM exit + entry', 'cache lookup', 'emulate']);
    expect(STAGE_LABEL.exit).toBe('VM exit + entry');
  });

  it('gives a walk slice its counts as numbers: the guest entries read, then the EPT references and the pages held', () => {
    const { traceEvents } = exitsToChromeTrace(exitsOf('lapic-microbench', 'none', 200));
    const i = traceEvents.findIndex((e) => e.cat === 'exit' && e.args?.reason === 'mmio');
    const walks = traceEvents.slice(i + 1).filter((e) => e.cat === 'stage').slice(0, 4).filter((e) => e.name === STAGE_LABEL.walk);
    expect(walks.map((w) => [w.args?.refs, w.args?.pages_held])).toEqual([[4, undefined], [20, 5]]);
  });

  it("marks an emulate slice that walked or copied the instruction's memory operand, with the walk's counts", () => {
    const { exits } = runLogged('_start:\n  mov rbx, LAPIC_BASE\n  push qword [rbx + LAPIC_ID]\n  hlt', { strategy: 'none' });
    const emulate = exitsToChromeTrace(exits.slice(0, 1)).traceEvents.filter((e) => e.cat === 'stage' && e.name === STAGE_LABEL.emulate);
    expect(emulate.map((e) => [e.args?.operand, e.args?.refs, e.args?.pages_held])).toEqual([[undefined, undefined, undefined], ['walk', 24, 5], ['copy', undefined, undefined]]);
  });

  it('says of a write-protect fault taken during event delivery what was delivered and which access walked', () => {
    const fault = exitsOf('cpu-bound-timer').filter((e) => e.wp?.delivering !== undefined);
    expect(fault.length).toBeGreaterThan(0);
    const trace = exitsToChromeTrace(fault, { title: 'cpu-bound-timer' });
    const args = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'exit').map((e) => e.args);
    expect(args[0]).toMatchObject({ wp_cause: 'ad-update', wp_delivering_vector: 32, wp_delivering_kind: 'interrupt', wp_delivering_access: 'gate' });
  });

  it('keeps a 0-cycle stage (a write-protect of pages protected already) as a slice of length 0 in its exit', () => {
    const exits = exitsOf('lapic-microbench');
    const zero = exits.find((e) => e.stages.some((st) => st.name === 'protect' && st.cycles === 0));
    expect(zero).toBeDefined();
    const { traceEvents } = exitsToChromeTrace(exits);
    const i = traceEvents.findIndex((e) => e.cat === 'exit' && e.args?.seq === zero?.seq);
    const stages: TraceEvent[] = [];
    for (let j = i + 1; j < traceEvents.length && traceEvents[j].cat === 'stage'; j++) stages.push(traceEvents[j]);
    expect(stages.map((e) => e.name)).toEqual(zero?.stages.map((st) => STAGE_LABEL[st.name]));
    const wp = stages.find((e) => e.name === 'write-protect');
    expect(ns(wp?.dur ?? -1)).toBe(0);
    expect(ns(wp?.ts ?? 0)).toBeGreaterThan(ns(traceEvents[i].ts ?? 0));
  });

  it('counts the hit rate after every exit that looked in the cache, ending at the run\'s rate', () => {
    const sc = SCENARIOS.find((x) => x.name === 'lapic-microbench');
    const built = buildMachine(sc?.source ?? '', { strategy: 'icache', maxInsns: 60_000, ramBytes: 16 * 1024 * 1024 }, 'lapic-microbench.s');
    if (!built.ok) throw new Error('does not assemble');
    const exits: ExitEvent[] = [];
    built.machine.onExit = (e) => exits.push(e);
    built.machine.runToEnd();
    const { icache } = built.machine.counters();
    const trace = exitsToChromeTrace(exits);
    const counters = trace.traceEvents.filter((e) => e.ph === 'C');
    expect(counters).toHaveLength(icache.lookups);
    // 4 misses in 20,000 lookups: 99.98, the run's rate.
    expect(counters.at(-1)?.args?.['hit %']).toBe(Number(((100 * icache.hits) / icache.lookups).toFixed(2)));
    expect(counters.at(-1)?.args?.['hit %']).toBeLessThan(100);
    expect(trace.otherData.hitRateOmitted).toBeUndefined();
  });

  it('writes no hit rate for a file that lacks exits (a window of the log, a range re-run by a seek), and says why', () => {
    const exits = exitsOf('lapic-microbench');
    const cases: [ExitEvent[], Parameters<typeof exitsToChromeTrace>[1], RegExp][] = [
      // The log's window at full speed: the newest 156, all hits (100%, where the run's is 99.98%).
      [exits.slice(-156), { missingExits: exits.length - 156 }, /19,847 of the run's exits are not in this file/],
      [exits.slice(-156), {}, /starts at exit #19847, not #0/],
      [[...exits.slice(0, 10), ...exits.slice(20)], {}, /exit #10 is not in this file/],
      [exits.slice(0, 100), { atExit: 200 }, /exits #100 to #199 are not in this file/],
      [exits.slice(0, 100), { atExit: 50 }, /holds exits from #50 on/],
      [exits.slice(0, 100), { filter: 'mmio' }, /filter shows \(mmio\)/],
    ];
    for (const [part, opts, why] of cases) {
      const trace = exitsToChromeTrace(part, opts);
      expect(trace.traceEvents.filter((e) => e.ph === 'C')).toEqual([]);
      expect(String(trace.otherData.hitRateOmitted)).toMatch(why);
    }
  });

  it('never writes 100 for a rate below it: 1 miss in 100,000 lookups is 99.999', () => {
    const exit = (seq: number, icache: 'hit' | 'miss'): ExitEvent => ({
      seq, vm: 0, vcpu: 0, reason: 'mmio', rip: 0x100000, cr3: 0x1000, retired: seq, atCycle: seq * 2000,
      stages: [{ name: 'exit', cycles: 1000 }, { name: 'icache', cycles: 20 }, { name: 'emulate', cycles: 100 }], cycles: 1120, icache,
    });
    const exits = Array.from({ length: 100_000 }, (_, i) => exit(i, i === 0 ? 'miss' : 'hit'));
    const counters = exitsToChromeTrace(exits).traceEvents.filter((e) => e.ph === 'C');
    expect(counters.at(-1)?.args?.['hit %']).toBe(99.999);
    expect(counters.filter((e) => Number(e.args?.['hit %']) >= 100)).toEqual([]);
  });

  it('at a past exit k, holds the exits handled before #k, says atExit, and its rate is the one at k', () => {
    const exits = exitsOf('lapic-microbench');
    const k = 1000;
    const before = exitsBefore(exits, k);
    expect(before.map((e) => e.seq)).toEqual(Array.from({ length: k }, (_, i) => i));
    const trace = exitsToChromeTrace(before, { atExit: k });
    expect(trace.otherData.atExit).toBe(k);
    expect(trace.otherData.exits).toBe(k);
    expect(Math.max(...trace.traceEvents.filter((e) => e.cat === 'exit').map((e) => Number(e.args?.seq)))).toBe(k - 1);
    const looked = before.filter((e) => e.icache === 'hit' || e.icache === 'miss');
    const hits = looked.filter((e) => e.icache === 'hit').length;
    const counters = trace.traceEvents.filter((e) => e.ph === 'C');
    expect(counters).toHaveLength(looked.length);
    expect(counters.at(-1)?.args?.['hit %']).toBe(Number(((100 * hits) / looked.length).toFixed(2)));
  });

  it('gives each VM its own hit-rate counter, in time order on its clock, ending at that VM\'s rate', () => {
    for (const [name, vms] of [['two-vms', 2], ['ipi-pingpong', 1]] as const) {
      const exits = exitsOf(name, 'icache', 200_000);
      const { traceEvents } = exitsToChromeTrace(exits);
      const counters = traceEvents.filter((e) => e.ph === 'C');
      expect(new Set(counters.map((e) => e.pid)).size).toBe(vms);
      for (let vm = 0; vm < vms; vm++) {
        const track = counters.filter((e) => e.pid === vm + 1);
        const backwards = track.filter((e, i) => i > 0 && ns(e.ts ?? 0) < ns(track[i - 1].ts ?? 0));
        expect(backwards, `${name}: VM ${vm}'s counter goes back in time`).toEqual([]);
        const looked = exits.filter((e) => e.vm === vm && (e.icache === 'hit' || e.icache === 'miss'));
        expect(track).toHaveLength(looked.length);
        const rate = (100 * looked.filter((e) => e.icache === 'hit').length) / looked.length;
        expect(track.at(-1)?.args?.['hit %']).toBeCloseTo(rate, 2);
      }
    }
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
