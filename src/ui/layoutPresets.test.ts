import { describe, expect, it } from 'vitest';
import { abPlacements, placements } from '../store/layout';
import { DEFAULT_LAYOUT_ID, LAYOUT_PRESETS, isLayoutPresetId, layoutPreset } from './layoutPresets';
import { PANELS } from './panelRegistry';

describe('layout presets', () => {
  it('each place every panel of the registry exactly once', () => {
    const all = PANELS.map((p) => p.id).sort();
    for (const preset of LAYOUT_PRESETS) {
      expect(placements(preset).map((p) => p.id).sort(), preset.id).toEqual(all);
    }
  });

  it('split the width into columns that add up to 100% and leave the editor room', () => {
    for (const preset of LAYOUT_PRESETS) {
      expect(preset.columns.reduce((a, c) => a + c.size, 0), preset.id).toBe(100);
      expect(preset.editor).toBeGreaterThanOrEqual(20);
      expect(preset.editor).toBeLessThanOrEqual(45);
      expect(preset.id).toMatch(/^[a-z0-9-]{1,24}$/);
      // Something is open in every column.
      for (const c of preset.columns) expect(c.panels.some((p) => !p.collapsed), preset.id).toBe(true);
    }
  });

  it('in A/B mode open the panels each is named for, and only panels it places', () => {
    const named: Record<string, string[]> = { all: ['charts', 'pipeline'], exit: ['pipeline', 'walk'], cache: ['icache', 'memory'], numbers: ['bench-table', 'charts'] };
    for (const preset of LAYOUT_PRESETS) {
      const placed = placements(preset).map((p) => p.id);
      for (const id of Object.keys(preset.ab ?? {})) expect(placed, `${preset.id}: ${id}`).toContain(id);
      expect(abPlacements(preset).filter((p) => !p.collapsed).map((p) => p.id).sort(), preset.id).toEqual(named[preset.id]);
    }
  });

  it('are found by id, an unknown id giving the default', () => {
    expect(layoutPreset('exit').id).toBe('exit');
    expect(layoutPreset('nope').id).toBe(DEFAULT_LAYOUT_ID);
    expect(isLayoutPresetId('cache')).toBe(true);
    expect(isLayoutPresetId('../x')).toBe(false);
  });
});
