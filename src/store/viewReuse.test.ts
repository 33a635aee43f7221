import { describe, expect, it } from 'vitest';
import type { MachineView } from '../worker/protocol';
import { reuseUnchanged } from './viewReuse';

const view = (rip: string, pages: number): MachineView => ({
  vcpus: [{ vm: 0, vcpu: 0, regs: { rip } as MachineView['vcpus'][number]['regs'], halted: false, retired: 1, lapic: [], line: 3 }],
  icache: [],
  buckets: [0, 1],
  pages: Array.from({ length: pages }, (_, i) => ({ vm: 0, gpa: i * 4096, roles: ['code'], writeProtected: false })) as unknown as MachineView['pages'],
  lines: [{ line: 3, exits: 2, lookups: 2, hits: 1 }],
  console: '',
});

describe('reuseUnchanged', () => {
  it('keeps the previous parts that did not change and takes the ones that did', () => {
    const a = view('0x1000', 2);
    const b = view('0x1004', 2);
    const r = reuseUnchanged(a, b);
    expect(r.pages).toBe(a.pages);
    expect(r.buckets).toBe(a.buckets);
    expect(r.lines).toBe(a.lines);
    expect(r.vcpus).toBe(b.vcpus);
    expect(r).toEqual(b);
    const c = view('0x1004', 3);
    expect(reuseUnchanged(b, c).pages).toBe(c.pages);
  });

  it('takes the new view whole when there is no previous one', () => {
    const b = view('0x1004', 1);
    expect(reuseUnchanged(null, b)).toBe(b);
  });
});
