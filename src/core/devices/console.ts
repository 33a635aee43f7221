/**
 * The debug console: `out 0xE9, al` appends a byte (Bochs/QEMU's debug port convention).
 *
 * Bounded: it keeps the newest CAPACITY bytes and counts what it dropped, so a guest that
 * prints in a loop cannot grow the worker's memory without limit.
 */

import { DEBUG_PORT } from '../guestAbi';

export { DEBUG_PORT };
/** Bytes kept (the newest ones). */
export const CONSOLE_CAPACITY = 64 * 1024;

export class DebugConsole {
  readonly capacity: number;
  /** Bytes dropped from the front because the buffer was full. */
  dropped = 0;
  /** Total bytes ever written. */
  written = 0;
  private readonly buf: Uint8Array;
  /** Index of the oldest kept byte in the ring. */
  private head = 0;
  private length = 0;
  /** Cached decoded text; invalidated on every write. */
  private cache: string | null = '';

  constructor(capacity: number = CONSOLE_CAPACITY) {
    if (!(Number.isInteger(capacity) && capacity > 0)) {
      throw new RangeError(`console capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.buf = new Uint8Array(capacity);
  }

  /** Appends one byte (the low 8 bits of `byte`). */
  putByte(byte: number): void {
    const b = byte & 0xff;
    if (this.length < this.capacity) {
      this.buf[(this.head + this.length) % this.capacity] = b;
      this.length++;
    } else {
      this.buf[this.head] = b;
      this.head = (this.head + 1) % this.capacity;
      this.dropped++;
    }
    this.written++;
    this.cache = null;
  }

  /**
   * Handles an OUT to `port`; returns false when the port is not the console's, so the VMM
   * can report or ignore it. Only AL is printed: a wider OUT prints its low byte.
   */
  out(port: number, value: number): boolean {
    if (port !== DEBUG_PORT) return false;
    this.putByte(value);
    return true;
  }

  /** The kept bytes in order. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.buf[(this.head + i) % this.capacity];
    return out;
  }

  /** The kept bytes as text: each byte is one Latin-1 character (guests print ASCII). */
  get text(): string {
    if (this.cache === null) {
      const b = this.bytes();
      let s = '';
      // Chunked so String.fromCharCode never gets more arguments than the engine allows.
      for (let i = 0; i < b.length; i += 8192) {
        s += String.fromCharCode(...b.subarray(i, i + 8192));
      }
      this.cache = s;
    }
    return this.cache;
  }

  reset(): void {
    this.head = 0;
    this.length = 0;
    this.dropped = 0;
    this.written = 0;
    this.cache = '';
  }
}
