import { describe, expect, it } from 'vitest';
import { setCanvasFont } from './canvasFont';

/** A context whose font setter counts its calls and, like Chrome's, reads back a normalised form. */
function countingContext() {
  let font = '10px sans-serif';
  const ctx = { sets: 0 } as { sets: number; font: string };
  Object.defineProperty(ctx, 'font', {
    get: () => font,
    set: (v: string) => { ctx.sets++; font = v.replace(/\s+/g, ' ').trim(); },
  });
  return ctx;
}

describe('setCanvasFont', () => {
  it('sets a font the context does not have, and not again while it keeps it', () => {
    const g = countingContext();
    setCanvasFont(g as unknown as CanvasRenderingContext2D, '9px  ui-monospace, monospace');
    setCanvasFont(g as unknown as CanvasRenderingContext2D, '9px  ui-monospace, monospace');
    expect(g.sets).toBe(1);
    expect(g.font).toBe('9px ui-monospace, monospace');
  });

  it('sets it again after the context lost it (a resized canvas resets its state)', () => {
    const g = countingContext();
    setCanvasFont(g as unknown as CanvasRenderingContext2D, '11px serif');
    g.font = '10px sans-serif'; // what a bitmap resize does
    setCanvasFont(g as unknown as CanvasRenderingContext2D, '11px serif');
    expect(g.sets).toBe(3);
    expect(g.font).toBe('11px serif');
  });
});
