import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveThrottle } from './liveThrottle';

describe('LiveThrottle', () => {
  beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }); });
  afterEach(() => { vi.useRealTimers(); });

  it('flushes a change that finds it due at once, and the changes of one period once, after it', () => {
    const flushes: number[] = [];
    const t = new LiveThrottle(() => flushes.push(performance.now()), 250);
    vi.advanceTimersByTime(1000);
    t.poke();
    expect(flushes).toEqual([1000]);
    vi.advanceTimersByTime(100);
    t.poke(); // not due: a trailing flush past the next batch
    vi.advanceTimersByTime(100);
    t.poke(); // one trailing flush for both
    expect(flushes).toEqual([1000]);
    vi.advanceTimersByTime(1000);
    expect(flushes).toHaveLength(2);
    expect(flushes[1]).toBeGreaterThanOrEqual(1250);
    expect(flushes[1]).toBeLessThan(1500);
  });

  it('flushes at once when told (a load, a stop) and drops the trailing flush', () => {
    let n = 0;
    const t = new LiveThrottle(() => n++, 250);
    vi.advanceTimersByTime(1000);
    t.poke();
    t.poke();
    t.poke(true);
    expect(n).toBe(2);
    vi.advanceTimersByTime(1000);
    expect(n).toBe(2);
  });

  it('does not flush after cancel', () => {
    let n = 0;
    const t = new LiveThrottle(() => n++, 250);
    vi.advanceTimersByTime(1000);
    t.poke();
    t.poke();
    t.cancel();
    vi.advanceTimersByTime(1000);
    expect(n).toBe(1);
  });
});
