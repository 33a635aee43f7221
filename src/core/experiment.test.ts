import { describe, expect, it } from 'vitest';
import { COST_PRESET_NAMES, COST_PRESETS, cyclesOfUnits, STAGE_CONSTANTS, type CostConstant, type CostModel } from './cost';
import { EXPERIMENT_WORKLOADS, speedup, timeSaved, whatIfCycles, whyFigures } from './experiment';
import { runWorkload } from './experimentRun';
import { STRATEGIES } from './events';
import { SCENARIOS } from '../scenarios';

const source = (name: string) => {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`no scenario ${name}`);
  return s.source;
};

/** A model no preset has: every constant moved, some up and some down, guestInsn a binary fraction. */
function oddModel(base: CostModel): CostModel {
  const m = { ...base };
  m.exit = base.exit * 2;
  m.walkRefLatency = base.walkRefLatency + 37;
  m.decodeBase = Math.round(base.decodeBase / 3);
  m.icacheLookup = base.icacheLookup * 5;
  m.eptProtectPage = 17;
  m.guestInsn = 0.625;
  return m;
}

describe('cost units', () => {
  it('units × the constants equal the run\'s cycles, in total and per stage, for every scenario and strategy', () => {
    const model = COST_PRESETS['nehalem-2014'];
    for (const s of SCENARIOS) {
      for (const strategy of STRATEGIES) {
        const r = runWorkload(s.name, s.source, strategy, { preset: 'nehalem-2014' });
        const what = `${s.name}/${strategy}`;
        expect(cyclesOfUnits(r.units, model), what).toBe(r.cycles.total);
        // The same constants charged for a memory operand are the emulate stage's (operandCharge.test).
        const rip = (keys: readonly CostConstant[]) => cyclesOfUnits(r.units, model, keys) - cyclesOfUnits(r.operandUnits, model, keys);
        expect(rip(STAGE_CONSTANTS.walk), what).toBe(r.cycles.walk);
        expect(rip(STAGE_CONSTANTS.fetch), what).toBe(r.cycles.fetch);
        expect(rip(STAGE_CONSTANTS.decode), what).toBe(r.cycles.decode);
      }
    }
  }, 120_000);
});

describe('what-if recomputation', () => {
  it('knows which workloads see time pass (only the timer-driven loop does)', () => {
    for (const name of EXPERIMENT_WORKLOADS) {
      const r = runWorkload(name, source(name), 'none', { preset: 'nehalem-2014' });
      expect(r.sawTime, name).toBe(name === 'cpu-bound-timer');
    }
  });

  // The instant figure of the what-if view, for every timer-free workload × strategy × preset:
  // the units recorded under any one model, times another model's constants, equal a full run
  // under that other model (each preset, and a model no preset has).
  for (const name of EXPERIMENT_WORKLOADS.filter((w) => w !== 'cpu-bound-timer')) {
    it(`${name}: units recorded under one model × another model's constants = a full run under it, every strategy and preset`, () => {
      for (const strategy of STRATEGIES) {
        const runs = [
          ...COST_PRESET_NAMES.map((preset) => ({ label: preset, model: COST_PRESETS[preset], r: runWorkload(name, source(name), strategy, { preset }) })),
          { label: 'odd', model: oddModel(COST_PRESETS['nehalem-2014']), r: runWorkload(name, source(name), strategy, { preset: 'nehalem-2014', costModel: oddModel(COST_PRESETS['nehalem-2014']) }) },
        ];
        for (const from of runs) {
          expect(from.r.sawTime).toBe(false);
          for (const to of runs) {
            expect(whatIfCycles(from.r, to.model), `${name}/${strategy}: ${from.label} -> ${to.label}`).toBe(to.r.cycles.total);
          }
        }
      }
    }, 120_000);
  }

  it('a guest that reads the TSC has seen time pass', () => {
    const r = runWorkload('tsc', '_start:\n    rdtsc\n    hlt\n', 'none', { preset: 'nehalem-2014' });
    expect(r.stop).toBe('halted');
    expect(r.sawTime).toBe(true);
  });

  it('a timer-driven run under other costs takes another path (why its instant figure is an estimate)', () => {
    const name = 'cpu-bound-timer';
    const r = runWorkload(name, source(name), 'none', { preset: 'nehalem-2014' });
    const model = { ...COST_PRESETS['nehalem-2014'], guestInsn: 2 };
    const again = runWorkload(name, source(name), 'none', { preset: 'nehalem-2014', costModel: model });
    expect(again.exits).not.toBe(r.exits);
    expect(whatIfCycles(r, model)).not.toBe(again.cycles.total);
  });
});

describe('speed-up readings', () => {
  it('reads one ratio two ways: throughput gained and time saved', () => {
    expect(speedup(162, 100)).toBeCloseTo(0.62, 12);
    expect(timeSaved(162, 100)).toBeCloseTo(62 / 162, 12);
    const s = speedup(76_096_358, 47_061_108);
    expect(timeSaved(76_096_358, 47_061_108)).toBeCloseTo(s / (1 + s), 12);
  });

  it('the why-figures of the microbenchmark: an exit every other instruction, most cycles in walk, fetch and decode under none', () => {
    const name = 'lapic-microbench';
    const model = COST_PRESETS['nehalem-2014'];
    const r = runWorkload(name, source(name), 'none', { preset: 'nehalem-2014' });
    const why = whyFigures(r, model);
    expect(why.exitsPerKiloInsn).toBe((r.exits * 1000) / r.retired);
    expect(why.walkFetchDecodeShare).toBe((r.cycles.walk + r.cycles.fetch + r.cycles.decode) / r.cycles.total);
  });
});
