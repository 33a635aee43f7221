/**
 * The sensitivity curves on real runs of the microbenchmark: they agree with the what-if figure
 * at the current value, with a full re-run under another value, and with the band interval.
 */
import { describe, expect, it } from 'vitest';
import { COST_CONSTANTS, COST_PRESETS } from '../../core/cost';
import { SEED_BAND, whatIfSpeedup } from '../../core/experiment';
import { runWorkload } from '../../core/experimentRun';
import { SCENARIOS } from '../../scenarios';
import { bandText, charges, sensitivity } from './sensitivity';
import { sliderMax } from './sliders';

const preset = 'nehalem-2014';
const model = COST_PRESETS[preset];
const source = SCENARIOS.find((s) => s.name === 'lapic-microbench')!.source;
const run = (strategy: 'none' | 'icache' | 'decode-assist', costModel = model) => runWorkload('lapic-microbench', source, strategy, { preset, costModel });
const none = run('none');
const icache = run('icache');
const decodeAssist = run('decode-assist');

describe('sensitivity of the microbenchmark\'s speed-up', () => {
  it('at the current value each curve is the what-if speed-up, for every constant the runs charge', () => {
    for (const k of COST_CONSTANTS) {
      if (!charges([none, icache, decodeAssist], k)) continue;
      const max = sliderMax(model[k]);
      const s = sensitivity(none, { icache, 'decode-assist': decodeAssist }, model, k, max);
      expect(s.lines.map((l) => l.strategy)).toEqual(['icache', 'decode-assist']);
      // 41 points over 0..4x the preset: the preset's own value is point 10.
      expect(s.values[10]).toBeCloseTo(model[k], 9);
      expect(s.lines[0].speedups[10], k).toBeCloseTo(whatIfSpeedup(none, icache, model), 12);
      expect(s.lines[1].speedups[10], k).toBeCloseTo(whatIfSpeedup(none, decodeAssist, model), 12);
    }
  });

  it('a point of the curve equals a full re-run with that value', () => {
    const s = sensitivity(none, { icache }, model, 'exit', sliderMax(model.exit));
    const v = s.values[25];
    const m = { ...model, exit: v };
    const rerun = run('none', m).cycles.total / run('icache', m).cycles.total - 1;
    expect(s.lines[0].speedups[25]).toBeCloseTo(rerun, 12);
  });

  it('the points inside the band interval are the points whose speed-up is inside the band', () => {
    for (const k of ['exit', 'walkRefLatency', 'emulate', 'decodePerByte'] as const) {
      const s = sensitivity(none, { icache }, model, k, sliderMax(model[k]));
      const line = s.lines[0];
      s.values.forEach((v, i) => {
        const sp = line.speedups[i];
        const inside = sp >= SEED_BAND[0] - 1e-12 && sp <= SEED_BAND[1] + 1e-12;
        const inInterval = line.band !== null && v >= line.band[0] - 1e-9 && v <= line.band[1] + 1e-9;
        expect(inInterval, `${k} = ${v}: speed-up ${sp}`).toBe(inside);
      });
    }
  });

  it('a constant neither run charges cannot move the speed-up', () => {
    expect(charges([none, icache], 'invalidatePerEntry')).toBe(false);
    const s = sensitivity(none, { icache }, model, 'invalidatePerEntry', 4);
    expect(new Set(s.lines[0].speedups).size).toBe(1);
  });

  it('says the band in words, within the slider', () => {
    expect(bandText(null, 10)).toBe('never');
    expect(bandText([20, 30], 10)).toBe('> 10');
    expect(bandText([2, Infinity], 10)).toBe('≥ 2');
    expect(bandText([1200.4, 1500], 4000)).toBe('1,200–1,500');
    expect(bandText([0.25, 0.5], 4)).toBe('0.25–0.5');
  });
});
