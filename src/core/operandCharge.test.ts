/**
 * An emulated instruction whose other operand is guest memory (push and pop against the APIC,
 * movs from RAM to it) costs bhyve a walk of that operand (vm_copy_setup: gla2gpa, which holds
 * each table page it reads, and the hold of the page found) and a copy (vm_copyin/out). The
 * model charges both in the emulate stage: a cache saves RIP's walk, fetch and decode, not these.
 */
import { describe, expect, it } from 'vitest';
import { COST_PRESETS, cyclesOfUnits, STAGE_CONSTANTS, type CostUnits } from './cost';
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
