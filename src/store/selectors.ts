/**
 * Narrow selectors over the machine store shared by the panels (src/ui/panels). Each returns a
 * value that keeps its identity while what it describes does not change, so a component that
 * uses it re-renders only when it must.
 */
import type { ExitEvent, VcpuView } from '../core/events';
import { isWorkerFailed, type MachineState } from './machineStore';

/** The Worker is dead or hung (`isWorkerFailed`). */
export const selectWorkerFailed = (s: MachineState): boolean => isWorkerFailed(s.workerStatus);

/** Above this many exits per second a run is shown as rates, not one exit at a time. */
export const LIVE_EXITS_PER_SEC = 4;

/** Exits per second over the last frame interval while running (0 otherwise). */
export const selectExitsPerSec = (s: MachineState): number => s.exitsPerSec;

/** Whether a run at this rate is shown as rates (live), not one exit at a time. */
const shownAsRates = (exitsPerSec: number): boolean => exitsPerSec > LIVE_EXITS_PER_SEC;

/** True while the machine runs too fast to show exits one by one. */
export const selectLive = (s: MachineState): boolean => s.running && shownAsRates(selectExitsPerSec(s));

/**
 * The exit the pipeline and walk panels show: while the machine runs at an animated speed (slow
 * enough to follow), the newest exit; otherwise the selected one (step mode selects the newest
 * exit itself; a click in the log selects any).
 */
export const selectShownExit = (s: MachineState): ExitEvent | null => {
  if (s.running && !selectLive(s)) return s.exitLog[s.exitLog.length - 1] ?? s.selectedExit;
  return s.selectedExit;
};

/**
 * The vCPU the editor's RIP line follows: the one whose exit the pipeline shows (as the
 * registers do), else VM 0's vCPU 0; undefined before a view. One of the view's own objects.
 */
export const selectFollowedVcpu = (s: MachineState): VcpuView | undefined => {
  const vcpus = s.view?.vcpus;
  const exit = selectShownExit(s);
  return (exit && vcpus?.find((v) => v.vm === exit.vm && v.vcpu === exit.vcpu)) || vcpus?.[0];
};

/** The exit the timeline shows the machine at, or null at the present (not travelling). */
export const selectTimelineAt = (s: MachineState): number | null => s.timeline?.at ?? null;

/**
 * True when the shown exit is the one the timeline travelled to (a seek, back one exit): the
 * pipeline and the walk then show it at once, not stage by stage. Scrubbing asks for the machine
 * at an exit, and an animation of ~1.4 s per seek (main-thread keyframes: a paint and layerize
 * per frame) would both hide what was asked for and slow the next seek down.
 */
export const selectTravelled = (s: MachineState): boolean => {
  const at = selectTimelineAt(s);
  return at !== null && selectShownExit(s)?.seq === at;
};

/**
 * True when the pipeline and the walk draw the shown exit whole, not stage by stage: an exit the
 * timeline travelled to, or the exit a run stopped on after showing its exits as rates (live), as
 * it showed none of them stage by stage (played, a seek made right after the stop dropped them).
 */
export const selectShownWhole = (s: MachineState): boolean => {
  if (selectTravelled(s)) return true;
  const end = s.runEnd;
  return !s.running && end !== null && shownAsRates(end.exitsPerSec) && selectShownExit(s)?.seq === end.seq;
};
