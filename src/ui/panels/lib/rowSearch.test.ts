import { describe, expect, it } from 'vitest';
import { findRow, rowAtOrBefore } from './rowSearch';

// A log at full speed lists some exits and skips others.
const seqs = [0, 1, 2, 7, 8, 40, 41, 300];
const at = (i: number) => seqs[i];

describe('log row search', () => {
  it('finds a listed exit and says -1 for one the log skipped', () => {
    expect(seqs.map((s) => findRow(seqs.length, at, s))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(findRow(seqs.length, at, 5)).toBe(-1);
    expect(findRow(0, at, 0)).toBe(-1);
  });

  it('places a skipped exit after the last listed exit before it', () => {
    expect(rowAtOrBefore(seqs.length, at, 5)).toBe(2);
    expect(rowAtOrBefore(seqs.length, at, 299)).toBe(6);
    expect(rowAtOrBefore(seqs.length, at, 10_000)).toBe(7);
    expect(rowAtOrBefore(seqs.length, at, -1)).toBe(-1);
  });
});
