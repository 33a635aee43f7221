import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BEAT_MS, LiveBeat, LiveThrottle } from './liveThrottle';

describe('LiveThrottle', () => {
  beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }); });
  afterEach(() => { vi.useRealTimers(); });

  it('flushes a change that finds it due at once, and the changes of one period once, after it', () => {
    const flushes: number[] = [];
    const t = new LiveThrottle(() => flushes.push(performance.now()), 250, new LiveBeat());
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
    const t = new LiveThrottle(() => n++, 250, new LiveBeat());
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
    const t = new LiveThrottle(() => n++, 250, new LiveBeat());
    vi.advanceTimersByTime(1000);
    t.poke();
    t.poke();
    t.cancel();
    vi.advanceTimersByTime(1000);
    expect(n).toBe(1);
  });

  it('flushes the views due in one batch together: a view whose trailing flush shifted its phase waits for the beat', async () => {
    const beat = new LiveBeat();
    const flushed: string[] = [];
    const stats = new LiveThrottle(() => flushed.push('stats'), BEAT_MS, beat);
    const table = new LiveThrottle(() => flushed.push('table'), BEAT_MS, beat);
    const chart = new LiveThrottle(() => flushed.push('chart'), 2 * BEAT_MS, beat);
    const batch = async () => {
      flushed.length = 0;
      stats.poke(); table.poke(); chart.poke();
      await Promise.resolve(); // the batch's task ends: the beat closes
      return [...flushed];
    };
    vi.advanceTimersByTime(1000);
    expect(await batch()).toEqual(['stats', 'table', 'chart']);
    // The table alone flushes at once (a stop of its own, say): its phase moves 50 ms on.
    vi.advanceTimersByTime(50);
    table.poke(true);
    vi.advanceTimersByTime(50);
    expect(await batch()).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(await batch()).toEqual([]);
    // 300 ms after the first beat: stats is due and opens one; the table, 250 ms past its own
    // flush, joins it; the chart (a longer period) is not due yet and flushes on a later beat.
    vi.advanceTimersByTime(100);
    expect(await batch()).toEqual(['stats', 'table']);
    vi.advanceTimersByTime(300);
    expect(await batch()).toEqual(['stats', 'table', 'chart']);
  });
});
