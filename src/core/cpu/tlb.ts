/**
 * The vCPU's TLB (SDM Vol. 3A §4.10): linear page -> host page, with the access rights cached
 * per privilege and a jump cache per privilege. `xlate` fills it from a guest page walk
 * nested in the EPT (mem/walk.ts). A write to a page that holds translated code invalidates
 * that code and ends the running block (SMC).
 */
import type { AccessKind } from '../events';
import type { Block, CodeCacheListener } from './codeCache';
import { gla2gpa, newWalkResult, peekGla2gpa, type PagingContext, type WalkResult } from '../mem';
import { VcpuState } from './vcpuState';
import { CANON, CR4_PGE, GP, PFV, SS } from './x86';

const TLB_SIZE = 4096;
export const TLB_MASK = TLB_SIZE - 1;

/**
 * The access rights one privilege level has cached for each TLB entry (SDM Vol. 3A §4.10.2.2:
 * a TLB entry keeps the U/S and R/W rights of its translation, checked against the CPL on
 * every access). The vCPU keeps one for supervisor accesses (CPL 0-2) and one for user
 * accesses (CPL 3) over the same entries, and switches between them when the CPL changes, so
 * SYSCALL/SYSRET and interrupts flush nothing. A slot holds the page number when the access
 * kind is allowed, NaN otherwise. `mmioRead`/`mmioWrite`: the entry is an MMIO page (not mapped
 * in the EPT): every access exits, but without a new walk. `codeWrite`: writes are
 * allowed but the page holds translated code (QEMU's TLB_NOTDIRTY, v86's "page has code"): a
 * store reports its bytes to the page tracker, without a new walk. The jump caches (rip ->
 * block) are per privilege too: a block found there was fetched with this privilege's rights.
 */
interface PrivTlb {
  read: Float64Array;
  write: Float64Array;
  fetch: Float64Array;
  mmioRead: Float64Array;
  mmioWrite: Float64Array;
  codeWrite: Float64Array;
  /** rip -> block of up to 64 instructions. */
  jumpCache: Map<number, Block>;
  /** rip -> one-instruction block (single-stepping). */
  jumpCacheSingle: Map<number, Block>;
}
function newPrivTlb(): PrivTlb {
  const a = (): Float64Array => new Float64Array(TLB_SIZE).fill(NaN);
  return { read: a(), write: a(), fetch: a(), mmioRead: a(), mmioWrite: a(), codeWrite: a(), jumpCache: new Map(), jumpCacheSingle: new Map() };
}
function clearPrivEntry(t: PrivTlb, i: number): void {
  t.read[i] = NaN; t.write[i] = NaN; t.fetch[i] = NaN; t.mmioRead[i] = NaN; t.mmioWrite[i] = NaN; t.codeWrite[i] = NaN;
}

export abstract class VcpuTlb extends VcpuState implements CodeCacheListener {
  private readonly walkOut: WalkResult = newWalkResult();
  /** CS selector; its RPL is the CPL. Setting it selects the TLB rights of that privilege. */
  get cs(): number { return this.csSel; }
  set cs(v: number) {
    this.csSel = v;
    if (((v & 3) === 3) !== this.privUser) this.selectPriv((v & 3) === 3);
  }
  private csSel = 0x08;

  // ---- TLB (per vCPU; linear page -> host page, SDM Vol. 3A §4.10)
  /** Linear page number of each entry (NaN: empty); delta = host address - linear address. */
  private readonly tlbPn = new Float64Array(TLB_SIZE).fill(NaN);
  readonly tlbDelta = new Float64Array(TLB_SIZE);
  private readonly tlbGlobal = new Uint8Array(TLB_SIZE);
  private readonly tlbSup: PrivTlb = newPrivTlb();
  private readonly tlbUser: PrivTlb = newPrivTlb();
  /**
   * The slots filled since the last flush (a slot is filled when its tlbPn is set, and only a
   * filled slot holds rights), so a flush clears those instead of all 4096: a guest that runs
   * a loop over a few pages flushes in a few writes. Past TLB_SIZE fills (a slot refilled
   * after flushTlbPage counts again) the next flush clears every slot.
   */
  private readonly tlbFilled = new Int32Array(TLB_SIZE);
  private tlbFilledCount = 0;
  /**
   * The current privilege's read/write rights (tlbSup's or tlbUser's), read by the accessors
   * and by generated code's inlined TLB check (with tlbDelta and ramView).
   */
  readTag = this.tlbSup.read;
  writeTag = this.tlbSup.write;
  /** Jump caches of the current privilege: rip -> block (cleared with the TLB). */
  protected jumpCache = this.tlbSup.jumpCache;
  protected jumpCacheSingle = this.tlbSup.jumpCacheSingle;
  private privUser = false;
  /** Bumped on every TLB flush: chained block links are valid only within one epoch. */
  private tlbEpoch = 0;
  /** tlbEpoch and privilege: a chained link is followed only under the key it was made with. */
  protected linkKey = 0;
  private ctx: PagingContext = { cr0: 0, cr3: 0, cr4: 0, efer: 0 };
  /** Faults on accesses by the vCPU itself (IDT, TSS, stack during delivery) use CPL 0. */
  protected implicitSupervisor = false;
  /** The guest-physical address of the MMIO access xlate last reported (it returned -1). */
  protected mmioGpa = 0;
  /** The linear address of the #PF being raised (CR2 is written when it is delivered). */
  protected cr2Pending = 0;

