/**
 * Percentages for the figures the UI and the lessons show, and for the numbers files carry. Pure.
 */

/** Decimals a percentage may take beyond the ones asked for before it gives a bound instead. */
const MORE = 3;

/**
 * r * 100 with the fewest decimals from `digits` to `digits` + MORE that keep a value inside
 * (0, 100) off the ends, as text; null when even the most decimals round onto an end.
 */
function inside(r: number, digits: number): string | null {
  for (let d = digits; d <= digits + MORE; d++) {
    const s = (r * 100).toFixed(d);
    const v = Number(s);
    if (v > 0 && v < 100) return s;
  }
  return null;
}

/**
 * A ratio in [0, 1] as a percentage with `digits` decimals ("45.7%"), never rounded onto an end
 * it does not reach: 9,997 hits in 10,001 lookups is "99.96%", not "100.0%" beside four misses,
 * and 1 in 4,000 is "0.03%", not "0.0%". It takes up to MORE more decimals, then gives the bound
 * (">99.9999%", "<0.0001%" at 1 decimal). The ends themselves, and values outside [0, 1], as asked.
 */
export function percent(r: number, digits = 1): string {
  if (!Number.isFinite(r)) return '–';
  if (r <= 0 || r >= 1) return `${(r * 100).toFixed(digits)}%`;
  const s = inside(r, digits);
  if (s !== null) return `${s}%`;
  const step = 10 ** -(digits + MORE);
  return r > 0.5 ? `>${(100 - step).toFixed(digits + MORE)}%` : `<${step.toFixed(digits + MORE)}%`;
}

/**
 * `percent` as a number, for a file (a trace's counter) that cannot say ">": the same decimals,
 * and past them the nearest value inside the ends (99.99999 at 2 decimals, never 100 for a
 * ratio short of 1, nor 0 for one above 0). NaN for a ratio that is not a number.
 */
export function percentValue(r: number, digits = 1): number {
  if (!Number.isFinite(r)) return NaN;
  if (r <= 0 || r >= 1) return Number((r * 100).toFixed(digits));
  const s = inside(r, digits);
  if (s !== null) return Number(s);
  const step = 10 ** -(digits + MORE);
  return Number((r > 0.5 ? 100 - step : step).toFixed(digits + MORE));
}
