import { describe, expect, it } from 'vitest';
import type { ExitEvent, ExitReason } from '../../../core/events';
import { FilterIndex } from './filterIndex';
import { findSeq } from '../../../store/exitLogMerge';

const ex = (seq: number, reason: ExitReason = 'mmio'): ExitEvent =>
  ({ seq, vm: 0, vcpu: 0, reason, rip: 0, cr3: 0, retired: seq, stages: [], cycles: 1 });

describe('FilterIndex', () => {
  it('returns null without a filter and the matching positions with one', () => {
    const log = [ex(0), ex(1, 'ept-violation'), ex(2), ex(3, 'hlt')];
    const f = new FilterIndex();
    expect(f.update(log, null)).toBeNull();
    expect(f.update(log, new Set<ExitReason>(['ept-violation', 'hlt']))).toEqual([1, 3]);
  });

  it('scans only what was appended', () => {
    const log = [ex(0), ex(1, 'hlt')];
    const f = new FilterIndex();
    const only = new Set<ExitReason>(['hlt']);
    expect(f.update(log, only)).toEqual([1]);
    log.push(ex(2), ex(3, 'hlt'));
    expect(f.update(log, only)).toEqual([1, 3]);
  });

  it('rebuilds when the oldest exits were dropped or the filter changed', () => {
    const log = Array.from({ length: 10 }, (_, i) => ex(i, i % 2 ? 'hlt' : 'mmio'));
    const f = new FilterIndex();
    expect(f.update(log, new Set<ExitReason>(['hlt']))).toEqual([1, 3, 5, 7, 9]);
    log.splice(0, 4);
    expect(f.update(log, new Set<ExitReason>(['hlt']))).toEqual([1, 3, 5]);
    log.push(ex(10, 'hlt'));
    log.splice(0, 3);
    expect(f.update(log, new Set<ExitReason>(['hlt']))).toEqual([0, 2, 3]);
    expect(f.update(log, new Set<ExitReason>(['mmio']))).toEqual([1]);
  });

  it('shifts positions without rescanning when the head is dropped', () => {
    let reads = 0;
    const counted = (seq: number, reason: ExitReason): ExitEvent =>
      Object.defineProperty(ex(seq, reason), 'reason', { get: () => { reads++; return reason; } });
    const log = Array.from({ length: 1000 }, (_, i) => counted(i, i % 10 ? 'mmio' : 'hlt'));
    const f = new FilterIndex();
    const only = new Set<ExitReason>(['hlt']);
    expect(f.update(log, only)).toHaveLength(100);
    log.splice(0, 100);
    log.push(counted(1000, 'hlt'));
    reads = 0;
    const idx = f.update(log, only) ?? [];
    expect(reads).toBe(1);
    expect(idx).toHaveLength(91);
    expect(idx.every((i) => log[i].seq % 10 === 0)).toBe(true);
    // The last scanned exit itself dropped: rebuilt from scratch, still right.
    log.splice(0, log.length - 1);
    expect(f.update(log, only)).toEqual([0]);
  });

  it('reads only the appended exits on each update (200,000 in the log)', () => {
    let reads = 0;
    const counted = (seq: number, reason: ExitReason): ExitEvent => {
      const e = ex(seq, reason);
      return Object.defineProperty(e, 'reason', { get: () => { reads++; return reason; } });
    };
    const log = Array.from({ length: 200_000 }, (_, i) => counted(i, i % 100 ? 'mmio' : 'ept-violation'));
    const f = new FilterIndex();
    const only = new Set<ExitReason>(['ept-violation']);
    expect(f.update(log, only)).toHaveLength(2000);
    expect(reads).toBe(200_000);
    log.push(counted(200_000, 'ept-violation'));
    expect(f.update(log, only)).toHaveLength(2001);
    expect(reads).toBe(200_001);
  });
});

describe('findSeq', () => {
  it('finds an exit by seq in a log with gaps', () => {
    const log = [ex(3), ex(7), ex(8), ex(20)];
    expect(findSeq(log, 8)).toBe(2);
    expect(findSeq(log, 9)).toBe(-1);
    expect(findSeq([], 1)).toBe(-1);
  });
});
