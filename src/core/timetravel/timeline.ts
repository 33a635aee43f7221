/**
 * The recording behind time travel: one mark per exit (what the timeline draws) and periodic
 * snapshots of the whole machine (captureState over the machine's state roots, guest RAM as
 * RamHistory page versions). A memory budget bounds it: past it, older snapshots thin out
 * (every other one goes, so their spacing doubles) and, at the last, the oldest go, which is
 * how far back the timeline reaches. Restoring to a snapshot and re-running the deterministic
 * machine gives any exit in between.
 */
import type { GuestRam } from '../mem';
import { captureState, PayloadCounter, restoreState, type CapturePolicy, type StateSnapshot } from './stateCapture';
import { RamHistory } from './ramHistory';

export const DEFAULT_TIMELINE_BUDGET = 64 * 1024 * 1024;

/** What the timeline marks at an exit. */
export const ExitMark = {
  Other: 0,
  /** An instruction-cache hit. */
  Hit: 1,
  /** An instruction-cache miss. */
  Miss: 2,
  /** A write-protect fault (EPT violation on a page the VMM protected). */
  WpFault: 3,
  /** An exit an interrupt took: an interrupt window (a pending interrupt is injected), or the LAPIC timer's kick (external-interrupt). */
  Interrupt: 4,
} as const;
export type ExitMark = (typeof ExitMark)[keyof typeof ExitMark];

/** The machine as the timeline sees it. */
export interface TimelineHost {
  /** Exits handled so far. */
  readonly exitsHandled: number;
  /** Guest instructions retired so far (all vCPUs). */
  readonly retired: number;
  /**
   * Exits between snapshots: at a checkpoint, a snapshot is taken once the re-run from the
   * newest one would cover at least this many exits' worth of work (see SNAPSHOT_INSNS_PER_EXIT).
   */
  readonly snapshotSpacing: number;
  /** The objects whose fields are the machine's state (guest RAM excluded). */
  stateRoots(): object[];
  readonly statePolicy: CapturePolicy;
  guestRams(): readonly GuestRam[];
  /** State was put back underneath: flush the TLBs, drop code translated from the changed pages of each RAM. */
  resync(changed: readonly (readonly number[])[]): void;
}

interface Snapshot {
  /** Exits handled when it was taken. */
  exit: number;
  /** Instructions retired when it was taken. */
  retired: number;
  /** RamHistory label. */
  label: number;
  state: StateSnapshot;
}

export interface TimelineInfo {
  /** The oldest exit the timeline can show (its oldest snapshot). */
  first: number;
  /** Exits recorded. */
  end: number;
  snapshots: number;
  bytes: number;
  budget: number;
}

/** Exits per block of the marks' summary (markBins). */
const MARK_BLOCK = 256;
/** Ranks of the marks (Other, Hit, Miss, WpFault, Interrupt): a fault over a miss over an interrupt over a hit. */
const MARK_RANK = [0, 1, 3, 4, 2];

/** The more telling of two marks (255: none). */
function moreTelling(best: number, m: number): number {
  return best === 255 || MARK_RANK[m] > MARK_RANK[best] ? m : best;
}

/** Snapshots kept at the least before the oldest ones are dropped (rather than thinned). */
const MIN_SNAPSHOTS = 8;

/**
 * Filling in snapshots (fillTarget) stops once the recording holds this share of its budget:
 * the rest stays for the recording to grow into before anything thins out.
 */
const FILL_BUDGET_SHARE = 0.5;

/**
 * What re-running one exit costs, in guest instructions: the hit path handles ~0.5 M exits/s
 * (bench:exits) where the vCPU retires 200-1000 M instructions/s (bench:cpu), so an exit weighs
 * about as much as 500 instructions. A snapshot is due once the exits since the newest one plus
 * its instructions / this reach the spacing: an exit-heavy loop is snapshotted every few
 * checkpoints (a capture costs about what re-running 100 of its exits does), a program that
 * computes long between exits at every checkpoint (its re-run is long anyway).
 */
export const SNAPSHOT_INSNS_PER_EXIT = 500;

export class ExitTimeline {
  private readonly rams: RamHistory[];
  private snaps: Snapshot[] = [];
  /** The snapshots' bytes, each array they share counted once. */
  private readonly held = new PayloadCounter();
  private marks = new Uint8Array(1 << 16);
  private end = 0;
  /** Per block of MARK_BLOCK exits, its most telling mark (markBins); the first blocksDone are summarized. */
  private blockBest = new Uint8Array(256);
  private blocksDone = 0;
  private nextLabel = 0;
  /** A restore wrote state back since the last capture (see CaptureOptions). */
  private restoredSinceSnapshot = false;
  /** The snapshot captured last: with no restore since, the machine has evolved from it alone. */
  private lastCaptured: Snapshot | null = null;
  /** The checkpoint a fill goes to (fillAtCheckpoint), or -1. */
  private fillAt = -1;

