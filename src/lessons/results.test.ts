/**
 * Each lesson's result logic on the real Machine (in Node), running the lesson's own program and
 * configuration: the answer is one of the lesson's choices and follows from the run's counters.
 */
import { describe, expect, it } from 'vitest';
import type { ExitEvent } from '../core/events';
import { buildMachine } from '../core/machine';
import { SCENARIOS } from '../scenarios';
import { machineView } from '../worker/view';
import { LESSONS, type Lesson } from './index';
import { LESSON_RESULTS, type LessonRun } from './results';

function runLesson(l: Lesson): LessonRun {
  const s = SCENARIOS.find((x) => x.name === l.program)!;
  const built = buildMachine(s.source, { strategy: l.strategy, preset: l.preset }, `${s.name}.s`);
  if (!built.ok) throw new Error(`${l.program} does not assemble`);
  const m = built.machine;
  const exits: ExitEvent[] = [];
  m.onExit = (e) => { exits.push(e); };
  m.runToEnd();
  const view = machineView(m);
  return { counters: m.counters(), exits, pages: view.pages, icache: view.icache, console: m.consoleText(), stop: m.stopInfo() };
}

const lesson = (result: string) => LESSONS.find((l) => l.result === result)!;
const outcomeOf = (result: string) => {
  const l = lesson(result);
  const run = runLesson(l);
  return { l, run, o: LESSON_RESULTS[result](run) };
};

