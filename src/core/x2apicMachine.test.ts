/**
 * x2APIC through the whole machine: a guest that switches IA32_APIC_BASE.EXTD reaches its LAPIC
 * with RDMSR/WRMSR exits that carry the register and value, so the VMM neither walks, fetches
 * nor decodes; the MMIO page then reads all ones; a bad access is a #GP the guest can handle.
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

  it('a WRMSR to an x2APIC register before EXTD is set raises #GP in the guest', () => {
    const m = machine(`_start:
  mov ecx, MSR_X2APIC_TPR
  xor eax, eax
  xor edx, edx
  wrmsr
  hlt
isr_13:
  mov al, 'G'
  out DEBUG_PORT, al
  hlt
`);
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
