/**
 * Translated code, cached per guest-physical page and shared by a VM's vCPUs (QEMU's
 * per-page TB lists, tb-maint.c). A page that holds code is flagged; vCPUs never cache a
 * write permission for such a page in their TLB (v86's "page has code" bit), so ordinary
 * stores pay nothing and a store to a code page takes the slow path, which invalidates.
 * Invalidation order: mark invalid, drop from the entry map, drop the page list.
 */
import type { DInsn } from './decode';

export type BlockFn = (c: unknown, R: Int32Array, budget: number) => number;

export interface Block {
  /** Linear address of the first instruction. */
  rip: number;
  /** Host-physical (= guest-physical for RAM) address of the first byte. */
  hpa: number;
  insns: DInsn[];
  n: number;
  fn: BlockFn;
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
  /** Generated source (kept for debugging and tests). */
  src: string;
  /**
   * Chained successors (QEMU's direct block chaining, done by the dispatcher): the last two
   * blocks that followed this one, valid while `linkEpoch` equals the vCPU's TLB epoch.
   */
  link0: Block | null;
  link1: Block | null;
  linkEpoch: number;
}

export interface CodeCacheListener {
  /** A page became a code page: drop any cached write permission to it. */
  codePageAdded(hpaPage: number): void;
}

export class CodeCache {
  private byEntry = new Map<number, Block>();
  private byPage = new Map<number, Block[]>();
  private listeners: CodeCacheListener[] = [];
  /** Blocks translated / invalidated (for stats and tests). */
  translated = 0;
  invalidated = 0;

  addListener(l: CodeCacheListener): void { this.listeners.push(l); }

  hasCode(hpaPage: number): boolean { return this.byPage.has(hpaPage); }

  lookup(hpa: number, rip: number, single: boolean): Block | undefined {
    const b = this.byEntry.get(single ? -hpa - 1 : hpa);
    return b && b.valid && b.rip === rip ? b : undefined;
  }

  insert(b: Block): void {
    this.translated++;
    const key = b.single ? -b.hpa - 1 : b.hpa;
    const old = this.byEntry.get(key);
    if (old) {
      // Replaced (another RIP for the same bytes, or another second page): drop it from its pages.
      old.valid = false;
      this.unlink(old, -1);
    }
    this.byEntry.set(key, b);
    for (const p of b.pages) {
      let list = this.byPage.get(p);
      if (!list) {
        list = [];
        this.byPage.set(p, list);
        for (const l of this.listeners) l.codePageAdded(p);
      }
      list.push(b);
    }
  }

  /**
   * The guest-physical page holding `gpa` (any address in the page, e.g. its base) was
   * written: drop every block with bytes on it. Returns the count.
   */
  invalidatePage(gpa: number): number {
    return this.invalidatePageNumber(Math.floor(gpa / 4096));
  }

  /** Same as invalidatePage, with a 4 KiB page number. */
  invalidatePageNumber(page: number): number {
    const list = this.byPage.get(page);
    if (!list) return 0;
    this.byPage.delete(page);
    let n = 0;
    for (const b of list) {
      if (!b.valid) continue;
      b.valid = false;
      n++;
      const key = b.single ? -b.hpa - 1 : b.hpa;
      if (this.byEntry.get(key) === b) this.byEntry.delete(key);
      this.unlink(b, page);
    }
    this.invalidated += n;
    return n;
  }

  /** Remove `b` from the block lists of its pages other than `except`. */
  private unlink(b: Block, except: number): void {
    for (const p of b.pages) {
      if (p === except) continue;
      const other = this.byPage.get(p);
      if (other) {
        const j = other.indexOf(b);
        if (j >= 0) other.splice(j, 1);
        if (other.length === 0) this.byPage.delete(p);
      }
    }
  }

  /** The valid blocks (tests and tools: every translated block's source can be inspected). */
  *blocks(): IterableIterator<Block> {
    for (const b of this.byEntry.values()) if (b.valid) yield b;
  }

  clear(): void {
    for (const b of this.byEntry.values()) b.valid = false;
    this.byEntry.clear();
    this.byPage.clear();
  }
}
