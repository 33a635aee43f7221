import { describe, expect, it } from 'vitest';
import { GuestRam, MiB } from './ram';

describe('GuestRam', () => {
  it('defaults to 64 MiB in one buffer seen through bytes and view', () => {
    const ram = new GuestRam();
    expect(ram.size).toBe(64 * MiB);
    expect(ram.bytes.buffer).toBe(ram.buffer);
    expect(ram.view.byteLength).toBe(64 * MiB);
  });

  it('reads and writes little-endian 8/16/32/64-bit values', () => {
    const ram = new GuestRam(1 * MiB);
    ram.write64(0x100, 0x1122334455667788n);
    expect(ram.read8(0x100)).toBe(0x88);
    expect(ram.read16(0x100)).toBe(0x7788);
    expect(ram.read32(0x100)).toBe(0x55667788);
    expect(ram.read32(0x104)).toBe(0x11223344);
    expect(ram.read64(0x100)).toBe(0x1122334455667788n);
    ram.write32(0x200, 0xdeadbeef);
    expect(ram.read32(0x200)).toBe(0xdeadbeef);
    ram.write16(0x300, 0xabcd);
    ram.write8(0x302, 0xef);
    expect(ram.read32(0x300)).toBe(0x00efabcd);
    ram.write64(0x400, -1n);
    expect(ram.read64(0x400)).toBe(0xffffffffffffffffn);
  });

  it('rejects sizes that are not whole pages', () => {
    expect(() => new GuestRam(1000)).toThrow(RangeError);
  });
});
