import { describe, expect, it } from 'vitest';
import { percent } from './percent';

describe('percent', () => {
  it('shows a ratio with the decimals asked for', () => {
    expect(percent(0.4567)).toBe('45.7%');
    expect(percent(0.4567, 0)).toBe('46%');
    expect(percent(0.5, 2)).toBe('50.00%');
  });

  it('shows the ends as they are', () => {
    expect(percent(1)).toBe('100.0%');
    expect(percent(0)).toBe('0.0%');
    expect(percent(1, 0)).toBe('100%');
  });

  it('never rounds a ratio short of 1 up to 100%: 9,997 hits in 10,001 lookups', () => {
    expect(percent(9997 / 10001)).toBe('99.96%');
    expect(percent(0.9996, 0)).toBe('99.96%');
    expect(percent(0.99996)).toBe('99.996%');
    expect(percent(0.99949)).toBe('99.9%');
  });

  it('never rounds a ratio above 0 down to 0%', () => {
    expect(percent(1 / 4000)).toBe('0.03%');
    expect(percent(1 / 4000, 0)).toBe('0.03%');
  });

  it('gives a bound past three more decimals', () => {
    expect(percent(1 - 1e-9)).toBe('>99.9999%');
    expect(percent(1e-9)).toBe('<0.0001%');
  });

  it('says nothing of a ratio that is not a number', () => {
    expect(percent(NaN)).toBe('–');
  });
});
