import { describe, expect, it } from 'vitest';
import {
  COST_PRESETS,
  COST_PRESET_NAMES,
  COST_PRESET_TITLES,
  type CostModel,
  COST_CONSTANTS,
  chargeCycles,
  costPreset,
  cyclesOfUnits,
  decodeCycles,
  newCostUnits,
  fetchCycles,
  guestCycles,
  icacheInsertCycles,
  invalidateCycles,
  isCostPresetName,
  walkCycles,
} from './cost';

// The full key list, written out, so a constant missing from a preset fails here and a new
// constant must be added to this list on purpose.
const KEYS: readonly (keyof CostModel)[] = [
  'exit', 'walkRefLatency', 'walkRefOverhead', 'mapPage', 'copyBase', 'copyPerByte',
  'decodeBase', 'decodePerByte', 'emulate', 'icacheLookup', 'icacheInsert', 'eptProtectPage',
  'invept', 'invalidateBase', 'invalidatePerEntry', 'apicvAccess', 'apicWriteHandler',
  'guestInsn', 'injectInterrupt', 'ipiSend', 'timerArm',
];

describe('cost presets', () => {
  it('lists the same presets in names, table and titles', () => {
    expect(Object.keys(COST_PRESETS).sort()).toEqual([...COST_PRESET_NAMES].sort());
    expect(Object.keys(COST_PRESET_TITLES).sort()).toEqual([...COST_PRESET_NAMES].sort());
    expect(COST_PRESET_NAMES).toContain('nehalem-2014');
    expect(COST_PRESET_NAMES).toContain('skylake-2020');
  });

  for (const name of COST_PRESET_NAMES) {
    describe(name, () => {
      const m = COST_PRESETS[name];
      it('has every constant and nothing else', () => {
        expect(Object.keys(m).sort()).toEqual([...KEYS].sort());
      });
      it('has only positive finite numbers', () => {
        for (const k of KEYS) {
          expect(typeof m[k], k).toBe('number');
          expect(Number.isFinite(m[k]), k).toBe(true);
          expect(m[k], k).toBeGreaterThan(0);
        }
      });
      it('charges a 24-reference walk more than one cache-hit lookup', () => {
        expect(walkCycles(24, 5, m)).toBeGreaterThan(m.icacheLookup);
        expect(walkCycles(24, 5, m)).toBeGreaterThan(walkCycles(4, 1, m));
      });
      it('charges each page a walk holds, as bhyve holds each table page and the page found', () => {
        expect(walkCycles(24, 5, m) - walkCycles(24, 1, m)).toBe(4 * m.mapPage);
      });
      it('charges a full miss path (walk, fetch, decode) more than a hit', () => {
        const miss = walkCycles(24, 5, m) + fetchCycles(15, m) + decodeCycles(4, m);
        expect(miss).toBeGreaterThan(m.icacheLookup);
      });
      it('makes an exit far dearer than a guest instruction or an APICv access', () => {
        expect(m.exit).toBeGreaterThan(100 * m.guestInsn);
        expect(m.exit).toBeGreaterThan(m.apicvAccess);
        expect(m.exit + m.apicWriteHandler).toBeGreaterThan(m.apicvAccess);
      });
      it('makes a longer instruction dearer to decode and to fetch', () => {
        expect(decodeCycles(7, m)).toBeGreaterThan(decodeCycles(2, m));
        expect(fetchCycles(15, m)).toBeGreaterThan(fetchCycles(4, m));
      });
      it('charges INVEPT only when a page changed protection', () => {
        expect(icacheInsertCycles(0, m)).toBe(m.icacheInsert);
        expect(icacheInsertCycles(2, m)).toBe(m.icacheInsert + 2 * m.eptProtectPage + m.invept);
        expect(invalidateCycles(3, 0, m)).toBe(m.invalidateBase + 3 * m.invalidatePerEntry);
        expect(invalidateCycles(1, 1, m)).toBe(
          m.invalidateBase + m.invalidatePerEntry + m.eptProtectPage + m.invept,
        );
      });
      it('sums guest cycles exactly (binary-fraction cost per instruction)', () => {
        let acc = 0;
        for (let i = 0; i < 1000; i++) acc += m.guestInsn;
        expect(acc).toBe(guestCycles(1000, m));
      });
    });
  }

  it('records, in units, exactly what each stage helper charges', () => {
    expect([...COST_CONSTANTS].sort()).toEqual([...KEYS].sort());
    const m = COST_PRESETS['skylake-2020'];
    const u = newCostUnits();
    const charged =
      walkCycles(24, 6, m, u) + fetchCycles(15, m, u) + decodeCycles(7, m, u) + icacheInsertCycles(3, m, u) +
      icacheInsertCycles(0, m, u) + invalidateCycles(2, 1, m, u) + guestCycles(1001, m, u) + chargeCycles('exit', 3, m, u);
    expect(cyclesOfUnits(u, m)).toBe(charged);
    expect(u).toMatchObject({ walkRefLatency: 24, mapPage: 6, copyPerByte: 15, decodePerByte: 7, icacheInsert: 2, eptProtectPage: 4, invept: 2, exit: 3, guestInsn: 1001 });
    // The same units under another host's constants: what the what-if view computes.
    const n = COST_PRESETS['nehalem-2014'];
    expect(cyclesOfUnits(u, n)).toBe(
      walkCycles(24, 6, n) + fetchCycles(15, n) + decodeCycles(7, n) + icacheInsertCycles(3, n) + icacheInsertCycles(0, n) +
      invalidateCycles(2, 1, n) + guestCycles(1001, n) + 3 * n.exit,
    );
  });

  it('models the 2014 host as slower per exit than the 2020 host', () => {
    expect(COST_PRESETS['nehalem-2014'].exit).toBeGreaterThan(COST_PRESETS['skylake-2020'].exit);
  });

  it('looks presets up by name and rejects unknown names', () => {
    expect(isCostPresetName('skylake-2020')).toBe(true);
    expect(isCostPresetName('pentium')).toBe(false);
    expect(costPreset('nehalem-2014')).toBe(COST_PRESETS['nehalem-2014']);
    expect(() => costPreset('pentium')).toThrow(/unknown cost preset/);
  });
});
