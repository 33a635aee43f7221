import { describe, expect, it } from 'vitest';
import type { ExitEvent, ExitReason } from '../../../core/events';
import { exitsToChromeTrace } from '../../../core/exitExport';
import { exportPlan, type ExportInput } from './exportPlan';
import { FilterIndex } from './filterIndex';

const ex = (seq: number, reason: ExitReason = 'mmio', icache?: 'hit' | 'miss'): ExitEvent =>
  ({ seq, vm: 0, vcpu: 0, reason, rip: 0x100000, cr3: 0x1000, retired: seq, atCycle: seq * 3000, stages: [{ name: 'exit', cycles: 1000 }], cycles: 1000, icache });

/** Exits #0..#n-1: every 3rd an EPT violation, the others MMIO exits that hit (the first misses). */
const run = (n: number) => Array.from({ length: n }, (_, i) => (i % 3 === 2 ? ex(i, 'ept-violation') : ex(i, 'mmio', i === 0 ? 'miss' : 'hit')));
const program = { file: 'smc-mmio.s', strategy: 'icache', preset: 'nehalem-2014' };

function plan(over: Partial<ExportInput> & { log: ExitEvent[] }) {
  const filter = over.filter ?? new Set<ExitReason>();
  const shown = new FilterIndex().update(over.log, filter);
  return exportPlan({ shown, filter, travelAt: null, dropped: 0, program, ...over });
}

describe('the event log\'s export plan', () => {
  it('at the present with every exit listed: all of them, titled by program, strategy and preset, the strategy in the names', () => {
    const p = plan({ log: run(19) });
    expect(p.exits().map((e) => e.seq)).toEqual(Array.from({ length: 19 }, (_, i) => i));
    expect(p.trace).toEqual({ title: 'smc-mmio.s (icache, nehalem-2014)' });
    expect(p.traceName).toBe('exitscope-smc-mmio-icache-trace.json');
    expect(p.csvName).toBe('exitscope-smc-mmio-icache-exits.csv');
    expect(p.traceTitle).toMatch(/^Save the 19 exits of the run as Chrome trace-event JSON/);
    // A/B: the other side's strategy names another file.
    expect(plan({ log: run(19), program: { ...program, strategy: 'none' } }).traceName).toBe('exitscope-smc-mmio-none-trace.json');
  });

  it('a log that lacks exits (a window at full speed) says so in the CSV\'s name and both titles, and the trace has no counter', () => {
    const log = run(20_003).slice(-156);
    const p = plan({ log, dropped: 20_003 - 156 });
    expect(p.count).toBe(156);
    expect(p.csvName).toBe('exitscope-smc-mmio-icache-exits-156-of-20003.csv');
    expect(p.csvTitle).toMatch(/^Save the 156 listed of the 20,003 exits of the run as CSV.*-156-of-20003\.csv/);
    expect(p.traceTitle).toMatch(/the 156 listed of the 20,003 exits of the run.*No hit-rate counter/);
    expect(p.trace.missingExits).toBe(20_003 - 156);
    expect(exitsToChromeTrace(p.exits(), p.trace).traceEvents.filter((e) => e.ph === 'C')).toEqual([]);
  });

  it('at a past exit k: the listed exits handled before #k, atExit k, missing counted to k, titles saying "handled before #k"', () => {
    const all = run(300);
    const full = plan({ log: all, travelAt: 120 });
    expect(full.exits().map((e) => e.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i));
    expect(full.trace.atExit).toBe(120);
    expect(full.trace.missingExits).toBeUndefined();
    expect(full.traceTitle).toMatch(/^Save the 120 exits handled before #120 .* The recorded exits from #120 on are not saved\./);
    expect(full.csvTitle).toMatch(/handled before #120/);
    expect(full.traceName).toBe('exitscope-smc-mmio-icache-before-120-trace.json');
    // Complete to k: the trace's counter is the rate at k.
    const t = exitsToChromeTrace(full.exits(), full.trace);
    expect(t.otherData.atExit).toBe(120);
    expect(t.traceEvents.filter((e) => e.ph === 'C')).toHaveLength(80);
    // After a seek the log lists a re-run range: #100..#299 of exits #0..#119.
    const part = plan({ log: all.slice(100), travelAt: 120 });
    expect(part.exits().map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(part.trace.missingExits).toBe(100);
    expect(part.csvName).toBe('exitscope-smc-mmio-icache-before-120-exits-20-of-120.csv');
    expect(part.traceTitle).toMatch(/^Save the 20 listed of the 120 exits handled before #120/);
    // At exit 0 nothing was handled before it.
    expect(plan({ log: all, travelAt: 0 }).count).toBe(0);
  });

  it('with a filter on: the exits shown, said in the names, the titles and the trace', () => {
    const only = new Set<ExitReason>(['ept-violation']);
    const p = plan({ log: run(19), filter: only });
    expect(p.exits().map((e) => e.reason)).toEqual(Array(6).fill('ept-violation'));
    expect(p.csvName).toBe('exitscope-smc-mmio-icache-ept-violation-exits-6-of-19.csv');
    expect(p.traceName).toBe('exitscope-smc-mmio-icache-ept-violation-trace.json');
    expect(p.traceTitle).toMatch(/^Save the 6 ept-violation exits shown of the 19 exits of the run/);
    expect(p.trace.filter).toBe('ept-violation: 6 shown of 19 listed');
    // At a past exit too: those shown, handled before #k.
    const past = plan({ log: run(19), filter: only, travelAt: 9 });
    expect(past.exits().map((e) => e.seq)).toEqual([2, 5, 8]);
    expect(past.csvTitle).toMatch(/^Save the 3 ept-violation exits shown of the 9 exits handled before #9/);
  });

  it('before a load: no title, a plain name', () => {
    const p = plan({ log: run(3), program: null });
    expect(p.trace.title).toBeUndefined();
    expect(p.traceName).toBe('exitscope-trace.json');
  });
});
