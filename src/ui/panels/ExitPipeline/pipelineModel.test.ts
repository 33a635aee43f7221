import { describe, expect, it } from 'vitest';
import type { ExitEvent, WalkStep } from '../../../core/events';
import type { Counters } from '../../../worker/protocol';
import { buildPipeline, cycleShares, operandCycles, summarize } from './pipelineModel';
import { runLogged } from '../../../test/runLogged';

function exit(partial: Partial<ExitEvent>): ExitEvent {
  return { seq: 0, vm: 0, vcpu: 0, reason: 'mmio', rip: 0x100000, cr3: 0x1000, retired: 10, stages: [], cycles: 0, ...partial };
}
const refs = (g: number, e: number): WalkStep[] => [
  ...Array.from({ length: e }, () => ({ dim: 'ept' as const, row: 0, level: 1, index: 0, entryAddr: 0, entryValue: 0n, outcome: 'next' as const })),
  ...Array.from({ length: g }, () => ({ dim: 'guest' as const, row: 1, level: 1, index: 0, entryAddr: 0, entryValue: 0n, outcome: 'next' as const })),
];

describe('buildPipeline', () => {
  it('lights every stage of a miss and shows the walk\'s guest part and its EPT part (with the pages held) apart', () => {
    const e = exit({
      icache: 'miss',
      walk: refs(4, 20),
      stages: [
        { name: 'exit', cycles: 1000 }, { name: 'icache', cycles: 50, detail: 'miss' },
        { name: 'walk', cycles: 120, detail: '4 guest refs', refs: 4 }, { name: 'walk', cycles: 1700, detail: '20 EPT refs, 5 pages held', refs: 20, held: 5 },
        { name: 'fetch', cycles: 55 }, { name: 'decode', cycles: 500 }, { name: 'emulate', cycles: 200 },
      ],
      cycles: 3625,
    });
    const n = buildPipeline(e);
    expect(n.map((x) => x.id)).toEqual(['exit', 'icache', 'walk-guest', 'walk-ept', 'fetch', 'decode', 'emulate', 'resume']);
    expect(n.find((x) => x.id === 'icache')?.state).toBe('miss');
    expect(n.find((x) => x.id === 'walk-guest')).toMatchObject({ cycles: 120, detail: '4 refs', label: 'guest walk' });
    expect(n.find((x) => x.id === 'walk-ept')).toMatchObject({ cycles: 1700, detail: '20 refs, 5 pages held', label: 'EPT walks' });
    expect(n.every((x) => x.state !== 'skipped')).toBe(true);
  });

  it('shows the lookup, insert and write-protect of a miss as three stages with their own cycles', () => {
    const e = exit({
      icache: 'miss',
      stages: [
        { name: 'exit', cycles: 1850 }, { name: 'icache', cycles: 100, detail: 'miss' }, { name: 'walk', cycles: 120 }, { name: 'walk', cycles: 2000 },
        { name: 'fetch', cycles: 55 }, { name: 'decode', cycles: 215 }, { name: 'insert', cycles: 260, detail: 'new entry' },
        { name: 'protect', cycles: 7500, detail: '5 pages + INVEPT' }, { name: 'emulate', cycles: 400 },
      ],
      cycles: 12500,
    });
    const n = buildPipeline(e);
    expect(n.map((x) => x.id)).toEqual(['exit', 'icache', 'walk-guest', 'walk-ept', 'fetch', 'decode', 'insert', 'protect', 'emulate', 'resume']);
    // The exit card's cycles are the round trip, and it says so as the charts do.
    expect(n[0]).toMatchObject({ label: 'VM exit', cycles: 1850, detail: 'VM exit + entry' });
    expect(n.filter((x) => ['icache', 'insert', 'protect'].includes(x.id)).map((x) => [x.label, x.cycles])).toEqual([
      ['lookup', 100], ['insert', 260], ['write-protect', 7500],
    ]);
    // A hit runs neither the insert nor the protection, and the pipeline does not draw them.
    const hit = buildPipeline(exit({ icache: 'hit', stages: [{ name: 'exit', cycles: 1850 }, { name: 'icache', cycles: 100 }, { name: 'emulate', cycles: 400 }] }));
    expect(hit.map((x) => x.id)).not.toContain('insert');
    expect(hit.map((x) => x.id)).not.toContain('protect');
  });

  it('shows an exit the VMM could not emulate up to the decode that refused it, then the stop', () => {
    const e = exit({
      icache: 'miss',
      stages: [{ name: 'exit', cycles: 1850 }, { name: 'icache', cycles: 100, detail: 'miss' }, { name: 'walk', cycles: 120 }, { name: 'walk', cycles: 2000 }, { name: 'fetch', cycles: 55 }, { name: 'decode', cycles: 165, detail: 'refused: xor [rbx+0x80], eax' }],
      cycles: 4290,
      stop: { reason: 'unsupported', message: 'unsupported instruction at 0x10000f: xor [rbx+0x80], eax' },
    });
    const n = buildPipeline(e);
    expect(n.map((x) => x.id)).toEqual(['exit', 'icache', 'walk-guest', 'walk-ept', 'fetch', 'decode', 'stop']);
    expect(n.find((x) => x.id === 'decode')).toMatchObject({ state: 'refused', cycles: 165 });
    expect(n.at(-1)).toMatchObject({ state: 'refused', detail: 'unsupported' });
  });

  it('shows a triple fault as the exit it is, then the stop: nothing refused', () => {
    const n = buildPipeline(exit({
      reason: 'triple-fault', icache: undefined, stages: [{ name: 'exit', cycles: 1850 }], cycles: 1850,
      stop: { reason: 'triple-fault', message: 'triple fault: #GP while delivering #DF (after #PF, then #GP) at rip 0x40000000' },
    }));
    expect(n.map((x) => x.id)).toEqual(['exit', 'stop']);
    expect(n[0]).toMatchObject({ state: 'ran', cycles: 1850 });
    expect(n[1]).toMatchObject({ detail: 'triple-fault' });
  });

  it('marks the walk, fetch and decode as skipped on a cache hit', () => {
    const n = buildPipeline(exit({ icache: 'hit', stages: [{ name: 'exit', cycles: 1000 }, { name: 'icache', cycles: 50 }, { name: 'emulate', cycles: 200 }], cycles: 1250 }));
    expect(n.find((x) => x.id === 'icache')?.state).toBe('hit');
    for (const id of ['walk-guest', 'walk-ept', 'fetch', 'decode']) {
      expect(n.find((x) => x.id === id)).toMatchObject({ state: 'skipped', detail: 'skipped: cache hit', cycles: null });
    }
  });

  it('shows the invalidate stage only on exits that have it, and says why decode assist skips the walk', () => {
    const wp = buildPipeline(exit({ reason: 'ept-violation', stages: [{ name: 'exit', cycles: 1000 }, { name: 'invalidate', cycles: 300, detail: '3 entries' }, { name: 'emulate', cycles: 10 }] }));
    expect(wp.map((x) => x.id)).toEqual(['exit', 'emulate', 'invalidate', 'resume']);
    expect(buildPipeline(exit({ reason: 'hlt', stages: [{ name: 'exit', cycles: 1000 }] })).map((x) => x.id)).toEqual(['exit', 'resume']);
    const da = buildPipeline(exit({ stages: [{ name: 'exit', cycles: 1000 }, { name: 'decode', cycles: 500 }, { name: 'emulate', cycles: 200 }] }));
    expect(da.find((x) => x.id === 'fetch')?.detail).toMatch(/decode assist/);
    expect(da.map((x) => x.id)).not.toContain('invalidate');
  });
});

