import { describe, expect, it } from 'vitest';
import { tally } from './testTally.mjs';

describe("npm test's tally of a runner", () => {
  it('adds the tests a runner counted', () => {
    expect(tally('vitest', 0, { passed: 12, failed: 0 })).toEqual({ passed: 12, failed: 0, problem: null });
    expect(tally('vitest', 1, { passed: 10, failed: 2 })).toEqual({ passed: 10, failed: 2, problem: null });
  });

  it('counts a runner that failed outside its tests as a failure (an e2e server whose port was taken: 0 tests run)', () => {
    const t = tally('playwright', 1, { passed: 0, failed: 0 });
    expect(t.failed).toBe(1);
    expect(t.problem).toMatch(/playwright exited with status 1 but counted no failed test/);
  });

  it('counts a runner with no report as a failure', () => {
    expect(tally('vitest', 0, null)).toEqual({ passed: 0, failed: 1, problem: 'vitest produced no report' });
  });
});
