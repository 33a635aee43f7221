/**
 * Extended page tables (Intel SDM Vol. 3C §29.3; §28.3 in editions before 2023).
 *
 * Four levels: EPT PML4 (level 4), EPT PDPT (3), EPT PD (2), EPT PT (1). The tables live in
 * their own host table memory, a growable pool of 4 KiB pages whose host-physical addresses
 * start at EPT_TABLE_BASE (above any RAM), so a recorded walk step shows a real entry address
 * and value. Entries are stored as two little-endian 32-bit halves (lo = bits 31:0, hi = bits
 * 63:32); nothing on the translate path uses BigInt unless a recorder asks for steps.
 *
 * Entry layout (SDM Vol. 3C §29.3.2, Tables 29-1 .. 29-6):
 *   bit 0 R, bit 1 W, bit 2 X (supervisor-execute under mode-based execute control; we do not
 *   model MBEC, so plain X). An entry is present when any of bits 2:0 is set.
 *   Non-leaf: bits 7:3 reserved (must be 0), bit 8 A (ignored: no EPT A/D), bits 47:12 address
 *   of the next table.
 *   Leaf (PT entry, or PDPT/PD entry with bit 7 = 1 for a 1 GiB / 2 MiB page): bits 5:3 EPT
 *   memory type (0 UC, 1 WC, 4 WT, 5 WP, 6 WB; 2, 3, 7 reserved), bit 6 ignore PAT, bits 8/9
 *   A/D (ignored), address bits 47:12 / 47:21 / 47:30 with bits 20:12 (2 MiB) or 29:12
 *   (1 GiB) reserved. Bit 7 of a PML4 entry is reserved. Bits 51:MAXPHYADDR are reserved.
 *   Bit 11 and bits 56:52 are ignored by the processor (in a not-present entry every bit but
 *   2:0 is): we use bit 11 of a not-present leaf to tag an MMIO page and bit 52 to remember
 *   "the VMM cleared W here" (write protection that can be lifted).
 *
 * EPT misconfiguration (§29.3.3.1): a present entry with W = 1 and R = 0, a reserved memory
 * type in a leaf, or a reserved bit set. EPT violation (§29.3.3.2): a not-present entry, or
 * an access the R/W/X bits of the entries used do not all allow (the access rights of a
 * translation are the AND over every level). A misconfiguration is reported in preference to
 * a violation; a not-present entry stops the walk where it is found.
 *
 * MMIO pages are left unmapped, as bhyve leaves the LAPIC page: an access takes an EPT
 * violation, and the VMM, finding the address in no memory segment but in a device's range,
 * emulates the instruction (vmx_exit_process: EXIT_REASON_EPT_FAULT with ept_emulation_fault
 * -> VM_EXITCODE_INST_EMUL). The tag in bit 11 is that knowledge of the VMM's memory map; the
 * fault's kind says 'mmio'. KVM instead marks such pages with a misconfigured entry. This
 * VMM never writes a misconfigured entry (`map` refuses W without R); were one met, the fault
 * says 'ept-violation', an EPT exit the VMM did not cause (bhyve stops the VM on one).
 */
import type { AccessKind, WalkStep } from '../events';
import { MAXPHYADDR, PAGE_1G, PAGE_2M, PAGE_4K, TWO32, type PageSize } from './ram';

/** Receives the steps of a walk when the caller wants them (UI, step mode, tests). */
export interface WalkRecorder {
  steps: WalkStep[];
}

export const EPT_R = 1;
export const EPT_W = 2;
export const EPT_X = 4;
export const EPT_RWX = 7;

/** The EPT memory type this model writes (write-back), bits 5:3 of a leaf (SDM Vol. 3C §29.3.7). */
export const EPT_MT_WB = 6;

/** Negative results of `Ept.translate`; details are in `ept.fault` (an MMIO page's is a violation). */
export const EPT_FAULT_VIOLATION = -1;
export const EPT_FAULT_MISCONFIG = -2;

/** Host-physical address of the first page of EPT table memory (above any RAM). */
export const EPT_TABLE_BASE = 0x1_0000_0000;

export type EptPageSize = PageSize;

