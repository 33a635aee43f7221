/**
 * The 2D page walk as a grid: pure layout and entry decoding, no DOM.
 *
 * Rows are guest references, top to bottom: row 4 (the PML4 table CR3 points at), 3 (PDPT),
 * 2 (PD), 1 (PT), 0 (the final page: RIP's code page, the walk translates the instruction's
 * address). Columns 0..3 are the EPT references that translate the
 * row's guest-physical address (EPT PML4, PDPT, PD, PT); column 4 is the guest reference itself
 * (reading the guest entry). A full 4 KiB walk is 5 x 4 EPT + 4 guest = 24 cells.
 */
import type { WalkStep } from '../../../core/events';

export const EPT_COLUMNS = ['EPT PML4', 'EPT PDPT', 'EPT PD', 'EPT PT'] as const;
export const GUEST_COLUMN = 'guest entry';
/** Label of each guest row, by WalkStep.row. */
export const ROW_LABEL: Record<number, string> = {
  4: 'PML4 (CR3)',
  3: 'PDPT',
  2: 'PD',
  1: 'PT',
  0: 'code page',
};

export interface WalkCell {
  /** Position of the step in the walk (animation order). */
  order: number;
  /** Guest row (4..0). */
  row: number;
  /** 0..3 EPT level 4..1; 4 the guest reference. */
  col: number;
  step: WalkStep;
}

/** One translation (one gla2gpa); an instruction crossing a page records two. */
export interface WalkTranslation {
  cells: WalkCell[];
  /** Rows that have at least one cell, top to bottom. */
  rows: number[];
  /** Leaf level of the guest walk (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB), or null if it faulted. */
  guestLeafLevel: number | null;
  /** Set when a step ended the walk: its reference number (order, from 0) and why, as its cell says. */
  fault: { order: number; problem: string } | null;
}

export interface WalkLayout {
  translations: WalkTranslation[];
  total: number;
  guestRefs: number;
  eptRefs: number;
  /**
   * Guest pages the VMM held to make these references (bhyve's vm_gpa_hold): the table page of
   * each guest entry read, and each page a translation found (its row-0 EPT leaf).
   */
  held: number;
}

export function columnOf(step: WalkStep): number {
  return step.dim === 'guest' ? 4 : 4 - Math.min(4, Math.max(1, step.level));
}

/** True when `step` cannot continue the translation that ended with `prev`. */
function startsNewTranslation(prev: WalkStep, step: WalkStep): boolean {
  if (step.row > prev.row) return true; // rows only go down within one translation
  if (step.row < prev.row) return false;
  if (prev.dim === 'guest') return true; // the guest reference closes its row
  if (step.dim === 'ept' && step.level >= prev.level) return true; // EPT levels only go down
  return false;
}

export function layoutWalk(steps: readonly WalkStep[] | undefined): WalkLayout {
  const translations: WalkTranslation[] = [];
  let cur: WalkTranslation | null = null;
  let guestRefs = 0;
  let eptRefs = 0;
  let found = 0;
  (steps ?? []).forEach((step, order) => {
    const prev = cur?.cells[cur.cells.length - 1]?.step;
    if (!cur || !prev || startsNewTranslation(prev, step)) {
      cur = { cells: [], rows: [], guestLeafLevel: null, fault: null };
      translations.push(cur);
    }
    cur.cells.push({ order, row: step.row, col: columnOf(step), step });
    if (!cur.rows.includes(step.row)) cur.rows.push(step.row);
    if (step.dim === 'guest') {
      guestRefs++;
      if (step.outcome === 'leaf') cur.guestLeafLevel = step.level;
    } else {
      eptRefs++;
      if (step.row === 0 && step.outcome === 'leaf') found++;
    }
    const problem = stepProblem(step);
    if (problem !== null) cur.fault = { order, problem };
  });
  for (const t of translations) t.rows.sort((a, b) => b - a);
  return { translations, total: steps?.length ?? 0, guestRefs, eptRefs, held: guestRefs + found };
}

export interface Bit {
  name: string;
  on: boolean;
  title: string;
}

const ADDR_MASK = 0x000f_ffff_ffff_f000n;

function bit(v: bigint, n: number): boolean {
  return ((v >> BigInt(n)) & 1n) === 1n;
}

/** Physical address field of an entry (bits 51:12), masked to the page/table size of a leaf. */
export function entryAddress(v: bigint, level: number, leaf: boolean): number {
  let a = v & ADDR_MASK;
  if (leaf && level === 2) a &= ~0x1f_ffffn;
  if (leaf && level === 3) a &= ~0x3fff_ffffn;
  return Number(a);
}

