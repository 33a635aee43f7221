import { describe, expect, it } from 'vitest';
import { buildMachine } from '../core/machine';
import type { ExitEvent } from '../core/events';
import { ExitRing } from './exitRing';

const PROGRAM = `_start:
  mov rbx, LAPIC_BASE
  mov ecx, 40
.l:
  mov eax, [rbx + LAPIC_ID]
  mov dword [rbx + LAPIC_TPR], 0x10
  push qword [rbx + LAPIC_ID]
  add rsp, 8
  dec ecx
  jnz .l
  hlt
`;

/** An exit's ExitEvent fields only (onExit's copies also carry the VMM's action). */
const plain = (e: ExitEvent) => {
  const { action: _a, injected: _i, stop: _s, ...rest } = e as ExitEvent & { action?: unknown; injected?: unknown; stop?: unknown };
  return JSON.parse(JSON.stringify(rest, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as unknown;
};

describe('ExitRing', () => {
  it('keeps the newest exits of a run as copies equal to the exits themselves, and counts the rest as not kept', () => {
    const built = buildMachine(PROGRAM, { strategy: 'icache' }, 'ring.s');
    if (!built.ok) throw new Error('assembly failed');
    const m = built.machine;
    m.setRecordWalks('all');
    const ring = new ExitRing(16);
    const copies: ExitEvent[] = [];
    m.onExit = (e) => copies.push(e);
    m.onExitTransient = (e) => ring.push(e);
    m.run(30);
    const first = ring.take();
    expect(first.exits.map(plain)).toEqual(copies.slice(-first.exits.length).map(plain));
    expect(first.dropped + first.exits.length).toBe(copies.length);
    const before = copies.length;
    m.runToEnd();
    const { exits, dropped } = ring.take();
    expect(exits).toHaveLength(16);
    expect(dropped).toBe(copies.length - before - 16);
    expect(exits.map(plain)).toEqual(copies.slice(-16).map(plain));
    // The first exit of the run missed and walked; the copies carry stages and walks.
    expect(copies[0].walk?.length).toBe(24);
    expect(exits.every((e) => e.stages.length > 0)).toBe(true);
    // The push's stack operand: emulate stages marked as the operand's walk and copy.
    expect(exits.some((e) => e.stages.some((s) => s.operand === 'walk') && e.stages.some((s) => s.operand === 'copy'))).toBe(true);
  });

  it('carries a walk stage\'s counts as numbers (the lessons and the pipeline count with them)', () => {
    const built = buildMachine(PROGRAM, { strategy: 'icache' }, 'ring.s');
    if (!built.ok) throw new Error('assembly failed');
    const ring = new ExitRing(4);
    built.machine.onExitTransient = (e) => ring.push(e);
    built.machine.run(100, { untilExit: true }); // the first exit: a miss that walks
    const [first] = ring.take().exits;
    expect(first.stages.filter((s) => s.name === 'walk').map((s) => [s.refs, s.held])).toEqual([[4, undefined], [20, 5]]);
  });

  it('hands out nothing twice', () => {
    const ring = new ExitRing(4);
    expect(ring.take()).toEqual({ exits: [], dropped: 0 });
  });
});