const BIT7_LARGE = 0x80;
/** Bit 11 of a not-present leaf (ignored by the CPU): the VMM emulates this page (MMIO). */
const SW_MMIO_LO = 0x800;
/** Ignored bit 52 (bit 20 of the high half): W was cleared by setWriteProtect. */
const SW_WP_HI = 0x0010_0000;
/** Bits 51:MAXPHYADDR of the high half (reserved). */
const RSVD_HI = (((1 << (52 - 32)) - 1) & ~((1 << (MAXPHYADDR - 32)) - 1)) >>> 0;
/** Address bits 47:32 of the high half. */
const ADDR_HI = ((1 << (MAXPHYADDR - 32)) - 1) >>> 0;
/** Bits 7:3 of a non-leaf entry / PML4 entry (reserved, §29.3.2 Table 29-1, 29-3, 29-5). */
const RSVD_NONLEAF_LO = 0xf8;
/** Address bits of a 4 KiB / 2 MiB / 1 GiB leaf in the low half. */
const ADDR_LO_4K = 0xfffff000;
const ADDR_LO_2M = 0xffe00000;
const ADDR_LO_1G = 0xc0000000;
/** Reserved address bits of a 2 MiB leaf (20:12) and a 1 GiB leaf (29:12). */
const RSVD_LO_2M = 0x001ff000;
const RSVD_LO_1G = 0x3ffff000;

/** EPT memory types 2, 3 and 7 are reserved (§29.3.7): bit mt of this mask. */
const BAD_MEMTYPES = (1 << 2) | (1 << 3) | (1 << 7);

/** Words (32-bit) per 4 KiB table page. */
const PAGE_WORDS = 1024;

/** Details of the last failed `translate` (reused object: copy what you keep). */
export interface EptFault {
  /**
   * 'mmio' = an EPT violation at a page the VMM emulates (its not-present leaf is tagged);
   * 'ept-violation' = any other: not present, an access not allowed, or a misconfigured entry.
   */
  kind: 'mmio' | 'ept-violation';
  gpa: number;
  access: AccessKind;
  /** EPT level at which the walk stopped (4..1). */
  level: number;
}

/** What `Ept.lookup` reports about the leaf mapping a guest-physical address. */
export interface EptLeafInfo {
  /** Host-physical address the gpa maps to. */
  hpa: number;
  pageSize: EptPageSize;
  /** R/W/X of the leaf entry (EPT_R | EPT_W | EPT_X). */
  perms: number;
  memType: number;
  mmio: boolean;
  writeProtected: boolean;
}

function needOf(access: AccessKind): number {
  return access === 'write' ? EPT_W : access === 'fetch' ? EPT_X : EPT_R;
}

function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Index of the entry for `gpa` in a table of `level` (bits 47:39, 38:30, 29:21, 20:12). */
function indexOf(hiG: number, loG: number, level: number): number {
  switch (level) {
    case 4:
      return (hiG >>> 7) & 511;
    case 3:
      return ((hiG << 2) | (loG >>> 30)) & 511;
    case 2:
      return (loG >>> 21) & 511;
    default:
      return (loG >>> 12) & 511;
  }
}

function sizeOfLevel(level: number): number {
  return level === 3 ? PAGE_1G : level === 2 ? PAGE_2M : PAGE_4K;
}

/** Reserved-bit / encoding check of a present entry (§29.3.3.1). True = misconfigured. */
function misconfigured(lo: number, hi: number, level: number): boolean {
  if ((lo & 3) === 2) return true; // write without read (write/execute too)
  if ((hi & RSVD_HI) !== 0) return true;
  if (level === 4) return (lo & RSVD_NONLEAF_LO) !== 0;
  const leaf = level === 1 || (lo & BIT7_LARGE) !== 0;
  if (!leaf) return (lo & RSVD_NONLEAF_LO) !== 0;
  if (((BAD_MEMTYPES >>> ((lo >>> 3) & 7)) & 1) !== 0) return true;
  if (level === 2) return (lo & RSVD_LO_2M) !== 0;
  if (level === 3) return (lo & RSVD_LO_1G) !== 0;
  return false;
}

