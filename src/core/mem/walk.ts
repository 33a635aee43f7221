/**
 * gla2gpa: the guest's 4-level IA-32e page walk (SDM Vol. 3A §4.5) under EPT, the way the
 * processor does it and the way bhyve's `_vm_gla2gpa` redoes it in software on an exit.
 *
 * Every guest paging-structure reference is a guest-physical address, so each one is first
 * translated through the EPT (SDM Vol. 3C §29.3.2: "guest-physical addresses used by the
 * guest paging structures are translated through EPT"), and so is the final data page: on
 * 4-level/4-level paging a 4 KiB translation reads 5 x 4 EPT entries + 4 guest entries = 24.
 * Rows of the 2D grid (events.ts WalkStep): 4 = the PML4's page ... 1 = the PT's page, 0 = the
 * data page.
 *
 * Order of checks, as the SDM describes them:
 * - a not-present entry (P = 0) or a reserved bit (§4.5.4 tables; XD when EFER.NXE = 0) stops
 *   the walk with #PF at that level (P = 0 in the error code, or P = 1 and RSVD = 1);
 * - the access rights of the translation are the combination over all levels (§4.6): R/W and
 *   U/S are ANDed, XD is ORed; they are checked once the leaf is reached;
 * - A is set in each entry used (§4.8) as the walk goes down; the leaf's A, and D for a write,
 *   only once the access is allowed. These writes are guest-physical writes, so they need W in
 *   the EPT (§29.3.3.2: "an update of an accessed or dirty flag"): on a table page the VMM
 *   write-protected, the walk ends in an EPT violation (access 'write') at the entry's address.
 *   An entry whose flags are already set is not written (no fault).
 * Not modeled: SMAP (needs RFLAGS.AC), protection keys, PCIDs, 5-level paging.
 */
import type { AccessKind } from '../events';
import { EPT_W, type Ept, type WalkRecorder } from './ept';
import {
  CR0_WP, CR4_PGE, CR4_SMEP, EFER_NXE, PF_I, PF_P, PF_RSVD, PF_U, PF_W,
  PTE_A, PTE_D, PTE_G, PTE_PS, pageIndex,
} from './paging';
import { GiB, MiB, TWO32, type GuestRam } from './ram';

export type { WalkRecorder } from './ept';

export interface PagingContext {
  cr0: number;
  cr3: number;
  cr4: number;
  efer: number;
}

export interface PageFault {
  kind: 'pf';
  /** #PF error code (SDM Vol. 3A §4.7): P, W/R, U/S, RSVD, I/D. */
  errorCode: number;
  gla: number;
}

export interface EptWalkFault {
  /** 'mmio' = an EPT violation at a page the VMM emulates (bhyve's inst_emul exit); 'ept-violation' = any other EPT exit. */
  kind: 'mmio' | 'ept-violation';
  /** Guest-physical address accessed: the guest entry (rows 4..1) or the data address (row 0). */
  gpa: number;
  gla: number;
  /** 'read' for a table read, 'write' for an A/D update, else the access itself. */
  access: AccessKind;
  /** Row of the 2D walk: 4..1 = a guest paging-structure access, 0 = the final access. */
  row: number;
}

export type WalkFault = PageFault | EptWalkFault;

export interface WalkResult {
  /** Guest-physical address of `gla` (set once the guest leaf is found, even when row 0 faults). */
  gpa: number;
  /** Host-physical address of `gla` (valid only when the walk succeeded). */
  hpa: number;
  /** Guest page size of the translation (4 KiB, 2 MiB, 1 GiB). */
  pageSize: number;
  /** Guest rights, combined over the levels: R/W AND, U/S AND, not XD (XD counts only with NXE). */
  writable: boolean;
  user: boolean;
  executable: boolean;
  /** G set in the leaf and CR4.PGE = 1. */
  global: boolean;
  /** D of the guest leaf after this walk (a write sets it). */
  dirty: boolean;
  /** R/W/X that the EPT allows on the data page (EPT_R | EPT_W | EPT_X), after a successful walk. */
  eptPerms: number;
  /** Memory references made: EPT entry reads + guest entry reads. */
  refs: number;
  /** Of `refs`, the guest entry reads (one per table page held: bhyve's ptp_hold). */
  guestRefs: number;
  /** null after success; else points at `pageFault` or `eptFault` (reused: copy to keep). */
  fault: WalkFault | null;
  /** Guest-physical page addresses of the guest tables read (PML4 first); `tableCount` valid. */
  tablePages: number[];
  tableCount: number;
  /** Reused fault storage; read `fault`. */
  readonly pageFault: PageFault;
  readonly eptFault: EptWalkFault;
}

