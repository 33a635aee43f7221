/**
 * An emulated instruction whose other operand is guest memory (push and pop against the APIC,
 * movs from RAM to it) costs bhyve a walk of that operand (vm_copy_setup: gla2gpa, which holds
 * each table page it reads, and the hold of the page found) and a copy (vm_copyin/out). The
 * model charges both in the emulate stage: a cache saves RIP's walk, fetch and decode, not these.
 * That walk or copy may write a page the cache protected; the invalidation is charged too.
 */
import { describe, expect, it } from 'vitest';
import { COST_PRESETS, cyclesOfUnits, invalidateCycles, STAGE_CONSTANTS, type CostUnits } from './cost';
import { hex } from './hex';
import type { ExitEvent, Strategy } from './events';
import { whyFigures } from './experiment';
import { runLogged } from '../test/runLogged';

const SRC = [
  '_start:',
  '  mov rbx, LAPIC_BASE',
  '  mov ecx, 2',
  'again:',
  '  push qword [rbx + LAPIC_ID]', // FF /6: the APIC read, then 8 bytes copied out to the stack
  '  pop qword [rbx + LAPIC_TPR]', // 8F /0: 8 bytes copied in from the stack, then the APIC write
  '  lea rsi, [value]',
  '  lea rdi, [rbx + LAPIC_TPR]',
  '  movsd', // RAM to MMIO: 4 bytes copied in from [rsi]
  '  dec ecx',
  '  jnz again',
  '  hlt',
  'section .data',
  'value: dd 0x20',
].join('\n');

function run(strategy: Strategy) {
  const { machine: m, exits } = runLogged(SRC, { strategy, preset: 'nehalem-2014' });
  expect(m.stopInfo()?.reason, m.stopInfo()?.message).toBe('halted');
  return { m, mmio: exits.filter((e) => e.reason === 'mmio') };
}

const emulateStages = (e: ExitEvent) => e.stages.filter((s) => s.name === 'emulate');
const minus = (a: CostUnits, b: CostUnits) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - b[k as keyof CostUnits]])) as CostUnits;

describe("an emulated instruction's memory operand", () => {
  it('is walked and copied in the emulate stage: a full walk of the stack page, 5 pages held, and the copy', () => {
    const { m, mmio } = run('none');
    const c = m.cost;
    const walk = 24 * (c.walkRefLatency + c.walkRefOverhead) + 5 * c.mapPage;
    expect(mmio.map((e) => e.insn?.split(' ')[0])).toEqual(['push', 'pop', 'movsd', 'push', 'pop', 'movsd']);
    for (const e of mmio) {
      const bytes = e.insn!.startsWith('movsd') ? 4 : 8;
      expect(emulateStages(e).map((s) => [s.cycles, s.detail])).toEqual([
        [c.emulate, expect.any(String)],
        [walk, 'operand walk: 24 refs, 5 pages held'],
        [c.copyBase + bytes * c.copyPerByte, `operand copy: ${bytes} bytes`],
      ]);
      expect(e.cycles).toBe(e.stages.reduce((n, s) => n + s.cycles, 0));
    }
  });

  it('is charged on a cache hit too, where RIP is not walked', () => {
    const { mmio } = run('icache');
    const hits = mmio.filter((e) => e.icache === 'hit');
    expect(hits.length).toBeGreaterThan(0);
    for (const e of hits) {
      expect(e.stages.some((s) => s.name === 'walk')).toBe(false);
      expect(emulateStages(e).map((s) => s.detail?.split(':')[0])).toEqual([expect.any(String), 'operand walk', 'operand copy']);
    }
  });

  it("keeps the walk stage's units RIP's: the operand's are counted apart, and the share of walk + fetch + decode leaves them out", () => {
    for (const strategy of ['none', 'icache'] as const) {
      const { m } = run(strategy);
      const cycles = m.counters().cycles;
      const rip = minus(m.units, m.operandUnits);
      expect(cyclesOfUnits(m.units, m.cost)).toBe(cycles.total);
      expect(cyclesOfUnits(rip, m.cost, STAGE_CONSTANTS.walk), strategy).toBe(cycles.walk);
      expect(cyclesOfUnits(rip, m.cost, STAGE_CONSTANTS.fetch), strategy).toBe(cycles.fetch);
      expect(cyclesOfUnits(m.operandUnits, m.cost), strategy).toBe(cycles.emulate - m.units.emulate * m.cost.emulate);
      // 6 operands, each a full walk; 2 pushes and 2 pops of 8 bytes, 2 movsd of 4.
      expect(m.operandUnits).toMatchObject({ walkRefLatency: 6 * 24, mapPage: 6 * 5, copyBase: 6, copyPerByte: 40, decodeBase: 0, exit: 0 });
      const why = whyFigures({ units: m.units, operandUnits: m.operandUnits, exits: 1, retired: 1 }, m.cost);
      expect(why.walkFetchDecodeShare, strategy).toBeCloseTo((cycles.walk + cycles.fetch + cycles.decode) / cycles.total, 12);
      // The what-if view's recomputation holds for them: units × another preset = a run under it.
      const skylake = runLogged(SRC, { strategy, preset: 'skylake-2020' }).machine;
      expect(cyclesOfUnits(m.units, COST_PRESETS['skylake-2020']), strategy).toBe(skylake.counters().cycles.total);
    }
  });
});

