import { describe, expect, it } from 'vitest';
import { DEBUG_PORT, DebugConsole } from './console';

describe('DebugConsole', () => {
  it('appends the bytes written to port 0xE9 as text', () => {
    const c = new DebugConsole();
    for (const ch of 'hi\n') expect(c.out(DEBUG_PORT, ch.charCodeAt(0))).toBe(true);
    expect(c.text).toBe('hi\n');
    expect(c.written).toBe(3);
  });

  it('ignores other ports and reports that it did', () => {
    const c = new DebugConsole();
    expect(c.out(0x80, 0x41)).toBe(false);
    expect(c.text).toBe('');
  });

  it('prints only the low byte of a wider value', () => {
    const c = new DebugConsole();
    c.out(DEBUG_PORT, 0x1241);
    expect(c.text).toBe('A');
    expect([...c.bytes()]).toEqual([0x41]);
  });

  it('keeps the newest bytes when full and counts the dropped ones', () => {
    const c = new DebugConsole(4);
    for (const ch of 'abcdef') c.putByte(ch.charCodeAt(0));
    expect(c.text).toBe('cdef');
    expect(c.dropped).toBe(2);
    expect(c.written).toBe(6);
  });

  it('keeps 64 KiB by default', () => {
    const c = new DebugConsole();
    for (let i = 0; i < 65536 + 10; i++) c.putByte(0x30 + (i % 10));
    expect(c.text.length).toBe(65536);
    expect(c.dropped).toBe(10);
    expect(c.text.startsWith('0123')).toBe(true);
  });

  it('empties on reset', () => {
    const c = new DebugConsole(2);
    c.putByte(1); c.putByte(2); c.putByte(3);
    c.reset();
    expect(c.text).toBe('');
    expect(c.dropped).toBe(0);
    c.putByte(0x78);
    expect(c.text).toBe('x');
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new DebugConsole(0)).toThrow(RangeError);
  });
});