describe("an exit's memory operand", () => {
  it('is in the emulate card, and operandCycles is the share of it the operand took', () => {
    const { machine: m, exits } = runLogged('_start:\n  mov rbx, LAPIC_BASE\n  push qword [rbx + LAPIC_ID]\n  hlt', { strategy: 'none', preset: 'nehalem-2014' });
    const push = exits[0];
    const c = m.cost;
    const operand = 24 * (c.walkRefLatency + c.walkRefOverhead) + 5 * c.mapPage + c.copyBase + 8 * c.copyPerByte;
    expect(operandCycles(push)).toBe(operand);
    expect(buildPipeline(push).find((n) => n.id === 'emulate')?.cycles).toBe(c.emulate + operand);
    expect(operandCycles(exits[1])).toBe(0); // the hlt
  });
});

describe('run summary', () => {
  const c: Counters = {
    retired: 1000,
    exits: { total: 10, byReason: { mmio: 10 } },
    icache: { lookups: 10, hits: 9, misses: 1, inserts: 1, evictions: 0, invalidations: 0, wpFaults: 0 },
    cycles: { total: 21000, guest: 1000, exit: 10000, walk: 5000, fetch: 1000, decode: 2000, emulate: 1500, device: 0, icache: 500, lookup: 100, insert: 100, protect: 300, invalidate: 0 },
    apicv: { virtualized: 0, cycles: 0 },
    hostNsPerExit: 0,
  };
  it('computes cost per exit, overhead and hit rate', () => {
    const s = summarize(c);
    expect(s.cyclesPerExit).toBe(2000);
    expect(s.cyclesPerInsn).toBe(1);
    expect(s.overhead).toBeCloseTo(20 / 21);
    expect(s.hitRate).toBeCloseTo(0.9);
  });
  it('has no cost per exit before the first exit, and no share before the first cycle (not 0)', () => {
    const none = summarize({ ...c, exits: { total: 0, byReason: {} }, icache: { ...c.icache, lookups: 0, hits: 0, misses: 0 }, cycles: { ...c.cycles, total: 0 } });
    expect(none.cyclesPerExit).toBeNull();
    expect(none.overhead).toBeNull();
    expect(none.hitRate).toBeNull();
  });
  it('splits cycles into shares that add up to 1', () => {
    const sh = cycleShares(c.cycles, true);
    expect(sh[0].key).toBe('guest');
    expect(sh.reduce((a, s) => a + s.share, 0)).toBeCloseTo(1);
    expect(cycleShares({ ...c.cycles, total: 0, guest: 0, exit: 0, walk: 0, fetch: 0, decode: 0, emulate: 0, device: 0, icache: 0, lookup: 0, insert: 0, protect: 0, invalidate: 0 }, false).every((s) => s.share === 0)).toBe(true);
  });
});
