/**
 * Exits the VMM cannot handle. An instruction it cannot emulate (issue 8, point 6): the exit is
 * counted and logged up to the decode that refused it, its line is marked, and the machine
 * names the line before any run (bhyve's opcode table decides). An access or a fetch with no
 * memory behind it: the exit happened too, and is counted and logged before the run stops.
 */
import { unemulableLines } from './programLines';
import { describe, expect, it } from 'vitest';
import type { ExitEvent, Strategy } from './events';
import { buildMachine } from './machine';

const SRC = [
  '_start:',
  '  mov rbx, LAPIC_BASE',
  '  mov eax, 1',
  '  xor dword [rbx + LAPIC_TPR], eax', // line 4: 31 /r is not in bhyve's one_byte_opcodes[]
  '  hlt',
].join('\n');

function build(strategy: Strategy, src = SRC) {
  const built = buildMachine(src, { ramBytes: 16 * 1024 * 1024, strategy }, 't.s');
  if (!built.ok) throw new Error(built.diagnostics.map((d) => d.message).join('\n'));
  return built.machine;
}

describe('an instruction the VMM cannot emulate', () => {
  it('is named before the run: its line, its opcode, and that bhyve\'s table lacks it', () => {
    expect(unemulableLines(build('none').program)).toEqual([{ line: 4, why: expect.stringMatching(/^opcode 31 \(xor .*\) is not in bhyve's opcode table$/) }]);
  });

  for (const strategy of ['none', 'icache', 'decode-assist'] as Strategy[]) {
    it(`exits, is logged up to the decode that refused it and stops the run (${strategy})`, () => {
      const m = build(strategy);
      const log: ExitEvent[] = [];
      m.onExit = (e) => log.push(e);
      m.runToEnd();
      expect(m.stopInfo()).toMatchObject({ reason: 'unsupported', message: expect.stringContaining("bhyve's emulator cannot decode it") });
      expect(m.counters().exits).toEqual({ total: 1, byReason: { mmio: 1 } });
      expect(log).toHaveLength(1);
      const e = log[0];
      expect(e.stop?.reason).toBe('unsupported');
      expect(e.line).toBe(4);
      expect(e.stages.at(-1)).toMatchObject({ name: 'decode', detail: expect.stringMatching(/^refused: xor /) });
      expect(e.stages.map((s) => s.name)).not.toContain('emulate');
      expect(e.cycles).toBe(e.stages.reduce((a, s) => a + s.cycles, 0));
      expect(m.lineStats()).toEqual([expect.objectContaining({ line: 4, exits: 1 })]);
    });
  }
});

/** Maps linear 0x40000000 to gpa 0x10000000, past the 16 MiB of RAM, then `access` it (line 18). */
const pastRam = (access: string) => [
  'PTE_FLAGS equ 7',
  'LARGE_FLAGS equ 0x87',
  '_start:',
  '  lea rax, [rel pdpt]',
  '  or rax, PTE_FLAGS',
  '  mov [rel pml4], rax',
  '  lea rax, [rel pd_low]',
  '  or rax, PTE_FLAGS',
  '  mov [rel pdpt], rax',
  '  lea rax, [rel pd_hi]',
  '  or rax, PTE_FLAGS',
  '  mov [rel pdpt + 8], rax',
  '  mov qword [rel pd_low], LARGE_FLAGS',
  '  mov qword [rel pd_hi], 0x10000000 | LARGE_FLAGS',
  '  lea rax, [rel pml4]',
  '  mov cr3, rax',
  '  mov rbx, 0x40000000',
  `  ${access}`,
  '  hlt',
  'align 4096',
  'pml4: times 512 dq 0',
  'pdpt: times 512 dq 0',
  'pd_low: times 512 dq 0',
  'pd_hi: times 512 dq 0',
].join('\n');

function runToRefusal(src: string, strategy: Strategy) {
  const m = build(strategy, src);
  const log: ExitEvent[] = [];
  m.onExit = (e) => log.push(e);
  m.runToEnd();
  return { m, log };
}

describe('an exit with no memory behind it', () => {
  for (const strategy of ['none', 'icache'] as Strategy[]) {
    it(`a read past RAM exits as an EPT violation, is counted and logged, and says no memory is there (${strategy})`, () => {
      const { m, log } = runToRefusal(pastRam('mov eax, [rbx]'), strategy);
      expect(m.stopInfo()).toEqual({ reason: 'error', message: 'EPT violation (read) at gpa 0x10000000: no guest memory is there (RAM ends at 0x1000000) and no device, so the VMM cannot handle the exit' });
      expect(m.counters().exits).toEqual({ total: 1, byReason: { 'ept-violation': 1 } });
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({ reason: 'ept-violation', gpa: 0x10000000, gla: 0x40000000, access: 'read', line: 18 });
      expect(log[0].stages.map((s) => s.name)).toEqual(['exit']);
    });

    it(`a jump past RAM exits on the fetch, is counted and logged (${strategy})`, () => {
      const { m, log } = runToRefusal(pastRam('jmp rbx'), strategy);
      expect(m.stopInfo()).toEqual({ reason: 'error', message: expect.stringMatching(/^EPT violation \(fetch\) at gpa 0x10000000: no guest memory is there/) });
      expect(m.counters().exits.total).toBe(1);
      expect(log[0]).toMatchObject({ reason: 'ept-violation', rip: 0x40000000, access: 'fetch' });
    });

    it(`a jump into the LAPIC page exits, and the VMM's fetch of RIP says it found a device there (${strategy})`, () => {
      const { m, log } = runToRefusal(['_start:', '  mov rbx, LAPIC_BASE', '  jmp rbx'].join('\n'), strategy);
      expect(m.stopInfo()).toEqual({ reason: 'error', message: 'instruction fetch at 0xfee00000 failed: the instruction is on a device page (gpa 0xfee00000), and the VMM fetches bytes from guest memory only' });
      expect(m.counters().exits).toEqual({ total: 1, byReason: { mmio: 1 } });
      expect(log[0]).toMatchObject({ reason: 'mmio', rip: 0xfee00000, access: 'fetch' });
    });
  }
});
