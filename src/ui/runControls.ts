/**
 * When each run control may act, written once for its button and its shortcut: a key did what
 * a disabled button refused (F10 while running stopped the run and stepped; F5 with a crashed
 * Worker restarted it, where the page asks for Reset).
 */
import type { MachineState } from '../store/machineStore';
import { selectWorkerFailed } from '../store/selectors';

export type RunControl = 'run' | 'pause' | 'step' | 'stepExit' | 'stepBack' | 'backExit' | 'assembleAndReset';

export interface RunControlsState {
  /** The page has started its machine. */
  booted: boolean;
  running: boolean;
  /** The Worker crashed or stopped answering: only Reset (it replaces the Worker) acts. */
  failed: boolean;
  /** The program is being reloaded (Run after the end, Reset): the timeline is the previous run's. */
  restarting: boolean;
  /** Instructions retired at the point shown. */
  retired: number;
  /** The point shown is at or before the oldest exit the timeline reaches. */
  atFirstExit: boolean;
}

export function runControlEnabled(control: RunControl, s: RunControlsState): boolean {
  switch (control) {
    case 'pause': return s.running;
    case 'assembleAndReset': return s.booted; // Reset replaces a failed Worker
    case 'run': case 'step': case 'stepExit': return s.booted && !s.running && !s.failed;
    case 'stepBack': return s.booted && !s.running && !s.failed && !s.restarting && s.retired > 0;
    case 'backExit': return s.booted && !s.running && !s.failed && !s.restarting && !s.atFirstExit;
  }
}

/** The run controls' state as the machine store holds it (the buttons read the same fields). */
export function runControlsState(m: MachineState, booted: boolean): RunControlsState {
  const t = m.timeline;
  return {
    booted,
    running: m.running,
    failed: selectWorkerFailed(m),
    restarting: m.restarting,
    retired: t?.retired ?? 0,
    atFirstExit: t === null || (t.at ?? t.end) <= t.first,
  };
}
