/**
 * Guest-physical pages laid out as a compact grid: pages in address order, one slot each, with
 * one empty slot wherever the addresses jump (so a gap is visible without spending a slot per
 * missing page). Pure; the panel draws it on a canvas.
 */
import type { PageRole, PageView } from '../../../worker/protocol';

export const PAGE = 4096;

export const ROLE_COLOR: Record<PageRole, string> = {
  code: '#3f8fdc',
  data: '#6c9a3c',
  stack: '#d9b310',
  pagetable: '#e67e22',
  mmio: '#d0508a',
  firmware: '#8e6fd8',
  free: '#5a5f66',
};
export const ROLES: readonly PageRole[] = ['code', 'data', 'stack', 'pagetable', 'mmio', 'firmware', 'free'];

export interface PageLayout {
  /** Pages of the shown VM in address order. */
  pages: PageView[];
  /** Slot of each page (same index as `pages`). */
  slots: Int32Array;
  /** Slots left empty to mark a jump in addresses. */
  gaps: number[];
  /** Slots in all (pages + gaps). */
  count: number;
  cols: number;
  rows: number;
  /** Guest-physical address of the first page in each row (or null if the row starts with a gap). */
  rowGpa: (number | null)[];
  /** gpa page -> index in `pages`. */
  index: Map<number, number>;
}

export function layoutPages(all: readonly PageView[], vm: number, cols: number): PageLayout {
  const pages = all.filter((p) => p.vm === vm).sort((a, b) => a.gpa - b.gpa);
  const c = Math.max(1, Math.floor(cols));
  const slots = new Int32Array(pages.length);
  const gaps: number[] = [];
  const index = new Map<number, number>();
  let slot = 0;
  for (let i = 0; i < pages.length; i++) {
    if (i > 0 && pages[i].gpa !== pages[i - 1].gpa + PAGE) gaps.push(slot++);
    slots[i] = slot++;
    index.set(pages[i].gpa, i);
  }
  const rows = Math.ceil(slot / c);
  const rowGpa: (number | null)[] = new Array<number | null>(rows).fill(null);
  for (let i = 0; i < pages.length; i++) {
    const r = Math.floor(slots[i] / c);
    if (rowGpa[r] === null) rowGpa[r] = pages[i].gpa;
  }
  return { pages, slots, gaps, count: slot, cols: c, rows, rowGpa, index };
}

/** The page under slot `slot`, or null for a gap or past the end. */
export function pageAtSlot(l: PageLayout, slot: number): PageView | null {
  if (slot < 0 || slot >= l.count) return null;
  // Slots increase with the page index: binary search.
  let lo = 0;
  let hi = l.pages.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = l.slots[mid];
    if (s === slot) return l.pages[mid];
    if (s < slot) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

export function pageOf(gpa: number): number {
  return Math.floor(gpa / PAGE) * PAGE;
}

export function roleCounts(pages: readonly PageView[]): Partial<Record<PageRole, number>> {
  const out: Partial<Record<PageRole, number>> = {};
  for (const p of pages) out[p.role] = (out[p.role] ?? 0) + 1;
  return out;
}
