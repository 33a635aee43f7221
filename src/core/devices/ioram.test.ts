import { describe, expect, it } from 'vitest';
import { IORAM_BASE, IORAM_SIZE, IoRam } from './ioram';
import type { AccessSize } from './mmio';

const SIZES: readonly AccessSize[] = [1, 2, 4, 8];
const PATTERN = 0x8877665544332211n;

function mask(size: AccessSize): bigint {
  return (1n << BigInt(size * 8)) - 1n;
}

describe('IoRam', () => {
  it('sits at IORAM_BASE and spans two 4 KiB pages', () => {
    const r = new IoRam();
    expect(r.base).toBe(0xff000000);
    expect(IORAM_BASE).toBe(0xff000000);
    expect(r.size).toBe(8192);
  });

  it('reads zero before anything is written', () => {
    const r = new IoRam();
    for (const s of SIZES) expect(r.read(IORAM_BASE + 100, s)).toBe(0n);
  });

  it('returns what was written at every width and every alignment within 8 bytes', () => {
    for (const size of SIZES) {
      for (let align = 0; align < 8; align++) {
        const r = new IoRam();
        const gpa = IORAM_BASE + 0x40 + align;
        r.write(gpa, size, PATTERN);
        expect(r.read(gpa, size), `size ${size} align ${align}`).toBe(PATTERN & mask(size));
      }
    }
  });

  it('stores little-endian bytes, so narrower reads see the low parts', () => {
    const r = new IoRam();
    r.write(IORAM_BASE, 8, PATTERN);
    expect(r.read(IORAM_BASE, 1)).toBe(0x11n);
    expect(r.read(IORAM_BASE + 1, 1)).toBe(0x22n);
    expect(r.read(IORAM_BASE + 2, 2)).toBe(0x4433n);
    expect(r.read(IORAM_BASE + 4, 4)).toBe(0x88776655n);
    expect(r.read(IORAM_BASE + 3, 4)).toBe(0x77665544n);
    expect([...r.bytes.subarray(0, 8)]).toEqual([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
  });

  it('truncates a value wider than the access and leaves neighbours alone', () => {
    const r = new IoRam();
    r.write(IORAM_BASE, 8, 0xffffffffffffffffn);
    r.write(IORAM_BASE + 2, 2, 0x123456n);
    expect(r.read(IORAM_BASE, 8)).toBe(0xffffffff3456ffffn);
    r.write(IORAM_BASE + 7, 1, -1n); // negative bigint: two's complement low byte
    expect(r.read(IORAM_BASE + 7, 1)).toBe(0xffn);
  });

  it('keeps an access that crosses from the first page into the second, at every width and split', () => {
    for (const size of SIZES) {
      for (let before = 1; before < size; before++) {
        const r = new IoRam();
        const gpa = IORAM_BASE + 4096 - before;
        r.write(gpa, size, PATTERN);
        expect(r.read(gpa, size)).toBe(PATTERN & mask(size));
        // The bytes really landed on both pages.
        expect(r.read(IORAM_BASE + 4095, 1)).toBe((PATTERN >> BigInt((before - 1) * 8)) & 0xffn);
        expect(r.read(IORAM_BASE + 4096, 1)).toBe((PATTERN >> BigInt(before * 8)) & 0xffn);
      }
    }
  });

  it('reaches the last bytes of the second page', () => {
    const r = new IoRam();
    r.write(IORAM_BASE + IORAM_SIZE - 8, 8, PATTERN);
    expect(r.read(IORAM_BASE + IORAM_SIZE - 8, 8)).toBe(PATTERN);
    expect(r.read(IORAM_BASE + IORAM_SIZE - 1, 1)).toBe(0x88n);
  });

  it('throws on an access outside its window (an emulator routing bug)', () => {
    const r = new IoRam();
    expect(() => r.read(IORAM_BASE - 1, 1)).toThrow(RangeError);
    expect(() => r.read(IORAM_BASE + IORAM_SIZE - 4, 8)).toThrow(RangeError);
    expect(() => r.write(IORAM_BASE + IORAM_SIZE, 1, 0n)).toThrow(RangeError);
  });

  it('honours a custom base and clears on reset', () => {
    const r = new IoRam(0x10000);
    r.write(0x10010, 4, 0xdeadbeefn);
    expect(r.read(0x10010, 4)).toBe(0xdeadbeefn);
    r.reset();
    expect(r.read(0x10010, 4)).toBe(0n);
  });
});
