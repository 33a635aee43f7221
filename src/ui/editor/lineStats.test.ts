import { describe, expect, it } from 'vitest';
import { exitCountCompact, lineStatForms, lineStatShortText, lineStatText, placeCounts, visibleColumns } from './lineStats';

describe('line exit counts', () => {
  it('say exits, then hits, with separators and singulars', () => {
    expect(lineStatText({ line: 3, exits: 1, lookups: 0, hits: 0 })).toBe('1 exit');
    expect(lineStatText({ line: 3, exits: 5000, lookups: 5000, hits: 4999 })).toBe('5,000 exits · 4,999 hits');
    expect(lineStatText({ line: 3, exits: 2, lookups: 2, hits: 1 })).toBe('2 exits · 1 hit');
    expect(lineStatShortText({ line: 3, exits: 5000, lookups: 5000, hits: 4999 })).toBe('5,000 exits');
  });

  it('say when an exit was event delivery, not the line', () => {
    expect(lineStatText({ line: 3, exits: 2, lookups: 0, hits: 0, delivery: 2 })).toBe("2 exits (event delivery's A/D-bit update, not this instruction's own access)");
    expect(lineStatText({ line: 3, exits: 3, lookups: 0, hits: 0, delivery: 1 })).toBe("3 exits (1 by event delivery's A/D-bit update, not this instruction's own access)");
    // Short, the note stays, in fewer words (the hover has the rest).
    expect(lineStatShortText({ line: 3, exits: 1, lookups: 0, hits: 0, delivery: 1 })).toBe('1 exit (by event delivery)');
    expect(lineStatShortText({ line: 3, exits: 3, lookups: 3, hits: 2, delivery: 1 })).toBe('3 exits (1 by event delivery)');
  });

  it('measure a line in columns, tabs to the next stop', () => {
    expect(visibleColumns('    mov eax, 1', 4)).toBe(14);
    expect(visibleColumns('\tmov', 4)).toBe(7);
    expect(visibleColumns('ab\tc', 4)).toBe(5);
    expect(visibleColumns('', 4)).toBe(0);
  });

  it('stay after a line that leaves them room', () => {
    // A line ending at 100 px (code to 60, then a comment), counts 80 px whole and 40 short, the
    // text area from 0 to 300 px.
    expect(placeCounts(100, 60, 0, [80, 40], 0, 300)).toEqual({ shift: 0, form: 0, lead: false, cut: false });
    expect(placeCounts(220, 220, 0, [80, 40], 0, 300)).toEqual({ shift: 0, form: 0, lead: false, cut: false });
  });

  it('end at the edge over a long comment, not over the code', () => {
    expect(placeCounts(400, 100, 0, [80, 40], 0, 300)).toEqual({ shift: 180, form: 0, lead: false, cut: false });
    // The whole counts would cover code (100..180 left of 220): exits only, after the code.
    expect(placeCounts(400, 220, 0, [120, 40], 0, 300)).toEqual({ shift: 140, form: 1, lead: false, cut: false });
    // No comment and no room for the whole counts: short, right after the code.
    expect(placeCounts(250, 250, 0, [80, 40], 0, 300)).toEqual({ shift: 0, form: 1, lead: false, cut: false });
    // Scrolled right by 150: the area is 150..450, and the line's end is back in room.
    expect(placeCounts(250, 250, 0, [80, 40], 150, 450)).toEqual({ shift: 0, form: 0, lead: false, cut: false });
  });

  it('take the widest form that fits beside code shown whole', () => {
    // Forms 80 (whole), 40 (short), 20 px (the count alone) wide.
    const forms = [80, 40, 20];
    expect(placeCounts(400, 255, 0, forms, 0, 300)).toEqual({ shift: 140, form: 1, lead: false, cut: false });
    // Short would cover code (265..305): the count alone, over the comment, ending at the edge.
    expect(placeCounts(400, 265, 0, forms, 0, 300)).toEqual({ shift: 120, form: 2, lead: false, cut: false });
    // With no comment it follows the code.
    expect(placeCounts(270, 270, 0, forms, 0, 300)).toEqual({ shift: 0, form: 2, lead: false, cut: false });
  });

  it('go before code that leaves them no room, in its indentation, never over it', () => {
    // Code from 31 to 290 px of 300: not even the count alone fits after it; 31 px of indentation does.
    const at = placeCounts(400, 290, 31, [80, 40, 20], 0, 300);
    expect(at).toEqual({ shift: 389, form: 2, lead: true, cut: false });
    // They end where the code starts: the line's end less the shift, plus their width.
    expect(400 - at.shift + 20).toBeLessThanOrEqual(31);
    // Too little indentation, or scrolled out of view: cut, and not shown (the hover has them).
    expect(placeCounts(400, 290, 16, [80, 40, 20], 0, 300)).toEqual({ shift: 0, form: 0, lead: false, cut: true });
    expect(placeCounts(400, 290, 31, [80, 40, 20], 20, 300)).toEqual({ shift: 0, form: 0, lead: false, cut: true });
    expect(placeCounts(280, 280, 0, [80, 40], 0, 300)).toEqual({ shift: 0, form: 0, lead: false, cut: true });
  });

  it('reach into the gutter before code when its indentation is too narrow for the count', () => {
    // "2.5k×" and its gap (43 px) against 4 columns of indentation (31 px): cut without the
    // gutter's 18 px, shown with them, its right edge where the code starts.
    expect(placeCounts(300, 290, 31, [180, 90, 43], 0, 300).cut).toBe(true);
    const at = placeCounts(300, 290, 31, [180, 90, 43], 0, 300, 18);
    expect(at).toEqual({ shift: 312, form: 2, lead: true, cut: false });
    expect(300 - at.shift + 43).toBe(31);
    // The gutter alone is not enough, nor is code whose start is scrolled out of view.
    expect(placeCounts(300, 290, 0, [180, 90, 43], 0, 300, 18).cut).toBe(true);
    expect(placeCounts(300, 290, 31, [180, 90, 43], 40, 320, 60).cut).toBe(true);
  });

  it('go over the end of code that runs past the edge, short, keeping their start in view', () => {
    expect(placeCounts(400, 380, 0, [80, 40, 20], 0, 300)).toEqual({ shift: 140, form: 1, lead: false, cut: false });
    // Short counts wider than the area start at its left edge.
    expect(placeCounts(400, 400, 0, [600, 500], 0, 300)).toEqual({ shift: 400, form: 1, lead: false, cut: false });
  });

  it('say a count alone in at most 4 characters', () => {
    expect(exitCountCompact(1)).toBe('1');
    expect(exitCountCompact(999)).toBe('999');
    expect(exitCountCompact(5000)).toBe('5k');
    expect(exitCountCompact(4999)).toBe('5k');
    expect(exitCountCompact(1500)).toBe('1.5k');
    expect(exitCountCompact(9949)).toBe('9.9k');
    expect(exitCountCompact(9960)).toBe('10k');
    expect(exitCountCompact(12_345)).toBe('12k');
    expect(exitCountCompact(999_600)).toBe('1M');
    expect(exitCountCompact(1_234_567)).toBe('1.2M');
    expect(exitCountCompact(5_000_000_000)).toBe('5G');
    expect(lineStatForms({ line: 13, exits: 5000, lookups: 5000, hits: 4999 })).toEqual([
      { text: '5,000 exits · 4,999 hits', gapCh: 2 },
      { text: '5,000 exits', gapCh: 2 },
      { text: '5k×', gapCh: 1 },
    ]);
    expect(lineStatForms({ line: 22, exits: 1, lookups: 0, hits: 0 }).map((f) => f.text)).toEqual(['1 exit', '1 exit', '1×']);
    // Interrupt delivery's exits keep their word where it fits, before the count alone.
    expect(lineStatForms({ line: 7, exits: 1, lookups: 0, hits: 0, delivery: 1 }).map((f) => f.text))
      .toEqual(["1 exit (event delivery's A/D-bit update, not this instruction's own access)", '1 exit (by event delivery)', '1× (delivery)', '1×']);
    expect(lineStatForms({ line: 7, exits: 3000, lookups: 0, hits: 0, delivery: 1 }).map((f) => f.text).slice(2)).toEqual(['3k× (1 delivery)', '3k×']);
  });

  it("show lesson 4's loop counts in each preset's editor at 1280x720, never over their code", () => {
    // The loop's four LAPIC lines (code to column 29, 37, 30, 34 after 4 of indentation; 13 and
    // 15 with a comment, to column 71 and 73), in a 13 px font (7.83 px a column) with counts in
    // a 12 px one (7.23), in text areas 309 (All, Cache), 284 (Exit) and 259 px wide (Numbers).
    // All but the code cut by the edge had been cut: "5,000 exits" left no room beside the code.
    // Half way ("2.5k×", exit 10,002) the count alone is wider than the indentation: it takes the
    // gutter's 18 px right of the exit mark too.
    const col = 7.83;
    for (const [exits, hits] of [[5000, 4999], [2500, 2499]]) for (const edge of [309, 284, 259]) {
      const widths = lineStatForms({ line: 13, exits, lookups: exits, hits }).map((f) => (f.text.length + f.gapCh) * 7.23);
      for (const [code, end] of [[29, 71], [37, 73], [30, 30], [34, 34]]) {
        if (code * col > edge) continue; // code cut by the edge: short, over its end (above)
        const at = placeCounts(end * col, code * col, 4 * col, widths, 0, edge, 18);
        const what = `${exits} exits, code to column ${code}, edge ${edge}`;
        expect(at.cut, what).toBe(false);
        const left = end * col - at.shift;
        if (at.lead) expect(left + widths[at.form], what).toBeLessThanOrEqual(4 * col + 0.5);
        else expect(left + 0.5, what).toBeGreaterThanOrEqual(code * col);
        expect(left + 0.5, what).toBeGreaterThanOrEqual(at.lead ? -18 : 0);
        expect(left + widths[at.form], what).toBeLessThanOrEqual(edge + 0.5);
      }
    }
  });
});
