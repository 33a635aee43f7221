/**
 * Text for a page canvas, drawn on an OffscreenCanvas and copied in. Chrome brings the page's
 * style and layout up to date before a document canvas's fillText (its font and direction
 * resolve against the element), so a draw in an effect after React's commit did the whole
 * commit's style and layout there, inside the commit's task. An OffscreenCanvas has no element
 * and copying its bitmap needs no style: the page lays out once, in its frame. The bitmap is
 * redrawn only when its key changes.
 */
export class TextLayer {
  private key = '';
  private bitmap: OffscreenCanvas | null = null;

  /**
   * Draws `paint`'s text (in CSS pixels, w × h) at the origin of `g`'s current transform, the
   * same as painting on `g` would. `key` names everything the text depends on but w and h.
   */
  draw(g: CanvasRenderingContext2D, key: string, w: number, h: number, paint: (t: OffscreenCanvasRenderingContext2D) => void): void {
    if (typeof OffscreenCanvas === 'undefined') {
      paint(g as unknown as OffscreenCanvasRenderingContext2D); // an older browser: the slow path
      return;
    }
    const dpr = globalThis.devicePixelRatio || 1;
    const pw = Math.max(1, Math.round(w * dpr));
    const ph = Math.max(1, Math.round(h * dpr));
    const full = `${key}|${pw}x${ph}`;
    if (this.bitmap === null || full !== this.key) {
      this.bitmap ??= new OffscreenCanvas(pw, ph);
      this.bitmap.width = pw; // also clears it
      this.bitmap.height = ph;
      const t = this.bitmap.getContext('2d');
      if (!t) return;
      t.setTransform(dpr, 0, 0, dpr, 0, 0);
      paint(t);
      this.key = full;
    }
    g.drawImage(this.bitmap, 0, 0, w, h);
  }
}
