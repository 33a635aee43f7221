/** Binary searches over the log's rows, which are sorted by exit sequence number. */

/** Position of the exit with sequence number `seq` among `count` rows, or -1. */
export function findRow(count: number, seqAt: (i: number) => number, seq: number): number {
  const i = rowAtOrBefore(count, seqAt, seq);
  return i >= 0 && seqAt(i) === seq ? i : -1;
}

/**
 * Position of the last row whose exit is `seq` or older, or -1 when every row is newer: where
 * the log shows exit `seq`, or where it would be when the log does not list it (at full speed
 * the Worker sends a bounded number of exits per frame).
 */
export function rowAtOrBefore(count: number, seqAt: (i: number) => number, seq: number): number {
  let lo = 0;
  let hi = count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (seqAt(mid) <= seq) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
