import { describe, expect, it } from 'vitest';
import type { HistorySample } from '../../../store/machineStore';
import { chartRows, cyclesVersus, downsample, downsampledPrefix, exitsPerThousand, historyToCsv, reasonsOf, samplesUpTo, stagesOf } from './chartData';

const h = (t: number, extra: Partial<HistorySample> = {}): HistorySample => ({
  t, retired: t * 10, exits: t, exitsByReason: { mmio: t }, hitRate: 0.5,
  cyclesPerExitByStage: { exit: 1000, walk: 2400 }, stageCycles: { exit: t * 1000, walk: t * 2400 }, cyclesTotal: t * 100, ...extra,
});

describe('chart data', () => {
  it('counts the samples taken at or before an exit (the charts at that exit)', () => {
    const hs = [h(10), h(20), h(30)];
    expect(samplesUpTo(hs, 5)).toBe(0);
    expect(samplesUpTo(hs, 10)).toBe(1);
    expect(samplesUpTo(hs, 29)).toBe(2);
    expect(samplesUpTo(hs, 30)).toBe(3);
    expect(samplesUpTo([], 30)).toBe(0);
  });

  it('cuts the whole history\'s points at a past exit and ends on the last sample shown', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    // Every sample shown: the whole history's 100 evenly spaced points, the newest last.
    const all = Array.from({ length: 100 }, (_, i) => Math.round((i * 999) / 99));
    expect(downsampledPrefix(xs, 1000, 100)).toEqual(all);
    expect(downsample(xs, 100)).toEqual(all);
    // 500 shown: the whole run's points before sample 500, then sample 499 itself.
    const cut = downsampledPrefix(xs, 500, 100);
    expect(cut.slice(0, -1)).toEqual(all.filter((x) => x < 500));
    expect(cut.at(-1)).toBe(499);
    // A cut on one of the whole run's points adds nothing after it.
    const on = all[40];
    expect(downsampledPrefix(xs, on + 1, 100)).toEqual(all.slice(0, 41));
    // Few samples: the prefix itself; none shown: nothing.
    expect(downsampledPrefix([1, 2, 3], 2, 100)).toEqual([1, 2]);
    expect(downsampledPrefix(xs, 0, 100)).toEqual([]);
  });
  it('downsamples evenly and keeps the newest sample', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const d = downsample(xs, 100);
    expect(d).toHaveLength(100);
    expect(d[0]).toBe(0);
    expect(d[99]).toBe(999);
    expect(downsample([1, 2], 100)).toEqual([1, 2]);
  });

  it('collects reasons and stages in pipeline order, and builds rows', () => {
    const hist = [h(0), h(100, { exitsByReason: { mmio: 97, 'ept-violation': 3 }, cyclesPerExitByStage: { invalidate: 5, exit: 1 } })];
    expect(reasonsOf(hist)).toEqual(['ept-violation', 'mmio']);
    expect(stagesOf(hist)).toEqual(['exit', 'walk', 'invalidate']);
    const rows = chartRows(hist, reasonsOf(hist), stagesOf(hist));
    // x: instructions retired; y: exits so far by reason.
    expect(rows[0]).toMatchObject({ retired: 0, hitRate: 50, 'r:mmio': 0, 'r:ept-violation': 0, 's:walk': 2400 });
    expect(rows[1]).toMatchObject({ retired: 1000, 'r:mmio': 97, 'r:ept-violation': 3, 's:invalidate': 5 });
  });

  it('exports CSV with a header and one line per sample per side', () => {
    const csv = historyToCsv([{ label: 'A', history: [h(0), h(16)] }, { label: 'B "none"', history: [h(0)] }]);
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('side,t_ms,retired,exits,hit_rate,cycles_total,exits_mmio,cycles_per_exit_exit,cycles_per_exit_walk');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toBe('A,16,160,16,0.5000,1600,16,1000,2400');
    expect(lines[3].startsWith('"B ""none""",0,')).toBe(true);
  });

  it('has no hit rate before the first lookup, in the rows and the CSV: not 0 %', () => {
    const hs = [h(1, { hitRate: null }), h(2, { hitRate: 0.25 })];
    const rows = chartRows(hs, reasonsOf(hs), stagesOf(hs));
    expect(rows.map((r) => r.hitRate)).toEqual([null, 25]);
    const lines = historyToCsv([{ label: 'none', history: hs }]).trim().split('\n');
    expect(lines[1]).toBe('none,1,10,1,,100,1,1000,2400');
    expect(lines[2]).toBe('none,2,20,2,0.2500,200,2,1000,2400');
  });

  it('says how often the guest exits per 1,000 instructions, to the figures that matter', () => {
    expect(exitsPerThousand(20_003, 40_008)).toBe('500');
    expect(exitsPerThousand(403, 12_345)).toBe('32.6');
    expect(exitsPerThousand(52, 1_000_000)).toBe('0.052');
    expect(exitsPerThousand(0, 10)).toBe('0');
    expect(exitsPerThousand(3, 0)).toBeNull();
  });

  it('reads 1,000 exits per 1,000 instructions only when every instruction exited', () => {
    expect(exitsPerThousand(10_000, 10_000)).toBe('1,000');
    expect(exitsPerThousand(9_996, 10_000)).toBe('999.6');
    expect(exitsPerThousand(99_996, 100_000)).toBe('999.96');
    expect(exitsPerThousand(10_004, 10_000)).toBe('1,000.4');
    expect(exitsPerThousand(2_500, 1_000)).toBe('2,500');
  });

  it('compares two sides\' cycles only where both stand at the same instruction count', () => {
    expect(cyclesVersus({ retired: 40_008, cycles: 47_061_108 }, { retired: 40_008, cycles: 76_091_412 })).toBe('38% fewer than');
    expect(cyclesVersus({ retired: 40_008, cycles: 76_091_412 }, { retired: 40_008, cycles: 47_061_108 })).toBe('62% more than');
    // APICv's three exits against every LAPIC access exiting: a ratio, not "3619% more".
    expect(cyclesVersus({ retired: 40_008, cycles: 76_091_412 }, { retired: 40_008, cycles: 2_046_357 })).toBe('37× as many as');
    expect(cyclesVersus({ retired: 40_008, cycles: 2_046_357 }, { retired: 40_008, cycles: 76_091_412 })).toBe('97% fewer than');
    expect(cyclesVersus({ retired: 10, cycles: 25 }, { retired: 10, cycles: 10 })).toBe('2.5× as many as');
    // A difference is never "the same", and cycles spent are never "100% fewer".
    expect(cyclesVersus({ retired: 10, cycles: 1_000 }, { retired: 10, cycles: 1_001 })).toBe('0.1% fewer than');
    expect(cyclesVersus({ retired: 10, cycles: 1_000 }, { retired: 10, cycles: 1_000 })).toBe('the same as');
    expect(cyclesVersus({ retired: 10, cycles: 3 }, { retired: 10, cycles: 1_000 })).toBe('99.7% fewer than');
    expect(cyclesVersus({ retired: 20_000, cycles: 1 }, { retired: 40_008, cycles: 2 })).toBeNull();
    expect(cyclesVersus({ retired: 0, cycles: 0 }, { retired: 0, cycles: 0 })).toBeNull();
  });
});
