import { describe, expect, it } from 'vitest';
import { percent, percentValue } from './percent';

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

describe('percentValue', () => {
  it('is the number percent() shows: 2 decimals, more rather than 100 or 0 for a ratio short of them', () => {
    expect(percentValue(0.4567, 2)).toBe(45.67);
    expect(percentValue(20_002 / 20_003, 2)).toBe(99.995);
    expect(percentValue(99_999 / 100_000, 2)).toBe(99.999);
    expect(percentValue(1 / 40_000, 2)).toBe(0.003);
  });

  it('writes the ends only for the ends; past the extra decimals, the nearest value inside them', () => {
    expect(percentValue(1, 2)).toBe(100);
    expect(percentValue(0, 2)).toBe(0);
    expect(percentValue(1 - 1e-12, 2)).toBe(99.99999);
    expect(percentValue(1e-12, 2)).toBe(0.00001);
    expect(percentValue(NaN)).toBeNaN();
  });
});
