/**
 * Guest RAM: one ArrayBuffer. The EPT maps RAM 1:1, so a host-physical address of RAM is the
 * guest-physical address and indexes `bytes` directly (DESIGN.md "Core contracts", mem).
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
/** Page sizes of 4-level paging and EPT (literal types, so a size parameter can be checked). */
export const PAGE_4K = 0x1000;
export const PAGE_2M = 0x20_0000;
export const PAGE_1G = 0x4000_0000;
export type PageSize = typeof PAGE_4K | typeof PAGE_2M | typeof PAGE_1G;

/** 2^32, to split a JS-number address into 32-bit halves. */
export const TWO32 = 4294967296;

/** Default guest RAM size (DESIGN.md "Guest environment"). */
export const DEFAULT_RAM_SIZE = 64 * MiB;
/** Largest guest RAM: host addresses must fit an int32 (the vCPU's inlined accesses). */
export const MAX_RAM_SIZE = 2 * GiB - 4096;

/**
 * Physical-address width of the emulated machine (CPUID.80000008H:EAX[7:0]). Guest and EPT
 * entries treat bits 51:MAXPHYADDR as reserved (SDM Vol. 3A §4.5, Tables 4-15..4-20;
 * Vol. 3C §29.3.3.1). 48 bits is also the guest-physical width 4-level EPT can translate.
 */
export const MAXPHYADDR = 48;

export class GuestRam {
  readonly size: number;
  readonly buffer: ArrayBuffer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /**
   * Pages written so far, one byte per 4 KiB page: time travel saves only these. Every writer
   * of guest RAM calls noteWrite before it writes (the vCPU when it caches a write permission
   * in its TLB, the page walk's A/D updates, the VMM's copyout, write8..write64); the first
   * write to a page calls `onFirstWrite` while the page still holds what it held before.
   */
  readonly written: Uint8Array;
  onFirstWrite: ((page: number) => void) | null = null;
  /**
   * Pages that may hold bytes other than zero: the written ones and those `load` filled. A
   * machine built after this RAM's machine is done with it zeroes only these (`reset`)
   * instead of allocating 64 MiB again (see Machine.retire).
   */
  private readonly dirty: Uint8Array;

  constructor(size: number = DEFAULT_RAM_SIZE) {
    if (!Number.isInteger(size) || size <= 0 || size % 4096 !== 0) {
      throw new RangeError(`guest RAM size must be a positive multiple of 4096, got ${size}`);
    }
    // The vCPU's generated code indexes RAM with int32 host addresses (codegen.ts inlineAccess).
    if (size > MAX_RAM_SIZE) throw new RangeError(`guest RAM size must be at most 2 GiB, got ${size}`);
    this.size = size;
    this.buffer = new ArrayBuffer(size);
    this.bytes = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
    this.written = new Uint8Array(size / 4096);
    this.dirty = new Uint8Array(size / 4096);
  }

  /** Called before a write at host-physical `addr` (see `written`). */
  noteWrite(addr: number): void {
    const page = Math.floor(addr / 4096);
    if (this.written[page] === 0 && page < this.written.length) {
      this.written[page] = 1;
      this.dirty[page] = 1;
      this.onFirstWrite?.(page);
    }
  }

  /** Put `data` at `addr` before the machine runs (a program's segment): not a write time travel tracks. */
  load(data: Uint8Array, addr: number): void {
    for (let p = Math.floor(addr / 4096); p * 4096 < addr + data.length; p++) this.dirty[p] = 1;
    this.bytes.set(data, addr);
  }

  /** All zeros again, as new (nothing written, nobody told of first writes): for a new machine. */
  reset(): void {
    const d = this.dirty;
    for (let p = 0; p < d.length; p++) {
      if (d[p] === 0) continue;
      this.bytes.fill(0, p * 4096, p * 4096 + 4096);
      d[p] = 0;
    }
    this.written.fill(0);
    this.onFirstWrite = null;
  }

  /** True when [addr, addr + len) lies inside RAM. */
  contains(addr: number, len = 1): boolean {
    return addr >= 0 && len >= 0 && addr + len <= this.size;
  }

  read8(addr: number): number {
    return this.view.getUint8(addr);
  }
  read16(addr: number): number {
    return this.view.getUint16(addr, true);
  }
  read32(addr: number): number {
    return this.view.getUint32(addr, true);
  }
  read64(addr: number): bigint {
    return this.view.getBigUint64(addr, true);
  }
  write8(addr: number, value: number): void {
    this.noteWrite(addr);
    this.view.setUint8(addr, value);
  }
  write16(addr: number, value: number): void {
    this.noteWrite(addr);
    this.noteWrite(addr + 1);
    this.view.setUint16(addr, value, true);
  }
  write32(addr: number, value: number): void {
    this.noteWrite(addr);
    this.noteWrite(addr + 3);
    this.view.setUint32(addr, value >>> 0, true);
  }
  write64(addr: number, value: bigint): void {
    this.noteWrite(addr);
    this.noteWrite(addr + 7);
    this.view.setBigUint64(addr, BigInt.asUintN(64, value), true);
  }
  /** Fill [addr, addr + len) with `value` (default 0). */
  fill(addr: number, len: number, value = 0): void {
    for (let p = addr - (addr % 4096); p < addr + len; p += 4096) this.noteWrite(p);
    this.bytes.fill(value, addr, addr + len);
  }
}
