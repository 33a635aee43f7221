import { describe, expect, it } from 'vitest';
import { lineStatText, pinShift, visibleColumns } from './lineStats';

describe('line exit counts', () => {
  it('say exits, then hits, with separators and singulars', () => {
    expect(lineStatText({ line: 3, exits: 1, hits: 0 })).toBe('1 exit');
    expect(lineStatText({ line: 3, exits: 5000, hits: 4999 })).toBe('5,000 exits · 4,999 hits');
    expect(lineStatText({ line: 3, exits: 2, hits: 1 })).toBe('2 exits · 1 hit');
  });

  it('say when an exit was interrupt delivery, not the line', () => {
    expect(lineStatText({ line: 3, exits: 2, hits: 0, delivery: 2 })).toBe("2 exits (interrupt delivery's A/D-bit update, not this instruction)");
    expect(lineStatText({ line: 3, exits: 3, hits: 0, delivery: 1 })).toBe("3 exits (1 by interrupt delivery's A/D-bit update, not this instruction)");
  });

  it('measure a line in columns, tabs to the next stop', () => {
    expect(visibleColumns('    mov eax, 1', 4)).toBe(14);
    expect(visibleColumns('\tmov', 4)).toBe(7);
    expect(visibleColumns('ab\tc', 4)).toBe(5);
    expect(visibleColumns('', 4)).toBe(0);
  });

  it('stay after a line that leaves them room', () => {
    // A line ending at 100 px, counts 80 px wide, the text area from 0 to 300 px.
    expect(pinShift(100, 80, 0, 300)).toBe(0);
    expect(pinShift(220, 80, 0, 300)).toBe(0);
  });

  it('move left to end at the edge when the line runs near or past it', () => {
    expect(pinShift(250, 80, 0, 300)).toBe(30);
    expect(pinShift(400, 80, 0, 300)).toBe(180);
    // Scrolled right by 150: the area is 150..450, and the line's end is back in room.
    expect(pinShift(250, 80, 150, 450)).toBe(0);
  });

  it('keep their start in view when wider than the text area', () => {
    // 500 px of counts in a 300 px area: they start at its left edge, not 200 px before it.
    expect(pinShift(400, 500, 0, 300)).toBe(400);
    expect(pinShift(400, 500, 100, 400)).toBe(300);
  });
});
