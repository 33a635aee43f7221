/**
 * The sensitivity curves on real runs of the microbenchmark: they agree with the what-if figure
 * at the current value, with a full re-run under another value, and with the band interval.
 */
import { describe, expect, it } from 'vitest';
import { COST_CONSTANTS, COST_PRESETS } from '../../core/cost';
import { bandInterval, SEED_BAND, whatIfSpeedup } from '../../core/experiment';
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

  it('says the band in words: its ends rounded inwards, so a printed end is in the band, past the slider too', () => {
    expect(bandText(null)).toBe('never');
    expect(bandText([2, Infinity])).toBe('≥ 2');
    expect(bandText([1200.4, 1500])).toBe('1,201–1,500');
    expect(bandText([0.25, 0.5])).toBe('0.25–0.5');
    // nehalem's exit band, [3126.16, 3644.57]: 3,126 and 3,645 are outside it.
    expect(bandText([3126.16, 3644.57])).toBe('3,127–3,644');
    // Past a slider that ends at 1,600 ("> 1,600" had claimed 3,000).
    expect(bandText([1675.3, 2195.8])).toBe('1,676–2,195');
    // Too long for the column: three significant digits, still inwards.
    expect(bandText([2_145_678, 2_600_123])).toBe('2.15M–2.6M');
    expect(bandText([5.0001, 5.0002])).toBe('≈ 5');
  });

  it("the band's printed ends, put in the model, give speed-ups inside 35-40 %", () => {
    for (const constant of ['exit', 'emulate', 'icacheLookup'] as const) {
      const band = bandInterval(none, icache, model, constant);
      if (band === null) continue;
      const [lo, hi] = bandText(band).split('–').map((t) => Number(t.replace(/,/g, '')));
      for (const v of [lo, hi]) {
        const sp = whatIfSpeedup(none, icache, { ...model, [constant]: v });
        expect(sp, `${constant} = ${v}`).toBeGreaterThanOrEqual(0.35);
        expect(sp, `${constant} = ${v}`).toBeLessThanOrEqual(0.4);
      }
    }
  });
});