  constructor(private readonly host: TimelineHost, readonly budget = DEFAULT_TIMELINE_BUDGET) {
    this.rams = host.guestRams().map((r) => new RamHistory(r));
  }

  detach(): void {
    for (const r of this.rams) r.detach();
  }

  /** Record the mark of exit `seq` (an exit re-run after a restore overwrites the same mark). */
  noteExit(seq: number, mark: ExitMark): void {
    if (seq >= this.marks.length) {
      const grown = new Uint8Array(Math.max(this.marks.length * 2, seq + 1));
      grown.set(this.marks);
      this.marks = grown;
    }
    this.marks[seq] = mark;
    if (seq + 1 > this.end) this.end = seq + 1;
  }

  /**
   * A checkpoint: the machine is between exits, at a point it reaches the same way when it
   * re-runs. Takes a snapshot when one is due (`snapshotSpacing`, from the newest snapshot:
   * the same decision on a re-run) and none at or after this exit exists already, or when a
   * fill goes to this checkpoint (fillAtCheckpoint).
   */
  checkpoint(): void {
    const exit = this.host.exitsHandled;
    if (exit === this.fillAt) {
      this.fillAt = -1;
      this.take(exit);
      return;
    }
    const last = this.snaps[this.snaps.length - 1];
    if (last && last.exit >= exit) return;
    if (last && exit - last.exit + (this.host.retired - last.retired) / SNAPSHOT_INSNS_PER_EXIT < this.host.snapshotSpacing) return;
    this.take(exit);
  }

  /**
   * Snapshot the machine at checkpoint `exit`, in its place among the others: at the end of the
   * recording, or between two snapshots when a fill goes back there. Arrays that did not change
   * since the snapshot before it are shared with that one.
   */
  private take(exit: number): void {
    const i = this.indexBefore(exit);
    const prev = i >= 0 ? this.snaps[i] : undefined;
    if (prev?.exit === exit) return;
    const next = this.snaps[i + 1];
    // Labels go up with the exit: one between two snapshots lies between their labels.
    const label = next === undefined ? this.nextLabel++ : ((prev?.label ?? next.label - 1) + next.label) / 2;
    for (const r of this.rams) r.snapshot(label, next?.label);
    // Write counters tell an unchanged array only relative to the state the machine evolved from.
    const trust = !this.restoredSinceSnapshot && prev !== undefined && prev === this.lastCaptured;
    const state = captureState(this.host.stateRoots(), this.host.statePolicy, prev?.state, { unchangedIfSameVersion: trust });
    this.restoredSinceSnapshot = false;
    const snap: Snapshot = { exit, retired: this.host.retired, label, state };
    this.lastCaptured = snap;
    this.snaps.splice(i + 1, 0, snap);
    this.held.add(state);
    this.enforceBudget();
  }

  /**
   * Where to fill in a snapshot while the machine is idle, so that a seek re-runs at most one
   * checkpoint interval: the first checkpoint after `near` (where the machine stands: it runs
   * on from there) that has none before the next snapshot, else the first such checkpoint from
   * the start; -1 when every checkpoint recorded has one, or the recording holds
   * FILL_BUDGET_SHARE of its budget. `every`: exits between checkpoints.
   */
  fillTarget(every: number, near: number): number {
    if (this.bytes() >= this.budget * FILL_BUDGET_SHARE) return -1;
    const j = this.indexBefore(near);
    const after = (exit: number, i: number) => {
      const c = exit - (exit % every) + every;
      return c < (i + 1 < this.snaps.length ? this.snaps[i + 1].exit : this.end) ? c : -1;
    };
    if (j >= 0) {
      const c = after(near, j);
      if (c >= 0) return c;
    }
    for (let i = 0; i < this.snaps.length; i++) {
      const c = after(this.snaps[i].exit, i);
      if (c >= 0) return c;
    }
    return -1;
  }

  /** Snapshot the machine when it next reaches checkpoint `exit` (-1: none), though the recording skipped it. */
  fillAtCheckpoint(exit: number): void {
    this.fillAt = exit;
  }

  /**
   * Put the machine back to the newest snapshot at or before exit `k`; returns that snapshot's
   * exit, or -1 when `k` is older than the oldest snapshot kept.
   */
  restoreBefore(k: number): number {
    const i = this.indexBefore(k);
    if (i < 0) return -1;
    const s = this.snaps[i];
    this.restoredSinceSnapshot = true;
    const changed = this.rams.map((r) => r.restore(s.label));
    restoreState(s.state);
    this.host.resync(changed);
    return s.exit;
  }

