/**
 * One page tracker per VM (QEMU's accel/tcg/tb-maint.c: a descriptor per guest page listing
 * what was derived from its bytes). Per guest-physical 4 KiB page it holds the dependents of
 * both caches that read guest memory:
 *
 * - code: the vCPU's translated blocks with bytes on the page (cpu/codeCache.ts). Protection
 *   is the TLB's code bit (v86's "page has code"): while a page has code, no vCPU caches a plain
 *   write permission for it, so every store to it leaves the fast path and reports the write here.
 * - entries: the VMM's instruction-cache entries (vmm/icache.ts) that depend on the page: their
 *   instruction bytes, or a guest page-table page walked to translate RIP. Protection is the
 *   EPT: W is cleared in the page's leaf, so a guest store to it exits.
 *
 * Protect on the first dependent, invalidate on a write, unprotect on the last. A write (from
 * the vCPU's slow path, the VMM's write-protect handler, or the VMM's own `copyout`) drops, in
 * this fixed order: (1) the blocks whose bytes overlap the written range, (2) every entry on
 * the page (the EPT cannot tell which bytes a store hit, and a page-table page's entries all
 * depend on its whole contents). Each owner removes a dependent from its own structures (hash,
 * FIFO, jump caches, chains) and then calls `untrackCode` / `untrackEntry`, which take it off
 * its pages' lists and lift the EPT protection of a page with no entry left.
 *
 * Preconditions: page numbers are guest-physical (host-physical = guest-physical for RAM), and a
 * dependent's `pages` does not change while it is tracked.
 */

/**
 * A translated block: the bytes it was decoded from, on `pages`. A block that follows jumps
 * and calls inside its page holds several runs of bytes (a callee may lie before its caller,
 * a jump may skip data), so it lists each run, and a write between them leaves it valid.
 */
export interface TrackedCode {
  /** Host-physical byte ranges as [start, end) pairs, on `pages`. */
  readonly ranges: readonly number[];
  /** 4 KiB page numbers: the first byte's page, then the next one when the bytes cross into it. */
  readonly pages: readonly number[];
}

/** An instruction-cache entry: the page base addresses it depends on. */
export interface TrackedEntry {
  readonly pages: readonly number[];
}

/** Where the tracker sends a dependent a write invalidated (the owning cache). */
export interface DependentOwner<T> {
  /** Remove `d` from the owner's structures, then call the tracker's untrack method for it. */
  invalidate(d: T): void;
}

/** The EPT operation the tracker needs (mem Ept implements it). */
export interface WriteProtectPort {
  /** Clear (on) or restore (off) W of the 4 KiB leaf; true when the entry changed. */
  setWriteProtect(gpaPage: number, on: boolean): boolean;
}

export const PAGE_BYTES = 4096;

/**
 * The blocks with bytes on one page, and the extent [lo, hi) (host-physical) that holds all
 * their bytes there: a write outside it overlaps no block (QEMU keeps a bitmap of a page's code
 * bytes for the same test), so data beside code is checked with two compares. The extent only
 * grows while blocks come; when one goes it is recomputed at the next write (`stale`).
 */
class CodeRecord {
  readonly blocks = new Set<TrackedCode>();
  lo = Infinity;
  hi = -Infinity;
  stale = false;

  widen(b: TrackedCode, pageLo: number): void {
    const r = b.ranges, pageHi = pageLo + PAGE_BYTES;
    for (let k = 0; k < r.length; k += 2) {
      const lo = Math.max(r[k]!, pageLo), hi = Math.min(r[k + 1]!, pageHi);
      if (lo < hi) { if (lo < this.lo) this.lo = lo; if (hi > this.hi) this.hi = hi; }
    }
  }

  /** Recompute the extent from the blocks left. */
  refresh(pageLo: number): void {
    this.lo = Infinity; this.hi = -Infinity; this.stale = false;
    for (const b of this.blocks) this.widen(b, pageLo);
  }
}