export class Ept {
  /** Incremented on every change to the tables: a TLB that saw another value flushes (INVEPT). */
  generation = 0;
  /** Memory references (EPT entry reads) made by the last `translate`. */
  refs = 0;
  /** R/W/X allowed by the last successful `translate` (AND over the levels used). */
  lastPerms = 0;
  /** Page size of the EPT leaf used by the last successful `translate`. */
  lastPageSize = 0;
  /** Details of the last failed `translate`. Reused: copy what you keep. */
  readonly fault: EptFault = { kind: 'ept-violation', gpa: 0, access: 'read', level: 0 };

  /** Table memory: 1024 words per page, entry i of page p at words[p*1024 + 2i] (lo) / +1 (hi). */
  private words: Uint32Array;
  private pagesUsed = 0;
  private readonly freePages: number[] = [];
  /** Pool page index of the EPT PML4. */
  private readonly root: number;

  constructor(initialPages = 16) {
    this.words = new Uint32Array(Math.max(1, initialPages) * PAGE_WORDS);
    this.root = this.allocPage();
  }

  /** Host-physical address of the EPT PML4 (what EPTP bits 51:12 hold). */
  get rootHpa(): number {
    return EPT_TABLE_BASE + this.root * PAGE_4K;
  }

  /** EPTP as VMX would hold it: WB memory type (bits 2:0 = 6), walk length - 1 = 3 (bits 5:3). */
  get eptp(): number {
    return this.rootHpa + EPT_MT_WB + (3 << 3);
  }

  /** Number of 4 KiB pages of table memory in use. */
  get tablePagesInUse(): number {
    return this.pagesUsed - this.freePages.length;
  }

  /** The 64-bit EPT entry at host-physical `hpa` in table memory (for viewers and tests). */
  entryAt(hpa: number): bigint {
    const w = this.wordOfHpa(hpa);
    return toBig(this.words[w], this.words[w + 1]);
  }

  // ---------------------------------------------------------------- translate (hot path)

  /**
   * Translate a guest-physical address for `access` (fetch needs X, write W, read R).
   * Returns the host-physical address, or EPT_FAULT_VIOLATION / EPT_FAULT_MISCONFIG with the
   * details in `this.fault`. With `rec` non-null, pushes one WalkStep per entry read, in `row`
   * of the 2D grid. With `rec` null it allocates nothing. `this.refs` = entries read.
   */
  translate(gpa: number, access: AccessKind, rec: WalkRecorder | null, row: number): number {
    if (rec === null) {
      const hpa = this.translateFast(gpa, access);
      if (hpa >= 0) return hpa;
    }
    return this.translateFull(gpa, access, rec, row);
  }

  /**
   * The common case without a recorder: a clean walk that ends in an allowed access. Anything
   * else (not present, a possibly misconfigured entry, a denied access, an address beyond
   * 48 bits) returns -1 and `translateFull` redoes the walk with every check and the exact
   * fault. Both agree on every successful translation.
   */
  private translateFast(gpa: number, access: AccessKind): number {
    const need = access === 'read' ? EPT_R : access === 'write' ? EPT_W : EPT_X;
    const words = this.words;
    const loG = gpa >>> 0;
    const hiG = (gpa - loG) / TWO32;
    if (hiG > ADDR_HI || gpa < 0) return -1;
    let page = this.root;
    let perms = EPT_RWX;
    for (let level = 4; level >= 1; level--) {
      const idx = level === 4 ? (hiG >>> 7) & 511
        : level === 3 ? ((hiG << 2) | (loG >>> 30)) & 511
          : level === 2 ? (loG >>> 21) & 511 : (loG >>> 12) & 511;
      const w = (page << 10) | (idx << 1);
      const lo = words[w];
      const hi = words[w + 1];
      const rwx = lo & EPT_RWX;
      if (rwx === 0 || (rwx & 3) === 2 || (hi & RSVD_HI) !== 0) return -1;
      perms &= rwx;
      if (level === 1 || (level < 4 && (lo & BIT7_LARGE) !== 0)) {
        if ((perms & need) === 0 || ((BAD_MEMTYPES >>> ((lo >>> 3) & 7)) & 1) !== 0) return -1;
        this.refs = 5 - level;
        this.lastPerms = perms;
        const addrHi = (hi & ADDR_HI) * TWO32;
        if (level === 1) {
          this.lastPageSize = PAGE_4K;
          return addrHi + ((lo & ADDR_LO_4K) >>> 0) + (loG & 0xfff);
        }
        if (level === 2) {
          if ((lo & RSVD_LO_2M) !== 0) return -1;
          this.lastPageSize = PAGE_2M;
          return addrHi + ((lo & ADDR_LO_2M) >>> 0) + (loG & 0x1fffff);
        }
        if ((lo & RSVD_LO_1G) !== 0) return -1;
        this.lastPageSize = PAGE_1G;
        return addrHi + ((lo & ADDR_LO_1G) >>> 0) + (loG & 0x3fffffff);
      }
      if ((lo & RSVD_NONLEAF_LO) !== 0) return -1;
      page = (((hi & ADDR_HI) - 1) << 20) | (lo >>> 12);
    }
    return -1;
  }

