import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../store/settings';
import {
  KEYS, loadDraft, loadPaneLayouts, loadPreviousDraft, loadSettings, memoryStorage, parseSettings,
  saveDraft, savePaneLayout, saveSettings, setAsideDraft, validPaneLayout,
} from './persist';

describe('settings persistence', () => {
  it('round-trips', () => {
    const s = memoryStorage();
    const settings = { ...DEFAULT_SETTINGS, theme: 'light' as const, strategy: 'apicv' as const, speed: 16, abMode: true, layoutPreset: 'cache' };
    saveSettings(s, settings);
    expect(loadSettings(s)).toEqual(settings);
  });

  it('falls back field by field on bad data', () => {
    expect(parseSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings({ theme: 'neon', strategy: 'none', icacheSize: -3, speed: 7, preset: 'x', layoutPreset: 'bogus' })).toEqual({ ...DEFAULT_SETTINGS, strategy: 'none' });
    const s = memoryStorage();
    s.setItem(KEYS.settings, '{not json');
    expect(loadSettings(s)).toEqual(DEFAULT_SETTINGS);
  });
});

describe('layout persistence', () => {
  it('keeps each group layout', () => {
    const s = memoryStorage();
    savePaneLayout(s, 'main', { editor: 40, machine: 60 });
    savePaneLayout(s, 'col-left', { pipeline: 50, walk: 30, registers: 10, console: 10 });
    savePaneLayout(s, 'main', { editor: 30, machine: 70 });
    expect(loadPaneLayouts(s)).toEqual({
      main: { editor: 30, machine: 70 },
      'col-left': { pipeline: 50, walk: 30, registers: 10, console: 10 },
    });
  });

  it('uses a stored layout only if it matches the panels and adds up', () => {
    expect(validPaneLayout({ a: 50, b: 50 }, ['a', 'b'])).toEqual({ a: 50, b: 50 });
    expect(validPaneLayout({ a: 50, b: 50 }, ['a', 'b', 'c'])).toBeUndefined();
    expect(validPaneLayout({ a: 50, c: 50 }, ['a', 'b'])).toBeUndefined();
    expect(validPaneLayout({ a: 90, b: 50 }, ['a', 'b'])).toBeUndefined();
    expect(validPaneLayout({ a: -10, b: 110 }, ['a', 'b'])).toBeUndefined();
    expect(validPaneLayout({ a: 'x', b: 50 }, ['a', 'b'])).toBeUndefined();
    expect(validPaneLayout([50, 50], ['0', '1'])).toBeUndefined();
  });

  it('drops corrupt stored layouts', () => {
    const s = memoryStorage();
    s.setItem(KEYS.layout, JSON.stringify({ v: 1, groups: { main: { editor: 200 }, 'BAD ID': { a: 100 }, ok: { x: 100 } } }));
    expect(loadPaneLayouts(s)).toEqual({ ok: { x: 100 } });
    s.setItem(KEYS.layout, '[]');
    expect(loadPaneLayouts(s)).toEqual({});
  });
});

describe('drafts', () => {
  it('sets the current draft aside before other text replaces it', () => {
    const s = memoryStorage();
    saveDraft(s, 'my work');
    expect(loadDraft(s)).toBe('my work');
    expect(setAsideDraft(s, 'my work', 'shared program')).toBe(true);
    expect(loadPreviousDraft(s)).toBe('my work');
    expect(setAsideDraft(s, '   ', 'x')).toBe(false);
    expect(setAsideDraft(s, 'same', 'same')).toBe(false);
  });

  it('survives a storage that throws', () => {
    const broken = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('quota'); }, removeItem: () => {} };
    expect(loadDraft(broken)).toBeNull();
    expect(() => saveDraft(broken, 'x')).not.toThrow();
    expect(loadSettings(broken)).toEqual(DEFAULT_SETTINGS);
    expect(loadPaneLayouts(broken)).toEqual({});
  });
});