describe("the VMM's own write to a write-protected page", () => {
  // A stack on the code's own page: the push's walk of it sets the dirty bit of the code page's
  // entry, in the page table the cache protected (the copyout then finds the page unprotected).
  const ONTO_CODE = [
    '_start:',
    '  mov rbx, LAPIC_BASE',
    '  mov eax, [rbx + LAPIC_ID]', // a miss: its entry protects the code page and the 4 table pages
    '  lea rsp, [stack_top]',
    '  push qword [rbx + LAPIC_ID]', // another miss; then vm_copy_setup walks the stack, writing the table page
    '  pop rax',
    '  hlt',
    '  times 64 db 0',
    'stack_top:',
  ].join('\n');

  it('takes no fault but is charged as the fault would be: an invalidate stage of the exit that wrote', () => {
    const { machine: m, exits } = runLogged(ONTO_CODE, { strategy: 'icache', preset: 'nehalem-2014' });
    expect(m.stopInfo()?.reason, m.stopInfo()?.message).toBe('halted');
    expect(exits.map((e) => e.reason)).toEqual(['mmio', 'mmio', 'hlt']);
    const push = exits[1];
    expect(push.invalidated).toBe(2); // the first mov's entry and the push's own: both were walked through the table page
    const inv = push.stages.filter((s) => s.name === 'invalidate');
    // 2 entries dropped; the 5 pages they held protected lifted, with one INVEPT.
    expect(inv.map((s) => [s.cycles, s.detail])).toEqual([[invalidateCycles(2, 5, m.cost), `2 entries, page ${hex(0x13000)}: the VMM's own write`]]);
    expect(push.cycles).toBe(push.stages.reduce((n, s) => n + s.cycles, 0));
    expect(cyclesOfUnits(m.units, m.cost)).toBe(m.counters().cycles.total);
  });

  it("charges the copyout's write to the protected code page the same way", () => {
    // The guest's own store first sets the code page's accessed and dirty bits: the push's walk then writes no table page.
    const src = ONTO_CODE.replace('_start:', '_start:\n  mov qword [stack_top - 8], 0');
    const { machine: m, exits } = runLogged(src, { strategy: 'icache', preset: 'nehalem-2014' });
    expect(m.stopInfo()?.reason, m.stopInfo()?.message).toBe('halted');
    const push = exits[1];
    expect(push.insn).toMatch(/^push/);
    expect(push.invalidated).toBe(2);
    expect(push.stages.filter((s) => s.name === 'invalidate').map((s) => [s.cycles, s.detail]))
      .toEqual([[invalidateCycles(2, 5, m.cost), `2 entries, page ${hex(0x100000)}: the VMM's own write`]]);
  });
});
