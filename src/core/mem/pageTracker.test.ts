import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuestRam } from './ram';
import { mapRamIdentity } from './setup';
import { PAGE_BYTES, PageTracker, type TrackedCode, type TrackedEntry } from './pageTracker';

/** A tracker over a real EPT; its owners log what a write invalidated, in order, and untrack it. */
function setup() {
  const ram = new GuestRam(1 << 20);
  const ept = mapRamIdentity(ram, []);
  const t = new PageTracker(ept);
  const log: string[] = [];
  const names = new Map<object, string>();
  t.setCodeOwner({ invalidate: (b) => { log.push(names.get(b)!); t.untrackCode(b); } });
  t.setEntryOwner({ invalidate: (e) => { log.push(names.get(e)!); t.untrackEntry(e); } });
  const codePages: number[] = [];
  t.onCodePage((pn) => codePages.push(pn));
  const code = (name: string, hpa: number, size: number): TrackedCode => {
    const first = Math.floor(hpa / PAGE_BYTES), last = Math.floor((hpa + size - 1) / PAGE_BYTES);
    const b = { ranges: [hpa, hpa + size], pages: first === last ? [first] : [first, last] };
    names.set(b, name);
    return b;
  };
  const entry = (name: string, pages: number[]): TrackedEntry => {
    const e = { pages };
    names.set(e, name);
    return e;
  };
  /** Whether the EPT lets the guest write the page now. */
  const writable = (page: number) => ept.translate(page, 'write', null, 0) >= 0;
  return { t, log, codePages, code, entry, writable };
}

