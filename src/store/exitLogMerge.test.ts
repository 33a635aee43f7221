import { describe, expect, it } from 'vitest';
import type { ExitEvent } from '../core/events';
import { mergeExits } from './exitLogMerge';

const exit = (seq: number, note = ''): ExitEvent => ({ seq, vm: 0, vcpu: 0, reason: 'mmio', rip: 0x1000 + seq, cr3: 0, retired: seq, stages: [], cycles: 100, insn: note || undefined });
const seqs = (log: readonly ExitEvent[]) => log.map((e) => e.seq);

describe('mergeExits', () => {
  it('lists a seek\'s exits in order between the ones the log had, each once', () => {
    const log = [exit(0), exit(1), exit(500), exit(900), exit(901)];
    const merged = mergeExits(log, [exit(1, 'again'), exit(2), exit(3), exit(499), exit(500, 'again'), exit(501)]);
    expect(merged && seqs(merged.log)).toEqual([0, 1, 2, 3, 499, 500, 501, 900, 901]);
    expect(merged?.added).toBe(4);
    // The ones the log had stay its own records.
    expect(merged?.log[1]).toBe(log[1]);
    expect(merged?.log[5]).toBe(log[2]);
    expect(seqs(log)).toEqual([0, 1, 500, 900, 901]); // not changed in place
  });

  it('before, after and into an empty log', () => {
    expect(seqs(mergeExits([exit(10)], [exit(3), exit(4)])!.log)).toEqual([3, 4, 10]);
    expect(seqs(mergeExits([exit(10)], [exit(11), exit(12)])!.log)).toEqual([10, 11, 12]);
    expect(seqs(mergeExits([], [exit(7)])!.log)).toEqual([7]);
  });

  it('returns null when the log lists them all (or there are none)', () => {
    const log = [exit(0), exit(1), exit(2)];
    expect(mergeExits(log, [exit(1), exit(2)])).toBeNull();
    expect(mergeExits(log, [])).toBeNull();
  });
});
