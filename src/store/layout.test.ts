import { describe, expect, it } from 'vitest';
import { columnSizes, isDimmed, placements, type LayoutSpec } from './layout';

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
});
