import { describe, expect, it } from 'vitest';
import type { ICacheCounters } from '../../../core/events';
import type { IcacheEntryView } from '../../../worker/protocol';
import { FLASH_MS, GHOST_MS, IcacheTracker, diffIcache, entryKey, heatColor, heatColumns, heatLevel } from './icacheDiff';

const e = (rip: number, hits = 0, age = rip, pages = [0x100000]): IcacheEntryView =>
  ({ vm: 0, rip, cr3: 0x1000, bucket: rip % 16, bytes: '8b 00', insn: 'mov eax,[rax]', hits, age, pages });
const c = (p: Partial<ICacheCounters> = {}): ICacheCounters =>
  ({ lookups: 10, hits: 5, misses: 5, inserts: 5, evictions: 0, invalidations: 0, wpFaults: 0, ...p });

describe('diffIcache', () => {
  it('flashes hits and inserts', () => {
    const d = diffIcache([e(1, 3), e(2, 0)], [e(1, 5), e(2, 0), e(3)], c(), c({ lookups: 13, hits: 7, inserts: 6 }));
    expect(d.rows.map((r) => r.flash)).toEqual(['hit', null, 'insert']);
    expect(d.rows[0].hitsDelta).toBe(2);
    expect(d.removed).toEqual([]);
  });

  it('treats a re-inserted entry (new age) as an insert', () => {
    const d = diffIcache([e(1, 3, 1)], [e(1, 0, 9)], c(), c({ lookups: 11, inserts: 6 }));
    expect(d.rows[0].flash).toBe('insert');
  });

  it('tells evictions from invalidations by the counters', () => {
    const inv = diffIcache([e(1), e(2)], [e(2)], c(), c({ invalidations: 1, wpFaults: 1 }));
    expect(inv.removed).toMatchObject([{ key: entryKey(e(1)), kind: 'invalidated' }]);
    const ev = diffIcache([e(1), e(2)], [e(2), e(3)], c(), c({ lookups: 11, inserts: 6, evictions: 1 }));
    expect(ev.removed).toMatchObject([{ kind: 'evicted' }]);
  });

  it('uses the faulting pages when both kinds happened in one frame', () => {
    const d = diffIcache([e(1, 0, 1, [0x5000]), e(2, 0, 2, [0x6000])], [], c(), c({ evictions: 1, invalidations: 1 }), new Set([0x5000]));
    expect(d.removed.map((r) => r.kind)).toEqual(['invalidated', 'evicted']);
  });

  it('animates nothing on a reset (counters went back)', () => {
    const d = diffIcache([e(1), e(2)], [], c({ lookups: 100 }), c({ lookups: 0, inserts: 0 }));
    expect(d.reset).toBe(true);
    expect(d.removed).toEqual([]);
    expect(diffIcache(null, [e(1)], null, c()).rows[0].flash).toBeNull();
  });
});

describe('heatmap scaling', () => {
  it('keeps empty buckets neutral and grows with the square root of occupancy', () => {
    expect(heatLevel(0, 4)).toBe(0);
    expect(heatColor(0, 4)).toBe('transparent');
    expect(heatLevel(1, 4)).toBe(0.5);
    expect(heatLevel(4, 4)).toBe(1);
    expect(heatLevel(9, 4)).toBe(1);
    expect(heatColor(4, 4)).toMatch(/^hsl\(40 /);
  });
  it('picks power-of-two column counts', () => {
    expect(heatColumns(0)).toBe(1);
    expect(heatColumns(64)).toBe(16);
    expect(heatColumns(1024)).toBe(32);
    expect(heatColumns(8)).toBe(8);
  });
});

describe('IcacheTracker', () => {
  it('keeps a flash for FLASH_MS and a ghost row for GHOST_MS', () => {
    const t = new IcacheTracker();
    t.update([e(1, 0), e(2, 0)], c(), 0);
    const a = [e(1, 2), e(2, 0)];
    let rows = t.update(a, c({ lookups: 12, hits: 7 }), 10);
    expect(rows.find((r) => r.entry.rip === 1)?.flash).toBe('hit');
    rows = t.update(a, c({ lookups: 12, hits: 7 }), 10 + FLASH_MS - 1);
    expect(rows.find((r) => r.entry.rip === 1)?.flash).toBe('hit');
    rows = t.update([e(1, 2)], c({ lookups: 12, hits: 7, invalidations: 1 }), 10 + FLASH_MS);
    expect(rows.find((r) => r.entry.rip === 1)?.flash).toBeNull();
    expect(rows.find((r) => r.entry.rip === 2)?.ghost).toBe('invalidated');
    expect(t.nextExpiry(10 + FLASH_MS)).toBe(GHOST_MS);
    rows = t.update([e(1, 2)], c({ lookups: 12, hits: 7, invalidations: 1 }), 10 + FLASH_MS + GHOST_MS);
    expect(rows).toHaveLength(1);
    expect(t.nextExpiry(0)).toBeNull();
  });

  it('alternates the nonce when a row flashes again before its flash ended', () => {
    const t = new IcacheTracker();
    t.update([e(1, 0)], c(), 0);
    expect(t.update([e(1, 1)], c({ lookups: 11 }), 5)[0].nonce).toBe(0);
    expect(t.update([e(1, 2)], c({ lookups: 12 }), 21)[0].nonce).toBe(1);
  });
});
