/**
 * Sets a 2D context's font only when it is not that font already. Chrome resolves every font
 * it is given against the canvas element's style, which forces a style pass when the page has
 * pending changes (a redraw in an effect after React's commit paid for the whole commit's
 * restyle there). The context keeps its font until its bitmap is resized.
 */
const asRead = new Map<string, string>();

export function setCanvasFont(g: CanvasRenderingContext2D, font: string): void {
  if (asRead.get(font) === g.font) return;
  g.font = font;
  asRead.set(font, g.font);
}
