import { describe, expect, it } from 'vitest';
import type { ExitEvent } from '../core/events';
import { createMachineStore } from './machineStore';
import { selectLive, selectShownExit, selectTravelled } from './selectors';
import type { TimelineView } from '../worker/protocol';

const ex = (seq: number): ExitEvent => ({ seq, vm: 0, vcpu: 0, reason: 'mmio', rip: 0, cr3: 0, retired: 0, stages: [], cycles: 1 });

describe('selectShownExit', () => {
  it('shows the selected exit when paused, the newest while running slowly, the selected again at full speed', () => {
    const store = createMachineStore();
    const s0 = store.getState();
    const selected = ex(1);
    const paused = { ...s0, running: false, exitLog: [ex(1), ex(2)], selectedExit: selected, exitsPerSec: 1 };
    expect(selectShownExit(paused)).toBe(selected);
    const slow = { ...paused, running: true };
    expect(selectShownExit(slow)?.seq).toBe(2);
    expect(selectLive(slow)).toBe(false);
    const fast = { ...paused, running: true, exitsPerSec: 50_000 };
    expect(selectLive(fast)).toBe(true);
    expect(selectShownExit(fast)).toBe(selected);
  });
});

describe('selectTravelled', () => {
  const timeline = (at: number | null): TimelineView => ({ first: 0, end: 10, at, retired: 0, marks: [], bytes: 0, budget: 1 });
  it('is true only while the timeline shows a past exit and the panels show that exit', () => {
    const s0 = createMachineStore().getState();
    const atFive = { ...s0, running: false, selectedExit: ex(5), timeline: timeline(5) };
    expect(selectTravelled(atFive)).toBe(true);
    // A log row clicked while in the past: another exit than the one travelled to.
    expect(selectTravelled({ ...atFive, selectedExit: ex(3) })).toBe(false);
    // At the present, the selected exit is a step's or a click's.
    expect(selectTravelled({ ...atFive, timeline: timeline(null) })).toBe(false);
    expect(selectTravelled({ ...atFive, timeline: null })).toBe(false);
  });
});
