/** The text of a line's exit counts in the editor, and where it fits: pure, for lineStatWidgets. */
import type { LineStat } from '../../worker/protocol';
import { int } from '../panels/lib/format';

/**
 * "3 exits · 2 hits". An exit taken while delivering an interrupt before the line's
 * instruction ran (its frame push set A/D bits on a protected table page) is not the
 * instruction's: the mark says so.
 */
export function lineStatText(l: LineStat): string {
  const exits = `${int(l.exits)} exit${l.exits === 1 ? '' : 's'}`;
  const d = l.delivery ?? 0;
  const who = d === 0 ? '' : d === l.exits
    ? ` (interrupt delivery's A/D-bit update, not this instruction)`
    : ` (${int(d)} by interrupt delivery's A/D-bit update, not this instruction)`;
  return `${exits}${who}${l.hits ? ` · ${int(l.hits)} hit${l.hits === 1 ? '' : 's'}` : ''}`;
}

/** A line's width in columns of a monospace font, tabs expanded to the next stop. */
export function visibleColumns(text: string, tabSize: number): number {
  let col = 0;
  for (const c of text) col = c === '\t' ? col + tabSize - (col % tabSize) : col + 1;
  return col;
}

/**
 * How far left (px) counts `widthPx` wide, placed after their line's end at `endPx`, must move to
 * end by `edgePx`: 0 when they fit. Counts wider than the whole text area keep their start in it
 * (`startPx`, where it begins): the figure comes first.
 */
export function pinShift(endPx: number, widthPx: number, startPx: number, edgePx: number): number {
  return Math.max(0, Math.min(Math.ceil(endPx + widthPx - edgePx), Math.floor(endPx - startPx)));
}
