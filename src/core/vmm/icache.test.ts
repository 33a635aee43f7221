import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PageTracker, type WriteProtectPort } from '../mem/pageTracker';
import { InstructionCache, type ICachePages } from './icache';
import { newVie } from './vie';

/** An EPT that only remembers which pages are write-protected. */
class FakeEpt implements WriteProtectPort {
  readonly wp = new Set<number>();
  setWriteProtect(p: number, on: boolean): boolean {
    if (on === this.wp.has(p)) return false;
    if (on) this.wp.add(p);
    else this.wp.delete(p);
    return true;
  }
}

function cache(buckets: number, capacity: number) {
  const c = new InstructionCache({ buckets, capacity });
  const ept = new FakeEpt();
  c.attachVm(0, new PageTracker(ept) as ICachePages);
  c.attachVm(1, new PageTracker(ept) as ICachePages);
  return { c, ept };
}

const vie = newVie();
const ins = (c: InstructionCache, vm: number, rip: number, cr3: number, pages: number[]) =>
  c.insert(vm, rip, cr3, vie, pages, pages.length, 1);

describe('InstructionCache table', () => {
  it('keeps colliding keys apart in one bucket', () => {
    const { c } = cache(1, 16);
    ins(c, 0, 0x1000, 0x5000, [0x1000]);
    ins(c, 0, 0x1000, 0x6000, [0x1000]);
    ins(c, 1, 0x1000, 0x5000, [0x1000]);
    ins(c, 0, -0x1000, 0x5000, [0x2000]); // upper-half RIP
    expect(c.bucketOccupancy()).toEqual([4]);
    expect(c.peek(0, 0x1000, 0x6000)?.cr3).toBe(0x6000);
    expect(c.peek(1, 0x1000, 0x5000)?.vm).toBe(1);
    expect(c.peek(0, -0x1000, 0x5000)?.rip).toBe(-0x1000);
    expect(c.peek(1, 0x1000, 0x6000)).toBeNull();
  });

  it('replaces a duplicate insert without growing or leaking protection', () => {
    const { c, ept } = cache(8, 16);
    ins(c, 0, 0x1000, 0x5000, [0x1000, 0x9000]);
    ins(c, 0, 0x1000, 0x5000, [0x3000]);
    expect(c.size).toBe(1);
    expect(c.peek(0, 0x1000, 0x5000)?.pages).toEqual([0x3000]);
    expect([...ept.wp].sort()).toEqual([0x3000]);
  });

  it('dedupes pages and protects each once, unprotecting on the last dependent', () => {
    const { c, ept } = cache(8, 16);
    const e1 = ins(c, 0, 0x1000, 0x5000, [0x1000, 0x1000, 0x5000]);
    expect(e1.pages).toEqual([0x1000, 0x5000]);
    expect(c.lastProtected).toBe(2);
    ins(c, 0, 0x1010, 0x5000, [0x1000, 0x5000]);
    expect(c.lastProtected).toBe(0);
    expect(c.invalidatePage(0, 0x5123)).toBe(2);
    expect(c.lastUnprotected).toBe(2);
    expect(ept.wp.size).toBe(0);
  });

  it('allows deletion during iteration (iterator and invalidation snapshot)', () => {
    const { c } = cache(4, 16);
    for (let i = 0; i < 10; i++) ins(c, 0, 0x1000 + i, 0x5000, [0x1000 * (i % 3)]);
    const seen: number[] = [];
    for (const e of c) {
      seen.push(e.rip);
      if (e.rip === 0x1002) expect(c.invalidatePage(0, 0)).toBe(4); // rips 0, 3, 6, 9
    }
    expect(seen).toEqual([0x1000, 0x1001, 0x1002, 0x1004, 0x1005, 0x1007, 0x1008]);
    expect(c.size).toBe(6);
  });

  it('evicts in FIFO order when full and counts it', () => {
    const { c } = cache(2, 3);
    for (let i = 0; i < 5; i++) ins(c, 0, i, 0, [0x1000 * i]);
    expect(c.entries().map((e) => e.rip)).toEqual([2, 3, 4]);
    expect(c.counters.evictions).toBe(2);
    expect(c.entries()[0]).toMatchObject({ age: 2, hits: 0 });
  });

  it('behaves like a Map with FIFO capacity, and keeps protection = pages with dependents (property)', () => {
    type Op =
      | { k: 'ins'; vm: number; rip: number; cr3: number; pages: number[] }
      | { k: 'look'; vm: number; rip: number; cr3: number }
      | { k: 'inv'; vm: number; page: number }
      | { k: 'drop'; vm: number };
    const key = fc.record({ vm: fc.integer({ min: 0, max: 1 }), rip: fc.integer({ min: -4, max: 8 }), cr3: fc.integer({ min: 0, max: 2 }) });
    const page = fc.integer({ min: 0, max: 5 }).map((p) => p * 0x1000);
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ k: fc.constant('ins' as const), pages: fc.array(page, { minLength: 1, maxLength: 4 }) }).chain((o) => key.map((kk) => ({ ...o, ...kk }))),
      key.map((kk) => ({ k: 'look' as const, ...kk })),
      fc.record({ k: fc.constant('inv' as const), vm: fc.integer({ min: 0, max: 1 }), page }),
      fc.record({ k: fc.constant('drop' as const), vm: fc.integer({ min: 0, max: 1 }) }),
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 60 }), (buckets, capacity, ops) => {
      const c = new InstructionCache({ buckets, capacity });
      const epts = [new FakeEpt(), new FakeEpt()];
      const trackers: ICachePages[] = [new PageTracker(epts[0]), new PageTracker(epts[1])];
      c.attachVm(0, trackers[0]);
      c.attachVm(1, trackers[1]);
      const model = new Map<string, { pages: number[]; vm: number }>();
      const k = (vm: number, rip: number, cr3: number) => `${vm}:${rip}:${cr3}`;
      for (const o of ops) {
        if (o.k === 'ins') {
          const kk = k(o.vm, o.rip, o.cr3);
          model.delete(kk);
          if (model.size >= capacity) model.delete(model.keys().next().value!);
          model.set(kk, { pages: [...new Set(o.pages)], vm: o.vm });
          ins(c, o.vm, o.rip, o.cr3, o.pages);
        } else if (o.k === 'look') {
          expect(c.lookup(o.vm, o.rip, o.cr3) !== null).toBe(model.has(k(o.vm, o.rip, o.cr3)));
        } else if (o.k === 'inv') {
          let n = 0;
          for (const [kk, v] of model) if (v.vm === o.vm && v.pages.includes(o.page)) { model.delete(kk); n++; }
          expect(c.invalidatePage(o.vm, o.page)).toBe(n);
        } else {
          for (const [kk, v] of model) if (v.vm === o.vm) model.delete(kk);
          c.detachVm(o.vm);
          c.attachVm(o.vm, trackers[o.vm]);
        }
        expect(c.size).toBe(model.size);
        expect(c.bucketOccupancy().reduce((a, b) => a + b, 0)).toBe(model.size);
        for (const vm of [0, 1]) {
          const want = new Set<number>();
          for (const v of model.values()) if (v.vm === vm) v.pages.forEach((p) => want.add(p));
          expect([...epts[vm].wp].sort()).toEqual([...want].sort());
        }
      }
      expect(c.counters.hits + c.counters.misses).toBe(c.counters.lookups);
    }), { numRuns: 300 });
  });
});
