/**
 * The exit reasons of the rows the log lists, kept as the log grows: only exits appended since
 * the last call are scanned. The log's filter chips are these reasons, so scrubbing the timeline
 * (which moves the counters, not the list) keeps the chip row, and the list's height under it,
 * as they are. A new log, a shortened one (the future dropped) or a dropped head rescans. Pure.
 */
import type { ExitEvent, ExitReason } from '../../../core/events';

export class ListedReasons {
  private reasons = new Set<ExitReason>();
  private log: readonly ExitEvent[] | null = null;
  private scanned = 0;
  private firstSeq = -1;

  /** The reasons listed in `log` (the same Set object while none is added). */
  update(log: readonly ExitEvent[]): ReadonlySet<ExitReason> {
    const headMoved = log.length > 0 && log[0].seq !== this.firstSeq;
    if (log !== this.log || log.length < this.scanned || (this.scanned > 0 && headMoved)) {
      this.reasons = new Set();
      this.log = log;
      this.scanned = 0;
    }
    let added = false;
    for (let i = this.scanned; i < log.length; i++) {
      if (!this.reasons.has(log[i].reason)) {
        if (!added) this.reasons = new Set(this.reasons);
        this.reasons.add(log[i].reason);
        added = true;
      }
    }
    this.scanned = log.length;
    this.firstSeq = log.length ? log[0].seq : -1;
    return this.reasons;
  }
}
