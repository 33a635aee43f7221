import { describe, expect, it } from 'vitest';
import { loadScenarios } from '../scenarios/loadFromDisk';
import { assembleProgram, buildMachine, buildMachineFrom, type Machine, type MachineConfig } from './machine';
import { predictedExitLines } from './programLines';

function machine(source: string, config: Partial<MachineConfig> = {}) {
  const built = buildMachine(source, { ramBytes: 16 * 1024 * 1024, ...config }, 'test.s');
  if (!built.ok) throw new Error(built.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n'));
  return built.machine;
}

describe('machine', () => {
  it('reports diagnostics instead of a machine for a bad program', () => {
    const built = buildMachine('_start:\n  movv eax, 1\n', {}, 'bad.s');
    expect(built.ok).toBe(false);
    if (!built.ok) expect(built.diagnostics[0]).toMatchObject({ file: 'bad.s', line: 2, severity: 'error' });
  });

  it('refuses a program placed over the firmware', () => {
    const built = buildMachine('org 0x1000\n_start: hlt\n', {}, 'low.s');
    expect(built.ok).toBe(false);
    if (!built.ok) expect(built.diagnostics.at(-1)?.message).toMatch(/overlaps the firmware/);
  });

  it('ends on hlt with interrupts off and counts the emulated instructions as retired', () => {
    const m = machine('_start:\n  mov rbx, LAPIC_BASE\n  mov eax, [rbx + LAPIC_VERSION]\n  hlt\n');
    m.runToEnd();
    expect(m.stopInfo()?.reason).toBe('halted');
    expect(m.vcpuRegs(0, 0).rax).toBe(0x50014n);
    expect(m.counters()).toMatchObject({ retired: 3, exits: { total: 2, byReason: { mmio: 1, hlt: 1 } } });
  });

  it('accounts the cost of the cache in its parts: lookup + insert + write-protect + invalidate = icache, within the total', () => {
    const src = '_start:\n  mov rbx, IORAM_BASE\n  mov ecx, 3\nagain:\n  mov [rbx], ecx\n  dec ecx\n  jnz again\n  mov byte [patch], 0x90\npatch:\n  nop\n  hlt\n';
    const m = machine(src, { strategy: 'icache' });
    m.runToEnd();
    const c = m.counters().cycles;
    expect(c.lookup).toBeGreaterThan(0);
    expect(c.insert).toBeGreaterThan(0);
    expect(c.protect).toBeGreaterThan(0);
    expect(c.invalidate).toBeGreaterThan(0);
    expect(c.icache).toBe(c.lookup + c.insert + c.protect + c.invalidate);
    expect(c.total).toBe(c.guest + c.exit + c.walk + c.fetch + c.decode + c.emulate + c.device + c.icache);
  });

  it('predicts exits of hlt, I/O and cpuid lines, not of an MSR access that may not be intercepted', () => {
    const m = machine('_start:\n  mov ecx, MSR_EFER\n  rdmsr\n  wrmsr\n  cpuid\n  out DEBUG_PORT, al\n  hlt\n');
    expect(predictedExitLines(m.program)).toEqual([5, 6, 7]);
    m.runToEnd();
    expect(m.lineStats().map((l) => l.line).sort()).toEqual([5, 6, 7]);
  });

  it('counts a line\'s cache lookups apart from its exits: only icache\'s emulated exits look up', () => {
    const source = '_start:\n  mov rbx, LAPIC_BASE\n  mov ecx, 3\n.l:\n  mov eax, [rbx + LAPIC_ID]\n  out DEBUG_PORT, al\n  dec ecx\n  jnz .l\n  hlt\n';
    const stats = (strategy: 'icache' | 'none') => {
      const m = machine(source, { strategy });
      m.runToEnd();
      return new Map(m.lineStats().map((l) => [l.line, l]));
    };
    const icache = stats('icache');
    expect(icache.get(5)).toMatchObject({ exits: 3, lookups: 3, hits: 2 });
    expect(icache.get(6)).toMatchObject({ exits: 3, lookups: 0, hits: 0 });
    expect(icache.get(9)).toMatchObject({ exits: 1, lookups: 0 });
    expect(stats('none').get(5)).toMatchObject({ exits: 3, lookups: 0, hits: 0 });
  });

  it('follows RIP on instruction lines: the first instruction after a comment, the hlt it stopped in', () => {
    const m = machine('; a comment\n_start:\n  ; another\n  mov eax, 1\n  hlt\n  ; after the end\nafter:\n  nop\n');
    expect(m.ripLine()).toBe(4);
    m.runToEnd();
    expect(m.stopInfo()?.reason).toBe('halted');
    expect(m.ripLine()).toBe(5);
  });

  it('completes string I/O: rep outsb to DEBUG_PORT prints, rep insb from an empty port stores all ones, one io exit per element', () => {
    const m = machine(`_start:
  lea rsi, [rel msg]
  mov ecx, 3
  mov dx, DEBUG_PORT
  rep outsb
  lea rdi, [rel buf]
  mov ecx, 2
  mov dx, 0x80
  rep insb
  movzx eax, word [rel buf]
  hlt
msg: db "hi!"
buf: dw 0
`);
    m.runToEnd();
    expect(m.stopInfo()?.reason).toBe('halted');
    expect(m.consoleText()).toBe('hi!');
    expect(m.vcpuRegs(0, 0).rax).toBe(0xffffn);
    expect(m.vcpuRegs(0, 0).rcx).toBe(0n);
    expect(m.counters().exits.byReason.io).toBe(5);
  });

  it('stops a runaway guest at the instruction limit', () => {
    const m = machine('_start:\n  inc rax\n  jmp _start\n', { maxInsns: 100_000 });
    m.runToEnd();
    expect(m.stopInfo()?.reason).toBe('limit');
    expect(m.counters().retired).toBe(100_000);
  });

  it('charges an interrupt taken through an interrupt-window exit once: in the exit\'s stage, not again at entry', () => {
    // x2apic-msr sends itself one IPI while IF = 0: one interrupt-window exit, one delivery.
    const m = machine(loadScenarios().find((s) => s.name === 'x2apic-msr')!.source, { strategy: 'none' });
    const exits: { reason: string; cycles: number }[] = [];
    m.onExit = (e) => exits.push({ reason: e.reason, cycles: e.cycles });
    m.runToEnd();
    expect(exits.filter((e) => e.reason === 'interrupt-window')).toHaveLength(1);
    expect(m.units.injectInterrupt).toBe(1);
    const c = m.counters();
    // Every modeled cycle is the guest's or an exit's (none is injected outside an exit here).
    expect(c.cycles.total).toBe(c.cycles.guest + exits.reduce((sum, e) => sum + e.cycles, 0));
  });

  it("an exit's `retired` is the count before it, for an emulated mmio exit as for io and hlt", () => {
    const m = machine('_start:\n  mov rbx, LAPIC_BASE\n  mov eax, [rbx + LAPIC_ID]\n  out DEBUG_PORT, al\n  hlt\n');
    const seen: [string, number][] = [];
    m.onExit = (e) => seen.push([e.reason, e.retired]);
    m.runToEnd();
    // mov rbx retired before the mmio exit; the mmio read before the io; the out before the hlt.
    expect(seen).toEqual([['mmio', 1], ['io', 2], ['hlt', 3]]);
  });

  it("the vCPU's clock takes each emulated instruction's guest cycle: the last exit ends at the run's cycles", () => {
    for (const strategy of ['none', 'icache', 'decode-assist', 'apicv'] as const) {
      const m = machine('_start:\n  mov rbx, LAPIC_BASE\n  mov ecx, 50\n.l:\n  mov eax, [rbx + LAPIC_ID]\n  dec ecx\n  jnz .l\n  hlt\n', { strategy });
      let end = 0;
      m.onExit = (e) => { end = (e.atCycle ?? NaN) + e.cycles; };
      m.runToEnd();
      expect(end, strategy).toBe(m.counters().cycles.total); // had been 50 guest cycles short (apicv: its 50 virtualized reads)
    }
  });

  it('names a deadlock when every vCPU waits in hlt and no interrupt can come', () => {
    const m = machine('_start:\n  sti\n  hlt\n');
    m.runToEnd();
    expect(m.stopInfo()).toMatchObject({ reason: 'halted', message: 'deadlock: 1 vCPU waits in hlt with interrupts enabled, and no interrupt can come' });
  });

  it('steps one instruction at a time and stops at a breakpoint line', () => {
    const src = '_start:\n  mov eax, 1\n  mov ecx, 2\n  mov edx, 3\n  hlt\n';
    const m = machine(src);
    m.step();
    expect(m.counters().retired).toBe(1);
    expect(m.ripLine()).toBe(3);
    m.setBreakpointLines([4]);
    m.run(1000);
    expect(m.atBreakpoint()).toBe(true);
    expect(m.ripLine()).toBe(4);
    expect(m.vcpuRegs(0, 0).rcx).toBe(2n);
    expect(m.vcpuRegs(0, 0).rdx).toBe(0n);
  });

  it("reports each vCPU's source line: two VMs' four vCPUs, not all at one line of their program", () => {
    const m = machine(loadScenarios().find((s) => s.name === 'two-vms')!.source);
    const lines = () => m.vcpuStates().map((v) => v.line);
    // Step until the vCPUs stand on different lines (the scheduler runs one, then another).
    for (let i = 0; i < 10_000 && !m.stopInfo() && new Set(lines()).size < 2; i++) m.step();
    const states = m.vcpuStates();
    expect(states.map((v) => `${v.vm}:${v.vcpu}`)).toEqual(['0:0', '0:1', '1:0', '1:1']);
    expect(new Set(lines()).size).toBeGreaterThan(1);
    for (const v of states) {
      expect(v.line).not.toBeNull();
      expect(v.line).toBe(m.ripLine(v.vm, v.vcpu));
    }
    expect(m.ripLine()).toBe(states[0].line);
  });

  it('gives code the guest maps at another linear address its source line and its breakpoints: pt-remap\'s 0x40000000, on page_a then page_b', () => {
    const source = loadScenarios().find((s) => s.name === 'pt-remap')?.source ?? '';
    const m = machine(source, { strategy: 'icache' });
    const lineOf = (text: string) => source.split('\n').findIndex((l) => l.trim().startsWith(text)) + 1;
    const [lineA, lineB] = [lineOf('mov eax, [rbx + LAPIC_ID]'), lineOf('mov eax, [rbx + LAPIC_TPR]')];
    expect(lineA).toBeGreaterThan(0);
    expect(lineB).toBeGreaterThan(0);
    const remapped: (number | undefined)[] = [];
    m.onExit = (e) => { if (e.rip === 0x4000_0000) remapped.push(e.line); };
    // Step to the first instruction run at 0x40000000: the RIP line is page_a's.
    while (!m.stopInfo() && m.vcpuRegs(0, 0).rip !== 0x4000_0000n) m.step();
    expect(m.ripLine()).toBe(lineA);
    m.runToEnd();
    expect(m.stopInfo()?.reason).toBe('halted');
    // Per pass: page_a twice, page_b once (same RIP, same CR3); 4 passes.
    expect(remapped).toEqual(Array.from({ length: 4 }, () => [lineA, lineA, lineB]).flat());
    const stats = new Map(m.lineStats().map((l) => [l.line, l]));
    expect(stats.get(lineA)).toMatchObject({ exits: 8, hits: 4 });
    expect(stats.get(lineB)?.exits).toBe(4);

    // A breakpoint on page_b's line stops there, though the instruction runs at 0x40000000.
    const again = machine(source, { strategy: 'icache' });
    again.setBreakpointLines([lineB]);
    again.run(1_000_000);
    expect(again.atBreakpoint()).toBe(true);
    expect(again.vcpuRegs(0, 0).rip).toBe(0x4000_0000n);
    expect(again.ripLine()).toBe(lineB);
  });

  it('gives an exit the line of the code it ran, not of the address: smc-then-remap runs page_b\'s code at page_a\'s RIP', () => {
    const source = loadScenarios().find((s) => s.name === 'smc-then-remap')?.source ?? '';
    const m = machine(source, { strategy: 'icache' });
    const lineOf = (text: string) => source.split('\n').findIndex((l, i, all) => l.trim().startsWith(text) && all[i - 1]?.trim().startsWith('page_')) + 1;
    const [lineA, lineB] = [lineOf('mov eax, [rbx + LAPIC_ID]'), lineOf('mov eax, [rbx + LAPIC_TPR]')];
    expect(lineA).toBeGreaterThan(0);
    expect(lineB).toBeGreaterThan(lineA);
    const pageA = m.program.lineMap.find((e) => e.line === lineA)!.addr;
    const lines: (number | undefined)[] = [];
    m.onExit = (e) => { if (e.rip === pageA && e.reason === 'mmio') lines.push(e.line); };
    m.runToEnd();
    expect(m.stopInfo()?.reason).toBe('halted');
    // Each of the 3 passes calls page_a twice, then the same RIP mapped to page_b's frame.
    expect(lines).toEqual(Array.from({ length: 3 }, () => [lineA, lineA, lineB]).flat());
    expect(new Map(m.lineStats().map((l) => [l.line, l.exits])).get(lineB)).toBe(3);
  });

  it('names the line of each cached instruction: two-address-spaces keeps page_a\'s and page_b\'s code at one RIP under two CR3s', () => {
    const source = loadScenarios().find((s) => s.name === 'two-address-spaces')?.source ?? '';
    const m = machine(source, { strategy: 'icache' });
    const lineOf = (text: string) => source.split('\n').findIndex((l) => l.trim().startsWith(text)) + 1;
    const [lineA, lineB] = [lineOf('mov eax, [rbx + LAPIC_ID]'), lineOf('mov eax, [rbx + LAPIC_TPR]')];
    expect(lineB).toBeGreaterThan(lineA);
    m.runToEnd();
    expect(m.stopInfo()?.reason).toBe('halted');
    const atRip = m.icacheEntries().filter((e) => e.rip === 0x4000_0000);
    expect(atRip).toHaveLength(2);
    expect(new Set(atRip.map((e) => e.cr3)).size).toBe(2);
    expect(atRip.map((e) => e.line).sort()).toEqual([lineA, lineB]);
    // Each entry's line holds the instruction it cached.
    for (const e of atRip) expect(source.split('\n')[e.line! - 1]).toContain(e.insn.includes('0x20') ? 'LAPIC_ID' : 'LAPIC_TPR');
    // Entries of code the program maps where it was assembled name their lines too.
    const lapic = machine(loadScenarios().find((s) => s.name === 'lapic-microbench')?.source ?? '', { strategy: 'icache' });
    lapic.runToEnd();
    const lines = lapic.icacheEntries().map((e) => e.line);
    expect(lines).toHaveLength(4);
    expect(lines.every((l) => l !== undefined && lapic.lineStats().some((s) => s.line === l && s.hits > 0))).toBe(true);
  });

  it('gives every vCPU its turn even when one exits on every instruction', () => {
    // vCPU 0 polls IORAM (an exit per read) until vCPU 1 writes it: a vCPU that exits must
    // still yield after its slice, or vCPU 1 never runs.
    const src = `; exitscope: vms=1 vcpus=2
_start:
    mov rbx, LAPIC_BASE
    mov eax, [rbx + LAPIC_ID]
    mov rbx, IORAM_BASE
    test eax, eax
    jnz .ap
.poll:
    mov eax, [rbx]
    test eax, eax
    jz .poll
    hlt
.ap:
    mov dword [rbx], 1
    hlt
`;
    const m = machine(src, { maxInsns: 5_000_000, sliceInsns: 1000 });
    m.runToEnd();
    expect(m.stopInfo()?.reason).toBe('halted');
    expect(m.vcpuRegs(0, 0).rax).toBe(1n);
  });

  it('runs the same program to the same state and counters twice (deterministic)', () => {
    const src = '_start:\n  mov rbx, LAPIC_BASE\n  mov ecx, 50\n.l:\n  mov eax, [rbx + LAPIC_ID]\n  dec ecx\n  jnz .l\n  hlt\n';
    const a = machine(src, { strategy: 'icache' });
    const b = machine(src, { strategy: 'icache' });
    a.runToEnd();
    b.runToEnd();
    const strip = (c: ReturnType<typeof a.counters>) => ({ ...c, hostNsPerExit: 0 });
    expect(strip(a.counters())).toEqual(strip(b.counters()));
    expect(a.vcpuRegs(0, 0)).toEqual(b.vcpuRegs(0, 0));
  });

  it('a machine built on the guest RAM a retired machine gave back runs and ends exactly as one on new RAM, every byte of RAM the same', () => {
    const scenarios = loadScenarios();
    const config: Partial<MachineConfig> = { ramBytes: 16 * 1024 * 1024, strategy: 'icache' };
    const build = (name: string, recycled?: ReturnType<Machine['retire']>) => {
      const source = scenarios.find((s) => s.name === name)?.source;
      if (source === undefined) throw new Error(`no scenario ${name}`);
      const built = buildMachineFrom(assembleProgram(source, `${name}.s`), source, config, `${name}.s`, recycled);
      if (!built.ok) throw new Error(`${name} does not assemble`);
      built.machine.attachTimeline();
      return built.machine;
    };
    const ends = (m: Machine) => {
      m.runToEnd();
      const { hostNsPerExit: _measured, ...counters } = m.counters();
      return { stop: m.stopInfo(), counters, vcpus: m.vcpuStates(), lines: m.lineStats() };
    };
    // Programs that write memory, code and page tables run first; each next one takes the RAM they leave.
    let recycled: ReturnType<Machine['retire']> = [];
    for (const name of ['memory-copy', 'smc-then-remap', 'pt-remap', 'lapic-microbench']) {
      const fresh = build(name);
      const reused = build(name, recycled);
      expect(recycled).toHaveLength(0);
      expect(ends(reused), name).toEqual(ends(fresh));
      const [a, b] = [fresh.retire()[0], reused.retire()[0]];
      expect(Buffer.compare(a.bytes, b.bytes), name).toBe(0);
      recycled = [b];
    }
  });
});