export function newWalkResult(): WalkResult {
  return {
    gpa: 0, hpa: 0, pageSize: 0,
    writable: false, user: false, executable: false, global: false, dirty: false,
    eptPerms: 0, refs: 0, guestRefs: 0, fault: null,
    tablePages: [-1, -1, -1, -1], tableCount: 0,
    pageFault: { kind: 'pf', errorCode: 0, gla: 0 },
    eptFault: { kind: 'ept-violation', gpa: 0, gla: 0, access: 'read', row: 0 },
  };
}

/**
 * The #PF error code an access would raise given the combined guest rights of a present
 * translation (SDM Vol. 3A §4.6), or 0 when it is allowed. The vCPU uses it on TLB hits.
 * `cpl` 3 is a user-mode access; implicit supervisor accesses pass 0.
 */
export function rightsFault(
  writable: boolean, user: boolean, executable: boolean,
  ctx: PagingContext, access: AccessKind, cpl: number,
): number {
  const write = access === 'write';
  const fetch = access === 'fetch';
  let denied: boolean;
  if (cpl === 3) {
    // §4.6.1: user-mode accesses need U/S = 1; writes need R/W = 1 whatever CR0.WP says.
    denied = !user || (write && !writable);
  } else {
    // Supervisor: writes need R/W = 1 only when CR0.WP = 1; SMEP forbids fetches from user pages.
    denied = (write && !writable && (ctx.cr0 & CR0_WP) !== 0) ||
      (fetch && user && (ctx.cr4 & CR4_SMEP) !== 0);
  }
  if (fetch && !executable) denied = true; // executable is false only when EFER.NXE = 1
  return denied ? PF_P | errorBits(ctx, access, cpl) : 0;
}

/** W/R, U/S and I/D bits of a #PF error code for this access (SDM Vol. 3A §4.7). */
function errorBits(ctx: PagingContext, access: AccessKind, cpl: number): number {
  let e = cpl === 3 ? PF_U : 0;
  if (access === 'write') e |= PF_W;
  // I/D = 1 for a fetch only when CR4.SMEP = 1 or (PAE paging and) EFER.NXE = 1.
  else if (access === 'fetch' && ((ctx.efer & EFER_NXE) !== 0 || (ctx.cr4 & CR4_SMEP) !== 0)) e |= PF_I;
  return e;
}

/** Bits 51:48 (reserved above MAXPHYADDR = 48) of an entry's high half. */
const RSVD_HI = 0x000f_0000;
const ADDR_HI = 0x0000_ffff;
/** Reserved address bits of a 1 GiB leaf (29:13) and a 2 MiB leaf (20:13). */
const RSVD_LO_1G = 0x3fff_e000;
const RSVD_LO_2M = 0x001f_e000;

