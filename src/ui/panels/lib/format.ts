/** Number formatting shared by the panels. Pure. */

import { hex64 as coreHex64 } from '../../../core/hex';
import { percent } from '../../../core/percent';
import { plural } from '../../../core/plural';

export { hex } from '../../../core/hex';
export { plural };

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

/** A count and its noun: counted(5000, 'exit') -> "5,000 exits", counted(1, 'entry', 'entries') -> "1 entry". */
export function counted(n: number, one: string, many?: string): string {
  return `${int(n)} ${plural(n, one, many)}`;
}

/** One formatter per number of decimals, each made on first use. */
const FIXED: Intl.NumberFormat[] = [];

/** `n` with thousands separators and exactly `digits` decimals: fixed(1234.5, 2) -> "1,234.50". */
export function fixed(n: number, digits: number): string {
  if (!Number.isFinite(n)) return '–';
  return (FIXED[digits] ??= new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })).format(n);
}

/** Three significant digits of a value in [1, 1000): 6.04, 12.3, 123 (99.96 is "100", not "100.0"). */
function sig(x: number): string {
  const d = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  const s = x.toFixed(d);
  return d > 0 && Math.abs(Number(s)) >= 10 ** (3 - d) ? x.toFixed(d - 1) : s;
}

const UNITS: readonly (readonly [number, string])[] = [[1e3, 'k'], [1e6, 'M'], [1e9, 'G']];

/**
 * Compact number: 12345 -> "12.3k", 6040000 -> "6.04M", 5000 -> "5,000". A value that rounds up to 1000 of its
 * unit takes the next: 999,600 exits/s is "1.00M", not "1000k".
 */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  // Whole below 10k, with the separator the figures beside it have ("5,000", not "5000").
  if (a < 1e4) return a >= 100 ? int(Math.round(n)) : n.toFixed(a >= 10 ? 1 : 2).replace(/\.?0+$/, '') || '0';
  let i = a >= 1e9 ? 2 : a >= 1e6 ? 1 : 0;
  if (i < UNITS.length - 1 && Math.abs(Number(sig(n / UNITS[i][0]))) >= 1000) i++;
  return sig(n / UNITS[i][0]) + UNITS[i][1];
}

/** Percentage of a ratio in [0, 1]: 0.4567 -> "45.7%", the ends whole ("100%"); never rounded onto an end it does not reach (core/percent). */
export function pct(r: number): string {
  return percent(r, r === 0 || r === 1 ? 0 : 1);
}

/** A vCPU as a sentence names it: "VM 1's vCPU 0". */
export function vcpuName(v: { vm: number; vcpu: number }): string {
  return `VM ${v.vm}'s vCPU ${v.vcpu}`;
}
