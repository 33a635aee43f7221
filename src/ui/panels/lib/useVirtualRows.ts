/** Hook around visibleRange: tracks a scroll container's position and size. */
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject, type UIEvent } from 'react';
import { visibleRange, type VisibleRange } from './virtual';

export interface VirtualRange extends VisibleRange {
  /** Total height of the scrolled content. */
  height: number;
  /** The container's height as last observed (no layout read). */
  viewport: number;
  /** Offset of the view from the top of the list, as rendered (no layout read). */
  top: number;
}

/**
 * Returns the rows to render, and the ref and scroll handler for the scroll container. With
 * `followBottom`, the range is computed from the bottom (where the container will be scrolled
 * to after this render), not from the last scroll event: a list growing by many rows per frame
 * would otherwise render the rows of the previous frame's bottom, out of view.
 */
/**
 * With `fromEnd`, the container scrolls from its end (`flex-direction: column-reverse`: scrollTop
 * is 0 at the bottom and negative above), so a list that follows its newest rows stays at the
 * bottom as it grows without being scrolled (a scroll forces a layout on every update).
 */
/**
 * `jump(top)` renders the rows at offset `top` from the top of the list now (the caller scrolls
 * the container there after the commit, with no layout read before: the scroll event that follows
 * then changes nothing and renders nothing).
 */
export function useVirtualRows(count: number, rowHeight: number, overscan = 8, followBottom = false, fromEnd = false):
  [VirtualRange, RefObject<HTMLDivElement | null>, (e: UIEvent<HTMLDivElement>) => void, (top: number) => void] {
  const ref = useRef<HTMLDivElement | null>(null);
  const [scroll, setScroll] = useState({ top: 0, viewport: 400 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setScroll((s) => (s.viewport === el.clientHeight ? s : { ...s, viewport: el.clientHeight })));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  // The position as last rendered: a scroll event that finds it there (after `jump`) sets no
  // state. React's own bail-out does not cover it: after an update made while rendering (jump
  // is called so), the next identical setState still renders the component once more.
  const rendered = useRef(scroll);
  useLayoutEffect(() => { rendered.current = scroll; }, [scroll]);
  const onScroll = useCallback((e: UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    const top = fromEnd ? el.scrollHeight - el.clientHeight + el.scrollTop : el.scrollTop;
    const viewport = el.clientHeight;
    if (rendered.current.top === top && rendered.current.viewport === viewport) return;
    setScroll((s) => (s.top === top && s.viewport === viewport ? s : { top, viewport }));
  }, [fromEnd]);
  const jump = useCallback((top: number) => setScroll((s) => (s.top === top ? s : { ...s, top })), []);
  const top = followBottom ? Math.max(0, count * rowHeight - scroll.viewport) : scroll.top;
  const range = visibleRange(top, scroll.viewport, rowHeight, count, overscan);
  return [{ ...range, height: count * rowHeight, viewport: scroll.viewport, top }, ref, onScroll, jump];
}
