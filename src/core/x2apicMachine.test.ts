/**
 * x2APIC through the whole machine: a guest that switches IA32_APIC_BASE.EXTD reaches its LAPIC
 * with RDMSR/WRMSR exits whose register and value are in guest registers, so the VMM neither
 * walks, fetches nor decodes; under apicv most of them do not exit at all; the MMIO page then
 * reads all ones; a bad access is a #GP the guest can handle.
 */
import { describe, expect, it } from 'vitest';
import type { ExitEvent } from './events';
import { buildMachine, type MachineConfig } from './machine';
import { SCENARIOS } from '../scenarios';

function machine(source: string, config: Partial<MachineConfig> = {}) {
  const built = buildMachine(source, { ramBytes: 16 * 1024 * 1024, ...config }, 'test.s');
  if (!built.ok) throw new Error(built.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n'));
  return built.machine;
}

/** A #GP handler that prints 'G' and halts: the end of a guest program whose MSR access must fault. */
const GP_PRINTS_G = `isr_13:
  mov al, 'G'
  out DEBUG_PORT, al
  hlt
`;

describe('x2APIC in the machine', () => {
  it('x2apic-msr: MSR exits have no walk, fetch or decode stage; MMIO exits of the same work do', () => {
    const scenario = SCENARIOS.find((s) => s.name === 'x2apic-msr');
    expect(scenario).toBeDefined();
    const m = machine(scenario!.source, { strategy: 'none' });
    const stagesByReason = new Map<string, Set<string>>();
    const exits: ExitEvent[] = [];
    m.onExit = (e) => {
      exits.push(e);
      const set = stagesByReason.get(e.reason) ?? new Set<string>();
      for (const s of e.stages) set.add(s.name);
      stagesByReason.set(e.reason, set);
    };
    m.runToEnd();
    expect(m.consoleText()).toBe('ok');
    const c = m.counters();
    // The loop does 3 accesses per round, 1000 rounds, each way (+ the mode switch and the IPI).
    expect(c.exits.byReason.mmio).toBeGreaterThanOrEqual(3000);
    expect((c.exits.byReason.rdmsr ?? 0) + (c.exits.byReason.wrmsr ?? 0)).toBeGreaterThanOrEqual(3000);
    for (const reason of ['rdmsr', 'wrmsr']) {
      expect([...stagesByReason.get(reason)!].sort()).toEqual(['emulate', 'exit']);
    }
    expect([...stagesByReason.get('mmio')!]).toEqual(expect.arrayContaining(['walk', 'fetch', 'decode']));
    const selfIpi = exits.find((e) => e.reason === 'wrmsr' && e.stages.some((s) => /x2APIC SELF_IPI/.test(s.detail ?? '')));
    expect(selfIpi).toBeDefined();
  });

  it('x2apic-msr under apicv: TPR, EOI and SELF IPI writes and most reads do not exit, as bhyve sets the MSR bitmap; PPR, current-count and ICR still do', () => {
    const scenario = SCENARIOS.find((s) => s.name === 'x2apic-msr')!;
    const none = machine(scenario.source, { strategy: 'none' });
    none.runToEnd();
    const m = machine(scenario.source, { strategy: 'apicv' });
    const msrExits: string[] = [];
    m.onExit = (e) => { if (e.reason === 'rdmsr' || e.reason === 'wrmsr') msrExits.push(e.stages.map((s) => s.detail ?? '').join(' ')); };
    m.runToEnd();
    // The same program, to the same end: the self-IPI's handler ran at once (virtual-interrupt
    // delivery at the write's instruction boundary), as with an exit.
    expect(m.consoleText()).toBe('ok');
    expect(m.vcpuRegs(0, 0)).toEqual(none.vcpuRegs(0, 0));
    const c = m.counters();
    expect((none.counters().exits.byReason.rdmsr ?? 0) + (none.counters().exits.byReason.wrmsr ?? 0)).toBeGreaterThanOrEqual(3000);
    // Left: the switch to x2APIC (IA32_APIC_BASE), and what the bitmap does not pass.
    expect(msrExits.length).toBeLessThanOrEqual(5);
    expect(msrExits.some((d) => /x2APIC (TPR|EOI|SELF_IPI)/.test(d))).toBe(false);
    expect(c.apicv.virtualized).toBeGreaterThanOrEqual(3000 + 3000);
  });

  it('under apicv in x2APIC mode a PPR or current-count read and an ICR write exit; an EOI write with a value is a #GP', () => {
    const m = machine(`_start:
  mov ecx, MSR_APIC_BASE
  rdmsr
  or eax, APIC_BASE_EXTD
  wrmsr
  mov ecx, MSR_X2APIC_TPR
  rdmsr
  mov ecx, MSR_X2APIC_PPR
  rdmsr
  mov ecx, MSR_X2APIC_TIMER_CCR
  rdmsr
  mov ecx, MSR_X2APIC_ICR
  xor edx, edx
  mov eax, 0x40030
  wrmsr
  mov ecx, MSR_X2APIC_EOI
  mov eax, 1
  wrmsr
  hlt
${GP_PRINTS_G}`, { strategy: 'apicv' });
    const seen: string[] = [];
    m.onExit = (e) => { if (e.reason === 'rdmsr' || e.reason === 'wrmsr') seen.push(`${e.reason} ${(e.stages.map((s) => s.detail ?? '').join(' ').match(/0x[0-9a-f]+\)/) ?? [''])[0]}`); };
    m.runToEnd();
    expect(m.consoleText()).toBe('G');
    expect(seen).toEqual(['rdmsr 0x1b)', 'wrmsr 0x1b)', 'rdmsr 0x80a)', 'rdmsr 0x839)', 'wrmsr 0x830)', 'wrmsr 0x80b)']);
  });

  it('a WRMSR to an x2APIC register before EXTD is set raises #GP in the guest', () => {
    const m = machine(`_start:
  mov ecx, MSR_X2APIC_TPR
  xor eax, eax
  xor edx, edx
  wrmsr
  hlt
${GP_PRINTS_G}`);
    m.runToEnd();
    expect(m.consoleText()).toBe('G');
  });

  it('with apicv, the MMIO page stops being virtualized once x2APIC is on (it reads all ones)', () => {
    const m = machine(`_start:
  mov rbx, LAPIC_BASE
  mov r8d, [rbx + LAPIC_VERSION]
  mov ecx, MSR_APIC_BASE
  rdmsr
  or eax, APIC_BASE_EXTD
  wrmsr
  mov r9d, [rbx + LAPIC_VERSION]
  hlt
`, { strategy: 'apicv' });
    m.runToEnd();
    const r = m.vcpuRegs(0, 0);
    expect(r.r8).toBe(0x50014n);
    expect(r.r9).toBe(0xffffffffn);
    expect(m.counters().exits.byReason.mmio).toBe(1);
  });
});
