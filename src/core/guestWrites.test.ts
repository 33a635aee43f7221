/**
 * Guests that run off their end or write their own page tables, through the whole machine:
 * a clear stop instead of zeroed memory run as code, and bounded work (counted, not timed)
 * for a guest that rewrites a page-table page the instruction cache protects.
 */
import { describe, expect, it } from 'vitest';
import { buildMachine, type MachineConfig } from './machine';

function machine(source: string, config: Partial<MachineConfig> = {}) {
  const built = buildMachine(source, { ramBytes: 16 * 1024 * 1024, ...config }, 'test.s');
  if (!built.ok) throw new Error(built.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n'));
  return built.machine;
}

describe('a program without hlt', () => {
  it('stops where RIP leaves the program, naming the address, the line and hlt', () => {
    const m = machine('_start:\n  mov rax, 0x200000\n  mov rbx, 1\n  add rbx, 2\n', { maxInsns: 2_000_000 });
    m.runToEnd();
    const stop = m.stopInfo()!;
    expect(stop.reason).toBe('ran-off-end');
    expect(stop.message).toMatch(/rip 0x100012 \(the end of \.text, after line 4\)/);
    expect(stop.message).toMatch(/add \[rax\], al/);
    expect(stop.message).toMatch(/hlt/);
    // Exactly the program's three instructions ran: nothing of the zeroed memory after them.
    expect(m.counters().retired).toBe(3);
    expect(m.vcpuRegs(0, 0).rip).toBe(0x100012n);
  });

  it('stops at the end also when a jump lands there, and in every strategy', () => {
    for (const strategy of ['none', 'icache', 'decode-assist', 'apicv'] as const) {
      const m = machine('_start:\n  mov rbx, LAPIC_BASE\n  mov eax, [rbx + LAPIC_ID]\n  jmp done\n  hlt\ndone:\n', { strategy });
      m.runToEnd();
      expect(m.stopInfo()?.reason, strategy).toBe('ran-off-end');
      expect(m.counters().retired).toBe(3);
    }
  });

  it('runs code the program itself wrote past its end (the end is not zero there)', () => {
    const m = machine('_start:\n  lea rdi, [rel tail]\n  mov byte [rdi], 0xf4 ; hlt\ntail:\n');
    m.runToEnd();
    expect(m.stopInfo()?.reason).toBe('halted');
    expect(m.counters().retired).toBe(3);
  });
});

describe('a guest that rewrites a page-table page in a loop', () => {
  // The PT page mapping the code (and so walked for every cached RIP) gets its PTE for page
  // 0x1ff000 rewritten each iteration, between MMIO reads the instruction cache caches.
  const source = `
_start:
  mov rbx, IORAM_BASE
  mov rax, cr3
  and rax, -4096
  mov rax, [rax]          ; PML4[0] -> the PDPT
  and rax, -4096
  mov rax, [rax]          ; PDPT[0] -> the PD
  and rax, -4096
  mov rax, [rax]          ; PD[0] -> the PT of 0..2 MiB
  and rax, -4096
  mov rsi, rax
  mov ecx, 2000
l:
  mov edx, [rbx]          ; an MMIO read: an exit, cached with icache
  mov rdx, [rsi + 0x1ff * 8]
  mov [rsi + 0x1ff * 8], rdx
  invlpg [0x1ff000]
  dec ecx
  jnz l
  hlt
`;

  it('with icache: one write-protect fault per rewrite, at most one entry cached, no code retranslated', () => {
    const m = machine(source, { strategy: 'icache' });
    m.runToEnd();
    expect(m.stopInfo()?.reason).toBe('halted');
    const c = m.counters();
    expect(c.exits.byReason.mmio).toBe(2000);
    expect(c.icache.wpFaults).toBe(2000);
    expect(c.icache.inserts).toBe(2000);
    expect(m.icache.size).toBeLessThanOrEqual(1); // the last rewrite dropped it
    const code = m.codeCounters();
    // The table page holds no code: the writes retranslate nothing; the blocks (the loop split
    // at its exits, the single-instruction ones) are translated once, not once per iteration.
    expect(code.invalidated).toBe(0);
    expect(code.translated).toBeLessThan(20);
    expect(code.trackedPages).toBeLessThanOrEqual(8);
  });

  it('ends in the same state with every strategy', () => {
    const regs = (['none', 'icache', 'decode-assist', 'apicv'] as const).map((strategy) => {
      const m = machine(source, { strategy });
      m.runToEnd();
      expect(m.stopInfo()?.reason).toBe('halted');
      return m.vcpuRegs(0, 0);
    });
    for (const r of regs) expect(r).toEqual(regs[0]);
  });
});