  get cpl(): number { return this.cs & 3; }

  flushTlb(all: boolean): void {
    const sup = this.tlbSup, user = this.tlbUser;
    const keepGlobal = !all && (this.cr4 & CR4_PGE) !== 0;
    const every = this.tlbFilledCount >= TLB_SIZE;
    const n = every ? TLB_SIZE : this.tlbFilledCount;
    let kept = 0;
    for (let k = 0; k < n; k++) {
      const i = every ? k : this.tlbFilled[k]!;
      if (keepGlobal && this.tlbGlobal[i] && this.tlbPn[i] === this.tlbPn[i]) {
        // A global entry survives: it stays filled (the list shrinks in place, kept <= k).
        this.tlbFilled[kept++] = i;
        continue;
      }
      this.tlbPn[i] = NaN; this.tlbGlobal[i] = 0;
      clearPrivEntry(sup, i); clearPrivEntry(user, i);
    }
    this.tlbFilledCount = kept;
    this.clearJumpCaches();
  }
  /** Slot i gets a new page: it is filled from now on (see tlbFilled). */
  private fillSlot(i: number, pn: number): void {
    if (this.tlbPn[i] !== this.tlbPn[i] && this.tlbFilledCount < TLB_SIZE) this.tlbFilled[this.tlbFilledCount++] = i;
    this.tlbPn[i] = pn; clearPrivEntry(this.tlbSup, i); clearPrivEntry(this.tlbUser, i);
  }
  flushTlbPage(la: number): void {
    const pn = Math.floor(la / 4096), i = pn & TLB_MASK;
    if (this.tlbPn[i] === pn) { this.tlbPn[i] = NaN; clearPrivEntry(this.tlbSup, i); clearPrivEntry(this.tlbUser, i); }
    this.clearJumpCaches();
  }
  private clearJumpCaches(): void {
    this.tlbSup.jumpCache.clear(); this.tlbSup.jumpCacheSingle.clear();
    this.tlbUser.jumpCache.clear(); this.tlbUser.jumpCacheSingle.clear();
    this.tlbEpoch++;
    this.linkKey = this.tlbEpoch * 2 + (this.privUser ? 1 : 0);
  }
  /** The CPL changed between user (3) and supervisor (0-2): use that privilege's TLB rights. */
  private selectPriv(user: boolean): void {
    const t = user ? this.tlbUser : this.tlbSup;
    this.privUser = user;
    this.readTag = t.read; this.writeTag = t.write;
    this.jumpCache = t.jumpCache; this.jumpCacheSingle = t.jumpCacheSingle;
    this.linkKey = this.tlbEpoch * 2 + (user ? 1 : 0);
  }
  /** CodeCacheListener: a block left the cache; its jump-cache slots must not keep it alive. */
  blockDropped(b: Block): void {
    for (const t of [this.tlbSup, this.tlbUser]) {
      if (t.jumpCache.get(b.rip) === b) t.jumpCache.delete(b.rip);
      if (t.jumpCacheSingle.get(b.rip) === b) t.jumpCacheSingle.delete(b.rip);
    }
  }
  /**
   * CodeCacheListener: a page became a code page; its cached write rights become code-write
   * rights (stores leave the inlined fast path and report their bytes, still without a walk).
   */
  codePageAdded(hpaPage: number): void {
    const base = hpaPage * 4096;
    for (const t of [this.tlbSup, this.tlbUser]) {
      const w = t.write;
      for (let i = 0; i < TLB_SIZE; i++) {
        if (w[i] === w[i] && this.tlbPn[i]! * 4096 + this.tlbDelta[i]! === base) { t.codeWrite[i] = w[i]!; w[i] = NaN; }
      }
    }
  }

  /**
   * A store to host page `hpaPage` (which had code when its rights were cached) writes bytes
   * [off, off + len): the tracker invalidates the blocks they overlap, and a block that wrote
   * itself ends after this instruction. Returns whether the page still holds code.
   */
  private reportCodeWrite(hpaPage: number, off: number, len: number): boolean {
    const pn = hpaPage / 4096;
    if (!this.codeCache.hasCode(pn)) return false;
    if (this.codeCache.write(pn, off, Math.min(len, 4096 - off)) > 0) this.endBlock = true;
    return this.codeCache.hasCode(pn);
  }

  private syncCtx(): PagingContext {
    const c = this.ctx;
    c.cr0 = this.cr0; c.cr3 = this.cr3; c.cr4 = this.cr4; c.efer = this.efer;
    return c;
  }

