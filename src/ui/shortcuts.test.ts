import { describe, expect, it } from 'vitest';
import { layoutShortcut, shortcutFor } from './shortcuts';

const key = (key: string, mods: Partial<{ shiftKey: boolean; ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) =>
  ({ key, shiftKey: false, ctrlKey: false, metaKey: false, altKey: false, ...mods });

describe('shortcuts', () => {
  it('map the documented keys', () => {
    expect(shortcutFor(key('F5'), false)).toBe('run');
    expect(shortcutFor(key('F10'), false)).toBe('step');
    expect(shortcutFor(key('F10', { shiftKey: true }), false)).toBe('stepExit');
    expect(shortcutFor(key('F10', { ctrlKey: true }), false)).toBe('stepBack');
    expect(shortcutFor(key('F10', { ctrlKey: true, shiftKey: true }), false)).toBe('backExit');
    expect(shortcutFor(key('Enter', { ctrlKey: true }), false)).toBe('assembleAndReset');
    expect(shortcutFor(key('Enter', { metaKey: true }), false)).toBe('assembleAndReset');
  });
  it('leave Esc to the editor unless a run is going', () => {
    expect(shortcutFor(key('Escape'), false)).toBeNull();
    expect(shortcutFor(key('Escape'), true)).toBe('pause');
    expect(shortcutFor(key('Enter'), false)).toBeNull();
    expect(shortcutFor(key('F5', { altKey: true }), false)).toBeNull();
  });
  it('pick a layout preset with Alt and a digit, by the key pressed (any keyboard layout)', () => {
    const code = (c: string, mods: Partial<{ shiftKey: boolean; ctrlKey: boolean; altKey: boolean }> = {}) =>
      ({ code: c, shiftKey: false, ctrlKey: false, metaKey: false, altKey: true, ...mods });
    expect(layoutShortcut(code('Digit1'), 4)).toBe(0);
    expect(layoutShortcut(code('Digit4'), 4)).toBe(3);
    expect(layoutShortcut(code('Digit5'), 4)).toBeNull();
    expect(layoutShortcut(code('Digit1', { altKey: false }), 4)).toBeNull();
    expect(layoutShortcut(code('Digit1', { ctrlKey: true }), 4)).toBeNull();
    expect(layoutShortcut(code('KeyA'), 4)).toBeNull();
  });
});
