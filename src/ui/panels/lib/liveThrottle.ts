/**
 * A throttled view that was due waits at most this long after its period for the next batch of
 * frames (the client ingests them every 100 ms while running) before a timer refreshes it alone.
 */
const TRAIL_MS = 120;

/** Due within a tenth of the period: batches arrive about every 100 ms, not to the millisecond. */
const isDue = (last: number, ms: number, now: number) => now - last >= ms * 0.9;

/**
 * Runs `flush` at most once per `ms` of changes: a change that finds it due flushes at once (in
 * the task of the batch that brought it, so every view due then renders in one React pass with
 * the stats: one style, layout and paint for the page, not one per view at its own timer); one
 * that does not sets a trailing timer a little past the next batch, which shows the last change
 * when no further batch comes (the run stopped). The views' one throttle: the panels' hooks, the
 * cache table and the editor's RIP line use it.
 */
export class LiveThrottle {
  private last = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(public flush: () => void, public ms: number) {}

  /** A change. `now`: flush at once whatever the period (a load, a stop). */
  poke(now = false): void {
    const t = performance.now();
    if (now || isDue(this.last, this.ms, t)) this.run();
    else this.timer ??= setTimeout(() => this.run(), Math.max(0, this.last + this.ms + TRAIL_MS - t));
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private run(): void {
    this.cancel();
    this.last = performance.now();
    this.flush();
  }
}