  /** The walk with every check, the exact fault and the recorded steps. */
  private translateFull(gpa: number, access: AccessKind, rec: WalkRecorder | null, row: number): number {
    const need = needOf(access);
    const words = this.words;
    const loG = gpa >>> 0;
    const hiG = Math.floor(gpa / TWO32);
    let page = this.root;
    let perms = EPT_RWX;
    let refs = 0;
    if (hiG > ADDR_HI || gpa < 0) {
      // Beyond the guest-physical width EPT translates: no entry maps it.
      this.refs = 0;
      return this.fail(EPT_FAULT_VIOLATION, gpa, access, 4);
    }
    for (let level = 4; level >= 1; level--) {
      const idx = indexOf(hiG, loG, level);
      const w = page * PAGE_WORDS + idx * 2;
      const lo = words[w];
      const hi = words[w + 1];
      refs++;
      const rwx = lo & EPT_RWX;
      if (rwx === 0) {
        if (rec !== null) this.record(rec, row, level, page, idx, lo, hi, 'not-present');
        this.refs = refs;
        return this.fail(EPT_FAULT_VIOLATION, gpa, access, level, (lo & SW_MMIO_LO) !== 0);
      }
      if (misconfigured(lo, hi, level)) {
        if (rec !== null) this.record(rec, row, level, page, idx, lo, hi, 'reserved');
        this.refs = refs;
        return this.fail(EPT_FAULT_MISCONFIG, gpa, access, level);
      }
      perms &= rwx;
      if (level === 1 || (lo & BIT7_LARGE) !== 0) {
        if ((perms & need) === 0) {
          if (rec !== null) this.record(rec, row, level, page, idx, lo, hi, 'denied');
          this.refs = refs;
          return this.fail(EPT_FAULT_VIOLATION, gpa, access, level);
        }
        if (rec !== null) this.record(rec, row, level, page, idx, lo, hi, 'leaf');
        this.refs = refs;
        this.lastPerms = perms;
        const addrHi = (hi & ADDR_HI) * TWO32;
        if (level === 1) {
          this.lastPageSize = PAGE_4K;
          return addrHi + ((lo & ADDR_LO_4K) >>> 0) + (loG & 0xfff);
        }
        if (level === 2) {
          this.lastPageSize = PAGE_2M;
          return addrHi + ((lo & ADDR_LO_2M) >>> 0) + (loG & 0x1fffff);
        }
        this.lastPageSize = PAGE_1G;
        return addrHi + ((lo & ADDR_LO_1G) >>> 0) + (loG & 0x3fffffff);
      }
      if (rec !== null) this.record(rec, row, level, page, idx, lo, hi, 'next');
      page = this.pageOfEntry(lo, hi);
    }
    /* c8 ignore next */
    throw new Error('EPT walk ran past level 1');
  }

  private fail(code: number, gpa: number, access: AccessKind, level: number, mmio = false): number {
    const f = this.fault;
    f.kind = mmio ? 'mmio' : 'ept-violation';
    f.gpa = gpa;
    f.access = access;
    f.level = level;
    return code;
  }

  private record(
    rec: WalkRecorder, row: number, level: number, page: number, idx: number,
    lo: number, hi: number, outcome: WalkStep['outcome'],
  ): void {
    rec.steps.push({
      dim: 'ept',
      row,
      level,
      index: idx,
      entryAddr: EPT_TABLE_BASE + page * PAGE_4K + idx * 8,
      entryValue: toBig(lo, hi),
      outcome,
    });
  }

  // ---------------------------------------------------------------- changes

