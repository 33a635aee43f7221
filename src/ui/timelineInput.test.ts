import { describe, expect, it } from 'vitest';
import { THUMB_HALF_PX, onThumb, thumbX, valueAtX, valueForKey } from './timelineInput';

const span = { min: 0, max: 100_000 };
const width = 816; // a run of 800 px for the thumb's centre

describe('the timeline slider, taken by the mouse and the keys as the native slider does', () => {
  it('puts the thumb centre half a thumb in from either end and maps a click back to the value drawn there', () => {
    expect(thumbX(0, width, span)).toBe(THUMB_HALF_PX);
    expect(thumbX(100_000, width, span)).toBe(width - THUMB_HALF_PX);
    expect(thumbX(50_000, width, span)).toBe(width / 2);
    for (const v of [0, 1, 125, 49_999, 50_000, 77_777, 99_999, 100_000]) expect(valueAtX(thumbX(v, width, span), width, span)).toBe(v);
  });

  it('clamps a press beyond either end of the run to the ends of the span', () => {
    expect(valueAtX(0, width, span)).toBe(0);
    expect(valueAtX(-40, width, span)).toBe(0);
    expect(valueAtX(width, width, span)).toBe(100_000);
    expect(valueAtX(THUMB_HALF_PX + 400, width, { min: 2_000, max: 4_000 })).toBe(3_000);
  });

  it('gives the only value of an empty span or a track with no room', () => {
    expect(valueAtX(300, width, { min: 7, max: 7 })).toBe(7);
    expect(valueAtX(5, 10, span)).toBe(0);
    expect(thumbX(7, width, { min: 7, max: 7 })).toBe(THUMB_HALF_PX);
  });

  it('tells a press on the thumb (grabbed, it does not jump) from one beside it', () => {
    const x = thumbX(30_000, width, span);
    expect(onThumb(x, 30_000, width, span)).toBe(true);
    expect(onThumb(x + THUMB_HALF_PX, 30_000, width, span)).toBe(true);
    expect(onThumb(x + THUMB_HALF_PX + 1, 30_000, width, span)).toBe(false);
    expect(onThumb(x - THUMB_HALF_PX - 1, 30_000, width, span)).toBe(false);
  });

  it('steps one exit by the arrows, a tenth of the span by Page Up/Down, to the ends by Home/End, within the span', () => {
    const s = { min: 100, max: 1_100 };
    expect(valueForKey('ArrowRight', 500, s)).toBe(501);
    expect(valueForKey('ArrowUp', 500, s)).toBe(501);
    expect(valueForKey('ArrowLeft', 500, s)).toBe(499);
    expect(valueForKey('ArrowDown', 500, s)).toBe(499);
    expect(valueForKey('PageUp', 500, s)).toBe(600);
    expect(valueForKey('PageDown', 500, s)).toBe(400);
    expect(valueForKey('PageUp', 1_050, s)).toBe(1_100);
    expect(valueForKey('PageDown', 150, s)).toBe(100);
    expect(valueForKey('ArrowLeft', 100, s)).toBe(100);
    expect(valueForKey('ArrowRight', 1_100, s)).toBe(1_100);
    expect(valueForKey('Home', 500, s)).toBe(100);
    expect(valueForKey('End', 500, s)).toBe(1_100);
    expect(valueForKey('PageUp', 3, { min: 0, max: 5 })).toBe(4); // at least one exit
  });

  it('leaves every other key to the page', () => {
    for (const key of ['Enter', ' ', 'Tab', 'a', 'F10']) expect(valueForKey(key, 5, span)).toBeNull();
  });
});
