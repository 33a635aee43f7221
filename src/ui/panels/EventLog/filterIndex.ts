/**
 * Incremental filter over the append-only exit log: only exits appended since the last call are
 * scanned, so filtering stays cheap with 100,000+ exits. The log may drop its oldest entries
 * (bounded) or be replaced (new run); both are detected and the index rebuilt. Pure.
 */
import type { ExitEvent, ExitReason } from '../../../core/events';

export class FilterIndex {
  /** Positions in the log of the exits that pass the filter. */
  private indices: number[] = [];
  private scanned = 0;
  private log: readonly ExitEvent[] | null = null;
  private firstSeq = -1;
  private key = '';

  /**
   * Positions of the matching exits. With no filter (null or empty), returns null: every row
   * of the log is shown and no index is needed.
   */
  update(log: readonly ExitEvent[], reasons: ReadonlySet<ExitReason> | null): number[] | null {
    if (!reasons || reasons.size === 0) {
      this.key = '';
      return null;
    }
    const key = [...reasons].sort().join(',');
    const first = log.length ? log[0].seq : -1;
    if (key !== this.key || log !== this.log || first !== this.firstSeq || log.length < this.scanned) {
      this.indices = [];
      this.scanned = 0;
      this.key = key;
      this.log = log;
      this.firstSeq = first;
    }
    for (let i = this.scanned; i < log.length; i++) if (reasons.has(log[i].reason)) this.indices.push(i);
    this.scanned = log.length;
    return this.indices;
  }
}

/** Exit counts by reason in the log (for the filter chips), updated incrementally. */
export class ReasonCounts {
  counts = new Map<ExitReason, number>();
  private scanned = 0;
  private log: readonly ExitEvent[] | null = null;
  private firstSeq = -1;

  update(log: readonly ExitEvent[]): Map<ExitReason, number> {
    const first = log.length ? log[0].seq : -1;
    if (log !== this.log || first !== this.firstSeq || log.length < this.scanned) {
      this.counts = new Map();
      this.scanned = 0;
      this.log = log;
      this.firstSeq = first;
    }
    for (let i = this.scanned; i < log.length; i++) this.counts.set(log[i].reason, (this.counts.get(log[i].reason) ?? 0) + 1);
    this.scanned = log.length;
    return this.counts;
  }
}