  /**
   * Map [gpa, gpa + size) to [hpa, hpa + size) with one leaf of `size` (4 KiB, 2 MiB, 1 GiB).
   * Both must be aligned to `size`. A larger leaf covering the range is split first (its other
   * pages keep their mapping); smaller mappings inside the range are replaced.
   */
  map(gpa: number, hpa: number, size: EptPageSize, perms: number, memType = EPT_MT_WB): void {
    const level = size === PAGE_4K ? 1 : size === PAGE_2M ? 2 : size === PAGE_1G ? 3 : 0;
    if (level === 0) throw new RangeError(`EPT page size must be 4 KiB, 2 MiB or 1 GiB: ${size}`);
    this.checkAligned(gpa, size, 'gpa');
    this.checkAligned(hpa, size, 'hpa');
    if ((perms & EPT_RWX) === 0 || (perms & ~EPT_RWX) !== 0) {
      throw new RangeError(`EPT perms must be a non-empty mix of EPT_R|EPT_W|EPT_X: ${perms}`);
    }
    if ((perms & 3) === 2) throw new RangeError('EPT: write without read is a misconfiguration');
    const w = this.entryFor(gpa, level, true);
    this.releaseEntry(w, level);
    const flags = perms | ((memType & 7) << 3) | (level > 1 ? BIT7_LARGE : 0);
    this.words[w] = ((hpa % TWO32) | flags) >>> 0;
    this.words[w + 1] = Math.floor(hpa / TWO32) >>> 0;
    this.generation++;
  }

  /**
   * Map `bytes` (a multiple of 4 KiB) from `gpa` to `hpa` with 4 KiB leaves, the way the VM's
   * RAM is mapped (one leaf per page, so write protection never needs a split).
   */
  mapRange(gpa: number, hpa: number, bytes: number, perms: number, memType = EPT_MT_WB): void {
    this.checkAligned(gpa, PAGE_4K, 'gpa');
    this.checkAligned(hpa, PAGE_4K, 'hpa');
    this.checkAligned(bytes, PAGE_4K, 'size');
    if ((perms & 3) === 2 || (perms & EPT_RWX) === 0) throw new RangeError(`bad EPT perms ${perms}`);
    const flags = perms | ((memType & 7) << 3);
    let w = -1;
    for (let off = 0; off < bytes; off += PAGE_4K) {
      const g = gpa + off;
      if (w < 0 || ((g >>> 12) & 511) === 0) w = this.entryFor(g, 1, true);
      else w += 2;
      const h = hpa + off;
      this.words[w] = ((h % TWO32) | flags) >>> 0;
      this.words[w + 1] = Math.floor(h / TWO32) >>> 0;
    }
    this.generation++;
  }

  /**
   * Remove the mapping of [gpa, gpa + size). A larger leaf covering it is split first, so the
   * rest of that leaf stays mapped. Returns false when nothing was mapped there.
   */
  unmap(gpa: number, size: EptPageSize = PAGE_4K): boolean {
    const level = size === PAGE_4K ? 1 : size === PAGE_2M ? 2 : 3;
    this.checkAligned(gpa, size, 'gpa');
    const w = this.entryFor(gpa, level, false);
    if (w < 0 || (this.words[w] & (EPT_RWX | SW_MMIO_LO)) === 0) return false;
    this.releaseEntry(w, level);
    this.words[w] = 0;
    this.words[w + 1] = 0;
    this.generation++;
    return true;
  }

  /**
   * Make the 4 KiB page at `gpa` an MMIO page: its leaf is not present (tagged in bit 11), so
   * every access to it ends in an 'mmio' fault, an EPT violation the VMM emulates, the way
   * bhyve leaves the LAPIC page unmapped. Used for LAPIC_BASE and the IORAM pages.
   */
  markMmio(gpa: number): void {
    const page = gpa - (gpa % PAGE_4K);
    const w = this.entryFor(page, 1, true);
    this.words[w] = SW_MMIO_LO;
    this.words[w + 1] = 0;
    this.generation++;
  }

