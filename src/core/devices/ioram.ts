/**
 * IORAM: MMIO scratch memory (DESIGN.md "Guest environment"), like kvm-unit-tests' IORAM.
 *
 * Two 4 KiB pages at IORAM_BASE that keep what is written and return it on read, at any width
 * and any alignment, including an access that starts in the first page and ends in the second.
 * Every access exits and is emulated, so the emulator can be tested with any value and width
 * against the same instruction on RAM.
 */
import { IORAM_BASE, IORAM_SIZE } from '../guestAbi';
import type { AccessSize, MmioDevice } from './mmio';

export { IORAM_BASE, IORAM_SIZE };

export class IoRam implements MmioDevice {
  readonly base: number;
  readonly size = IORAM_SIZE;
  /** The backing bytes (exposed for the UI and tests). */
  readonly bytes: Uint8Array;
  // DataView accepts any byte offset, so unaligned and page-crossing accesses need no
  // special case: the two pages are one contiguous buffer.
  private readonly view: DataView;

  constructor(base: number = IORAM_BASE) {
    this.base = base;
    this.bytes = new Uint8Array(IORAM_SIZE);
    this.view = new DataView(this.bytes.buffer);
  }

  /**
   * Little-endian read of `size` bytes. Precondition: the access lies inside the window
   * (the VMM routes by address); violating it is an emulator bug and throws.
   */
  read(gpa: number, size: AccessSize): bigint {
    const off = this.offsetOf(gpa, size);
    switch (size) {
      case 1: return BigInt(this.view.getUint8(off));
      case 2: return BigInt(this.view.getUint16(off, true));
      case 4: return BigInt(this.view.getUint32(off, true));
      case 8: return this.view.getBigUint64(off, true);
    }
  }

  /** Little-endian write of the low `size` bytes of `value`. Same precondition as `read`. */
  write(gpa: number, size: AccessSize, value: bigint): void {
    const off = this.offsetOf(gpa, size);
    switch (size) {
      case 1: this.view.setUint8(off, Number(BigInt.asUintN(8, value))); break;
      case 2: this.view.setUint16(off, Number(BigInt.asUintN(16, value)), true); break;
      case 4: this.view.setUint32(off, Number(BigInt.asUintN(32, value)), true); break;
      case 8: this.view.setBigUint64(off, BigInt.asUintN(64, value), true); break;
    }
  }

  /** Clears the memory (machine reset). */
  reset(): void {
    this.bytes.fill(0);
  }

  private offsetOf(gpa: number, size: number): number {
    const off = gpa - this.base;
    if (!(off >= 0 && off + size <= IORAM_SIZE)) {
      throw new RangeError(
        `IORAM access of ${size} bytes at 0x${gpa.toString(16)} is outside ` +
          `0x${this.base.toString(16)}+0x${IORAM_SIZE.toString(16)}`,
      );
    }
    return off;
  }
}
