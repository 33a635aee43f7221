/**
 * The experiment page's store and its Worker. The store lives at module scope, so a run goes
 * on while the person is back in the editor; each job gets a Worker of its own (apart from the
 * machine's), terminated when the job ends or is cancelled.
 */
import { useStore } from 'zustand';
import { COST_PRESET_NAMES, type CostPresetName } from '../../core/cost';
import { useUiStore } from '../../store/uiStore';
import { createExperimentStore, type ExperimentRunner, type ExperimentState } from '../../store/experimentStore';
import { isExperimentEvent } from '../../worker/experimentProtocol';

export const workerRunner: ExperimentRunner = (job, onEvent) => {
  const w = new Worker(new URL('../../worker/experimentWorker.ts', import.meta.url), { type: 'module', name: 'exitscope-experiment' });
  let live = true;
  const stop = () => {
    if (!live) return;
    live = false;
    w.terminate();
  };
  w.onmessage = (e: MessageEvent) => {
    if (!live || !isExperimentEvent(e.data)) return;
    const ev = e.data;
    if (ev.type === 'done' || ev.type === 'error') stop();
    onEvent(ev);
  };
  w.onerror = (e: ErrorEvent) => {
    if (!live) return;
    stop();
    onEvent({ type: 'error', message: `the experiment's Worker failed: ${e.message || 'unknown error'}` });
  };
  w.postMessage(job);
  return stop;
};

export const experimentStore = createExperimentStore({ runner: workerRunner });

export function useExperiment<T>(selector: (s: ExperimentState) => T): T {
  return useStore(experimentStore, selector);
}

/**
 * One preset control for the whole app: the toolbar's "costs". The experiment follows it (its
 * sliders start over from the preset's constants) instead of keeping a select of its own.
 */
function followPreset(preset: string): void {
  const st = experimentStore.getState();
  if (preset !== st.preset && (COST_PRESET_NAMES as readonly string[]).includes(preset)) st.setPreset(preset as CostPresetName);
}
followPreset(useUiStore.getState().preset);
useUiStore.subscribe((s) => followPreset(s.preset));