describe('PageTracker', () => {
  it('write-protects on the first entry, lifts it on the last', () => {
    const { t, entry, writable } = setup();
    const a = entry('a', [0x5000, 0x6000]), b = entry('b', [0x5000]);
    t.trackEntry(a);
    expect(t.lastProtected).toBe(2);
    t.trackEntry(b);
    expect(t.lastProtected).toBe(0);
    expect([writable(0x5000), writable(0x6000)]).toEqual([false, false]);
    t.untrackEntry(a);
    expect([writable(0x5000), writable(0x6000)]).toEqual([false, true]);
    t.untrackEntry(b);
    expect(writable(0x5000)).toBe(true);
    expect(t.trackedPages).toBe(0);
  });

  it('sets the code bit on the first block of a page (once) and clears it on the last', () => {
    const { t, code, codePages } = setup();
    const a = code('a', 0x3010, 8), b = code('b', 0x3100, 8), c = code('c', 0x3ffc, 6); // c crosses into page 4
    t.trackCode(a); t.trackCode(b); t.trackCode(c);
    expect(codePages).toEqual([3, 4]);
    expect([t.hasCode(3), t.hasCode(4)]).toEqual([true, true]);
    t.untrackCode(a); t.untrackCode(b);
    expect(t.hasCode(3)).toBe(true);
    t.untrackCode(c);
    expect([t.hasCode(3), t.hasCode(4), t.trackedPages]).toEqual([false, false, 0]);
  });

  it('a block of several runs of bytes is invalidated by a write to any run, not by one between them', () => {
    const { t, log, codePages } = setup();
    // A caller at 0x3800 that follows a call to a callee at 0x3100 and returns after the call.
    const b = { ranges: [0x3800, 0x3805, 0x3100, 0x3108, 0x3805, 0x3810], pages: [3] };
    t.setCodeOwner({ invalidate: (d) => { log.push(d === b ? 'b' : '?'); t.untrackCode(d); } });
    t.trackCode(b);
    expect(codePages).toEqual([3]);
    t.write(3, 0x200, 0x600); // between the callee and the caller
    expect(log).toEqual([]);
    t.write(3, 0x107, 1); // the callee's last byte
    expect(log).toEqual(['b']);
    expect(t.hasCode(3)).toBe(false);
  });

  it('a write invalidates the blocks it overlaps, then every entry of the page, in that order', () => {
    const { t, code, entry, log, writable } = setup();
    t.trackEntry(entry('entry', [0x3000]));
    t.trackCode(code('low', 0x3000, 16));
    t.trackCode(code('high', 0x3800, 16));
    t.trackCode(code('cross', 0x3ffe, 4));
    t.write(3, 0x808, 4);
    expect(log).toEqual(['high', 'entry']);
    expect([t.lastCode, t.lastEntries, t.lastUnprotected]).toEqual([1, 1, 1]);
    expect(writable(0x3000)).toBe(true);
    log.length = 0;
    t.write(4, 0, 1); // the crossing block's bytes on its second page
    expect(log).toEqual(['cross']);
    log.length = 0;
    t.write(3, 0x10, 8); // just past `low`
    expect(log).toEqual([]);
    expect(t.hasCode(3)).toBe(true);
  });

  it('debugUnprotect lifts the protection and keeps the entries (the stress test\'s broken mode)', () => {
    const { t, entry, writable } = setup();
    t.trackEntry(entry('a', [0x7000]));
    expect(t.debugUnprotect(7)).toBe(true);
    expect(writable(0x7000)).toBe(true);
    expect(t.entriesOn(7)).toBe(1);
  });

  it('matches a model: code bit = pages with blocks, EPT protection = pages with entries (property)', () => {
    type Op =
      | { k: 'code'; hpa: number; size: number }
      | { k: 'entry'; pages: number[] }
      | { k: 'drop'; i: number }
      | { k: 'write'; page: number; off: number; len: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ k: fc.constant('code' as const), hpa: fc.integer({ min: 0x1000, max: 0x6fff }), size: fc.integer({ min: 1, max: 64 }) }),
      fc.record({ k: fc.constant('entry' as const), pages: fc.uniqueArray(fc.integer({ min: 1, max: 7 }).map((p) => p * PAGE_BYTES), { minLength: 1, maxLength: 3 }) }),
      fc.record({ k: fc.constant('drop' as const), i: fc.nat() }),
      fc.record({ k: fc.constant('write' as const), page: fc.integer({ min: 1, max: 7 }), off: fc.integer({ min: 0, max: 4095 }), len: fc.integer({ min: 1, max: 16 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const { t, code, entry, writable } = setup();
      const blocks = new Set<TrackedCode>(), entries = new Set<TrackedEntry>();
      t.setCodeOwner({ invalidate: (b) => { blocks.delete(b); t.untrackCode(b); } });
      t.setEntryOwner({ invalidate: (e) => { entries.delete(e); t.untrackEntry(e); } });
      let n = 0;
      for (const o of ops) {
        if (o.k === 'code') { const b = code(`b${n++}`, o.hpa, o.size); blocks.add(b); t.trackCode(b); }
        else if (o.k === 'entry') { const e = entry(`e${n++}`, o.pages); entries.add(e); t.trackEntry(e); }
        else if (o.k === 'drop') {
          const all = [...blocks, ...entries];
          if (all.length === 0) continue;
          const d = all[o.i % all.length]!;
          if (blocks.delete(d as TrackedCode)) t.untrackCode(d as TrackedCode);
          else { entries.delete(d as TrackedEntry); t.untrackEntry(d as TrackedEntry); }
        } else {
          const lo = o.page * PAGE_BYTES + o.off, hi = lo + Math.min(o.len, PAGE_BYTES - o.off);
          const hitCode = [...blocks].filter((b) => b.ranges[0]! < hi && lo < b.ranges[1]!);
          const hitEntries = [...entries].filter((e) => e.pages.includes(o.page * PAGE_BYTES));
          t.write(o.page, o.off, o.len);
          for (const b of hitCode) expect(blocks.has(b)).toBe(false);
          for (const e of hitEntries) expect(entries.has(e)).toBe(false);
          expect(t.lastCode).toBe(hitCode.length);
          expect(t.lastEntries).toBe(hitEntries.length);
        }
        for (let p = 1; p <= 7; p++) {
          const withCode = [...blocks].some((b) => b.pages.includes(p));
          const withEntry = [...entries].some((e) => e.pages.includes(p * PAGE_BYTES));
          expect(t.hasCode(p)).toBe(withCode);
          expect(writable(p * PAGE_BYTES)).toBe(!withEntry);
        }
      }
    }), { numRuns: 300 });
  });
});
