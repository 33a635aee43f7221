/**
 * Helpers that set up a VM's memory the way DESIGN.md's guest environment describes: RAM
 * mapped 1:1 in the EPT with 4 KiB leaves, MMIO pages (LAPIC, IORAM) left unmapped (tagged leaves).
 */
import { EPT_RWX, Ept } from './ept';
import type { GuestRam } from './ram';

/**
 * Map all of `ram` 1:1 in `ept` (R/W/X, write-back, 4 KiB leaves) and mark `mmioPages`
 * (4 KiB each) as MMIO. Returns the EPT (a new one when none is given).
 */
export function mapRamIdentity(ram: GuestRam, mmioPages: readonly number[] = [], ept: Ept = new Ept()): Ept {
  ept.mapRange(0, 0, ram.size, EPT_RWX);
  for (const p of mmioPages) ept.markMmio(p);
  return ept;
}
