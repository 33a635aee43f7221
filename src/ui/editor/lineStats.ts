/** The text of a line's exit counts in the editor, and where it fits: pure, for lineStatWidgets. */
import type { LineStat } from '../../worker/protocol';
import { counted, int } from '../panels/lib/format';

/**
 * "3 exits · 2 hits". An exit taken while the CPU delivered an event at the line (an interrupt
 * before its instruction ran, or the exception it raised: reading the gate or pushing the frame
 * set A/D bits on a protected table page) is not the instruction's own access: the mark says so.
 */
export function lineStatText(l: LineStat): string {
  const exits = exitCount(l);
  const d = l.delivery ?? 0;
  const who = d === 0 ? '' : d === l.exits
    ? ` (event delivery's A/D-bit update, not this instruction's own access)`
    : ` (${int(d)} by event delivery's A/D-bit update, not this instruction's own access)`;
  return `${exits}${who}${l.hits ? ` · ${counted(l.hits, 'hit')}` : ''}`;
}

/** A line's width in columns of a monospace font, tabs expanded to the next stop. */
export function visibleColumns(text: string, tabSize: number): number {
  let col = 0;
  for (const c of text) col = c === '\t' ? col + tabSize - (col % tabSize) : col + 1;
  return col;
}

/**
 * "5,000 exits": the counts without the hits, and the event delivery's share said in a few
 * words, for a line that leaves too little room (the line's hover has them all).
 */
export function lineStatShortText(l: LineStat): string {
  const d = l.delivery ?? 0;
  const who = d === 0 ? '' : d === l.exits ? ' (by event delivery)' : ` (${int(d)} by event delivery)`;
  return `${exitCount(l)}${who}`;
}

/** "5,000 exits", "1 exit". */
export function exitCount(l: Pick<LineStat, 'exits'>): string {
  return counted(l.exits, 'exit');
}

/**
 * A count of exits in at most 4 characters: 999 -> "999", 5000 -> "5k", 1500 -> "1.5k",
 * 12,345 -> "12k", 999,600 -> "1M". Rounded: the line's hover has the exact count.
 */
export function exitCountCompact(n: number): string {
  if (n < 1000) return String(n);
  for (const [unit, sym] of [[1e3, 'k'], [1e6, 'M'], [1e9, 'G']] as const) {
    const x = n / unit;
    const s = x < 9.95 ? x.toFixed(1).replace(/\.0$/, '') : String(Math.round(x));
    if (Number(s) < 1000 || sym === 'G') return s + sym;
  }
  return String(n);
}

/** A form of a line's counts: its text, and the space between it and the code, in its own ch. */
export interface CountForm { text: string; gapCh: number }

/**
 * A line's counts in each form, widest first, as `placeCounts` tries them: whole ("5,000 exits ·
 * 4,999 hits"), short ("5,000 exits"), and the count alone ("5k×", on a narrower gap; "1×
 * (delivery)" first where event delivery took exits on the line). The count alone is one
 * form for every tight line, so the lines of a loop that exit alike read alike; the unit is in
 * the line's hover, with the exact counts.
 */
export function lineStatForms(l: LineStat): CountForm[] {
  const n = `${exitCountCompact(l.exits)}×`;
  const d = l.delivery ?? 0;
  return [
    { text: lineStatText(l), gapCh: 2 },
    { text: lineStatShortText(l), gapCh: 2 },
    // Interrupt delivery's exits are not the instruction's: said in a word where it fits.
    ...d === 0 ? [] : [{ text: `${n} (${d === l.exits ? '' : `${exitCountCompact(d)} `}delivery)`, gapCh: 1 }],
    { text: n, gapCh: 1 },
  ];
}

/**
 * Where a line's counts go: moved `shift` px left of the line's end, which of its forms (an index
 * into the widths given, 0 the whole counts), whether before the code, in the line's indentation
 * (`lead`: the gap then after them), and whether they are cut (then not shown).
 */
export interface CountPlace { shift: number; form: number; lead: boolean; cut: boolean }

/**
 * Where a line's counts go in a text area from `startPx` to `edgePx`, given the widths of their
 * forms widest first, each with its gap (`formsPx`: 0 the whole counts, 1 short, the last the
 * count alone): after the line when the whole counts fit (`endPx`: where its text ends); else
 * ending at the edge, over the line's comment but not its code (`codeEndPx`: where the code
 * before the comment ends), in the widest form that leaves the code whole. Code the area shows
 * whole they never cover: when not even the count alone fits beside it (lesson 4's `mov dword
 * [rbx + LAPIC_TPR], 0x10` at 1280x720 leaves ~2 ch), it goes before the code (`lead`), ending
 * where the code starts (`indentPx`), in the line's indentation and the blank gutter left of
 * the area (`gutterPx` wide: "2.5k×" is wider than 4 columns of indentation); only when that
 * is too narrow are they cut, and not shown (the line's hover has them). Code that runs past the
 * edge is cut anyway: short counts go over its end, keeping their start in the area.
 */
export function placeCounts(endPx: number, codeEndPx: number, indentPx: number, formsPx: readonly number[], startPx: number, edgePx: number, gutterPx = 0): CountPlace {
  const at = (form: number): CountPlace => ({ shift: Math.max(0, Math.ceil(endPx + formsPx[form] - edgePx)), form, lead: false, cut: false });
  if (endPx + formsPx[0] <= edgePx || codeEndPx + formsPx[0] <= edgePx) return at(0);
  if (codeEndPx <= edgePx) {
    for (let f = 1; f < formsPx.length; f++) if (codeEndPx + formsPx[f] <= edgePx) return at(f);
    const f = formsPx.length - 1;
    if (indentPx >= startPx && indentPx - startPx + gutterPx >= formsPx[f]) return { shift: Math.ceil(endPx - indentPx + formsPx[f]), form: f, lead: true, cut: false };
    return { shift: 0, form: 0, lead: false, cut: true };
  }
  const p = at(Math.min(1, formsPx.length - 1));
  return { ...p, shift: Math.max(0, Math.min(p.shift, Math.floor(endPx - startPx))) };
}
