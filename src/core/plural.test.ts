import { describe, expect, it } from 'vitest';
import { plural } from './plural';

describe('plural', () => {
  it('is singular for exactly one and plural for zero, many and fractions', () => {
    expect([0, 1, 2, 1.5, 5000].map((n) => plural(n, 'exit'))).toEqual(['exits', 'exit', 'exits', 'exits', 'exits']);
  });
  it('takes an irregular plural', () => {
    expect(plural(1, 'entry', 'entries')).toBe('entry');
    expect(plural(3, 'entry', 'entries')).toBe('entries');
  });
});
