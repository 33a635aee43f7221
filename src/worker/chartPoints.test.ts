import { describe, expect, it } from 'vitest';
import type { Counters } from '../core/events';
import { CHART_POINTS_CAPACITY, ChartPoints } from './chartPoints';
import type { ChartPoint } from './protocol';

const at = (exits: number, retired = exits * 10): ChartPoint => ({
  t: exits,
  counters: { retired, exits: { total: exits, byReason: { mmio: exits } } } as Counters,
});
const exitsOf = (ps: readonly ChartPoint[]) => ps.map((p) => p.counters.exits.total);

describe('ChartPoints', () => {
  it('takes a point after every exit of a short run, and the machine now when it is past the newest', () => {
    const c = new ChartPoints();
    for (let n = 1; n <= 24; n++) c.noteExit(n, () => at(n));
    expect(exitsOf(c.list(at(24)))).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    // Instructions retired after the last exit: the machine now is one more point.
    expect(exitsOf(c.list(at(24, 245)))).toEqual([...Array.from({ length: 24 }, (_, i) => i + 1), 24]);
    // Before any instruction: nothing to chart.
    expect(new ChartPoints().list(at(0, 0))).toEqual([]);
  });

  it('doubles the stride past its capacity: a long run keeps evenly spaced points, the same exits every run', () => {
    const run = () => {
      const c = new ChartPoints();
      for (let n = 1; n <= 100_000; n++) c.noteExit(n, () => at(n));
      return exitsOf(c.list(at(100_000)));
    };
    const ps = run();
    // The sampled exits, then the machine now (exit 100,000, between two of them).
    const grid = ps.slice(0, -1);
    expect(ps.at(-1)).toBe(100_000);
    expect(grid.length).toBeGreaterThanOrEqual(CHART_POINTS_CAPACITY / 2);
    expect(grid.length).toBeLessThanOrEqual(CHART_POINTS_CAPACITY);
    const stride = grid[0];
    expect(grid).toEqual(grid.map((_, i) => (i + 1) * stride));
    expect(100_000 - grid.at(-1)!).toBeLessThan(stride);
    expect(run()).toEqual(ps);
  });

  it('takes no point for an exit handled again (a seek\'s re-run, a snapshot fill), and drops the future a run from a past point replaces', () => {
    const c = new ChartPoints();
    for (let n = 1; n <= 40; n++) c.noteExit(n, () => at(n));
    for (let n = 1; n <= 40; n++) c.noteExit(n, () => { throw new Error(`exit ${n} sampled again`); });
    c.dropAfter(30);
    expect(exitsOf(c.list(at(30)))).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    c.noteExit(31, () => at(31, 999));
    expect(c.list(at(31, 999)).at(-1)?.counters.retired).toBe(999);
  });
});
