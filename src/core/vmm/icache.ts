/**
 * The instruction cache: the seed (the bhyve instruction-caching proposal), Neel Natu's
 * "table from guest %rip to the decoded struct vie", keyed by (VM, RIP, CR3).
 *
 * - Hash table with chaining: `buckets` heads (any count; index = hash % buckets), at most
 *   `capacity` entries. When full, the oldest entry is evicted: FIFO by insertion order (the
 *   seed's workloads re-insert rarely; FIFO is deterministic and O(1), and an evicted hot
 *   entry costs one miss).
 * - The reverse map and the protection are the VM's page tracker (mem/pageTracker.ts, shared
 *   with the vCPU's code cache): an entry depends on the page(s) holding the instruction bytes
 *   and every guest page-table page walked to translate RIP; the first entry on a page
 *   write-protects it in that VM's EPT, the last one to go lifts the protection. A write to a
 *   tracked page reaches the cache through the tracker (`invalidate`).
 * - Removal runs in one fixed order for each entry: mark invalid, unlink from its hash chain,
 *   unlink from the FIFO, untrack it from its pages (lifting protection of pages left empty).
 *
 * Lookups allocate nothing. Inserts allocate the entry (the miss path).
 */
import type { ICacheCounters, IcacheEntryView } from '../events';
import { hexBytes } from '../hex';
import { PAGE_BYTES, type PageTracker, type TrackedCode } from '../mem/pageTracker';
import { newVie, vieCopy, type Vie } from './vie';

/** A VM's page tracker as the cache sees it (its entries are ours). */
export type ICachePages = PageTracker<TrackedCode, ICacheEntry>;

export interface ICacheConfig {
  /** Number of hash buckets (>= 1). */
  buckets: number;
  /** Maximum number of entries (>= 1); the oldest is evicted beyond it. */
  capacity: number;
}

export const DEFAULT_ICACHE_CONFIG: Readonly<ICacheConfig> = { buckets: 256, capacity: 1024 };

export const PAGE_SIZE = 4096;

/** The 4 KiB page holding a guest-physical address. */
export function pageOf(gpa: number): number {
  return gpa - (gpa % PAGE_SIZE);
}

/** One cached instruction. Fields other than `hits` are fixed at insert. */
export class ICacheEntry {
  /** False once invalidated or evicted (a stale reference must not be used). */
  valid = true;
  hits = 0;
  /** Hash-chain link. */
  next: ICacheEntry | null = null;
  /** FIFO links (older = inserted earlier). */
  older: ICacheEntry | null = null;
  newer: ICacheEntry | null = null;
  readonly vie: Vie = newVie();

  constructor(
    readonly vm: number,
    readonly rip: number,
    readonly cr3: number,
    /** Insertion sequence number (the UI's "age"). */
    readonly age: number,
    readonly bucket: number,
    /** Guest-physical pages this entry depends on: code page(s) first, then table pages. */
    readonly pages: readonly number[],
    /** How many of `pages` hold instruction bytes (1, or 2 when it straddles). */
    readonly codePages: number,
  ) {}

  /** The instruction bytes (length = instruction length). */
  get bytes(): Uint8Array {
    return this.vie.inst.subarray(0, this.vie.num_processed);
  }

  get disasm(): string {
    return this.vie.disasm;
  }
}

export function newICacheCounters(): ICacheCounters {
  return { lookups: 0, hits: 0, misses: 0, inserts: 0, evictions: 0, invalidations: 0, wpFaults: 0 };
}