describe('lesson results from real runs', () => {
  it('every lesson\'s run ends normally and its answer is one of its choices, with figures', () => {
    for (const l of LESSONS) {
      const run = runLesson(l);
      expect(run.stop?.reason, l.name).toBe('halted');
      const o = LESSON_RESULTS[l.result](run);
      expect(l.choices.map((c) => c.id), `${l.name}: ${o.why}`).toContain(o.answer);
      expect(o.figures.length, l.name).toBeGreaterThan(0);
    }
  });

  it('each result spotlights an exit of its subject, never the final hlt (lessons 4, 6 and 8 had)', () => {
    for (const l of LESSONS) {
      const run = runLesson(l);
      const o = LESSON_RESULTS[l.result](run);
      expect(o.focus, l.name).toBeDefined();
      const e = run.exits.find((x) => x.seq === o.focus);
      expect(e, l.name).toBeDefined();
      expect(e?.reason, l.name).not.toBe('hlt');
    }
    const hitOf = (result: string) => { const { run, o } = outcomeOf(result); return run.exits.find((x) => x.seq === o.focus)?.icache; };
    expect(hitOf('icacheHits')).toBe('hit');
    // Lesson 6: an EOI of the timer's handler (LAPIC offset 0xB0), not the one-off write that masks it.
    const { run, o } = outcomeOf('realWorkloads');
    expect(run.exits.find((x) => x.seq === o.focus)?.gpa).toBe(0xfee000b0);
    expect(hitOf('twoVms')).toBe('hit');
  });

  it('1: finding the instruction costs more than emulating it, by the run\'s own stages', () => {
    const { run, o } = outcomeOf('vmExit');
    const e = run.exits.find((x) => x.reason === 'mmio')!;
    const sum = (n: string) => e.stages.filter((s) => s.name === n).reduce((a, s) => a + s.cycles, 0);
    expect(sum('walk') + sum('fetch') + sum('decode')).toBeGreaterThan(sum('emulate'));
    expect(o.answer).toBe('find');
    expect(o.why).toContain((sum('walk') + sum('fetch') + sum('decode')).toLocaleString('en-US'));
    expect(o.figures.map((f) => f.label)).toContain('walk (24 references, 5 pages held)');
  });

  it('2: 24 references under 4 KiB pages, 15 under 2 MiB pages in both dimensions', () => {
    const { o } = outcomeOf('walk2d');
    expect(o.answer).toBe('15');
    expect(o.figures[0].value).toMatch(/^24 refs/);
    expect(o.figures[1].value).toMatch(/^15 refs/);
    // The walk's cycles count its page holds too (bhyve's ptp_hold per table page, then the page found).
    expect(o.why).toContain('(vm_gpa_hold, each table page and the page found): 5, then 4.');
  });

  it('3: the straddling instruction is translated twice', () => {
    const { o } = outcomeOf('fetchDecode');
    expect(o.answer).toBe('48');
    expect(o.figures[0].value).toMatch(/^48 refs; fetch: 2 pages/);
    expect(o.figures[1].value).toMatch(/^24 refs; fetch: 1 page/);
  });

  it('4: four misses, then hits; a hit saves cycles', () => {
    const { run, o } = outcomeOf('icacheHits');
    expect(run.counters.icache.misses).toBe(4);
    expect(o.answer).toBe('few');
    expect(o.figures.find((f) => f.label === 'misses (then inserts)')?.value).toBe('4');
    // A hit pays the lookup alone (100 cycles here), not the cache's whole cost spread over lookups.
    const cycles = (re: RegExp) => Number(o.figures.find((f) => re.test(f.label))!.value.replace(/[^\d.]/g, ''));
    const c = run.counters;
    expect(cycles(/^walk \+ fetch \+ decode per miss/) - cycles(/^saved per hit/)).toBeCloseTo(c.cycles.lookup / c.icache.lookups, -0.5);
  });

  it('4: where protecting pages is dear (a program that rewrites its code and page tables), a hit still saves what a miss walks, fetches and decodes', () => {
    const s = SCENARIOS.find((x) => x.name === 'smc-then-remap')!;
    const built = buildMachine(s.source, { strategy: 'icache', preset: 'nehalem-2014' }, 'smc-then-remap.s');
    if (!built.ok) throw new Error('smc-then-remap does not assemble');
    built.machine.runToEnd();
    const c = built.machine.counters();
    const saved = LESSON_RESULTS.icacheHits({ counters: c, exits: [], pages: [], icache: [], console: '', stop: built.machine.stopInfo() }).figures.find((f) => f.label.startsWith('saved per hit'))!;
    // Spread over lookups, its faults' protect and invalidate cycles made this "saving" negative.
    expect(Number(saved.value.replace(/[^\d.-]/g, ''))).toBeGreaterThan(0);
  });

  it('5: the patch, the remap and the CPU\'s own A/D updates each fault and invalidate', () => {
    const { run, o } = outcomeOf('keepHonest');
    const c = run.counters.icache;
    expect(o.answer).toBe('fault');
    const figure = (label: RegExp) => Number(o.figures.find((f) => label.test(f.label))!.value.replace(/,/g, ''));
    const onCode = figure(/patching its code/);
    const tableStores = figure(/rewriting a PTE/);
    const adUpdates = figure(/accessed\/dirty/);
    expect(onCode).toBeGreaterThan(0);
    expect(tableStores).toBeGreaterThan(0);
    expect(adUpdates).toBeGreaterThan(0);
    // The three kinds are the write-protect faults, each counted once.
    expect(onCode + tableStores + adUpdates).toBe(c.wpFaults);
    expect(figure(/invalidated/)).toBe(c.invalidations);
    // The remap: a guest store to a page-table page invalidated the entry keyed to the old
    // mapping, and the next exit at the same RIP and CR3 decoded other bytes.
    const fault = run.exits.find((e) => e.seq === o.focus)!;
    expect(fault.reason).toBe('ept-violation');
    expect(fault.pagingEntry).toBe(false);
    expect(run.pages.find((p) => p.gpa === fault.gpa! - (fault.gpa! % 4096))?.role).toBe('pagetable');
    expect(fault.invalidated).toBeGreaterThan(0);
    const remapRow = o.figures.find((f) => /after the PTE write/.test(f.label))!;
    const [before, after] = remapRow.value.split(' → ');
    expect(before).not.toBe(after);
    const next = run.exits.find((e) => e.seq > fault.seq && e.reason === 'mmio')!;
    expect(next.icache).toBe('miss');
    expect(next.insn).toBe(after);
    expect(run.exits.some((e) => e.seq < fault.seq && e.reason === 'mmio' && e.rip === next.rip && e.cr3 === next.cr3 && e.insn === before)).toBe(true);
  });

  it('5: an A/D fault is the walk\'s own write (exit qualification bit 8 clear), at a different address than the store', () => {
    const { run } = outcomeOf('keepHonest');
    const ad = run.exits.filter((e) => e.reason === 'ept-violation' && e.pagingEntry);
    expect(ad.length).toBeGreaterThan(0);
    for (const e of ad) expect(e.gpa! - (e.gpa! % 4096)).not.toBe(e.gla! - (e.gla! % 4096));
    for (const e of run.exits.filter((x) => x.reason === 'ept-violation' && !x.pagingEntry)) expect(e.gpa).toBe(e.gla);
  });

  it('6: the CPU-bound loop spends too little in walk, fetch and decode for any cache to matter', () => {
    const { run, o } = outcomeOf('realWorkloads');
    const c = run.counters;
    // A perfect cache would gain 1 / (1 - share) - 1: under 10 %, far from the seed's 35 %.
    const share = (c.cycles.walk + c.cycles.fetch + c.cycles.decode) / c.cycles.total;
    expect(1 / (1 - share) - 1).toBeLessThan(0.1);
    expect(o.answer).toBe('no');
  });

  it('6: the answer is the question\'s: "yes" only when a perfect cache could gain the seed\'s 35%', () => {
    const { run } = outcomeOf('realWorkloads');
    // The same run with walk + fetch + decode at a share s of all cycles: a perfect cache gains 1/(1-s) - 1.
    const withShare = (share: number) => {
      const c = structuredClone(run.counters);
      c.cycles.walk = Math.round(c.cycles.total * share);
      c.cycles.fetch = 0;
      c.cycles.decode = 0;
      return LESSON_RESULTS.realWorkloads({ ...run, counters: c }).answer;
    };
    expect(withShare(0.2)).toBe('no'); // +25 %
    expect(withShare(0.3)).toBe('yes'); // +43 %
  });

  it('7: MSR exits skip walk, fetch and decode', () => {
    const { run, o } = outcomeOf('x2apic');
    expect(run.counters.exits.byReason.wrmsr).toBeGreaterThan(1000);
    expect(o.answer).toBe('msr');
  });

  it('8: one RIP, four entries: two VMs x two CR3s', () => {
    const { l, o } = outcomeOf('twoVms');
    expect(o.answer).toBe('4');
    // Each entry names the code it holds: page_a's line under one CR3, page_b's under the other, in each VM.
    const source = SCENARIOS.find((x) => x.name === l.program)!.source.split('\n');
    const lineAfter = (label: string) => source.indexOf(`${label}:`) + 2;
    const [a, b] = [lineAfter('page_a'), lineAfter('page_b')];
    expect(o.figures.slice(1, 5).map((f) => f.label.replace(/^VM (\d), CR3 0x[0-9a-f]+, line (\d+)$/, '$1:$2')).sort()).toEqual([`0:${a}`, `0:${b}`, `1:${a}`, `1:${b}`]);
    expect(o.why).toContain(`the code on lines ${a} and ${b}`);
  });
});