/** The bits of a guest (IA-32e) paging entry that the walk checks (SDM Vol. 3A 4.5, Table 4-14..4-20). */
export function guestBits(v: bigint, level: number): Bit[] {
  const bits: Bit[] = [
    { name: 'P', on: bit(v, 0), title: 'present' },
    { name: 'RW', on: bit(v, 1), title: 'writable' },
    { name: 'US', on: bit(v, 2), title: 'user accessible' },
    { name: 'A', on: bit(v, 5), title: 'accessed' },
    { name: 'D', on: bit(v, 6), title: 'dirty (leaf only)' },
  ];
  if (level === 2 || level === 3) bits.push({ name: 'PS', on: bit(v, 7), title: level === 3 ? '1 GiB page' : '2 MiB page' });
  bits.push({ name: 'NX', on: bit(v, 63), title: 'no execute' });
  return bits;
}

const MEMTYPE: Record<number, string> = { 0: 'UC', 1: 'WC', 4: 'WT', 5: 'WP', 6: 'WB' };

/** EPT entry bits (SDM Vol. 3C 29.3.2, Tables 29-1..29-6). */
export function eptBits(v: bigint, level: number, leaf: boolean): Bit[] {
  const bits: Bit[] = [
    { name: 'R', on: bit(v, 0), title: 'read' },
    { name: 'W', on: bit(v, 1), title: 'write (cleared by the VMM to write-protect)' },
    { name: 'X', on: bit(v, 2), title: 'execute' },
  ];
  if (leaf) {
    const mt = Number((v >> 3n) & 7n);
    bits.push({ name: MEMTYPE[mt] ?? `mt${mt}`, on: true, title: 'memory type' });
  }
  if (level === 2 || level === 3) bits.push({ name: 'large', on: bit(v, 7), title: level === 3 ? '1 GiB page' : '2 MiB page' });
  return bits;
}

/**
 * A short reason why an EPT entry stopped the walk: absent (a device page's leaf is absent and
 * tagged in bit 11, the VMM's mark that it emulates the page, as bhyve leaves the LAPIC page
 * unmapped) or misconfigured.
 */
export function eptProblem(v: bigint): string | null {
  const r = bit(v, 0);
  const w = bit(v, 1);
  const x = bit(v, 2);
  if (!r && !w && !x) return bit(v, 11) ? 'not present: a device (MMIO) page' : 'not present';
  if (w && !r) return 'misconfig (W without R)';
  return null;
}

/** What a guest entry's outcome says when it stops the walk. */
const GUEST_PROBLEM: Readonly<Record<'not-present' | 'reserved' | 'denied', string>> = {
  'not-present': 'not present', reserved: 'reserved bit set', denied: 'access not allowed',
};

/** Why a step stopped the walk, in the words its cell shows; null for a step the walk went on from. */
export function stepProblem(step: WalkStep): string | null {
  if (step.outcome === 'next' || step.outcome === 'leaf') return null;
  return (step.dim === 'ept' ? eptProblem(step.entryValue) : null) ?? GUEST_PROBLEM[step.outcome];
}

/** Decoded view of one cell, for the grid and its tooltip. */
export interface CellInfo {
  title: string;
  addr: number;
  value: bigint;
  bits: Bit[];
  /** Address the entry points to (next table or the page), when present. */
  target: number | null;
  leaf: boolean;
  problem: string | null;
}

export function describeCell(cell: WalkCell): CellInfo {
  const { step } = cell;
  const leaf = step.outcome === 'leaf';
  const present = step.dim === 'guest' ? bit(step.entryValue, 0) : (step.entryValue & 7n) !== 0n;
  const problem = stepProblem(step);
  const title = step.dim === 'guest'
    ? `guest ${ROW_LABEL[step.row] ?? step.row} entry [${step.index}]`
    : `${EPT_COLUMNS[cell.col] ?? 'EPT'} entry [${step.index}] for row ${ROW_LABEL[step.row] ?? step.row}`;
  return {
    title,
    addr: step.entryAddr,
    value: step.entryValue,
    bits: step.dim === 'guest' ? guestBits(step.entryValue, step.level) : eptBits(step.entryValue, step.level, leaf),
    target: present ? entryAddress(step.entryValue, step.level, leaf) : null,
    leaf,
    problem,
  };
}

/** Guest-physical pages holding the guest page-table entries of a walk (for the memory map). */
export function walkTablePages(steps: readonly WalkStep[] | undefined): number[] {
  const out = new Set<number>();
  for (const s of steps ?? []) if (s.dim === 'guest') out.add(Math.floor(s.entryAddr / 4096) * 4096);
  return [...out];
}

/** Size of the guest page a leaf at `level` maps. */
export function pageSizeOf(level: number): number {
  return level === 3 ? 1 << 30 : level === 2 ? 1 << 21 : 4096;
}
