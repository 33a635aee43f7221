import { describe, expect, it } from 'vitest';
import { createMachineStore } from '../store/machineStore';
import { runControlEnabled, runControlsState, type RunControl, type RunControlsState } from './runControls';

const idle: RunControlsState = { booted: true, running: false, failed: false, restarting: false, retired: 10, atFirstExit: false };
const ALL: RunControl[] = ['run', 'pause', 'step', 'stepExit', 'stepBack', 'backExit', 'assembleAndReset'];
const enabled = (s: RunControlsState) => ALL.filter((c) => runControlEnabled(c, s));

describe('run controls', () => {
  it('while a run goes, only Pause and assemble-and-reset act (F10 had stopped the run and stepped)', () => {
    expect(enabled({ ...idle, running: true })).toEqual(['pause', 'assembleAndReset']);
  });
  it('with a crashed or unresponsive Worker only assemble-and-reset acts (it replaces the Worker)', () => {
    expect(enabled({ ...idle, failed: true })).toEqual(['assembleAndReset']);
  });
  it('stopped: all but Pause; nothing to go back to at the start', () => {
    expect(enabled(idle)).toEqual(['run', 'step', 'stepExit', 'stepBack', 'backExit', 'assembleAndReset']);
    expect(enabled({ ...idle, retired: 0, atFirstExit: true })).toEqual(['run', 'step', 'stepExit', 'assembleAndReset']);
    expect(enabled({ ...idle, restarting: true })).toEqual(['run', 'step', 'stepExit', 'assembleAndReset']);
    expect(enabled({ ...idle, booted: false })).toEqual([]);
  });
  it("reads the machine store's fields: before any run there is no timeline, so nothing to go back to", () => {
    const s = runControlsState(createMachineStore().getState(), true);
    expect(s).toMatchObject({ running: false, failed: false, retired: 0, atFirstExit: true });
  });
});
