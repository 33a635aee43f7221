import { describe, expect, it } from 'vitest';
import { cacheCountParts } from './cacheCounts';

const shown = (c: ReturnType<typeof cacheCountParts>) => c.shown.map((p) => p.text);
const counts = (inserts: number, invalidations: number, wpFaults: number, evictions: number) =>
  ({ lookups: 0, hits: 0, misses: 0, inserts, evictions, invalidations, wpFaults });

describe('the cache toolbar\'s counts', () => {
  it('puts the counts that happened first, so a narrow pane keeps them; the tooltip has all in a fixed order', () => {
    const c = cacheCountParts(counts(13, 13, 12, 0));
    expect(shown(c)).toEqual(['13 inserts', '13 invalidations', '12 write-protect faults', '0 evictions']);
    expect(c.all).toBe('13 inserts · 13 invalidations · 12 write-protect faults · 0 evictions');
    expect(shown(cacheCountParts(counts(4, 0, 0, 0)))).toEqual(['4 inserts', '0 invalidations', '0 write-protect faults', '0 evictions']);
    expect(shown(cacheCountParts(counts(300, 0, 0, 44))).slice(0, 2)).toEqual(['300 inserts', '44 evictions']);
  });

  it('writes large counts with separators, and one of a kind in the singular', () => {
    expect(shown(cacheCountParts(counts(20_000, 0, 0, 0)))[0]).toBe('20,000 inserts');
    // lapic-read-once under icache; large-pages' one fault ("1 inserts", "1 write-protect faults" before).
    expect(cacheCountParts(counts(1, 1, 1, 1)).all).toBe('1 insert · 1 invalidation · 1 write-protect fault · 1 eviction');
  });
});
