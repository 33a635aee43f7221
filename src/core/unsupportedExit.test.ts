/**
 * An instruction the VMM cannot emulate (issue 8, point 6): the exit is counted and logged up
 * to the decode that refused it, its line is marked, and the machine names the line before
 * any run (bhyve's opcode table decides).
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

function build(strategy: Strategy) {
  const built = buildMachine(SRC, { ramBytes: 16 * 1024 * 1024, strategy }, 't.s');
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
