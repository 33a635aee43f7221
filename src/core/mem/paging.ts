/**
 * Guest 4-level paging (IA-32e, SDM Vol. 3A §4.5): entry bits, control-register bits, and a
 * builder that writes guest page tables into guest RAM (the firmware's identity map).
 *
 * Entry layout (SDM Vol. 3A §4.5.4, Tables 4-15 .. 4-20), bit numbers of the 64-bit entry:
 *   0 P, 1 R/W, 2 U/S, 3 PWT, 4 PCD, 5 A, 6 D (leaf only), 7 PS (PDPTE: 1 GiB page, PDE:
 *   2 MiB page; reserved in a PML4E; PAT in a PTE), 8 G (leaf only), 12 PAT (large leaf),
 *   address bits MAXPHYADDR-1:12 (47:30 for 1 GiB, 47:21 for 2 MiB), bits 51:MAXPHYADDR
 *   reserved, 29:13 / 20:13 reserved in a 1 GiB / 2 MiB leaf, 63 XD (reserved unless
 *   IA32_EFER.NXE = 1).
 */
import { GuestRam, PAGE_1G, PAGE_2M, PAGE_4K, TWO32, type PageSize } from './ram';

export const PTE_P = 1 << 0;
export const PTE_RW = 1 << 1;
export const PTE_US = 1 << 2;
export const PTE_PWT = 1 << 3;
export const PTE_PCD = 1 << 4;
export const PTE_A = 1 << 5;
export const PTE_D = 1 << 6;
export const PTE_PS = 1 << 7;
export const PTE_G = 1 << 8;
/** XD is bit 63: bit 31 of the high half. */
export const PTE_XD_HI = 0x8000_0000;

/** CR0.WP (bit 16), CR0.PG (bit 31): SDM Vol. 3A §2.5. */
export const CR0_WP = 1 << 16;
export const CR0_PG = 0x8000_0000;
/** CR4.PAE (bit 5), CR4.PGE (bit 7), CR4.SMEP (bit 20), CR4.SMAP (bit 21): SDM Vol. 3A §2.5. */
export const CR4_PAE = 1 << 5;
export const CR4_PGE = 1 << 7;
export const CR4_SMEP = 1 << 20;
/** IA32_EFER.LME (bit 8), LMA (bit 10), NXE (bit 11): SDM Vol. 3A §2.2.1. */
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const EFER_NXE = 1 << 11;

/** #PF error code bits (SDM Vol. 3A §4.7, Figure 4-12). */
export const PF_P = 1 << 0;
export const PF_W = 1 << 1;
export const PF_U = 1 << 2;
export const PF_RSVD = 1 << 3;
export const PF_I = 1 << 4;

export type GuestPageSize = PageSize;

/** A range [start, end) of guest-physical addresses. */
export interface PhysRange {
  start: number;
  end: number;
}

export interface IdentityMapOptions {
  /** Map guest-physical [0, limit) at the same linear addresses (usually the RAM size). */
  limit: number;
  /** Ranges to map with 4 KiB pages (code, stack, data); the rest uses 2 MiB pages. */
  small?: PhysRange[];
  /** 4 KiB pages mapped with PCD|PWT (uncached), e.g. LAPIC_BASE and the IORAM pages. */
  uncached?: number[];
  /** Flags of every entry (default P | R/W | U/S). */
  flags?: number;
}

/**
 * Writes guest page tables into guest RAM. Tables are allocated from the guest-physical region
 * [regionStart, regionEnd); the first page is the PML4 (`cr3`). Linear addresses are JS numbers
 * holding the sign-extended canonical value (negative for the upper half).
 */
export class PageTableBuilder {
  readonly cr3: number;
  /** Guest-physical addresses of the table pages written, in allocation order. */
  readonly tablePages: number[] = [];
  private next: number;

  constructor(
    private readonly ram: GuestRam,
    private readonly regionStart: number,
    private readonly regionEnd: number,
  ) {
    if (regionStart % 4096 !== 0 || regionEnd <= regionStart || !ram.contains(regionStart, regionEnd - regionStart)) {
      throw new RangeError('page-table region must be 4 KiB aligned and inside RAM');
    }
    this.next = regionStart;
    this.cr3 = this.alloc();
  }

  /** Bytes of the region used so far. */
  get used(): number {
    return this.next - this.regionStart;
  }

