/**
 * Where a click, a drag or a key moves the timeline's slider. The slider takes the mouse and the
 * keys itself: a native range input moves its thumb at once, so the page painted a frame with
 * only the thumb moved (about 6 ms of main thread here, 13 on a first seek) while the Worker's
 * answer waited behind it, and the exit came a frame later. Taken here, the thumb moves in the
 * frame that shows the exit. The mapping and the steps are the native slider's (Blink's
 * RangeInputType), so a value means the same wherever it came from.
 */

/**
 * Half the width of the range input's thumb (16 px, as Chromium's and Firefox's own; timeline.css
 * draws it): its centre runs from this far in from one end of the input to as far from the
 * other. The timeline's marks are inset the same (timeline.css, .tl-marks).
 */
export const THUMB_HALF_PX = 8;

export interface SliderSpan {
  min: number;
  max: number;
}

/** The thumb centre's distance from the input's left edge for `value`, in an input `width` px wide. */
export function thumbX(value: number, width: number, { min, max }: SliderSpan): number {
  const run = Math.max(0, width - 2 * THUMB_HALF_PX);
  return THUMB_HALF_PX + (max > min ? ((value - min) / (max - min)) * run : 0);
}

/** The value whose thumb centre sits `x` px from the input's left edge (clamped to the span). */
export function valueAtX(x: number, width: number, { min, max }: SliderSpan): number {
  const run = width - 2 * THUMB_HALF_PX;
  if (max <= min || run <= 0) return min;
  const f = Math.min(1, Math.max(0, (x - THUMB_HALF_PX) / run));
  return Math.round(min + f * (max - min));
}

/** Whether `x` (px from the input's left edge) falls on the thumb of `value`: a press there grabs it, it does not jump. */
export function onThumb(x: number, value: number, width: number, span: SliderSpan): boolean {
  return Math.abs(x - thumbX(value, width, span)) <= THUMB_HALF_PX;
}

/**
 * The value a key moves the slider to from `from`, or null for a key it does not take (the
 * native slider's keys: arrows one step, Page Up/Down a tenth of the span, Home/End the ends).
 */
export function valueForKey(key: string, from: number, { min, max }: SliderSpan): number | null {
  const big = Math.max(1, Math.round((max - min) / 10));
  const to = (v: number) => Math.min(max, Math.max(min, v));
  switch (key) {
    case 'ArrowRight': case 'ArrowUp': return to(from + 1);
    case 'ArrowLeft': case 'ArrowDown': return to(from - 1);
    case 'PageUp': return to(from + big);
    case 'PageDown': return to(from - big);
    case 'Home': return min;
    case 'End': return max;
    default: return null;
  }
}
