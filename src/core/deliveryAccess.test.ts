/**
 * Which of an event's delivery accesses set an accessed bit on a write-protected table page:
 * the VMM tells it from the exit's linear address and the guest's IDTR and TR (exitPath's
 * deliveryAccess). The #UD gate check covers the gate read; these guests leave the gate's page
 * accessed and make the delivery's first new walk the TSS read (an IST stack) or the frame push.
 */
import { describe, expect, it } from 'vitest';
import type { ExitEvent } from './events';
import { runLogged } from '../test/runLogged';

/** The delivery pushes its frame on a page the guest never touched: its entry's A and D bits clear. */
const FRESH_STACK = [
  '_start:',
  '  mov rax, [0x1060]', // the IDT page's entry is accessed before the tables are protected
  '  mov rbx, LAPIC_BASE',
  '  mov eax, [rbx + LAPIC_ID]', // under icache: the code's table pages are write-protected
  '  mov rsp, 0x1f0000',
  '  ud2',
  'isr_6:',
  '  mov al, "S"',
  '  out DEBUG_PORT, al',
  '  cli',
  '  hlt',
].join('\n');

/**
 * Gate 6 takes IST1 from a TSS in a 2 MiB page, whose leaf sits in the page directory a RIP
 * walk passes through; the guest clears that leaf's A and D bits after writing the TSS.
 */
const IST_FROM_TSS = [
  'TSS_BASE equ 0x900000',
  'IST_TOP equ 0x7e000',
  '_start:',
  '  mov qword [IST_TOP - 8], 0', // the IST stack's page: accessed and dirty
  '  mov qword [TSS_BASE + 0x24], IST_TOP', // IST1 (SDM Vol. 3A §8.7, Figure 8-11)
  '  mov byte [0x1000 + 6 * 16 + 4], 1', // gate 6's IST field
  '  lgdt [gdtr]',
  '  mov ax, 0x28',
  '  ltr ax',
  '  mov rax, cr3',
  '  mov rax, [rax]',
  '  and rax, ~0xfff',
  '  mov rax, [rax]',
  '  and rax, ~0xfff',
  '  and qword [rax + (TSS_BASE >> 21) * 8], ~0x60',
  '  invlpg [TSS_BASE]',
  '  mov rbx, LAPIC_BASE',
  '  mov eax, [rbx + LAPIC_ID]',
  '  ud2',
  'isr_6:',
  '  mov al, "T"',
  '  out DEBUG_PORT, al',
  '  cli',
  '  hlt',
  'section .data',
  'align 8',
  'gdt:',
  '  dq 0, 0x00209a0000000000, 0x0000920000000000, 0x0000f20000000000, 0x0020fa0000000000',
  '  dq 0x0000899000000067, 0', // a 64-bit TSS descriptor at TSS_BASE, limit 0x67 (SDM Vol. 3A §8.2.3)
  'gdtr:',
  '  dw 7 * 8 - 1',
  '  dq gdt',
].join('\n');

function faults(source: string, strategy: 'none' | 'icache', console: string): ExitEvent[] {
  const { machine: m, exits } = runLogged(source, { ramBytes: 16 * 1024 * 1024, strategy });
  expect(m.stopInfo()?.reason, m.stopInfo()?.message).toBe('halted');
  expect(m.consoleText()).toBe(console); // the handler ran
  return exits.filter((e) => e.reason === 'ept-violation');
}

describe("which of a delivery's accesses walked", () => {
  it('is the frame push when the new stack page is the first one walked', () => {
    expect(faults(FRESH_STACK, 'none', 'S')).toEqual([]);
    const [f, ...rest] = faults(FRESH_STACK, 'icache', 'S');
    expect(rest).toEqual([]);
    expect(f!.wp).toMatchObject({ cause: 'ad-update', delivering: { vector: 6, kind: 'exception', access: 'stack' } });
    // The frame's first write, its return-RIP slot, 5 slots under RSP; the page's entry is in the low 2 MiB's page table.
    expect(f!.gla).toBe(0x1f0000 - 5 * 8);
    expect(f!.gpa).toBe(0x13000 + (0x1ef000 >> 12) * 8);
  });

  it('is the TSS read when the gate names an IST stack whose pointer sits on a page not yet accessed', () => {
    expect(faults(IST_FROM_TSS, 'none', 'T')).toEqual([]);
    const [f, ...rest] = faults(IST_FROM_TSS, 'icache', 'T');
    expect(rest).toEqual([]);
    expect(f!.wp).toMatchObject({ cause: 'ad-update', delivering: { vector: 6, kind: 'exception', access: 'tss' } });
    expect(f!.gla).toBe(0x900000 + 0x24);
    expect(f!.gpa).toBe(0x12000 + (0x900000 >> 21) * 8); // the 2 MiB leaf in the page directory
  });
});
