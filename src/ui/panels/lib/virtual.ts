/** Fixed-row-height list virtualization: which rows to render for a scroll position. Pure. */

export interface VisibleRange {
  /** First row to render (inclusive). */
  start: number;
  /** Row after the last one to render (exclusive). */
  end: number;
}

/**
 * The rows in view and `overscan` more on each side; at either end of the list, the overscan the
 * end cuts off is taken on the other side. So the window holds the same number of rows wherever
 * it is (when the list has that many), and a list keyed by place in the window updates the same
 * row elements when it moves: a jump from the end of a run's log to an exit in its middle created
 * and laid out ~5 new rows (~60 elements) on the first seek, traced.
 */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 8): VisibleRange {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.min(count - 1, Math.floor(Math.max(0, scrollTop) / rowHeight));
  const size = Math.ceil(Math.max(0, viewport) / rowHeight) + 1 + 2 * overscan;
  const end = Math.min(count, Math.max(first - overscan, 0) + size);
  return { start: Math.max(0, end - size), end };
}

/** True when the list is scrolled to (within a row of) its bottom: new rows should follow. */
export function atBottom(scrollTop: number, viewport: number, scrollHeight: number, rowHeight: number): boolean {
  return scrollTop + viewport >= scrollHeight - rowHeight;
}

/**
 * The offset from the list's top that shows row `pos` centred (`pos >= count`: the list's end),
 * clamped to the list.
 */
export function centredTop(pos: number, count: number, viewport: number, rowHeight: number): number {
  const end = Math.max(0, count * rowHeight - viewport);
  return pos >= count ? end : Math.round(Math.min(end, Math.max(0, pos * rowHeight - (viewport - rowHeight) / 2)));
}

/**
 * `scrollTop` for a list that scrolls from its end (column-reverse: 0 at the bottom, negative
 * above) to stand `top` from its top. It depends on the viewport: written with a height measured
 * before the pane changed, a row placed at the top lands off it by the change.
 */
export function reverseScrollTop(top: number, count: number, viewport: number, rowHeight: number): number {
  return top - Math.max(0, count * rowHeight - viewport);
}