  /** The exit of the newest snapshot at or before exit `k` (what restoreBefore(k) goes to), or -1. */
  snapshotBefore(k: number): number {
    const i = this.indexBefore(k);
    return i < 0 ? -1 : this.snaps[i].exit;
  }

  private indexBefore(k: number): number {
    let i = this.snaps.length - 1;
    while (i >= 0 && this.snaps[i].exit > k) i--;
    return i;
  }

  /** The future after exit `k` is gone (the run goes on from there): drop what was recorded after it. */
  truncateAfter(k: number): void {
    while (this.snaps.length > 1 && this.snaps[this.snaps.length - 1].exit > k) this.held.remove(this.snaps.pop()!.state);
    if (this.end > k) this.end = k;
    // The exits after k will be recorded anew: their blocks are summarized again.
    this.blocksDone = Math.min(this.blocksDone, Math.floor(k / MARK_BLOCK));
    this.forgetRam();
  }

  info(): TimelineInfo {
    return { first: this.snaps[0]?.exit ?? 0, end: this.end, snapshots: this.snaps.length, bytes: this.bytes(), budget: this.budget };
  }

  /** Bytes held: snapshots (each array they share once), RAM page versions, marks. */
  bytes(): number {
    let n = this.marks.byteLength + this.held.bytes + this.held.overheadBytes;
    for (const r of this.rams) n += r.bytes;
    return n;
  }

  /**
   * The marks in `bins` equal slices of [from, end): per bin the most telling mark in it
   * (a fault over a miss over an interrupt over a hit), 255 for none. For the timeline's ticks.
   * Whole blocks of MARK_BLOCK exits are read from their summary (blockBest), so the Worker's
   * five views a second cost the exits recorded since the last one, not the whole run again.
   */
  markBins(bins: number, from = 0, to = this.end): Uint8Array {
    this.summarizeBlocks();
    const out = new Uint8Array(bins).fill(255);
    const span = Math.max(1, to - from);
    for (let b = 0; b < bins; b++) {
      const lo = from + Math.floor((b * span) / bins);
      const hi = Math.min(to, from + Math.floor(((b + 1) * span) / bins));
      let best = 255;
      let i = lo;
      while (i < hi && best !== ExitMark.WpFault) {
        const block = i / MARK_BLOCK;
        if (i % MARK_BLOCK === 0 && block < this.blocksDone && i + MARK_BLOCK <= hi) {
          best = moreTelling(best, this.blockBest[block]);
          i += MARK_BLOCK;
        } else {
          best = moreTelling(best, this.marks[i]);
          i++;
        }
      }
      out[b] = best;
    }
    return out;
  }

  /** Summarize the blocks of marks recorded whole since the last call. */
  private summarizeBlocks(): void {
    const whole = Math.floor(this.end / MARK_BLOCK);
    if (whole > this.blockBest.length) {
      const grown = new Uint8Array(Math.max(whole, this.blockBest.length * 2));
      grown.set(this.blockBest);
      this.blockBest = grown;
    }
    for (let b = this.blocksDone; b < whole; b++) {
      let best = 255;
      for (let i = b * MARK_BLOCK; i < (b + 1) * MARK_BLOCK && best !== ExitMark.WpFault; i++) best = moreTelling(best, this.marks[i]);
      this.blockBest[b] = best;
    }
    this.blocksDone = Math.max(this.blocksDone, whole);
  }

  private enforceBudget(): void {
    if (this.bytes() <= this.budget) return;
    // Thin the older half: drop every other snapshot, keeping the first and the newest ones.
    while (this.bytes() > this.budget && this.snaps.length > MIN_SNAPSHOTS) {
      const older = this.snaps.length >> 1;
      const kept: Snapshot[] = [];
      this.snaps.forEach((s, i) => { if (i >= older || i % 2 === 0) kept.push(s); else this.held.remove(s.state); });
      if (kept.length === this.snaps.length) break;
      this.snaps = kept;
      this.forgetRam();
    }
    // Still over: the oldest go, down to the newest alone (a run that rewrites much of its RAM
    // between snapshots holds a copy of each page it wrote per snapshot kept).
    while (this.bytes() > this.budget && this.snaps.length > 1) {
      this.held.remove(this.snaps.shift()!.state);
      this.forgetRam();
    }
  }

  private forgetRam(): void {
    const kept = this.snaps.map((s) => s.label);
    for (const r of this.rams) r.forget(kept);
  }
}
