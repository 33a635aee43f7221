import { describe, expect, it } from 'vitest';
import { compact, counted, fixed, hex, hex64, int, pct } from './format';

describe('format', () => {
  it('writes a count with separators and its noun, singular only for one', () => {
    expect(counted(5000, 'exit')).toBe('5,000 exits');
    expect(counted(1, 'exit')).toBe('1 exit');
    expect(counted(0, 'entry', 'entries')).toBe('0 entries');
    expect(counted(1, 'instruction')).toBe('1 instruction');
  });
  it('prints canonical negative addresses as their 64-bit pattern', () => {
    expect(hex(0xfee00000)).toBe('0xfee00000');
    expect(hex(-(2 ** 47))).toBe('0xffff800000000000');
    expect(hex(0x10, 4)).toBe('0x0010');
    expect(hex64(-1n)).toBe('0xffffffffffffffff');
    expect(hex64('0x1f', 4)).toBe('0x001f');
  });
  it('prints a number with separators and exactly the decimals asked for', () => {
    expect(fixed(1234.5, 2)).toBe('1,234.50');
    expect(fixed(999.96, 2)).toBe('999.96');
    expect(fixed(999.96, 1)).toBe('1,000.0');
    expect(fixed(7, 0)).toBe('7');
    expect(fixed(NaN, 1)).toBe('–');
  });
  it('prints counts compactly with three significant digits', () => {
    expect(compact(6_040_000)).toBe('6.04M');
    expect(compact(123_100)).toBe('123k');
    expect(compact(12_345)).toBe('12.3k');
    expect(compact(512)).toBe('512');
    expect(compact(2.5)).toBe('2.5');
    expect(compact(0)).toBe('0');
    // Rounded up to the next unit or digit: the shorter form.
    expect(compact(999_600)).toBe('1.00M');
    expect(compact(99_960)).toBe('100k');
    expect(compact(9_996)).toBe('9,996'); // the separator of the exact figures beside it
    expect(compact(1_000)).toBe('1,000');
    expect(compact(999_600_000)).toBe('1.00G');
    expect(compact(1_500_000_000_000)).toBe('1500G');
    expect(compact(-12_345)).toBe('-12.3k');
    expect(int(12345.6)).toBe('12,346');
    expect(pct(0.4567)).toBe('45.7%');
    expect(pct(1)).toBe('100%');
    expect(pct(0)).toBe('0%');
    // 9,997 hits in 10,001 lookups: not 100% beside four misses.
    expect(pct(9997 / 10001)).toBe('99.96%');
  });
});