function bigEntry(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/**
 * Translate the guest-linear address `gla` (sign-extended canonical number) for `access` at
 * `cpl`, under `ctx` (CR0, CR3, CR4, EFER), through the guest tables in `ram` and the `ept`.
 * Fills `out` (reused: nothing allocated when `rec` is null). Returns false on a fault, with
 * `out.fault` set: a #PF to inject, or an EPT exit (a table or data page's violation, or an
 * MMIO page's). With `rec`, pushes the 2D walk's steps in order.
 */
export function gla2gpa(
  ram: GuestRam, ept: Ept, ctx: PagingContext, gla: number, access: AccessKind, cpl: number,
  out: WalkResult, rec: WalkRecorder | null,
): boolean {
  const view = ram.view;
  const size = ram.size;
  const lo = gla >>> 0;
  const hi = Math.floor(gla / TWO32) & 0xffff;
  const write = access === 'write';
  const nxe = (ctx.efer & EFER_NXE) !== 0;
  // XD (bit 63) is reserved when EFER.NXE = 0 (Tables 4-15..4-20).
  const rsvdHi = nxe ? RSVD_HI : (RSVD_HI | 0x8000_0000) >>> 0;
  let tLo = (ctx.cr3 & 0xffff_f000) >>> 0; // CR3 bits 47:12 (§4.5.2)
  let tHi = Math.floor(ctx.cr3 / TWO32) & ADDR_HI;
  let rw = 1;
  let us = 1;
  let xd = 0;
  let refs = 0;
  out.fault = null;
  out.tableCount = 0;
  out.guestRefs = 0;
  out.hpa = 0;
  out.eptPerms = 0;
  const tables = out.tablePages;
  tables[0] = tables[1] = tables[2] = tables[3] = -1;

  for (let level = 4; level >= 1; level--) {
    const tableGpa = tHi * TWO32 + tLo;
    tables[out.tableCount++] = tableGpa;
    const idx = pageIndex(hi, lo, level);
    const entryGpa = tableGpa + idx * 8;
    const ehpa = ept.translate(entryGpa, 'read', rec, level);
    refs += ept.refs;
    if (ehpa < 0) {
      out.refs = refs;
      return eptFail(out, ept.fault.kind, entryGpa, gla, 'read', level);
    }
    if (ehpa + 8 > size) {
      throw new Error(`EPT maps guest table 0x${entryGpa.toString(16)} outside RAM (0x${ehpa.toString(16)})`);
    }
    let eLo = view.getUint32(ehpa, true);
    const eHi = view.getUint32(ehpa + 4, true);
    refs++;
    out.guestRefs++;

    // Present? (§4.5.4: P = 0 ends the walk; the rest of the entry is ignored.)
    if ((eLo & 1) === 0) {
      if (rec !== null) pushGuest(rec, level, idx, entryGpa, eLo, eHi, 'not-present');
      out.refs = refs;
      return pfFail(out, errorBits(ctx, access, cpl), gla);
    }
    const leaf = level === 1 || (level !== 4 && (eLo & PTE_PS) !== 0);
    // Reserved bits (Tables 4-15 .. 4-20): 51:48, XD without NXE, PS in a PML4E, and the
    // address bits below a large page's frame (bit 12 is PAT there).
    if (
      (eHi & rsvdHi) !== 0 ||
      (level === 4 && (eLo & PTE_PS) !== 0) ||
      (leaf && level === 3 && (eLo & RSVD_LO_1G) !== 0) ||
      (leaf && level === 2 && (eLo & RSVD_LO_2M) !== 0)
    ) {
      if (rec !== null) pushGuest(rec, level, idx, entryGpa, eLo, eHi, 'reserved');
      out.refs = refs;
      return pfFail(out, PF_P | PF_RSVD | errorBits(ctx, access, cpl), gla);
    }
    rw &= eLo >>> 1;
    us &= eLo >>> 2;
    xd |= eHi >>> 31;

    if (!leaf) {
      if ((eLo & PTE_A) === 0) {
        if ((ept.lastPerms & EPT_W) === 0) {
          if (rec !== null) pushGuest(rec, level, idx, entryGpa, eLo, eHi, 'denied');
          out.refs = refs;
          return eptFail(out, 'ept-violation', entryGpa, gla, 'write', level);
        }
        eLo = (eLo | PTE_A) >>> 0;
        ram.noteWrite(ehpa);
        view.setUint32(ehpa, eLo, true);
      }
      if (rec !== null) pushGuest(rec, level, idx, entryGpa, eLo, eHi, 'next');
      tLo = (eLo & 0xffff_f000) >>> 0;
      tHi = eHi & ADDR_HI;
      continue;
    }

    // Leaf: combined rights (§4.6).
    const writable = (rw & 1) !== 0;
    const user = (us & 1) !== 0;
    const executable = !nxe || xd === 0;
    const denied = rightsFault(writable, user, executable, ctx, access, cpl);
    if (denied !== 0) {
      if (rec !== null) pushGuest(rec, level, idx, entryGpa, eLo, eHi, 'denied');
      out.refs = refs;
      return pfFail(out, denied, gla);
    }
    // A on the leaf, D for a write (§4.8).
    const newLo = (eLo | PTE_A | (write ? PTE_D : 0)) >>> 0;
    if (newLo !== eLo) {
      if ((ept.lastPerms & EPT_W) === 0) {
        if (rec !== null) pushGuest(rec, level, idx, entryGpa, eLo, eHi, 'denied');
        out.refs = refs;
        return eptFail(out, 'ept-violation', entryGpa, gla, 'write', level);
      }
      eLo = newLo;
      ram.noteWrite(ehpa);
      view.setUint32(ehpa, eLo, true);
    }
    if (rec !== null) pushGuest(rec, level, idx, entryGpa, eLo, eHi, 'leaf');

    const gpa = leafGpa(level, eLo, eHi, lo);
    out.gpa = gpa;
    out.pageSize = level === 1 ? 4096 : level === 2 ? 2 * MiB : GiB;
    out.writable = writable;
    out.user = user;
    out.executable = executable;
    out.global = (eLo & PTE_G) !== 0 && (ctx.cr4 & CR4_PGE) !== 0;
    out.dirty = (eLo & PTE_D) !== 0;

    // Row 0: the data page itself through the EPT.
    const hpa = ept.translate(gpa, access, rec, 0);
    refs += ept.refs;
    out.refs = refs;
    if (hpa < 0) return eptFail(out, ept.fault.kind, gpa, gla, access, 0);
    out.hpa = hpa;
    out.eptPerms = ept.lastPerms;
    return true;
  }
  /* c8 ignore next */
  throw new Error('guest walk ran past level 1');
}

/**
 * Where `gla` lands in guest-physical memory now, for a viewer (the editor's line of an
 * instruction at a linear address the program was not assembled at): gla2gpa's walk through
 * the guest tables and the EPT, but it sets no accessed or dirty bit, checks no access rights
 * and records nothing, so asking cannot change the run. -1 when an entry on the way is not
 * present or the EPT does not map a table.
 */
export function peekGla2gpa(ram: GuestRam, ept: Ept, ctx: PagingContext, gla: number): number {
  const view = ram.view;
  const lo = gla >>> 0;
  const hi = Math.floor(gla / TWO32) & 0xffff;
  let tLo = (ctx.cr3 & 0xffff_f000) >>> 0;
  let tHi = Math.floor(ctx.cr3 / TWO32) & ADDR_HI;
  for (let level = 4; level >= 1; level--) {
    const ehpa = ept.translate(tHi * TWO32 + tLo + pageIndex(hi, lo, level) * 8, 'read', null, level);
    if (ehpa < 0 || ehpa + 8 > ram.size) return -1;
    const eLo = view.getUint32(ehpa, true);
    const eHi = view.getUint32(ehpa + 4, true);
    if ((eLo & 1) === 0 || (level === 4 && (eLo & PTE_PS) !== 0)) return -1;
    if (level === 1 || (eLo & PTE_PS) !== 0) return leafGpa(level, eLo, eHi, lo);
    tLo = (eLo & 0xffff_f000) >>> 0;
    tHi = eHi & ADDR_HI;
  }
  /* c8 ignore next */
  return -1;
}

/** The guest-physical address a leaf entry at `level` (1: 4 KiB, 2: 2 MiB, 3: 1 GiB page) maps the low 32 bits `lo` of a linear address to. */
function leafGpa(level: number, eLo: number, eHi: number, lo: number): number {
  const fHi = (eHi & ADDR_HI) * TWO32;
  if (level === 1) return fHi + ((eLo & 0xffff_f000) >>> 0) + (lo & 0xfff);
  if (level === 2) return fHi + ((eLo & 0xffe0_0000) >>> 0) + (lo & 0x1f_ffff);
  return fHi + ((eLo & 0xc000_0000) >>> 0) + (lo & 0x3fff_ffff);
}

function pfFail(out: WalkResult, errorCode: number, gla: number): false {
  const f = out.pageFault;
  f.errorCode = errorCode;
  f.gla = gla;
  out.fault = f;
  return false;
}

function eptFail(
  out: WalkResult, kind: 'mmio' | 'ept-violation', gpa: number, gla: number,
  access: AccessKind, row: number,
): false {
  const f = out.eptFault;
  f.kind = kind;
  f.gpa = gpa;
  f.gla = gla;
  f.access = access;
  f.row = row;
  out.fault = f;
  return false;
}

function pushGuest(
  rec: WalkRecorder, level: number, index: number, entryAddr: number, lo: number, hi: number,
  outcome: 'next' | 'leaf' | 'not-present' | 'reserved' | 'denied',
): void {
  rec.steps.push({ dim: 'guest', row: level, level, index, entryAddr, entryValue: bigEntry(lo, hi), outcome });
}
