import { describe, expect, it } from 'vitest';
import { abPlacements, columnSizes, expandedSizes, isDimmed, placements, type LayoutSpec } from './layout';

const spec: LayoutSpec = {
  id: 'focus',
  title: 'Focus',
  editor: 30,
  columns: [
    { size: 60, panels: [{ id: 'walk', size: 3 }, { id: 'pipeline', size: 1 }] },
    { size: 40, panels: [{ id: 'log', size: 1, collapsed: true }] },
  ],
  spotlight: ['walk'],
};

describe('layout specs', () => {
  it('list their placements column by column', () => {
    expect(placements(spec).map((p) => p.id)).toEqual(['walk', 'pipeline', 'log']);
  });

  it('in A/B mode open what `ab` names at its weights and fold the rest, in the columns\' order', () => {
    expect(abPlacements({ ...spec, ab: { log: 2, walk: 1 } })).toEqual([
      { id: 'walk', size: 1 }, { id: 'pipeline', size: 1, collapsed: true }, { id: 'log', size: 2 },
    ]);
    // Without it, as the columns place them.
    expect(abPlacements(spec)).toEqual(placements(spec));
  });

  it('dim only what is outside the spotlight, and nothing without one', () => {
    expect(isDimmed(spec, 'walk')).toBe(false);
    expect(isDimmed(spec, 'pipeline')).toBe(true);
    expect(isDimmed({ ...spec, spotlight: undefined }, 'pipeline')).toBe(false);
  });

  it('give a collapsed panel its title bar and share the rest of the column by weight', () => {
    const sizes = columnSizes([{ id: 'a', size: 3 }, { id: 'b', size: 1 }, { id: 'c', size: 5, collapsed: true }], 600, 30);
    expect(sizes[2]).toBeCloseTo(5); // 30 px of 600
    expect(sizes[0]).toBeCloseTo(0.75 * 95);
    expect(sizes[1]).toBeCloseTo(0.25 * 95);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeCloseTo(100);
  });

  it('share equally when every weight is zero', () => {
    expect(columnSizes([{ id: 'a', size: 0 }, { id: 'b', size: 0 }], 400, 30)).toEqual([50, 50]);
  });

  describe('opening a collapsed panel (what the library refused)', () => {
    // Pixels of truth 7's A/B column at 1280x720: pipeline 121, five title bars, log 90, charts and bench folded.
    const column = { pipeline: 121, walk: 30, regs: 30, console: 30, icache: 30, memory: 30, log: 90, charts: 30, bench: 30 };
    const sum = (s: Record<string, number>) => Object.values(s).reduce((a, b) => a + b, 0);

    it('folds the largest open panel when the others cannot give enough above their minimum, and gives it all', () => {
      const next = expandedSizes(column, 'charts', 90, 30)!;
      expect(next).toMatchObject({ pipeline: 30, log: 90, charts: 121, bench: 30 });
      expect(sum(next)).toBeCloseTo(sum(column));
    });

    it('takes from the largest open panels down to their minimum when they have room enough', () => {
      const next = expandedSizes({ ...column, pipeline: 160, walk: 110, memory: 10 }, 'charts', 90, 30)!;
      expect(next).toMatchObject({ pipeline: 100, walk: 110, log: 90, charts: 90 });
    });

    it('leaves an open panel as it is, and says so when nothing can make room', () => {
      expect(expandedSizes(column, 'log', 90, 30)).toEqual(column);
      expect(expandedSizes({ a: 30, b: 30, c: 30 }, 'a', 90, 30)).toBeNull();
    });
  });
});