  /**
   * Clear (on) or restore (off) W in the 4 KiB leaf mapping `gpaPage`; a 2 MiB / 1 GiB leaf
   * covering it is split first (same HPAs, same other bits). Only W that the mapping had is
   * cleared and later restored: a read-only mapping stays read-only. Returns true when the
   * entry changed. Unmapped and MMIO pages are left alone (false).
   */
  setWriteProtect(gpaPage: number, on: boolean): boolean {
    const page = gpaPage - (gpaPage % PAGE_4K);
    let w: number;
    if (on) {
      const leaf = this.findLeaf(page);
      if (leaf < 0) return false;
      const lo = this.words[leaf];
      if ((lo & EPT_W) === 0 || (lo & SW_MMIO_LO) !== 0) return false;
      w = this.entryFor(page, 1, false); // splits a large leaf
      if ((this.words[w] & EPT_W) === 0) return false;
      this.words[w] = (this.words[w] & ~EPT_W) >>> 0;
      this.words[w + 1] = (this.words[w + 1] | SW_WP_HI) >>> 0;
    } else {
      w = this.findLeaf(page);
      if (w < 0 || this.leafLevelOf(page) !== 1) return false;
      if ((this.words[w + 1] & SW_WP_HI) === 0) return false;
      this.words[w] = (this.words[w] | EPT_W) >>> 0;
      this.words[w + 1] = (this.words[w + 1] & ~SW_WP_HI) >>> 0;
    }
    this.generation++;
    return true;
  }

  /** True when setWriteProtect(gpaPage, true) is in force for that page. */
  isWriteProtected(gpaPage: number): boolean {
    const w = this.findLeaf(gpaPage - (gpaPage % PAGE_4K));
    return w >= 0 && (this.words[w + 1] & SW_WP_HI) !== 0;
  }

  /** The leaf mapping `gpa` without recording or counting, or null when none does. */
  lookup(gpa: number): EptLeafInfo | null {
    const w = this.findLeaf(gpa);
    if (w < 0) return null;
    const level = this.leafLevelOf(gpa);
    const lo = this.words[w];
    const hi = this.words[w + 1];
    const size = sizeOfLevel(level) as EptPageSize;
    const mask = level === 1 ? ADDR_LO_4K : level === 2 ? ADDR_LO_2M : ADDR_LO_1G;
    const base = (hi & ADDR_HI) * TWO32 + ((lo & mask) >>> 0);
    return {
      hpa: base + (gpa % size),
      pageSize: size,
      perms: lo & EPT_RWX,
      memType: (lo >>> 3) & 7,
      mmio: (lo & SW_MMIO_LO) !== 0,
      writeProtected: (hi & SW_WP_HI) !== 0,
    };
  }

  // ---------------------------------------------------------------- table memory

  private allocPage(): number {
    let p = this.freePages.pop();
    if (p === undefined) {
      p = this.pagesUsed++;
      if (this.pagesUsed * PAGE_WORDS > this.words.length) {
        const grown = new Uint32Array(this.words.length * 2);
        grown.set(this.words);
        this.words = grown;
      }
    }
    this.words.fill(0, p * PAGE_WORDS, (p + 1) * PAGE_WORDS);
    return p;
  }

  /** Pool page index of the table a non-leaf entry points to (table memory starts at 2^32). */
  private pageOfEntry(lo: number, hi: number): number {
    return (((hi & ADDR_HI) - 1) << 20) | (lo >>> 12);
  }

  private wordOfHpa(hpa: number): number {
    const off = hpa - EPT_TABLE_BASE;
    if (off < 0 || off % 8 !== 0 || off >= this.pagesUsed * PAGE_4K) {
      throw new RangeError(`not an EPT entry address: 0x${hpa.toString(16)}`);
    }
    return off / 4;
  }

  private pointerTo(page: number): [number, number] {
    const addr = EPT_TABLE_BASE + page * PAGE_4K;
    return [((addr % TWO32) | EPT_RWX) >>> 0, Math.floor(addr / TWO32) >>> 0];
  }

  /** Free the table subtree below entry word `w` at `level` (if it points to a table). */
  private releaseEntry(w: number, level: number): void {
    const lo = this.words[w];
    if (level === 1 || (lo & EPT_RWX) === 0 || (lo & BIT7_LARGE) !== 0) return;
    const child = this.pageOfEntry(lo, this.words[w + 1]);
    for (let i = 0; i < 512; i++) this.releaseEntry(child * PAGE_WORDS + i * 2, level - 1);
    this.freePages.push(child);
  }

