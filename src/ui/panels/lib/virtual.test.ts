import { describe, expect, it } from 'vitest';
import { atBottom, centredTop, reverseScrollTop, visibleRange } from './virtual';

describe('visibleRange', () => {
  it('renders only the rows in view plus overscan', () => {
    expect(visibleRange(20 * 50_000, 200, 20, 100_000, 5)).toEqual({ start: 49_995, end: 50_016 });
  });
  it('holds as many rows at either end of the list as in its middle', () => {
    // 11 rows in view (10 and a partial one) and 5 a side: 21 rows wherever the view is.
    expect(visibleRange(0, 200, 20, 100_000, 5)).toEqual({ start: 0, end: 21 });
    expect(visibleRange(20 * 2, 200, 20, 100_000, 5)).toEqual({ start: 0, end: 21 });
    expect(visibleRange(20 * 90, 200, 20, 100, 5)).toEqual({ start: 79, end: 100 });
    expect(visibleRange(1e9, 200, 20, 100, 5)).toEqual({ start: 79, end: 100 });
  });
  it('clamps to short and empty lists', () => {
    expect(visibleRange(0, 200, 20, 0)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(-50, 200, 20, 3, 2)).toEqual({ start: 0, end: 3 });
    expect(visibleRange(1e9, 200, 20, 12, 5)).toEqual({ start: 0, end: 12 });
  });
  it('knows when the list is at its bottom', () => {
    expect(atBottom(800, 200, 1000, 20)).toBe(true);
    expect(atBottom(500, 200, 1000, 20)).toBe(false);
  });
});

describe('centredTop and reverseScrollTop', () => {
  it('centre a row, clamped to either end of the list', () => {
    expect(centredTop(50, 100, 200, 20)).toBe(910);
    expect(centredTop(0, 100, 200, 20)).toBe(0);
    expect(centredTop(99, 100, 200, 20)).toBe(1800);
    expect(centredTop(100, 100, 200, 20)).toBe(1800);
  });
  it('count a column-reverse scrollTop from the end, so the same row needs another scrollTop in another height', () => {
    // Row 0 at the top of a 150-row list: -2800 in a 200 px view, -2900 in 100 px.
    expect(reverseScrollTop(centredTop(0, 150, 200, 20), 150, 200, 20)).toBe(-2800);
    expect(reverseScrollTop(centredTop(0, 150, 100, 20), 150, 100, 20)).toBe(-2900);
    // Written with the old height after the pane shrank to 100 px, row 0 stands 100 px above the view.
    const stale = reverseScrollTop(0, 150, 200, 20);
    expect(stale + (150 * 20 - 100)).toBe(100);
    expect(reverseScrollTop(centredTop(150, 150, 200, 20), 150, 200, 20)).toBe(0);
  });
});
