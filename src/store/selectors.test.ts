import { describe, expect, it } from 'vitest';
import type { ExitEvent, VcpuView } from '../core/events';
import { createMachineStore } from './machineStore';
import { selectFollowedVcpu, selectLive, selectShownExit, selectShownWhole, selectTravelled } from './selectors';
import type { MachineView, TimelineView } from '../worker/protocol';

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

describe('selectShownWhole', () => {
  const frame = (running: boolean, exits: ExitEvent[], exitsPerSec?: number) =>
    ({ type: 'frame' as const, running, counters: null as never, exits, droppedExits: 0, view: null as never, stop: null, ...(exitsPerSec !== undefined && { exitsPerSec }) });
  it('draws whole the exit a run shown live stopped on; not a step\'s, nor the stop of a run slow enough to play its exits, nor after a new run', () => {
    const store = createMachineStore();
    const whole = () => selectShownWhole(store.getState());
    store.getState().ingest(frame(true, [ex(0), ex(1)], 50_000));
    store.getState().ingest(frame(false, [ex(2)]));
    expect(selectShownExit(store.getState())?.seq).toBe(2);
    expect(whole()).toBe(true);
    // A step: its exit plays.
    store.getState().ingest(frame(false, [ex(3)]));
    expect(selectShownExit(store.getState())?.seq).toBe(3);
    expect(whole()).toBe(false);
    // A run slow enough to show its exits one by one: the exit it stops on plays too.
    store.getState().ingest(frame(true, [ex(4)], 2));
    store.getState().ingest(frame(false, [ex(5)]));
    expect(whole()).toBe(false);
    // A run shown live, then a new run: the old stop's exit is not drawn whole while it runs.
    store.getState().ingest(frame(true, [ex(6)], 50_000));
    store.getState().ingest(frame(false, [ex(7)]));
    expect(whole()).toBe(true);
    store.getState().ingest(frame(true, [], 50_000));
    expect(store.getState().runEnd).toBeNull();
    expect(whole()).toBe(false);
  });
});

describe('selectFollowedVcpu', () => {
  const vcpu = (vm: number, vcpu: number): VcpuView => ({ vm, vcpu, regs: {} as VcpuView['regs'], halted: false, retired: 0, lapic: [], line: 10 + vm });
  const view = (vcpus: VcpuView[]): MachineView => ({ vcpus, icache: [], buckets: [], pages: [], lines: [], console: '' });
  it("follows the shown exit's vCPU, as the registers do, else VM 0's vCPU 0", () => {
    const s0 = createMachineStore().getState();
    const vcpus = [vcpu(0, 0), vcpu(1, 0)];
    const paused = { ...s0, running: false, view: view(vcpus) };
    expect(selectFollowedVcpu(paused)).toBe(vcpus[0]);
    expect(selectFollowedVcpu({ ...paused, selectedExit: { ...ex(4), vm: 1 } })).toBe(vcpus[1]);
    expect(selectFollowedVcpu({ ...paused, selectedExit: ex(3) })).toBe(vcpus[0]);
    // An exit of a vCPU the view does not have (a stale pick): VM 0's vCPU 0.
    expect(selectFollowedVcpu({ ...paused, selectedExit: { ...ex(5), vm: 2 } })).toBe(vcpus[0]);
    expect(selectFollowedVcpu(s0)).toBeUndefined();
  });
});