  /**
   * The qword at linear `la` as the guest's tables and the EPT map it now, for a question the
   * model asks itself (is there a #UD gate?), not an access the guest makes: no accessed bit is
   * set, no right checked, nothing exits (a read that set the table entry's accessed bit on a
   * write-protected page would take an exit, and the answer would depend on the strategy).
   * null where the guest's read would fault: a non-canonical address, nothing mapped.
   */
  protected peek64(la: number): bigint | null {
    if (!(la >= -CANON && la < CANON)) return null; // the guest's own read would fault (#GP)
    const gpa = peekGla2gpa(this.ram, this.ept, this.syncCtx(), la);
    if (gpa < 0) return null;
    const hpa = this.ept.translate(gpa, 'read', null, 0);
    if (hpa < 0 || hpa + 8 > this.ram.size) return null;
    return this.ram.view.getBigUint64(hpa, true);
  }

  /**
   * The host-physical address the TLB holds for an instruction fetch at linear `la` at the
   * current privilege (what the vCPU ran there), or -1 when it holds no fetch translation of
   * that page. Reads only.
   */
  fetchedAt(la: number): number {
    const pn = Math.floor(la / 4096), i = pn & TLB_MASK;
    return (this.privUser ? this.tlbUser : this.tlbSup).fetch[i] === pn ? this.tlbDelta[i]! + la : -1;
  }

  /**
   * Translate a linear address for an access, filling the TLB. Returns the host-physical
   * address, or -1 for an MMIO page (details in mmioGpa). Raises #GP(0) for a non-canonical
   * address, #SS(0) when `ss` is nonzero (the access references SS: an RSP/RBP-based operand or
   * an implicit stack access, SDM Vol. 3A §6.15 "Interrupt 12"), #PF; exits on EPT violations.
   * A write to a code page reports the bytes [la, la + len) (up to the page end; by default
   * the rest of the page) to the page tracker, which invalidates the blocks they overlap (SMC);
   * until the page holds no code, its write permission is cached as a code-write right
   * (`codeWrite`: the next store reports its bytes without a walk), then as a plain one.
   */
  xlate(la: number, access: AccessKind, ss = 0, len = 4096): number {
    if (!(la >= -CANON && la < CANON)) this.raise(ss !== 0 ? SS : GP, 0);
    const pn = Math.floor(la / 4096), i = pn & TLB_MASK;
    const off = la - pn * 4096;
    const cpl = this.implicitSupervisor ? 0 : this.cpl;
    const set = cpl === 3 ? this.tlbUser : this.tlbSup;
    const tag = access === 'read' ? set.read : access === 'write' ? set.write : set.fetch;
    if (tag[i] === pn) return this.tlbDelta[i]! + la;
    if (access === 'write' && set.codeWrite[i] === pn) {
      const hpaPage = this.tlbDelta[i]! + pn * 4096;
      if (!this.reportCodeWrite(hpaPage, off, len)) { set.codeWrite[i] = NaN; set.write[i] = pn; }
      return hpaPage + off;
    }
    if (access !== 'fetch' && (access === 'read' ? set.mmioRead : set.mmioWrite)[i] === pn) {
      this.mmioGpa = this.tlbDelta[i]! + la;
      return -1;
    }
    const out = this.walkOut;
    if (!gla2gpa(this.ram, this.ept, this.syncCtx(), la, access, cpl, out, null)) {
      const f = out.fault!;
      if (f.kind === 'pf') {
        this.cr2Pending = la;
        return this.raise(PFV, f.errorCode);
      }
      // An MMIO data page (row 0) may be served by the APICv fast path; table pages always exit.
      if (f.kind === 'mmio' && f.row === 0) {
        this.mmioGpa = f.gpa;
        if (access !== 'fetch') {
          // Keep the translation: the next access to this MMIO page exits without a walk.
          const delta = f.gpa - la;
          if (this.tlbPn[i] !== pn || this.tlbDelta[i] !== delta) this.fillSlot(i, pn);
          this.tlbDelta[i] = delta;
          this.tlbGlobal[i] = 0;
          set.mmioRead[i] = pn;
          if (access === 'write') set.mmioWrite[i] = pn;
        }
        return -1;
      }
      return this.exitMem(f.kind, la, f.gpa, f.access, f.row !== 0);
    }
    const hpaPage = out.hpa - off;
    const codePage = access === 'write' && this.reportCodeWrite(hpaPage, off, len);
    if (this.tlbPn[i] !== pn || this.tlbDelta[i] !== hpaPage - pn * 4096) this.fillSlot(i, pn);
    this.tlbDelta[i] = hpaPage - pn * 4096;
    this.tlbGlobal[i] = out.global ? 1 : 0;
    if (access === 'fetch') set.fetch[i] = pn;
    else {
      set.read[i] = pn;
      if (access === 'write') {
        this.ram.noteWrite(out.hpa); // before the first store: time travel saves written pages
        // A page with code keeps its stores off the inlined fast path (they report their bytes).
        if (codePage) set.codeWrite[i] = pn; else set.write[i] = pn;
      }
    }
    return out.hpa;
  }
}
