/**
 * The exits a seek's re-run went through, listed in the run's log: at full speed a frame lists
 * only the newest of its exits, so the log jumps over most of a run, and a seek to an exit it
 * does not list showed rows from elsewhere in the run. Merged by sequence number, each exit
 * once. Pure.
 */
import type { ExitEvent } from '../core/events';

/**
 * `log` (sorted by seq) with the exits of `add` (sorted by seq, each once) it does not list yet, as a new
 * array and how many were new; null when it lists all of them (the log stays as it is).
 */
export function mergeExits(log: readonly ExitEvent[], add: readonly ExitEvent[]): { log: ExitEvent[]; added: number } | null {
  const fresh = add.filter((e) => findSeq(log, e.seq) < 0);
  if (fresh.length === 0) return null;
  const out: ExitEvent[] = [];
  let i = 0;
  for (const e of fresh) {
    while (i < log.length && log[i].seq < e.seq) out.push(log[i++]);
    out.push(e);
  }
  while (i < log.length) out.push(log[i++]);
  return { log: out, added: out.length - log.length };
}

/** Position of the exit with sequence number `seq` in a log sorted by seq, or -1. */
export function findSeq(log: readonly ExitEvent[], seq: number): number {
  let lo = 0;
  let hi = log.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = log[mid].seq;
    if (s === seq) return mid;
    if (s < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
