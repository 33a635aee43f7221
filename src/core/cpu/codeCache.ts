/**
 * Translated code, shared by a VM's vCPUs and tracked per guest-physical page by the VM's page
 * tracker (mem/pageTracker.ts, QEMU's tb-maint.c; shared with the VMM's instruction cache). A
 * page that holds code has the tracker's code bit: vCPUs cache no plain write permission for it
 * in their TLB (v86's "page has code" bit), so ordinary stores pay nothing and a store to a
 * code page leaves the inlined fast path and reports the written bytes to the tracker (`write`);
 * only blocks whose bytes overlap them are invalidated, so data beside code stays cheap.
 *
 * Dropping a block runs in one fixed order: mark invalid, remove from the entry map, unlink its
 * chains, untrack it from its pages, drop it from every vCPU's jump caches.
 *
 * The cache is bounded: when it would hold more than MAX_CACHED_INSNS instructions it is
 * flushed whole first (QEMU's tb_flush when the code buffer is full), so a guest that runs
 * through fresh memory (a program without `hlt` running into zeroed RAM) keeps a bounded heap.
 */
import type { PageTracker, TrackedEntry } from '../mem/pageTracker';
import type { DInsn } from './decode';

/**
 * Instructions the code cache holds at most before it is flushed. A cached instruction costs
 * about 1.5 KB of host heap (its record, its share of the generated source and of the compiled
 * function; measured on 64-instruction blocks), so this bounds the cache near 25 MB, while the
 * largest example programs translate a few thousand instructions.
 */
export const MAX_CACHED_INSNS = 16_384;

export type BlockFn = (c: unknown, R: Int32Array, budget: number) => number;

export interface Block {
  /** Linear address of the first instruction. */
  rip: number;
  /** Host-physical (= guest-physical for RAM) address of the first byte. */
  hpa: number;
  insns: DInsn[];
  n: number;
  fn: BlockFn;
  /**
   * Host-physical [start, end) pairs of the bytes the block was decoded from (the tracker's
   * overlap test): one run, or several when the block follows jumps and calls in its page;
   * a crossing instruction's bytes on `page2` are a run of their own.
   */
  ranges: number[];
  /** Host-physical pages (4 KiB numbers) the block's bytes come from. */
  pages: number[];
  /**
   * When the block's (only) instruction crosses into the next linear page: the host-physical
   * page its bytes there came from (also in `pages`), else -1. Such a block is valid for an
   * entry only while that linear page still translates to this page (QEMU's tb->page_addr[1]):
   * the vCPU checks it at lookup; jump caches and chains are dropped on every TLB flush.
   */
  page2: number;
  valid: boolean;
  single: boolean;
  /** Generated source, as compiled (kept for debugging and tests). */
  src: string;
  /**
   * Chained successors (QEMU's direct block chaining, done by the dispatcher): the last two
   * blocks that followed this one, valid while `linkEpoch` equals the vCPU's TLB epoch.
   */
  link0: Block | null;
  link1: Block | null;
  linkEpoch: number;
  /**
   * Calls of a loop block still to be made with a short budget (vcpu.ts WARM_CALL_INSNS), so
   * V8 optimizes it at a call and never compiles it on the stack (0 for other blocks).
   */
  warmCalls: number;
}

export interface CodeCacheListener {
  /** A page became a code page: drop any cached write permission to it. */
  codePageAdded(hpaPage: number): void;
  /** A block left the cache: forget it in the jump caches. */
  blockDropped(b: Block): void;
}

/** A VM's page tracker as the code cache sees it (its code is our blocks). */
export type CodePages = PageTracker<Block, TrackedEntry>;

/** Code caches made in this process (each one's `salt`). */
let cachesMade = 0;

