import { describe, expect, it } from 'vitest';
import type { ExitEvent, Strategy } from './events';
import { buildMachine, type Machine } from './machine';
import { ExitMark } from './timetravel/timeline';
import { runLogged } from '../test/runLogged';

/** A periodic LAPIC timer: vector 32, a tick every 20,000 bus cycles. */
const TIMER = `
_start:
    mov rbx, LAPIC_BASE
    mov dword [rbx + LAPIC_SVR], 0x1FF
    mov dword [rbx + LAPIC_TIMER_DCR], 0xB
    mov dword [rbx + LAPIC_LVT_TIMER], 0x20000 | 32
    mov dword [rbx + LAPIC_TIMER_ICR], 20000
`;
/** The start of its handler: the EOI write. */
const EOI = `
isr_32:
    push rax
    mov rax, LAPIC_BASE
    mov dword [rax + LAPIC_EOI], 0
`;

/** The timer ticking while the guest computes; the handler counts ticks. */
const COMPUTE = `${TIMER}    sti
    mov ecx, 100000
.work:
    add rax, rcx
    dec ecx
    jnz .work
    cli
    mov dword [rbx + LAPIC_LVT_TIMER], 0x10000
    hlt
${EOI}    inc qword [rel ticks]
    pop rax
    iretq
section .data
ticks: dq 0
`;

/** The same timer, but the guest waits for each tick in hlt. */
const WAIT = `${TIMER}    mov ecx, 5
.wait:
    sti
    hlt
    dec ecx
    jnz .wait
    cli
    mov dword [rbx + LAPIC_LVT_TIMER], 0x10000
    hlt
${EOI}    pop rax
    iretq
`;

function run(source: string, strategy: Strategy): { exits: ExitEvent[]; machine: Machine; ticks: number } {
  const { machine, exits } = runLogged(source, { strategy }, 'kick.s');
  const ticks = exits.filter((e) => e.reason === 'mmio' && e.gpa !== undefined && (e.gpa & 0xfff) === 0xb0).length; // EOI writes
  return { exits, machine, ticks };
}

describe('the LAPIC timer kicks a computing vCPU out (an external-interrupt exit, as bhyve\'s vlapic callout IPI does)', () => {
  it.each(['none', 'icache'] as const)('under %s a tick that comes due while the guest computes is an external-interrupt exit, then the handler\'s EOI; one due during the VMM\'s work is injected at entry without one', (strategy) => {
    const { exits, ticks } = run(COMPUTE, strategy);
    const kicks = exits.filter((e) => e.reason === 'external-interrupt');
    expect(ticks).toBeGreaterThan(3);
    for (const k of kicks) {
      // Only the VM exit + entry: no instruction to walk, fetch, decode or emulate.
      expect(k.stages.map((s) => s.name)).toEqual(['exit']);
      expect(k.insn).toBeUndefined();
    }
    // Between two EOIs (one tick each), either a kick brought the tick, or it came due while the
    // VMM worked (bhyve's callout then finds the vCPU out of the guest: vcpu_notify_event sends
    // no IPI) and reached the guest at a VM entry, here through an interrupt window (the handler
    // had IF = 0). Under icache a write-protect fault (~10,000 cycles) is long enough for that.
    let since: ExitEvent[] = [];
    let unkicked = 0;
    for (const e of exits) {
      if (e.reason === 'mmio' && (e.gpa! & 0xfff) === 0xb0) {
        const kicked = since.filter((x) => x.reason === 'external-interrupt').length;
        expect(kicked).toBeLessThanOrEqual(1);
        if (kicked === 0) {
          unkicked++;
          expect(since.some((x) => x.reason === 'interrupt-window')).toBe(true);
        }
        since = [];
      } else since.push(e);
    }
    expect(kicks.length + unkicked).toBe(ticks);
    if (strategy === 'none') expect(unkicked).toBe(0);
    else expect(unkicked).toBeGreaterThan(0);
  });

  it('a kick leaves the guest where it was: RIP on the loop, the exit on its line, but not counted as one of the line\'s exits', () => {
    const { exits, machine } = run(COMPUTE, 'none');
    const kicks = exits.filter((e) => e.reason === 'external-interrupt');
    expect(kicks.every((k) => k.line !== undefined)).toBe(true);
    const work = new Set([11, 12, 13]); // .work's three instructions: they never exit themselves
    expect(kicks.filter((k) => work.has(k.line!)).length).toBeGreaterThan(kicks.length / 2);
    expect(machine.lineStats().filter((l) => work.has(l.line) && l.exits > 0)).toEqual([]);
    // The kick's retired count is the instructions before it; the exit itself retires none.
    for (const k of kicks) expect(exits[exits.indexOf(k) + 1].retired).toBeGreaterThan(k.retired);
  });

  it('the timeline marks each kick as an interrupt exit', () => {
    const built = buildMachine(COMPUTE, { strategy: 'none' }, 'kick.s');
    if (!built.ok) throw new Error('assembly failed');
    const exits: ExitEvent[] = [];
    built.machine.onExit = (e) => exits.push(e);
    const timeline = built.machine.attachTimeline();
    built.machine.runToEnd();
    const marks = timeline.markBins(exits.length); // one bin per exit
    const kicks = exits.filter((e) => e.reason === 'external-interrupt');
    expect(kicks.length).toBeGreaterThan(0);
    for (const k of kicks) expect(marks[k.seq]).toBe(ExitMark.Interrupt);
  });

  it('under apicv posted interrupts deliver the ticks: no external-interrupt exit, the EOIs virtualized', () => {
    const { exits } = run(COMPUTE, 'apicv');
    expect(exits.filter((e) => e.reason === 'external-interrupt')).toHaveLength(0);
    expect(exits.filter((e) => e.reason === 'mmio')).toHaveLength(0);
  });

  it('a vCPU waiting in hlt wakes for the tick without an exit of its own', () => {
    const { exits } = run(WAIT, 'none');
    expect(exits.filter((e) => e.reason === 'hlt')).toHaveLength(6);
    expect(exits.filter((e) => e.reason === 'external-interrupt')).toHaveLength(0);
  });

  it('a run with kicks is the same run again, exit by exit (deterministic)', () => {
    const a = run(COMPUTE, 'icache').exits.map((e) => `${e.seq}:${e.reason}:${e.rip}:${e.cycles}`);
    const b = run(COMPUTE, 'icache').exits.map((e) => `${e.seq}:${e.reason}:${e.rip}:${e.cycles}`);
    expect(b).toEqual(a);
  });
});
