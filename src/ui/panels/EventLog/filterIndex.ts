/**
 * Incremental filter over the append-only exit log: only exits appended since the last call are
 * scanned, so filtering stays cheap with 100,000+ exits. The log may drop its oldest entries
 * (bounded) or be replaced (new run); both are detected and the index rebuilt. Pure.
 */
import type { ExitEvent, ExitReason } from '../../../core/events';
import { findSeq } from '../../../store/exitLogMerge';

export class FilterIndex {
  /** Positions in the log of the exits that pass the filter. */
  private indices: number[] = [];
  private scanned = 0;
  private log: readonly ExitEvent[] | null = null;
  /** Sequence number of the last exit scanned, to find it again after the log dropped its head. */
  private lastSeq = -1;
  private key = '';

  /**
   * Positions of the matching exits. With no filter (null or empty), returns null: every row
   * of the log is shown and no index is needed. The log must be sorted by seq (it is: exits are
   * appended in order); when it drops its oldest entries the positions are shifted, not rebuilt.
   */
  update(log: readonly ExitEvent[], reasons: ReadonlySet<ExitReason> | null): number[] | null {
    if (!reasons || reasons.size === 0) {
      this.key = '';
      return null;
    }
    const key = [...reasons].sort().join(',');
    let rebuild = key !== this.key || log !== this.log;
    if (!rebuild && this.scanned > 0 && log[this.scanned - 1]?.seq !== this.lastSeq) {
      // The head was dropped: find the last scanned exit again and shift every position.
      const pos = findSeq(log, this.lastSeq);
      if (pos < 0) {
        rebuild = true;
      } else {
        const k = this.scanned - 1 - pos;
        let w = 0;
        for (const i of this.indices) if (i >= k) this.indices[w++] = i - k;
        this.indices.length = w;
        this.scanned = pos + 1;
      }
    }
    if (rebuild || log.length < this.scanned) {
      this.indices = [];
      this.scanned = 0;
      this.key = key;
      this.log = log;
    }
    for (let i = this.scanned; i < log.length; i++) if (reasons.has(log[i].reason)) this.indices.push(i);
    this.scanned = log.length;
    this.lastSeq = log.length ? log[log.length - 1].seq : -1;
    return this.indices;
  }
}

