import { describe, expect, it } from 'vitest';
import type { WalkStep } from '../../../core/events';
import { DEFAULT_MACHINE_CONFIG, Machine } from '../../../core/machine';
import { SCENARIOS } from '../../../scenarios';
import { prepare } from '../../../test/invariants/runner';
import { describeCell, eptBits, guestBits, layoutWalk, walkTablePages } from './walkLayout';

/** A full 4-level/4-level walk: for rows 4..1, four EPT steps then one guest step; row 0 EPT only. */
function fullWalk(guestLeaf = 1, eptLeaf = 1): WalkStep[] {
  const steps: WalkStep[] = [];
  for (let row = 4; row >= 0; row--) {
    if (row > 0 && row < guestLeaf) continue;
    for (let level = 4; level >= eptLeaf; level--) {
      steps.push({ dim: 'ept', row, level, index: level, entryAddr: 0x4000_0000 + row * 0x1000 + level * 8,
        entryValue: level === eptLeaf ? 0x1000n | 0x37n : 0x5000n | 7n, outcome: level === eptLeaf ? 'leaf' : 'next' });
    }
    if (row > 0) {
      steps.push({ dim: 'guest', row, level: row, index: 0, entryAddr: 0x2000 + (4 - row) * 0x1000,
        entryValue: row === guestLeaf ? 0x10_0000n | 0x63n | (guestLeaf > 1 ? 0x80n : 0n) : 0x3000n | 0x23n,
        outcome: row === guestLeaf ? 'leaf' : 'next' });
    }
  }
  return steps;
}

describe('layoutWalk', () => {
  it('lays a full 4 KiB walk out as 24 cells in one translation, rows 4..0', () => {
    const l = layoutWalk(fullWalk());
    expect(l.total).toBe(24);
    expect(l.guestRefs).toBe(4);
    expect(l.eptRefs).toBe(20);
    // bhyve holds each table page it reads and the page found (ptp_hold, vm_copy_setup).
    expect(l.held).toBe(5);
    expect(l.translations).toHaveLength(1);
    expect(l.translations[0].rows).toEqual([4, 3, 2, 1, 0]);
    expect(l.translations[0].guestLeafLevel).toBe(1);
    const cols = l.translations[0].cells.filter((c) => c.row === 4).map((c) => c.col);
    expect(cols).toEqual([0, 1, 2, 3, 4]);
    expect(l.translations[0].cells.filter((c) => c.row === 0).map((c) => c.col)).toEqual([0, 1, 2, 3]);
  });

  it('has fewer cells with a 2 MiB guest page (no PT row) and with 2 MiB EPT leaves', () => {
    expect(layoutWalk(fullWalk(2)).total).toBe(19);
    expect(layoutWalk(fullWalk(2)).translations[0].rows).toEqual([4, 3, 2, 0]);
    expect(layoutWalk(fullWalk(1, 2)).total).toBe(5 * 3 + 4);
    expect(layoutWalk(fullWalk(2)).held).toBe(4);
  });

  it('splits two translations (an instruction crossing a page) into two grids', () => {
    const l = layoutWalk([...fullWalk(), ...fullWalk()]);
    expect(l.translations).toHaveLength(2);
    expect(l.translations[1].cells[0].order).toBe(24);
    expect(l.held).toBe(10);
  });

  it('splits code-page-only translations when EPT levels restart', () => {
    const row0 = fullWalk().filter((s) => s.row === 0);
    expect(layoutWalk([...row0, ...row0]).translations).toHaveLength(2);
  });

  it('is empty for a cache hit (no steps) and records a fault', () => {
    expect(layoutWalk(undefined).translations).toEqual([]);
    const steps = fullWalk().slice(0, 5);
    steps[4] = { ...steps[4], outcome: 'not-present', entryValue: 0n };
    expect(layoutWalk(steps).translations[0].fault).toEqual({ order: 4, problem: 'not present' });
  });
});

describe('entry decoding', () => {
  it('decodes guest P/RW/US/A/D/PS/NX', () => {
    const bits = guestBits(0x8000_0000_0000_00e3n, 2);
    const on = bits.filter((b) => b.on).map((b) => b.name);
    expect(on).toEqual(['P', 'RW', 'A', 'D', 'PS', 'NX']);
    expect(guestBits(0x27n, 1).map((b) => b.name)).not.toContain('PS');
  });

  it('decodes EPT R/W/X, memory type and large', () => {
    const bits = eptBits(0x80n | 0x30n | 0x5n, 2, true); // R X, WB (6<<3), large
    expect(bits.filter((b) => b.on).map((b) => b.name)).toEqual(['R', 'X', 'WB', 'large']);
  });

  it('describes a cell with its target address and a misconfigured EPT leaf', () => {
    const s: WalkStep = { dim: 'ept', row: 0, level: 1, index: 0, entryAddr: 0x1234, entryValue: 0xfee0_0002n, outcome: 'reserved' };
    const info = describeCell({ order: 0, row: 0, col: 3, step: s });
    expect(info.problem).toBe('misconfig (W without R)');
    expect(info.target).toBe(0xfee0_0000);
    // A device page's leaf (the LAPIC's): absent, tagged in bit 11.
    const mmio: WalkStep = { ...s, entryValue: 0x800n, outcome: 'not-present' };
    expect(describeCell({ order: 0, row: 0, col: 3, step: mmio }).problem).toBe('not present: a device (MMIO) page');
    expect(describeCell({ order: 0, row: 0, col: 3, step: { ...mmio, entryValue: 0n } }).problem).toBe('not present');
    const g: WalkStep = { dim: 'guest', row: 2, level: 2, index: 3, entryAddr: 0x3018, entryValue: 0x20_0000n | 0x1e3n, outcome: 'leaf' };
    expect(describeCell({ order: 1, row: 2, col: 4, step: g }).target).toBe(0x20_0000);
  });

  it('lists the guest table pages of a walk', () => {
    expect(walkTablePages(fullWalk())).toEqual([0x2000, 0x3000, 0x4000, 0x5000]);
  });
});

describe('the walk panel and the exit pipeline count the same walk', () => {
  // The panel counts from the references it draws; the pipeline's walk cards show the VMM's own
  // counts (Stage.refs, Stage.held). Both are on screen for the exit picked: they must agree.
  it('in every walk of every scenario, under none and icache', () => {
    let walks = 0;
    for (const s of SCENARIOS) {
      const p = prepare(s.source, `${s.name}.s`);
      for (const strategy of ['none', 'icache'] as const) {
        const m = new Machine(p.program, { ...DEFAULT_MACHINE_CONFIG, strategy }, p.topology);
        m.setRecordWalks('all');
        const seen: string[] = [];
        m.onExit = (e) => {
          const stages = e.stages.filter((x) => x.name === 'walk');
          if (stages.length === 0) return;
          walks++;
          const l = layoutWalk(e.walk);
          const [guest, ept] = stages;
          const pipeline = { guestRefs: guest.refs, eptRefs: ept?.refs, held: ept?.held };
          const panel = { guestRefs: l.guestRefs, eptRefs: l.eptRefs, held: l.held };
          if (JSON.stringify(pipeline) !== JSON.stringify(panel)) seen.push(`exit #${e.seq} rip ${e.rip.toString(16)}: pipeline ${JSON.stringify(pipeline)}, panel ${JSON.stringify(panel)}`);
        };
        m.runToEnd();
        expect(seen, `${s.name} under ${strategy}`).toEqual([]);
      }
    }
    expect(walks).toBeGreaterThan(1000);
  });
});
