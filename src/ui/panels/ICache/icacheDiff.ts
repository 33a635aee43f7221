/**
 * What changed in the instruction cache between two frames: entries hit, inserted, evicted or
 * invalidated. Pure; the panel turns it into row flashes and fading struck-through rows.
 */
import type { ICacheCounters } from '../../../core/events';
import type { IcacheEntryView } from '../../../worker/protocol';

export type RowFlash = 'hit' | 'insert' | null;
export type RemovalKind = 'evicted' | 'invalidated';

export function entryKey(e: { vm: number; rip: number; cr3: number }): string {
  return `${e.vm}:${e.rip}:${e.cr3}`;
}

export interface RowChange {
  key: string;
  entry: IcacheEntryView;
  flash: RowFlash;
  /** Hits since the previous view. */
  hitsDelta: number;
}

export interface Removal {
  key: string;
  entry: IcacheEntryView;
  kind: RemovalKind;
}

export interface IcacheDiff {
  rows: RowChange[];
  removed: Removal[];
  /** True when the cache was reset (a new run): nothing to animate. */
  reset: boolean;
}

/**
 * Diff two views. `prevCounters`/`counters` tell evictions from invalidations: when both grew,
 * entries that depend on a page in `wpPages` (the pages of this frame's write-protect faults)
 * are taken as invalidated, the others as evicted.
 */
export function diffIcache(
  prev: readonly IcacheEntryView[] | null,
  next: readonly IcacheEntryView[],
  prevCounters: ICacheCounters | null,
  counters: ICacheCounters | null,
  wpPages: ReadonlySet<number> = new Set(),
): IcacheDiff {
  const reset = !prev || !prevCounters || !counters || counters.lookups < prevCounters.lookups || counters.inserts < prevCounters.inserts;
  const before = new Map<string, IcacheEntryView>();
  if (prev) for (const e of prev) before.set(entryKey(e), e);
  const rows: RowChange[] = next.map((entry) => {
    const key = entryKey(entry);
    const old = before.get(key);
    before.delete(key);
    if (reset) return { key, entry, flash: null, hitsDelta: 0 };
    if (!old || entry.age !== old.age) return { key, entry, flash: 'insert', hitsDelta: 0 };
    const hitsDelta = entry.hits - old.hits;
    return { key, entry, flash: hitsDelta > 0 ? 'hit' : null, hitsDelta };
  });
  const removed: Removal[] = [];
  if (!reset && counters && prevCounters) {
    const evictions = counters.evictions - prevCounters.evictions;
    const invalidations = counters.invalidations - prevCounters.invalidations;
    for (const [key, entry] of before) {
      let kind: RemovalKind;
      if (invalidations > 0 && evictions <= 0) kind = 'invalidated';
      else if (evictions > 0 && invalidations <= 0) kind = 'evicted';
      else kind = entry.pages.some((p) => wpPages.has(p)) || wpPages.size === 0 && invalidations > 0 ? 'invalidated' : 'evicted';
      removed.push({ key, entry, kind });
    }
  }
  return { rows, removed, reset };
}

/**
 * Heatmap colour of a bucket holding `count` entries when the fullest holds `max`: empty
 * buckets stay neutral; occupancy maps to a square-root ramp so one or two entries are visible.
 */
export function heatLevel(count: number, max: number): number {
  if (count <= 0 || max <= 0) return 0;
  return Math.min(1, Math.sqrt(count / max));
}

export function heatColor(count: number, max: number): string {
  const l = heatLevel(count, max);
  if (l === 0) return 'transparent';
  // From a dim teal to a bright amber as buckets fill (collisions are what a full bucket means).
  const hue = 170 - 130 * l;
  return `hsl(${hue.toFixed(0)} 70% ${(30 + 25 * l).toFixed(0)}%)`;
}

/** Columns for a heatmap of n buckets: a power of two (so a row is a bucket-index range), at most 32. */
export function heatColumns(n: number): number {
  if (n <= 0) return 1;
  return Math.min(32, Math.max(8, 2 ** Math.ceil(Math.log2(Math.sqrt(n * 2)))));
}

/** How long a hit/insert flash and a removed (ghost) row stay visible. */
export const FLASH_MS = 700;
export const GHOST_MS = 2500;

export interface DisplayRow {
  key: string;
  entry: IcacheEntryView;
  flash: RowFlash;
  /** Alternates on each new flash of a row so its CSS animation restarts. */
  nonce: 0 | 1;
  ghost: RemovalKind | null;
}

/**
 * Keeps flashes and ghost rows alive across frames: a flash lasts FLASH_MS even if the next
 * frame comes 16 ms later, a removed entry stays struck through for GHOST_MS. Time is passed in.
 */
export class IcacheTracker {
  private prev: readonly IcacheEntryView[] | null = null;
  private prevCounters: ICacheCounters | null = null;
  private flashes = new Map<string, { kind: 'hit' | 'insert'; at: number; nonce: 0 | 1 }>();
  private ghosts = new Map<string, { entry: IcacheEntryView; kind: RemovalKind; at: number }>();

  update(next: readonly IcacheEntryView[], counters: ICacheCounters | null, now: number, wpPages?: ReadonlySet<number>): DisplayRow[] {
    if (next !== this.prev) {
      const d = diffIcache(this.prev, next, this.prevCounters, counters, wpPages);
      if (d.reset) {
        this.flashes.clear();
        this.ghosts.clear();
      }
      for (const r of d.rows) {
        if (!r.flash) continue;
        const old = this.flashes.get(r.key);
        this.flashes.set(r.key, { kind: r.flash, at: now, nonce: old && now - old.at < FLASH_MS ? (old.nonce ^ 1) as 0 | 1 : 0 });
        this.ghosts.delete(r.key);
      }
      for (const g of d.removed) this.ghosts.set(g.key, { entry: g.entry, kind: g.kind, at: now });
      this.prev = next;
      this.prevCounters = counters;
    }
    for (const [k, f] of this.flashes) if (now - f.at >= FLASH_MS) this.flashes.delete(k);
    for (const [k, g] of this.ghosts) if (now - g.at >= GHOST_MS) this.ghosts.delete(k);
    const rows: DisplayRow[] = next.map((entry) => {
      const key = entryKey(entry);
      const f = this.flashes.get(key);
      return { key, entry, flash: f?.kind ?? null, nonce: f?.nonce ?? 0, ghost: null };
    });
    for (const [key, g] of this.ghosts) rows.push({ key, entry: g.entry, flash: null, nonce: 0, ghost: g.kind });
    return rows;
  }

  /** Milliseconds until the next flash or ghost expires (to redraw while paused), or null. */
  nextExpiry(now: number): number | null {
    let t = Infinity;
    for (const f of this.flashes.values()) t = Math.min(t, f.at + FLASH_MS - now);
    for (const g of this.ghosts.values()) t = Math.min(t, g.at + GHOST_MS - now);
    return Number.isFinite(t) ? Math.max(0, t) : null;
  }
}

export type SortKey = 'bucket' | 'hits' | 'age';

export function sortRows(rows: DisplayRow[], key: SortKey): DisplayRow[] {
  const by: Record<SortKey, (a: DisplayRow, b: DisplayRow) => number> = {
    bucket: (a, b) => a.entry.bucket - b.entry.bucket || a.entry.age - b.entry.age,
    hits: (a, b) => b.entry.hits - a.entry.hits || b.entry.age - a.entry.age,
    age: (a, b) => b.entry.age - a.entry.age,
  };
  return rows.slice().sort(by[key]);
}
