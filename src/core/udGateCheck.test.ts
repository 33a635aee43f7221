/**
 * Whether the guest has a #UD gate decides what an instruction the vCPU lacks does: with one,
 * the guest's handler gets the #UD; without, the run stops naming the instruction. The model
 * asks by reading the gate without side effects: read as the guest would, it set the accessed
 * bit of the IDT page's table entry, and under icache that table page is write-protected, so
 * the read exited and the answer was "no gate" under icache only.
 */
import { describe, expect, it } from 'vitest';
import { STRATEGIES } from './events';
import { runLogged } from '../test/runLogged';

const SRC = [
  '_start:',
  '  mov rbx, LAPIC_BASE',
  '  mov eax, [rbx + LAPIC_ID]', // under icache: the code's table pages are write-protected
  '  vzeroupper', // an instruction this vCPU lacks
  '  hlt',
  'isr_6:', // the #UD handler, installed by the firmware (its IDT page never touched by the guest)
  '  mov al, "U"',
  '  out DEBUG_PORT, al',
  '  cli',
  '  hlt',
].join('\n');

describe('the #UD gate check', () => {
  it('finds the guest\'s #UD handler under every strategy, and the handler runs', () => {
    for (const strategy of STRATEGIES) {
      const { machine: m, exits: log } = runLogged(SRC, { ramBytes: 16 * 1024 * 1024, strategy }, 'ud.s');
      expect(m.stopInfo()?.reason, `${strategy}: ${m.stopInfo()?.message}`).toBe('halted');
      expect(m.consoleText(), strategy).toBe('U');
      // Under icache the delivery itself sets that accessed bit: one write-protect fault, taken
      // once (the gate check takes none), then the #UD is delivered again at the next entry.
      const faults = log.filter((e) => e.reason === 'ept-violation');
      expect(faults.length, strategy).toBe(strategy === 'icache' ? 1 : 0);
      // The IDT-vectoring information says what was being delivered: the #UD, an exception.
      // The walk that set it was the gate's: the exit's gla is IDT gate 6 (the firmware's IDT at 0x1000).
      for (const f of faults) {
        expect(f.wp).toMatchObject({ cause: 'ad-update', delivering: { vector: 6, kind: 'exception', access: 'gate' } });
        expect(f.gla).toBe(0x1000 + 6 * 16);
      }
    }
  });
});