/** Hash of (vm, rip, cr3): murmur3-style mixing of the 32-bit halves. */
export function icacheHash(vm: number, rip: number, cr3: number): number {
  let h = Math.imul(vm ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (rip >>> 0), 0xcc9e2d51);
  h ^= h >>> 15;
  h = Math.imul(h ^ (Math.floor(rip / 4294967296) | 0), 0x1b873593);
  h ^= h >>> 13;
  h = Math.imul(h ^ (cr3 >>> 0), 0xcc9e2d51);
  h ^= h >>> 16;
  h = Math.imul(h ^ (Math.floor(cr3 / 4294967296) | 0), 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

export class InstructionCache {
  readonly buckets: number;
  readonly capacity: number;
  readonly counters: ICacheCounters = newICacheCounters();
  /**
   * TEST ONLY: the VMM's write-protect handler lifts the protection but leaves the dependent
   * entries in place (PageTracker.debugUnprotect), so stale instructions are served. The
   * randomized stress test turns it on to prove that it can fail.
   */
  debugBreakInvalidation = false;
  /** Pages newly write-protected by the last insert (for the cost model). */
  lastProtected = 0;
  /** Pages whose protection the last invalidation/removal lifted (for the cost model). */
  lastUnprotected = 0;

  private readonly heads: (ICacheEntry | null)[];
  private readonly occupancy: Uint32Array;
  private readonly vms = new Map<number, ICachePages>();
  private oldest: ICacheEntry | null = null;
  private newest: ICacheEntry | null = null;
  private count = 0;
  private seq = 0;

  constructor(config: ICacheConfig = DEFAULT_ICACHE_CONFIG) {
    if (!Number.isInteger(config.buckets) || config.buckets < 1) throw new RangeError('icache buckets must be >= 1');
    if (!Number.isInteger(config.capacity) || config.capacity < 1) throw new RangeError('icache capacity must be >= 1');
    this.buckets = config.buckets;
    this.capacity = config.capacity;
    this.heads = new Array<ICacheEntry | null>(config.buckets).fill(null);
    this.occupancy = new Uint32Array(config.buckets);
  }

  get size(): number {
    return this.count;
  }

  /**
   * Make a VM's page tracker known (before its first insert); the cache becomes the owner of
   * the tracker's entries. Re-attaching replaces the tracker.
   */
  attachVm(vm: number, pages: ICachePages): void {
    this.vms.set(vm, pages);
    pages.setEntryOwner({ invalidate: (e) => this.invalidateEntry(e) });
  }

  /**
   * Tear a VM down: drop all its entries and lift every protection the cache set in its EPT.
   * Returns the number of entries dropped (counted neither as evictions nor invalidations).
   */
  detachVm(vm: number): number {
    if (!this.vms.has(vm)) return 0;
    let n = 0;
    for (let e = this.oldest; e !== null; ) {
      const next = e.newer;
      if (e.vm === vm) {
        this.removeEntry(e);
        n++;
      }
      e = next;
    }
    // Nothing depends on its pages now; removeEntry lifted each protection already.
    this.vms.delete(vm);
    return n;
  }

  /** Drop everything (strategy change, machine reset), lifting every protection. */
  clear(): void {
    for (const vm of [...this.vms.keys()]) this.detachVm(vm);
    this.vms.clear();
  }

  /** The entry for (vm, rip, cr3) without counting: tests and the UI. */
  peek(vm: number, rip: number, cr3: number): ICacheEntry | null {
    const b = icacheHash(vm, rip, cr3) % this.buckets;
    for (let e = this.heads[b]; e !== null; e = e.next) {
      if (e.rip === rip && e.cr3 === cr3 && e.vm === vm) return e;
    }
    return null;
  }

  /** The exit path's lookup: counts a lookup and a hit or a miss. Allocates nothing. */
  lookup(vm: number, rip: number, cr3: number): ICacheEntry | null {
    this.counters.lookups++;
    const e = this.peek(vm, rip, cr3);
    if (e === null) {
      this.counters.misses++;
      return null;
    }
    e.hits++;
    this.counters.hits++;
    return e;
  }

  /**
   * Insert a decoded instruction. `pages[0 .. pageCount)` are the guest-physical pages it
   * depends on, the `codePages` code page(s) first (duplicates are removed: a code page may
   * also be a page-table page). An existing entry for the same key is replaced. When full, the
   * oldest entry is evicted first. Write-protects every page not yet protected by the cache;
   * `lastProtected` says how many. Precondition: attachVm(vm) was called.
   */
  insert(
    vm: number, rip: number, cr3: number, vie: Vie,
    pages: readonly number[], pageCount: number, codePages: number,
  ): ICacheEntry {
    const tracker = this.vms.get(vm);
    if (!tracker) throw new Error(`icache: VM ${vm} is not attached`);
    this.lastProtected = 0;
    this.lastUnprotected = 0;
    const old = this.peek(vm, rip, cr3);
    if (old !== null) this.removeEntry(old);
    if (this.count >= this.capacity && this.oldest !== null) {
      this.removeEntry(this.oldest);
      this.counters.evictions++;
    }
    const deps: number[] = [];
    for (let i = 0; i < pageCount; i++) {
      const p = pageOf(pages[i]);
      if (!deps.includes(p)) deps.push(p);
    }
    const b = icacheHash(vm, rip, cr3) % this.buckets;
    const e = new ICacheEntry(vm, rip, cr3, this.seq++, b, deps, Math.min(codePages, deps.length));
    vieCopy(e.vie, vie);
    // Link: hash chain head, FIFO tail.
    e.next = this.heads[b];
    this.heads[b] = e;
    this.occupancy[b]++;
    e.older = this.newest;
    if (this.newest) this.newest.newer = e;
    else this.oldest = e;
    this.newest = e;
    this.count++;
    // Reverse map and protection: the tracker.
    tracker.trackEntry(e);
    this.lastProtected = tracker.lastProtected;
    this.counters.inserts++;
    return e;
  }

  /** True when the cache write-protected `gpaPage` in `vm`'s EPT (a write there is ours). */
  isProtected(vm: number, gpaPage: number): boolean {
    return this.vms.get(vm)?.isProtected(Math.floor(gpaPage / PAGE_BYTES)) === true;
  }

  /** Number of entries depending on a page (tests, UI). */
  dependents(vm: number, gpaPage: number): number {
    return this.vms.get(vm)?.entriesOn(Math.floor(gpaPage / PAGE_BYTES)) ?? 0;
  }

  /**
   * A write to the whole page holding `gpaPage` in `vm` (tests; the VMM reports writes to the
   * tracker itself): invalidates through the tracker, the VM's translated code included.
   * Returns the number of entries invalidated; `lastUnprotected` says how many pages lost
   * their protection.
   */
  invalidatePage(vm: number, gpaPage: number): number {
    const tracker = this.vms.get(vm);
    this.lastUnprotected = 0;
    if (!tracker) return 0;
    tracker.write(Math.floor(gpaPage / PAGE_BYTES), 0, PAGE_BYTES);
    this.lastUnprotected = tracker.lastUnprotected;
    return tracker.lastEntries;
  }

  /** Plain-data snapshot of the entries, oldest first (UI). */
  entries(): IcacheEntryView[] {
    const out: IcacheEntryView[] = [];
    for (let e = this.oldest; e !== null; e = e.newer) {
      out.push({
        vm: e.vm, rip: e.rip, cr3: e.cr3, bucket: e.bucket, bytes: hexBytes(e.bytes), insn: e.disasm,
        hits: e.hits, age: e.age, pages: [...e.pages],
      });
    }
    return out;
  }

  /** Entries per bucket (heatmap); a copy. */
  bucketOccupancy(): number[] {
    return Array.from(this.occupancy);
  }

  /**
   * Iterate live entries oldest first (tests, UI). Iterates a snapshot, so entries may be
   * inserted or removed meanwhile; removed ones are skipped.
   */
  *[Symbol.iterator](): IterableIterator<ICacheEntry> {
    const snap: ICacheEntry[] = [];
    for (let e = this.oldest; e !== null; e = e.newer) snap.push(e);
    for (const e of snap) if (e.valid) yield e;
  }

  /** Remove one entry in the fixed order; lifts protection of pages nothing depends on. */
  private removeEntry(e: ICacheEntry): void {
    if (!e.valid) return;
    // 1. mark invalid
    e.valid = false;
    // 2. unlink from the hash chain
    let p = this.heads[e.bucket];
    if (p === e) {
      this.heads[e.bucket] = e.next;
    } else {
      while (p !== null && p.next !== e) p = p.next;
      if (p !== null) p.next = e.next;
    }
    e.next = null;
    this.occupancy[e.bucket]--;
    // 3. unlink from the FIFO
    if (e.older) e.older.newer = e.newer;
    else this.oldest = e.newer;
    if (e.newer) e.newer.older = e.older;
    else this.newest = e.older;
    e.older = e.newer = null;
    this.count--;
    // 4. untrack from its pages; the tracker unprotects pages left without entries
    const tracker = this.vms.get(e.vm);
    if (!tracker) return;
    tracker.lastUnprotected = 0;
    tracker.untrackEntry(e);
    this.lastUnprotected += tracker.lastUnprotected;
  }

  /** The tracker's owner callback: a write invalidated `e`. */
  private invalidateEntry(e: ICacheEntry): void {
    if (!e.valid) return;
    this.removeEntry(e);
    this.counters.invalidations++;
  }
}
