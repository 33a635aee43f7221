/**
 * The interface every memory-mapped device implements, and shared helpers.
 *
 * The VMM's emulator calls `read`/`write` with the guest-physical address of the access and
 * its width in bytes; values are bigint because they cross into the slow path anyway
 * (DESIGN.md "Core contracts: Numbers"). Devices are pure and deterministic: no host clock.
 */

export type AccessSize = 1 | 2 | 4 | 8;

export interface MmioDevice {
  /** Guest-physical base address of the device's window. */
  readonly base: number;
  /** Size of the window in bytes. */
  readonly size: number;
  /** Reads `size` bytes at `gpa` (little-endian), zero-extended into a bigint. */
  read(gpa: number, size: AccessSize): bigint;
  /** Writes the low `size` bytes of `value` at `gpa` (little-endian). */
  write(gpa: number, size: AccessSize, value: bigint): void;
}
