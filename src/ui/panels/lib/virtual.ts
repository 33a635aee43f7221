/** Fixed-row-height list virtualization: which rows to render for a scroll position. Pure. */

export interface VisibleRange {
  /** First row to render (inclusive). */
  start: number;
  /** Row after the last one to render (exclusive). */
  end: number;
}

export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 8): VisibleRange {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(Math.max(0, viewport) / rowHeight) + 1;
  const start = Math.max(0, Math.min(count - 1, first) - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end: Math.max(start, end) };
}

/** True when the list is scrolled to (within a row of) its bottom: new rows should follow. */
export function atBottom(scrollTop: number, viewport: number, scrollHeight: number, rowHeight: number): boolean {
  return scrollTop + viewport >= scrollHeight - rowHeight;
}
