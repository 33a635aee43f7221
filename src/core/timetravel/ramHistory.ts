/**
 * Guest RAM through time as dirty-page deltas, not 64 MiB copies. Only pages the guest has
 * written are tracked (GuestRam.written, kept by every writer). A page's first write saves
 * what it held before (its "original"); at each snapshot, a tracked page whose bytes differ
 * from its version as of that snapshot gets a new version labelled with the snapshot's label.
 * The page's contents as of snapshot s are its newest version labelled <= s.
 */
import type { GuestRam } from '../mem';

const PAGE = 4096;
/** Heap bytes of a page's copy: its 4 KiB, and the Uint8Array and ArrayBuffer holding them (about 22 words on a 64-bit V8). */
const DATA_BYTES = PAGE + 22 * 8;
/** A version's slots in `labels` and `datas`. */
const SLOT_BYTES = 2 * 8;

interface PageVersions {
  page: number;
  /** Snapshot labels, ascending; labels[i] is the label of datas[i]. */
  labels: number[];
  /** Never written after they are saved: two versions may hold the same copy (see snapshot). */
  datas: Uint8Array[];
}

export class RamHistory {
  private readonly pages: PageVersions[] = [];
  private readonly byPage = new Map<number, PageVersions>();
  /** Bytes held in page versions: their slots, and each copy once. */
  bytes = 0;
  /** The label a page's original gets: the oldest snapshot still kept. */
  private oldestLabel = 0;

  constructor(private readonly ram: GuestRam) {
    ram.onFirstWrite = (page) => this.firstWrite(page);
    // A page written before tracking began is tracked from its current contents.
    for (let p = 0; p < ram.written.length; p++) if (ram.written[p] !== 0) this.firstWrite(p);
  }

  detach(): void {
    this.ram.onFirstWrite = null;
  }

  private firstWrite(page: number): void {
    if (this.byPage.has(page)) return;
    const data = this.ram.bytes.slice(page * PAGE, page * PAGE + PAGE);
    const pv: PageVersions = { page, labels: [this.oldestLabel], datas: [data] };
    this.pages.push(pv);
    this.byPage.set(page, pv);
    this.bytes += DATA_BYTES + SLOT_BYTES;
  }

  /**
   * Record every tracked page that differs from its version as of `label`, labelled `label`.
   * Labels go up with the exit a snapshot was taken at: one taken at the end of the recording
   * is the greatest so far; one filled in between two others (ExitTimeline.fillTarget) lies
   * between their labels, and `next` is the label of the snapshot after it. A version serves
   * every label up to the next version, so a page that gets one there and had none of its own
   * at `next` gets one at `next` too: the copy `next` was served before (shared, not copied).
   */
  snapshot(label: number, next?: number): void {
    const bytes = this.ram.bytes;
    for (const pv of this.pages) {
      const i = versionAt(pv, label);
      const was = pv.datas[i];
      if (samePage(bytes, pv.page * PAGE, was)) continue;
      pv.labels.splice(i + 1, 0, label);
      pv.datas.splice(i + 1, 0, bytes.slice(pv.page * PAGE, pv.page * PAGE + PAGE));
      this.bytes += DATA_BYTES + SLOT_BYTES;
      if (next !== undefined && pv.labels[i + 2] !== next) {
        pv.labels.splice(i + 2, 0, next);
        pv.datas.splice(i + 2, 0, was);
        this.bytes += SLOT_BYTES;
      }
    }
  }

  /**
   * Put RAM back as it was at snapshot `label`; returns the pages whose bytes changed (the
   * caller drops code translated from them).
   */
  restore(label: number): number[] {
    const changed: number[] = [];
    const bytes = this.ram.bytes;
    for (const pv of this.pages) {
      const data = pv.datas[versionAt(pv, label)];
      if (samePage(bytes, pv.page * PAGE, data)) continue;
      bytes.set(data, pv.page * PAGE);
      changed.push(pv.page);
    }
    return changed;
  }

  /**
   * Only the snapshots labelled `kept` (ascending, not empty) are still wanted. Version i
   * serves the snapshots in [labels[i], labels[i+1]); a version that serves no kept snapshot
   * is freed. (Every kept label is >= a page's first label, so one version always stays.)
   */
  forget(kept: readonly number[]): void {
    this.oldestLabel = kept[0];
    for (const pv of this.pages) {
      const labels: number[] = [];
      const datas: Uint8Array[] = [];
      let k = 0;
      for (let i = 0; i < pv.labels.length; i++) {
        const to = i + 1 < pv.labels.length ? pv.labels[i + 1] : Infinity;
        while (k < kept.length && kept[k] < pv.labels[i]) k++;
        if (k < kept.length && kept[k] < to) {
          labels.push(pv.labels[i]);
          datas.push(pv.datas[i]);
        } else {
          this.bytes -= SLOT_BYTES;
        }
      }
      // A copy goes when no version kept holds it.
      if (datas.length < pv.datas.length) {
        const held = new Set(datas);
        for (const d of new Set(pv.datas)) if (!held.has(d)) this.bytes -= DATA_BYTES;
      }
      pv.labels = labels;
      pv.datas = datas;
    }
  }

  /** Pages tracked (ever written). */
  get trackedPages(): number {
    return this.pages.length;
  }
}

/** The index of a page's version as of snapshot `label`: its newest labelled <= label (the original when none is). */
function versionAt(pv: PageVersions, label: number): number {
  let i = pv.labels.length - 1;
  while (i > 0 && pv.labels[i] > label) i--;
  return i;
}

function samePage(bytes: Uint8Array, at: number, data: Uint8Array): boolean {
  // 4 KiB-aligned in both: compare 32-bit words.
  const a = new Int32Array(bytes.buffer, bytes.byteOffset + at, PAGE / 4);
  const b = new Int32Array(data.buffer, data.byteOffset, PAGE / 4);
  for (let i = 0; i < PAGE / 4; i++) if (a[i] !== b[i]) return false;
  return true;
}