export class CodeCache {
  /**
   * A number this cache appends to the source of every block it holds (blocks.ts translate).
   * V8 caches `new Function` by source text and gives the closures of one source a single
   * feedback vector, so a new machine's blocks started on the type feedback, tiering state and
   * on-stack-replacement code of an earlier machine's blocks of the same program, and some then
   * ran a whole run in baseline code, never optimized (tight loop, a new machine per run in one
   * process: 5 of 40 runs ended so, 15-25 % slower; none of 85 with this number). Blocks
   * translated again within one cache still share.
   */
  readonly salt = cachesMade++;
  private byEntry = new Map<number, Block>();
  private listeners: CodeCacheListener[] = [];
  private cachedInsns = 0;
  /** Blocks translated / invalidated by writes, and whole-cache flushes (stats and tests). */
  translated = 0;
  invalidated = 0;
  flushes = 0;

  /** At most this many instructions cached before a flush (MAX_CACHED_INSNS unless set). */
  readonly maxInsns: number;

  constructor(readonly pages: CodePages, opts: { maxInsns?: number } = {}) {
    this.maxInsns = opts.maxInsns ?? MAX_CACHED_INSNS;
    pages.setCodeOwner({ invalidate: (b) => this.drop(b, true) });
    pages.onCodePage((pn) => { for (const l of this.listeners) l.codePageAdded(pn); });
  }

  addListener(l: CodeCacheListener): void { this.listeners.push(l); }

  /** The TLB's code bit: writes to the page must take the slow path. */
  hasCode(hpaPage: number): boolean { return this.pages.hasCode(hpaPage); }

  /** Blocks in the cache, and the instructions they hold (tests: the cache stays bounded). */
  get size(): number { return this.byEntry.size; }
  get insns(): number { return this.cachedInsns; }

  lookup(hpa: number, rip: number, single: boolean): Block | undefined {
    const b = this.byEntry.get(single ? -hpa - 1 : hpa);
    return b && b.valid && b.rip === rip ? b : undefined;
  }

  insert(b: Block): void {
    if (this.cachedInsns + b.n > this.maxInsns) this.flush();
    this.translated++;
    const key = b.single ? -b.hpa - 1 : b.hpa;
    const old = this.byEntry.get(key);
    // Replaced (another RIP for the same bytes, or another second page).
    if (old) this.drop(old, false);
    this.byEntry.set(key, b);
    this.cachedInsns += b.n;
    this.pages.trackCode(b);
  }

  /**
   * A store wrote bytes [off, off + len) of page `hpaPage` (the vCPU's slow path): the tracker
   * invalidates the blocks overlapping them. Returns how many it invalidated.
   */
  write(hpaPage: number, off: number, len: number): number {
    this.pages.write(hpaPage, off, len);
    return this.pages.lastCode;
  }

  /** The page holding `gpa` was written whole: drop every block with bytes on it. Returns the count. */
  invalidatePage(gpa: number): number {
    return this.write(Math.floor(gpa / 4096), 0, 4096);
  }

  /**
   * RAM page `hpaPage` was replaced behind the guest's back (a time-travel restore): drop the
   * blocks with bytes on it, and only them (the caller restores the rest of the machine).
   */
  dropPage(hpaPage: number): void {
    for (const b of [...this.byEntry.values()]) if (b.pages.includes(hpaPage)) this.drop(b, false);
  }

  /** The valid blocks (tests and tools: every translated block's source can be inspected). */
  *blocks(): IterableIterator<Block> {
    for (const b of this.byEntry.values()) if (b.valid) yield b;
  }

  /** Drop every block (QEMU's tb_flush). */
  flush(): void {
    for (const b of [...this.byEntry.values()]) this.drop(b, false);
    this.flushes++;
  }

  clear(): void {
    this.flush();
  }

  /** Remove `b` in the fixed order (see the file comment). */
  private drop(b: Block, invalidated: boolean): void {
    if (!b.valid) return;
    b.valid = false;
    const key = b.single ? -b.hpa - 1 : b.hpa;
    if (this.byEntry.get(key) === b) this.byEntry.delete(key);
    this.cachedInsns -= b.n;
    b.link0 = null;
    b.link1 = null;
    this.pages.untrackCode(b);
    for (const l of this.listeners) l.blockDropped(b);
    if (invalidated) this.invalidated++;
  }
}
