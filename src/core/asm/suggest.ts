/** "Did you mean" for misspelt mnemonics, registers and symbols, by edit distance. */

/** Rows reused by editDistance (three: a swap looks two rows back). */
let rows: Int32Array[] = [new Int32Array(16), new Int32Array(16), new Int32Array(16)];

/**
 * Damerau-Levenshtein distance (optimal string alignment): a swap of two letters costs 1. Past
 * `max` it stops early and returns max + 1 (a row's least value never falls again).
 */
export function editDistance(a: string, b: string, max = Infinity): number {
  const m = a.length;
  const n = b.length;
  if (Math.abs(m - n) > 3) return Math.abs(m - n);
  if (rows[0].length <= n) rows = rows.map(() => new Int32Array(2 * (n + 1)));
  let [prev2, prev, cur] = rows;
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    let least = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      cur[j] = d;
      if (d < least) least = d;
    }
    if (least > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n];
}

/** The closest candidate, if it is close enough to be a plausible typo. */
export function closest(word: string, candidates: Iterable<string>, caseInsensitive = true): string | undefined {
  const w = caseInsensitive ? word.toLowerCase() : word;
  const limit = w.length <= 3 ? 1 : 2;
  let best: string | undefined;
  let bestD = limit + 1;
  for (const c of candidates) {
    // Lengths further apart than the limit are further apart than it in distance too: skipped
    // unmeasured (a page of unknown words had cost ~3.7 ms each over ~1,700 mnemonics).
    if (Math.abs(c.length - w.length) > limit) continue;
    const d = editDistance(w, caseInsensitive ? c.toLowerCase() : c, bestD);
    if (d < bestD || (d === bestD && best !== undefined && c.length < best.length)) {
      best = c;
      bestD = d;
    }
  }
  return bestD <= limit && best !== undefined && best.toLowerCase() !== w ? best : undefined;
}