  /**
   * Map the linear page `gla` to `gpa` with a leaf of `size`. Tables on the way are created
   * with P | R/W | U/S (the leaf's flags decide); an existing larger leaf is an error.
   */
  map(gla: number, gpa: number, size: GuestPageSize, flags: number = PTE_P | PTE_RW | PTE_US, xd = false): void {
    const leafLevel = size === PAGE_4K ? 1 : size === PAGE_2M ? 2 : size === PAGE_1G ? 3 : 0;
    if (leafLevel === 0) throw new RangeError(`guest page size must be 4 KiB, 2 MiB or 1 GiB: ${size}`);
    if (gla % size !== 0 || gpa % size !== 0 || gpa < 0) {
      throw new RangeError(`map: 0x${gla.toString(16)} -> 0x${gpa.toString(16)} not ${size}-aligned`);
    }
    const lo = gla >>> 0;
    const hi = Math.floor(gla / TWO32) & 0xffff;
    const v = this.ram.view;
    let table = this.cr3;
    for (let level = 4; level > leafLevel; level--) {
      const e = table + pageIndex(hi, lo, level) * 8;
      const elo = v.getUint32(e, true);
      if ((elo & PTE_P) === 0) {
        const t = this.alloc();
        v.setUint32(e, (t % TWO32 | PTE_P | PTE_RW | PTE_US) >>> 0, true);
        v.setUint32(e + 4, Math.floor(t / TWO32), true);
        table = t;
      } else if ((elo & PTE_PS) !== 0) {
        throw new Error(`map: 0x${gla.toString(16)} is already inside a large page`);
      } else {
        table = v.getUint32(e + 4, true) * TWO32 + ((elo & 0xfffff000) >>> 0);
      }
    }
    const e = table + pageIndex(hi, lo, leafLevel) * 8;
    const leafFlags = (flags & 0xfff & ~PTE_PS) | (leafLevel > 1 ? PTE_PS : 0) | PTE_P;
    v.setUint32(e, ((gpa % TWO32) | leafFlags) >>> 0, true);
    v.setUint32(e + 4, (Math.floor(gpa / TWO32) | (xd ? PTE_XD_HI : 0)) >>> 0, true);
  }

  /**
   * Identity-map [0, limit): 4 KiB pages in every 2 MiB chunk that meets a `small` range or an
   * `uncached` page, 2 MiB pages elsewhere; `uncached` pages (also above `limit`) with
   * PCD | PWT.
   */
  identityMap(opts: IdentityMapOptions): void {
    const flags = opts.flags ?? PTE_P | PTE_RW | PTE_US;
    const small = opts.small ?? [];
    const uncached = new Set((opts.uncached ?? []).map((a) => a - (a % 4096)));
    const chunk = PAGE_2M;
    const meets = (c: number): boolean =>
      small.some((r) => r.start < c + chunk && r.end > c) ||
      [...uncached].some((u) => u >= c && u < c + chunk);
    for (let c = 0; c < opts.limit; c += chunk) {
      if (!meets(c) && c + chunk <= opts.limit) {
        this.map(c, c, chunk, flags);
        continue;
      }
      const end = Math.min(c + chunk, opts.limit);
      for (let p = c; p < end; p += 4096) {
        this.map(p, p, 4096, uncached.has(p) ? flags | PTE_PCD | PTE_PWT : flags);
      }
    }
    for (const u of uncached) {
      if (u >= opts.limit) this.map(u, u, 4096, flags | PTE_PCD | PTE_PWT);
    }
  }

  private alloc(): number {
    if (this.next + 4096 > this.regionEnd) throw new RangeError('page-table region is full');
    const t = this.next;
    this.next += 4096;
    this.ram.fill(t, 4096);
    this.tablePages.push(t);
    return t;
  }
}

/**
 * Index of the entry for a linear address in a table of `level` (4: bits 47:39, 3: 38:30,
 * 2: 29:21, 1: 20:12), from its halves: `lo` = bits 31:0, `hi` = bits 47:32.
 */
export function pageIndex(hi: number, lo: number, level: number): number {
  switch (level) {
    case 4:
      return (hi >>> 7) & 511;
    case 3:
      return ((hi << 2) | (lo >>> 30)) & 511;
    case 2:
      return (lo >>> 21) & 511;
    default:
      return (lo >>> 12) & 511;
  }
}