class EntryRecord {
  readonly entries = new Set<TrackedEntry>();
  /** The tracker cleared W in the EPT for this page (and so must restore it). */
  eptProtected = false;
}

export class PageTracker<C extends TrackedCode = TrackedCode, E extends TrackedEntry = TrackedEntry> {
  /**
   * Blocks per page. Derived from the code cache, like it (time travel keeps both as they are
   * across a restore and drops the blocks of the pages the restore changed): apart from the
   * entries, which are machine state restored with the instruction cache and the EPT.
   */
  private readonly codeByPage = new Map<number, CodeRecord>();
  private readonly entriesByPage = new Map<number, EntryRecord>();
  private codeOwner: DependentOwner<C> | null = null;
  private entryOwner: DependentOwner<E> | null = null;
  private readonly codeListeners: ((pn: number) => void)[] = [];
  private readonly scratchCode: C[] = [];
  private readonly scratchEntries: E[] = [];
  /** Results of the last call that changed protection or invalidated (no allocation). */
  lastProtected = 0;
  lastUnprotected = 0;
  lastCode = 0;
  lastEntries = 0;

  constructor(readonly ept: WriteProtectPort) {}

  /** The vCPUs' code cache: its blocks are the pages' code. */
  setCodeOwner(o: DependentOwner<C>): void { this.codeOwner = o; }
  /** The VMM's instruction cache: its entries are the pages' entries. */
  setEntryOwner(o: DependentOwner<E>): void { this.entryOwner = o; }
  /** Called with a page number when it gets its first block (a vCPU drops cached write rights). */
  onCodePage(l: (pn: number) => void): void { this.codeListeners.push(l); }

  /** The TLB's code bit: a write to page `pn` must be reported (it holds translated code). */
  hasCode(pn: number): boolean {
    return this.codeByPage.has(pn);
  }

  /** The tracker write-protected page `pn` in the EPT (a write there is an invalidation). */
  isProtected(pn: number): boolean {
    return this.entriesByPage.get(pn)?.eptProtected === true;
  }

  /** Number of blocks and of entries depending on page `pn` (tests, UI). */
  codeOn(pn: number): number { return this.codeByPage.get(pn)?.blocks.size ?? 0; }
  entriesOn(pn: number): number { return this.entriesByPage.get(pn)?.entries.size ?? 0; }
  /** The entries depending on page `pn`, in the order they were tracked (a copy: the slow path of a fault). */
  entriesOnPage(pn: number): E[] {
    const r = this.entriesByPage.get(pn);
    return r === undefined ? [] : [...r.entries] as E[];
  }
  /** Pages with any dependent (tests: the tracker stays bounded). */
  get trackedPages(): number {
    let n = this.codeByPage.size;
    for (const pn of this.entriesByPage.keys()) if (!this.codeByPage.has(pn)) n++;
    return n;
  }

  // ---- code (the vCPU's blocks)

  /** A block was translated: add it to its pages; the first block on a page sets its code bit. */
  trackCode(b: C): void {
    for (const pn of b.pages) {
      let rec = this.codeByPage.get(pn);
      if (rec === undefined) {
        rec = new CodeRecord();
        this.codeByPage.set(pn, rec);
        for (const l of this.codeListeners) l(pn);
      }
      rec.blocks.add(b);
      rec.widen(b, pn * PAGE_BYTES);
    }
  }

  /** A block left its cache (invalidated, replaced, flushed): take it off its pages. */
  untrackCode(b: C): void {
    for (const pn of b.pages) {
      const rec = this.codeByPage.get(pn);
      if (rec === undefined) continue;
      if (rec.blocks.delete(b)) rec.stale = true;
      if (rec.blocks.size === 0) this.codeByPage.delete(pn);
    }
  }

  // ---- entries (the VMM's instruction cache)

