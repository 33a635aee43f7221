import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { cpuPressureSome, watchHostLoad } from './hostLoad';

describe('host CPU pressure', () => {
  it('reads "some avg10" from /proc/pressure/cpu text', () => {
    const text = 'some avg10=40.04 avg60=36.79 avg300=28.76 total=17827570230\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';
    expect(cpuPressureSome(text, 10)).toBe(40.04);
  });

  it('reads "some avg60" apart: the minute before a bench, without its own load', () => {
    const text = 'some avg10=40.04 avg60=36.79 avg300=28.76 total=17827570230\nfull avg10=0.00 avg60=1.50 avg300=0.00 total=0\n';
    expect(cpuPressureSome(text, 60)).toBe(36.79);
  });

  it('is null for text without a "some" line (no PSI)', () => {
    expect(cpuPressureSome('full avg10=1.00 avg60=2.00 avg300=0.00 total=0', 60)).toBeNull();
    expect(cpuPressureSome('', 10)).toBeNull();
    expect(cpuPressureSome('full avg10=1.00 avg60=0.00 avg300=0.00 total=0', 10)).toBeNull();
  });

  it('sums up the samples it took, or says it could read none', () => {
    const load = watchHostLoad(10).stop();
    if (!existsSync('/proc/pressure/cpu')) {
      expect(load).toBeNull();
      return;
    }
    // Started and stopped: two reads, each a share of time in 0..100 %.
    expect(load?.samples).toBe(2);
    expect(load!.medianPct).toBeGreaterThanOrEqual(0);
    expect(load!.maxPct).toBeGreaterThanOrEqual(load!.medianPct);
    expect(load!.maxPct).toBeLessThanOrEqual(100);
    expect(load!.beforePct).toBeGreaterThanOrEqual(0);
    expect(load!.beforePct).toBeLessThanOrEqual(100);
  });
});
