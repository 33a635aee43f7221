/**
 * A throttled view that was due waits at most this long after its period for the next batch of
 * frames (the client ingests them every 100 ms while running) before a timer refreshes it alone.
 */
const TRAIL_MS = 120;

/** Due within a tenth of the period: batches arrive about every 100 ms, not to the millisecond. */
const isDue = (last: number, ms: number, now: number) => now - last >= ms * 0.9;

/**
 * The beat every throttled view keeps: at most one per BEAT_MS, opened by the first view due in
 * a batch's task and joined by every other view due in that task. Without it each view kept its
 * own phase (a trailing timer shifts it), and the page re-styled, laid out, painted and
 * rasterised 8 times a second while running instead of 3 (stats at one batch, registers and
 * cache at the next, the editor at a third), on the 2 cores the Worker shares.
 */
export const BEAT_MS = 250;

export class LiveBeat {
  private at = -Infinity;
  private open = false;

  /** When the next beat may open. */
  get next(): number {
    return this.at + BEAT_MS;
  }

  /** True when the caller may flush now: a beat is open in this task, or one is due and opens. */
  join(now: number): boolean {
    if (this.open) return true;
    if (!isDue(this.at, BEAT_MS, now)) return false;
    this.at = now;
    this.open = true;
    // Every store subscriber of the batch runs in this task; the beat closes after them.
    queueMicrotask(() => { this.open = false; });
    return true;
  }
}

/** The page's one beat. */
const pageBeat = new LiveBeat();

/**
 * Runs `flush` at most once per `ms` of changes: a change that finds it due flushes on the next
 * beat (LiveBeat), in the task of the batch that brought it, so every view due then renders in
 * one React pass with the stats: one style, layout and paint for the page, not one per view at
 * its own phase. A change that does not sets a trailing timer a little past the beat the view is
 * due on, which shows the last change when no further batch comes (the run stopped). The views'
 * one throttle: the panels' hooks (useMachineLive, useStoresThrottled under useStoresLive),
 * the cache table and the editor's RIP line and per-line counts use it.
 */
export class LiveThrottle {
  private last = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(public flush: () => void, public ms: number, private readonly beat = pageBeat) {}

  /** A change. `now`: flush at once whatever the period (a load, a stop). */
  poke(now = false): void {
    const t = performance.now();
    if (now || (isDue(this.last, this.ms, t) && this.beat.join(t))) this.run();
    // Past the beat it will be due on, not its own period alone: a timer that fired between beats
    // would flush this view at a phase of its own.
    else this.timer ??= setTimeout(() => this.run(), Math.max(0, Math.max(this.last + this.ms, this.beat.next) + TRAIL_MS - t));
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
