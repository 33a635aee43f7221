import { describe, expect, it } from 'vitest';
import { lineStatShortText, lineStatText, placeCounts, visibleColumns } from './lineStats';

describe('line exit counts', () => {
  it('say exits, then hits, with separators and singulars', () => {
    expect(lineStatText({ line: 3, exits: 1, lookups: 0, hits: 0 })).toBe('1 exit');
    expect(lineStatText({ line: 3, exits: 5000, lookups: 5000, hits: 4999 })).toBe('5,000 exits · 4,999 hits');
    expect(lineStatText({ line: 3, exits: 2, lookups: 2, hits: 1 })).toBe('2 exits · 1 hit');
    expect(lineStatShortText({ line: 3, exits: 5000, lookups: 5000, hits: 4999 })).toBe('5,000 exits');
  });

  it('say when an exit was interrupt delivery, not the line', () => {
    expect(lineStatText({ line: 3, exits: 2, lookups: 0, hits: 0, delivery: 2 })).toBe("2 exits (interrupt delivery's A/D-bit update, not this instruction)");
    expect(lineStatText({ line: 3, exits: 3, lookups: 0, hits: 0, delivery: 1 })).toBe("3 exits (1 by interrupt delivery's A/D-bit update, not this instruction)");
    // Short, the note stays, in fewer words (the hover has the rest).
    expect(lineStatShortText({ line: 3, exits: 1, lookups: 0, hits: 0, delivery: 1 })).toBe('1 exit (by interrupt delivery)');
    expect(lineStatShortText({ line: 3, exits: 3, lookups: 3, hits: 2, delivery: 1 })).toBe('3 exits (1 by interrupt delivery)');
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
    expect(placeCounts(100, 60, 80, 40, 0, 300)).toEqual({ shift: 0, short: false, cut: false });
    expect(placeCounts(220, 220, 80, 40, 0, 300)).toEqual({ shift: 0, short: false, cut: false });
  });

  it('end at the edge over a long comment, not over the code', () => {
    expect(placeCounts(400, 100, 80, 40, 0, 300)).toEqual({ shift: 180, short: false, cut: false });
    // The whole counts would cover code (100..180 left of 220): exits only, after the code.
    expect(placeCounts(400, 220, 120, 40, 0, 300)).toEqual({ shift: 140, short: true, cut: false });
    // No comment and no room for the whole counts: short, right after the code.
    expect(placeCounts(250, 250, 80, 40, 0, 300)).toEqual({ shift: 0, short: true, cut: false });
    // Scrolled right by 150: the area is 150..450, and the line's end is back in room.
    expect(placeCounts(250, 250, 80, 40, 150, 450)).toEqual({ shift: 0, short: false, cut: false });
  });

  it('never cover code the text area shows whole', () => {
    // Code to 280 px of 300: neither form fits beside it, and the edge would cut them.
    expect(placeCounts(400, 280, 80, 40, 0, 300)).toEqual({ shift: 0, short: false, cut: true });
    expect(placeCounts(280, 280, 80, 40, 0, 300)).toEqual({ shift: 0, short: false, cut: true });
  });

  it('go over the end of code that runs past the edge, short, keeping their start in view', () => {
    expect(placeCounts(400, 380, 80, 40, 0, 300)).toEqual({ shift: 140, short: true, cut: false });
    // Short counts wider than the area start at its left edge.
    expect(placeCounts(400, 400, 600, 500, 0, 300)).toEqual({ shift: 400, short: true, cut: false });
  });
});