  /** Split the large leaf at word `w` (level 3 or 2) into a table of 512 smaller leaves. */
  private split(w: number, level: number): void {
    const lo = this.words[w];
    const hi = this.words[w + 1];
    const mask = level === 2 ? ADDR_LO_2M : ADDR_LO_1G;
    const base = (hi & ADDR_HI) * TWO32 + ((lo & mask) >>> 0);
    const childSize = sizeOfLevel(level - 1);
    // Keep R/W/X, memory type, ignore-PAT, A/D and the software bits; bit 7 only for 2 MiB.
    const flagsLo = (lo & 0xf7f) | (level - 1 > 1 ? BIT7_LARGE : 0);
    const flagsHi = hi & ~ADDR_HI;
    const child = this.allocPage(); // may grow (and replace) this.words
    const words = this.words;
    for (let i = 0; i < 512; i++) {
      const a = base + i * childSize;
      words[child * PAGE_WORDS + i * 2] = ((a % TWO32) | flagsLo) >>> 0;
      words[child * PAGE_WORDS + i * 2 + 1] = (Math.floor(a / TWO32) | flagsHi) >>> 0;
    }
    const [plo, phi] = this.pointerTo(child);
    words[w] = plo;
    words[w + 1] = phi;
  }

  /**
   * Word index of the entry for `gpa` at `level`, walking from the root: creates missing
   * tables when `create`, splits large leaves above `level` (both only when needed). Returns
   * -1 when a table is missing and `create` is false. Does not bump `generation`.
   */
  private entryFor(gpa: number, level: number, create: boolean): number {
    const loG = gpa >>> 0;
    const hiG = Math.floor(gpa / TWO32);
    let page = this.root;
    for (let l = 4; ; l--) {
      const w = page * PAGE_WORDS + indexOf(hiG, loG, l) * 2;
      if (l === level) return w;
      let lo = this.words[w];
      if ((lo & EPT_RWX) === 0 || (lo & SW_MMIO_LO) !== 0) {
        if (!create) return -1;
        const child = this.allocPage();
        const [plo, phi] = this.pointerTo(child);
        this.words[w] = plo;
        this.words[w + 1] = phi;
        lo = plo;
      } else if ((lo & BIT7_LARGE) !== 0) {
        this.split(w, l);
        lo = this.words[w];
      }
      page = this.pageOfEntry(lo, this.words[w + 1]);
    }
  }

  /** Word index of the present leaf mapping `gpa` (any size), or -1. */
  private findLeaf(gpa: number): number {
    const loG = gpa >>> 0;
    const hiG = Math.floor(gpa / TWO32);
    let page = this.root;
    for (let l = 4; l >= 1; l--) {
      const w = page * PAGE_WORDS + indexOf(hiG, loG, l) * 2;
      const lo = this.words[w];
      if ((lo & SW_MMIO_LO) !== 0) return w;
      if ((lo & EPT_RWX) === 0) return -1;
      if (l === 1 || (lo & BIT7_LARGE) !== 0) return w;
      page = this.pageOfEntry(lo, this.words[w + 1]);
    }
    return -1;
  }

  /** Level of the leaf mapping `gpa` (1..3), or 0 when unmapped. */
  private leafLevelOf(gpa: number): number {
    const loG = gpa >>> 0;
    const hiG = Math.floor(gpa / TWO32);
    let page = this.root;
    for (let l = 4; l >= 1; l--) {
      const w = page * PAGE_WORDS + indexOf(hiG, loG, l) * 2;
      const lo = this.words[w];
      if ((lo & SW_MMIO_LO) !== 0) return l;
      if ((lo & EPT_RWX) === 0) return 0;
      if (l === 1 || (lo & BIT7_LARGE) !== 0) return l;
      page = this.pageOfEntry(lo, this.words[w + 1]);
    }
    return 0;
  }

  private checkAligned(v: number, align: number, what: string): void {
    if (!Number.isInteger(v) || v < 0 || v % align !== 0 || v >= 2 ** MAXPHYADDR) {
      throw new RangeError(`EPT ${what} 0x${v.toString(16)} is not a ${align}-aligned address`);
    }
  }
}
