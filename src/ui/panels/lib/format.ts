/** Number formatting shared by the panels. Pure. */

import { hex64 as coreHex64 } from '../../../core/hex';
import { percent } from '../../../core/percent';

export { hex } from '../../../core/hex';

/** Hex of a 64-bit value (bigint, or a "0x..." string as it crosses the Worker), 16 digits by default. */
export function hex64(v: bigint | string, pad = 16): string {
  return coreHex64(typeof v === 'bigint' ? v : BigInt(v), pad);
}

/** One formatter for every call: `toLocaleString` builds a new one each time (~0.1 ms; the log formats a cell per row). */
const INT = new Intl.NumberFormat('en-US');

/** Integer with thousands separators: 12345 -> "12,345". */
export function int(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return INT.format(Math.round(n));
}

/** Compact number: 1234 -> "1.2k", 2500000 -> "2.5M". */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  const sig = (x: number) => x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2);
  if (a >= 1e9) return sig(n / 1e9) + 'G';
  if (a >= 1e6) return sig(n / 1e6) + 'M';
  if (a >= 1e4) return sig(n / 1e3) + 'k';
  if (a >= 100) return Math.round(n).toString();
  return n.toFixed(a >= 10 ? 1 : 2).replace(/\.?0+$/, '') || '0';
}

/** Percentage of a ratio in [0, 1]: 0.4567 -> "45.7%", the ends whole ("100%"); never rounded onto an end it does not reach (core/percent). */
export function pct(r: number): string {
  return percent(r, r === 0 || r === 1 ? 0 : 1);
}