  /** An entry was inserted: add it to its pages; write-protect each page not yet protected. */
  trackEntry(e: E): void {
    this.lastProtected = 0;
    for (const base of e.pages) {
      const r = this.entryRecord(Math.floor(base / PAGE_BYTES));
      r.entries.add(e);
      if (!r.eptProtected && this.ept.setWriteProtect(base, true)) {
        r.eptProtected = true;
        this.lastProtected++;
      }
    }
  }

  /** An entry left its cache: take it off its pages; lift the protection of a page left with no entry. */
  untrackEntry(e: E): void {
    for (const base of e.pages) {
      const pn = Math.floor(base / PAGE_BYTES);
      const r = this.entriesByPage.get(pn);
      if (r === undefined) continue;
      r.entries.delete(e);
      if (r.entries.size === 0 && r.eptProtected) {
        r.eptProtected = false;
        if (this.ept.setWriteProtect(pn * PAGE_BYTES, false)) this.lastUnprotected++;
      }
      if (r.entries.size === 0 && !r.eptProtected) this.entriesByPage.delete(pn);
    }
  }

  /**
   * TEST ONLY (icache.debugBreakInvalidation): lift the EPT protection of page `pn` and keep
   * its entries, so stale entries are served. Returns true when the protection was lifted.
   */
  debugUnprotect(pn: number): boolean {
    const r = this.entriesByPage.get(pn);
    if (r === undefined || !r.eptProtected) return false;
    r.eptProtected = false;
    this.ept.setWriteProtect(pn * PAGE_BYTES, false);
    return true;
  }

  // ---- writes

  /**
   * Page `pn` was written at bytes [off, off + len) of the page (len = PAGE_BYTES - off when
   * the extent is unknown). Invalidates, in the fixed order, the overlapping blocks, then every
   * entry on the page. `lastCode`, `lastEntries` and `lastUnprotected` say what it did.
   */
  write(pn: number, off: number, len: number): void {
    this.lastCode = 0;
    this.lastEntries = 0;
    this.lastUnprotected = 0;
    // Snapshots first: each invalidation edits the very sets we would iterate.
    const code = this.codeByPage.get(pn);
    const lo = pn * PAGE_BYTES + off, hi = lo + len;
    if (code !== undefined && code.stale) code.refresh(pn * PAGE_BYTES);
    if (code !== undefined && this.codeOwner !== null && code.lo < hi && lo < code.hi) {
      const list = this.scratchCode;
      if (list.length !== 0) list.length = 0; // left over only if an invalidation threw
      for (const b of code.blocks) {
        const r = b.ranges;
        for (let k = 0; k < r.length; k += 2) {
          if (r[k]! < hi && lo < r[k + 1]!) { list.push(b as C); break; }
        }
      }
      for (const b of list) this.codeOwner.invalidate(b);
      this.lastCode = list.length;
      list.length = 0;
    }
    const r = this.entriesByPage.get(pn);
    if (r !== undefined && r.entries.size > 0 && this.entryOwner !== null) {
      const list = this.scratchEntries;
      list.length = 0;
      for (const e of r.entries) list.push(e as E);
      let unprotected = 0;
      for (const e of list) {
        this.lastUnprotected = 0;
        this.entryOwner.invalidate(e);
        unprotected += this.lastUnprotected;
      }
      this.lastUnprotected = unprotected;
      this.lastEntries = list.length;
      list.length = 0;
    }
  }

  /** Forget everything (the VM is torn down); lifts every EPT protection the tracker set. */
  clear(): void {
    for (const [pn, r] of this.entriesByPage) if (r.eptProtected) this.ept.setWriteProtect(pn * PAGE_BYTES, false);
    this.entriesByPage.clear();
    this.codeByPage.clear();
  }

  private entryRecord(pn: number): EntryRecord {
    let r = this.entriesByPage.get(pn);
    if (r === undefined) {
      r = new EntryRecord();
      this.entriesByPage.set(pn, r);
    }
    return r;
  }
}
