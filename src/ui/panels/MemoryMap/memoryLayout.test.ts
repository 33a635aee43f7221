import { describe, expect, it } from 'vitest';
import type { PageView } from '../../../worker/protocol';
import { layoutPages, pageAtSlot, pageOf, roleCounts } from './memoryLayout';

const p = (gpa: number, role: PageView['role'] = 'data', vm = 0): PageView => ({ vm, gpa, role, writeProtected: false });

describe('layoutPages', () => {
  it('puts contiguous pages in consecutive slots and one gap slot at each jump', () => {
    const l = layoutPages([p(0x3000), p(0x1000), p(0x2000), p(0x10_0000, 'code'), p(0x10_1000, 'code'), p(0x5000, 'data', 1)], 0, 4);
    expect(l.pages.map((x) => x.gpa)).toEqual([0x1000, 0x2000, 0x3000, 0x10_0000, 0x10_1000]);
    expect([...l.slots]).toEqual([0, 1, 2, 4, 5]);
    expect(l.gaps).toEqual([3]);
    expect(l.count).toBe(6);
    expect(l.rows).toBe(2);
    expect(l.rowGpa).toEqual([0x1000, 0x10_0000]);
    expect(l.index.get(0x10_0000)).toBe(3);
  });

  it('finds the page under a slot, and nothing under a gap', () => {
    const l = layoutPages([p(0x1000), p(0x3000)], 0, 8);
    expect(pageAtSlot(l, 0)?.gpa).toBe(0x1000);
    expect(pageAtSlot(l, 1)).toBeNull();
    expect(pageAtSlot(l, 2)?.gpa).toBe(0x3000);
    expect(pageAtSlot(l, 3)).toBeNull();
  });

  it('handles thousands of pages quickly', () => {
    const many = Array.from({ length: 16384 }, (_, i) => p(i * 4096, i % 7 ? 'free' : 'code'));
    const t0 = performance.now();
    const l = layoutPages(many, 0, 96);
    expect(performance.now() - t0).toBeLessThan(2000); // a guard against quadratic work, not a benchmark
    expect(l.gaps).toEqual([]);
    expect(l.rows).toBe(Math.ceil(16384 / 96));
    expect(roleCounts(many).code).toBe(Math.ceil(16384 / 7));
  });

  it('rounds an address down to its page', () => {
    expect(pageOf(0x1fff)).toBe(0x1000);
  });
});
