import { describe, expect, it } from 'vitest';
import { domainOf, frameOf, niceTicks, px, py, stackSeries, tickLabels, type ChartSpec } from './canvasChart';

describe('canvas chart geometry', () => {
  it('ticks at round steps covering the range', () => {
    expect(niceTicks(0, 100, 4)).toEqual([0, 50, 100]);
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 1600, 4)).toEqual([0, 500, 1000, 1500]);
    expect(niceTicks(0.2, 2.9, 4)).toEqual([1, 2]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });

  it('gives at least two ticks, so a short chart still has a scale', () => {
    // A 47 M-cycle run on a chart with room for two ticks: a 50 M step left only 0.
    expect(niceTicks(0, 47_061_108, 2)).toEqual([0, 20_000_000, 40_000_000]);
    expect(niceTicks(0, 1.2, 1)).toEqual([0, 1]);
  });

  it('stacks each series on the ones before it', () => {
    const s = stackSeries([
      { name: 'a', color: '#000', xs: [0, 1], ys: [1, 2] },
      { name: 'b', color: '#111', xs: [0, 1], ys: [10, 20] },
    ]);
    expect(s.map((x) => x.ys)).toEqual([[1, 2], [11, 22]]);
  });

  it('maps the data range onto the plot area, y upwards', () => {
    const spec: ChartSpec = { kind: 'line', stacked: false, series: [], formatX: String, formatY: String, yDomain: [0, 100] };
    const f = frameOf(spec, 300, 150, [{ name: 'a', color: '#000', xs: [2, 4], ys: [0, 50] }]);
    expect(px(f, 2)).toBe(f.left);
    expect(px(f, 4)).toBe(f.left + f.width);
    expect(py(f, 0)).toBe(f.top + f.height);
    expect(py(f, 100)).toBe(f.top);
  });

  it('draws a chart cut at a past exit on the whole run\'s axes', () => {
    const line = (xs: number[], ys: number[]): ChartSpec => ({ kind: 'area', stacked: true, formatX: String, formatY: String, series: [{ name: 'a', color: '#000', xs, ys }, { name: 'b', color: '#111', xs, ys }] });
    const whole = line([0, 50, 100], [0, 5, 10]);
    // Stacked: y spans the two series' sum.
    expect(domainOf(whole)).toEqual({ x: [0, 100], y: [0, 20] });
    const cut = line([0, 50], [0, 5]);
    const d = domainOf(whole);
    const f = frameOf({ ...cut, xDomain: d.x, yDomain: d.y }, 300, 150, stackSeries(cut.series));
    expect([f.x0, f.x1, f.y0, f.y1]).toEqual([0, 100, 0, 20]);
    // The cut's own frame would have rescaled both axes.
    expect(domainOf(cut)).toEqual({ x: [0, 50], y: [0, 10] });
  });

  it('ends an x label at the canvas edge where a centred one would be cut ("40.0k" at the last tick)', () => {
    const spec: ChartSpec = { kind: 'line', stacked: false, formatX: (v) => `${v / 1000}k`, formatY: String, series: [{ name: 'a', color: '#000', xs: [0, 40_000], ys: [0, 1] }] };
    const f = frameOf(spec, 300, 120, spec.series);
    const xs = tickLabels(spec, f, 300, [], [0, 20_000, 40_000]);
    expect(xs.map(([text, x, , align]) => [text, Math.round(x), align])).toEqual([['0k', f.left, 'center'], ['20k', Math.round(px(f, 20_000)), 'center'], ['40k', 299, 'end']]);
  });
});
