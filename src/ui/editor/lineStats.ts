/** The text of a line's exit counts in the editor, and where it fits: pure, for lineStatWidgets. */
import type { LineStat } from '../../worker/protocol';
import { counted, int } from '../panels/lib/format';

/**
 * "3 exits · 2 hits". An exit taken while delivering an interrupt before the line's
 * instruction ran (its frame push set A/D bits on a protected table page) is not the
 * instruction's: the mark says so.
 */
export function lineStatText(l: LineStat): string {
  const exits = exitCount(l);
  const d = l.delivery ?? 0;
  const who = d === 0 ? '' : d === l.exits
    ? ` (interrupt delivery's A/D-bit update, not this instruction)`
    : ` (${int(d)} by interrupt delivery's A/D-bit update, not this instruction)`;
  return `${exits}${who}${l.hits ? ` · ${counted(l.hits, 'hit')}` : ''}`;
}

/** A line's width in columns of a monospace font, tabs expanded to the next stop. */
export function visibleColumns(text: string, tabSize: number): number {
  let col = 0;
  for (const c of text) col = c === '\t' ? col + tabSize - (col % tabSize) : col + 1;
  return col;
}

/**
 * "5,000 exits": the counts without the hits, and the interrupt delivery's share said in a few
 * words, for a line that leaves too little room (the line's hover has them all).
 */
export function lineStatShortText(l: LineStat): string {
  const d = l.delivery ?? 0;
  const who = d === 0 ? '' : d === l.exits ? ' (by interrupt delivery)' : ` (${int(d)} by interrupt delivery)`;
  return `${exitCount(l)}${who}`;
}

/** "5,000 exits", "1 exit". */
export function exitCount(l: Pick<LineStat, 'exits'>): string {
  return counted(l.exits, 'exit');
}

/**
 * Where a line's counts go: moved `shift` px left of the line's end, whether in their short form,
 * and whether the edge cuts them (then they are not shown: "5,00" would read as another number).
 */
export interface CountPlace { shift: number; short: boolean; cut: boolean }

/**
 * Where a line's counts go in a text area from `startPx` to `edgePx`: after the line when they fit
 * (`endPx`: where its text ends); else ending at the edge, over the line's comment but not its
 * code (`codeEndPx`: where the code before the comment ends), short (exits only) if the whole
 * counts leave no room. Code the area shows whole they never cover: with no room beside it they
 * are cut, and not shown (the hover has them). Code that runs past the edge is cut anyway: short
 * counts go over its end, keeping their start in the area.
 */
export function placeCounts(endPx: number, codeEndPx: number, fullPx: number, shortPx: number, startPx: number, edgePx: number): CountPlace {
  const at = (widthPx: number, short: boolean): CountPlace => ({ shift: Math.max(0, Math.ceil(endPx + widthPx - edgePx)), short, cut: false });
  if (endPx + fullPx <= edgePx || codeEndPx + fullPx <= edgePx) return at(fullPx, false);
  if (codeEndPx + shortPx <= edgePx) return at(shortPx, true);
  if (codeEndPx <= edgePx) return { shift: 0, short: false, cut: true };
  const p = at(shortPx, true);
  return { ...p, shift: Math.max(0, Math.min(p.shift, Math.floor(endPx - startPx))) };
}
