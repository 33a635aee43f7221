/**
 * Write-protect faults say why the page was written (issue 8, point 5): the guest's store to a
 * code page, its store to a page-table page, or the CPU's A/D-bit update during a page walk
 * (an interrupt's delivery included). Real machine, real programs, strategy icache.
 */
import { describe, expect, it } from 'vitest';
import type { ExitEvent } from './events';
import { buildMachine } from './machine';
import { SCENARIOS } from '../scenarios';

function run(source: string): { faults: ExitEvent[]; all: ExitEvent[]; machine: ReturnType<typeof build> } {
  const m = build(source);
  const all: ExitEvent[] = [];
  m.onExit = (e) => all.push(e);
  m.runToEnd();
  expect(m.stopInfo()?.reason).toBe('halted');
  return { faults: all.filter((e) => e.reason === 'ept-violation'), all, machine: m };
}

function build(source: string) {
  const built = buildMachine(source, { ramBytes: 16 * 1024 * 1024, strategy: 'icache' }, 'test.s');
  if (!built.ok) throw new Error(built.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n'));
  return built.machine;
}

describe('write-protect fault causes', () => {
  it("a store to the code page of a cached instruction is a 'code-store' that names the store and the entry it dropped", () => {
    const src = [
      '_start:',
      '  mov byte [patch], 0x90', // a first store sets the dirty bit of the code page's PTE
      '  mov rbx, IORAM_BASE',
      '  mov [rbx], ecx', // cached: its code page and the tables that map it are protected
      '  mov byte [patch], 0x90', // line 5: a store to that code page, A/D bits already set
      'patch:',
      '  nop',
      '  hlt',
    ].join('\n');
    const { faults, all } = run(src);
    const mmio = all.find((e) => e.reason === 'mmio')!;
    const codeFault = faults.find((e) => e.wp?.cause === 'code-store');
    expect(codeFault).toBeDefined();
    expect(codeFault!.wp!.page).toBe(Math.floor(mmio.rip / 4096) * 4096);
    expect(codeFault!.line).toBe(5);
    expect(codeFault!.insn).toMatch(/^mov byte ptr \[/);
    expect(codeFault!.wp!.entries).toEqual([{ rip: mmio.rip, insn: mmio.insn }]);
    expect(codeFault!.wp!.delivering).toBeUndefined();
  });

  it("a store into a guest page table walked for a cached RIP is a 'table-store'", () => {
    const src = [
      '_start:',
      '  mov rax, cr3',
      '  mov qword [rax + 0x800], 0', // a first store sets the dirty bit of the PML4 page's PTE
      '  mov rbx, IORAM_BASE',
      '  mov [rbx], ecx', // cached: the PML4 page is one of the pages it depends on
      '  mov qword [rax + 0x800], 0', // line 6: an unused PML4 entry, the table page itself written
      '  hlt',
    ].join('\n');
    const { faults } = run(src);
    const store = faults.find((e) => e.line === 6);
    expect(store?.wp).toMatchObject({ cause: 'table-store' });
    expect(store!.wp!.entries).toHaveLength(1);
    expect(store!.insn).toMatch(/^mov qword ptr \[rax\+800h\],0$/);
  });

  it("the CPU setting an accessed/dirty bit in a protected table page during a walk is an 'ad-update', not the instruction's store", () => {
    const src = [
      '_start:',
      '  mov rbx, IORAM_BASE',
      '  mov [rbx], ecx', // cached: the page tables that map the code are protected
      '  mov [data], eax', // a first write to a new page: the walk sets its PTE's A and D bits
      '  hlt',
      'section .data',
      'align 4096',
      'data: dq 0',
    ].join('\n');
    const { faults } = run(src);
    const ad = faults.filter((e) => e.wp?.cause === 'ad-update');
    expect(ad.length).toBeGreaterThan(0);
    expect(ad[0].line).toBe(4);
    expect(ad[0].insn).toMatch(/^mov \[/);
    expect(faults.some((e) => e.wp?.cause === 'code-store' || e.wp?.cause === 'table-store')).toBe(false);
    for (const e of ad) expect(e.wp!.delivering).toBeUndefined();
  });

  it("in the CPU-bound loop, the timer interrupt's delivery (reading its IDT gate) is the A/D update: the exit on a loop line is the delivery's, counted apart on its line", () => {
    const scenario = SCENARIOS.find((s) => s.name === 'cpu-bound-timer')!;
    const { faults, machine } = run(scenario.source);
    const delivery = faults.filter((e) => e.wp?.delivering !== undefined);
    expect(delivery.length).toBeGreaterThan(0);
    for (const e of delivery) {
      expect(e.wp!.cause).toBe('ad-update');
      // TIMER_VECTOR; reading gate 32 of the IDT walked the protected table page
      expect(e.wp!.delivering).toEqual({ vector: 32, kind: 'interrupt', access: 'gate' });
    }
    // Every exit counted on a loop line is such a delivery, none the instruction's own.
    const loopLines = new Set(delivery.map((e) => e.line));
    for (const st of machine.lineStats().filter((l) => loopLines.has(l.line))) expect(st.delivery).toBe(st.exits);
  });
});
