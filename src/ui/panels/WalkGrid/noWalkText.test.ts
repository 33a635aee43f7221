import { describe, expect, it } from 'vitest';
import type { ExitEvent } from '../../../core/events';
import { noteString, noWalkText as note, type WalkContext } from './noWalkText';

const noWalkText = (e: ExitEvent, ctx: WalkContext) => noteString(note(e, ctx));

const exit = (over: Partial<ExitEvent>): ExitEvent => ({
  seq: 500, vm: 0, vcpu: 0, reason: 'mmio', rip: 0x1000, cr3: 0x1000, retired: 2000, cycles: 1300, icache: 'miss',
  stages: [{ name: 'exit', cycles: 400 }, { name: 'icache', cycles: 100 }, { name: 'walk', cycles: 600 }, { name: 'fetch', cycles: 200 }],
  ...over,
});

describe('noWalkText', () => {
  it('says a cache hit skipped the walk', () => {
    expect(noWalkText(exit({ icache: 'hit', stages: [{ name: 'exit', cycles: 400 }, { name: 'icache', cycles: 100 }] }), { running: false, reachFirst: 0 })).toMatch(/^cache hit: no walk/);
  });

  it("says a cache hit that walked its memory operand walked that, not RIP", () => {
    const push = exit({ icache: 'hit', stages: [
      { name: 'exit', cycles: 400 }, { name: 'icache', cycles: 100 }, { name: 'emulate', cycles: 300 },
      { name: 'emulate', cycles: 2120, refs: 24, held: 5, operand: 'walk' }, { name: 'emulate', cycles: 48, operand: 'copy' },
    ] });
    expect(noWalkText(push, { running: false, reachFirst: 0 })).toMatch(/^cache hit: no walk of RIP\..*still walked its memory operand \(24 references, 5 pages held: the pipeline's emulate stage\)/);
  });

  it('says an exit that did not translate RIP had no walk', () => {
    const hlt = exit({ reason: 'hlt', stages: [{ name: 'exit', cycles: 400 }], icache: undefined });
    expect(noWalkText(hlt, { running: false, reachFirst: 0 })).toBe('No walk for this exit (hlt): the VMM did not translate RIP.');
    // The reason apart: the panel sets it in code type ("hlt" is not "hit").
    expect(note(hlt, { running: false, reachFirst: 0 }).reason?.name).toBe('hlt');
  });

  it('says while the run goes that the references show once it stops', () => {
    expect(noWalkText(exit({}), { running: true, reachFirst: 0 })).toMatch(/its references show when the run stops/);
  });

  it('says the Worker is handling a picked exit again once stopped', () => {
    expect(noWalkText(exit({}), { running: false, reachFirst: 0 })).toMatch(/handling it again/);
    expect(noWalkText(exit({ seq: 500 }), { running: false, reachFirst: 500 })).toMatch(/handling it again/);
  });

  it('says an exit older than the timeline reaches cannot be handled again, and where the reach ends', () => {
    const text = noWalkText(exit({ seq: 499 }), { running: false, reachFirst: 1_200_000 });
    expect(text).toMatch(/the timeline reaches back only to exit 1,200,000: it cannot be handled again/);
    expect(text).not.toMatch(/pick it/);
    expect(noWalkText(exit({}), { running: false, reachFirst: null })).toMatch(/the run kept no timeline/);
  });
});
