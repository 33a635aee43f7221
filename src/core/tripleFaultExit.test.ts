/**
 * A triple fault in the guest is a VM exit (SDM Vol. 3C §26.2, basic reason 2), not a silent
 * stop: the VMM hears of it (bhyve suspends the VM), so it is counted, logged and costed, and
 * the run ends for every vCPU.
 */
import { describe, expect, it } from 'vitest';
import { STRATEGIES, type Strategy } from './events';
import { runLogged } from '../test/runLogged';

function run(src: string, strategy: Strategy = 'icache') {
  const { machine: m, exits: log } = runLogged(src, { ramBytes: 16 * 1024 * 1024, strategy });
  return { m, log };
}

describe('a triple fault', () => {
  it('exits: counted, logged at the instruction that faulted, charged the exit, and the run stops with its message', () => {
    // No #PF handler (the firmware's gates are not present): #PF, then #GP, then #DF's #GP.
    const { m, log } = run('_start:\n  mov rax, 0x40000000\n  mov rdx, 7\n  mov [rax], rdx\n  hlt\n');
    expect(m.stopInfo()).toEqual({ reason: 'triple-fault', message: expect.stringMatching(/^triple fault: #GP while delivering #DF .* at rip 0x1000/) });
    expect(m.counters().exits).toEqual({ total: 1, byReason: { 'triple-fault': 1 } });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ reason: 'triple-fault', seq: 0, line: 4, stop: { reason: 'triple-fault' } });
    expect(log[0].stages.map((s) => s.name)).toEqual(['exit']);
    expect(m.counters().cycles.exit).toBe(log[0].cycles);
  });

  it('on one vCPU ends the run for all of them (the VM is suspended)', () => {
    // vCPU 1 faults; vCPU 0 spins and would never stop on its own.
    const { m, log } = run([
      '; exitscope: vms=1 vcpus=2',
      '_start:',
      '  mov rbx, LAPIC_BASE',
      '  mov eax, [rbx + LAPIC_ID]',
      '  shr eax, 24',
      '  test eax, eax',
      '  jnz .ap',
      '.spin:',
      '  pause',
      '  jmp .spin',
      '.ap:',
      '  mov rax, 0x40000000',
      '  jmp rax',
    ].join('\n'));
    expect(m.stopInfo()?.reason).toBe('triple-fault');
    const fault = log.filter((e) => e.reason === 'triple-fault');
    expect(fault).toHaveLength(1);
    expect(fault[0]).toMatchObject({ vcpu: 1, rip: 0x40000000 });
    expect(log.at(-1)).toBe(log.find((e) => e.reason === 'triple-fault'));
  });

  it('from a ud2 with no #UD gate says it began there, under every strategy', () => {
    // Under icache the LAPIC read write-protects the page tables; reading the IDT's gate then
    // sets an accessed bit on one of them: the delivery exits and is made again at the next
    // entry. The gate check reads without side effects, and the origin outlives the re-queue.
    const src = '_start:\n  mov rbx, LAPIC_BASE\n  mov eax, [rbx + LAPIC_ID]\n  ud2\n';
    const messages = STRATEGIES.map((strategy) => {
      const { m, log } = run(src, strategy);
      expect(log.at(-1)?.reason, strategy).toBe('triple-fault');
      return m.stopInfo()?.message;
    });
    expect(messages[0]).toMatch(/^ud2 at rip 0x[0-9a-f]+ \(0f 0b\) raises #UD \(invalid opcode\) by design, and the guest has no #UD handler \(IDT vector 6\), so it escalates to a triple fault: /);
    expect(new Set(messages).size).toBe(1);
    // The case that re-queued: icache took the exit during the delivery.
    expect(run(src, 'icache').log.map((e) => e.reason)).toContain('ept-violation');
  });
});
