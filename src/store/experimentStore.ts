/**
 * The experiment page's state: the runs of the seed's workloads under every strategy, the cost
 * model the page shows them under (a preset, moved by the what-if sliders), and the re-runs
 * that replace estimates.
 *
 * A run is done once, under the model of its time; the table then shows every cell under the
 * current model (experimentModel.ts): exactly from its units when the guest never saw time,
 * as an estimate otherwise, until a re-run under the current model (started a moment after the
 * sliders stop) replaces the estimate.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { COST_CONSTANTS, COST_PRESETS, DEFAULT_COST_PRESET, type CostConstant, type CostModel, type CostPresetName } from '../core/cost';
import { STRATEGIES } from '../core/events';
import { EXPERIMENT_WORKLOADS, type RunRecord } from '../core/experiment';
import type { ExperimentCell, ExperimentEvent, ExperimentJob } from '../worker/experimentProtocol';

/** Starts a job and feeds its events back; the returned function stops it (the Worker, or in-process in tests). */
export type ExperimentRunner = (job: ExperimentJob, onEvent: (e: ExperimentEvent) => void) => () => void;

export type ExperimentStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

/** A record and the model it was run under. */
export interface KeptRecord {
  record: RunRecord;
  modelKey: string;
}

export interface ExperimentState {
  workloads: readonly string[];
  preset: CostPresetName;
  /** The model the page shows: the preset's constants, moved by the sliders. */
  model: CostModel;
  /** The experiment's runs, by cell key. */
  runs: Record<string, KeptRecord>;
  /** Re-runs of the cells whose guest saw time, by cell key (used while their model is current). */
  reruns: Record<string, KeptRecord>;
  status: ExperimentStatus;
  progress: { done: number; total: number; current: ExperimentCell | null };
  rerunning: boolean;
  error: string | null;
  run(): void;
  cancel(): void;
  setPreset(preset: CostPresetName): void;
  setConstant(key: CostConstant, value: number): void;
}

export type ExperimentStore = StoreApi<ExperimentState>;

export const cellKey = (scenario: string, strategy: string) => `${scenario}/${strategy}`;

/** A model's identity: its charged constants, in order. */
export function modelKey(m: Readonly<CostModel>): string {
  return COST_CONSTANTS.map((k) => m[k]).join(',');
}

export interface ExperimentStoreOptions {
  runner: ExperimentRunner;
  /** Workloads to run (default: the seed's five). */
  workloads?: readonly string[];
  /** Wait this long after the last slider move before re-running (ms). */
  rerunDelayMs?: number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (id: unknown) => void;
}

export function createExperimentStore(opts: ExperimentStoreOptions): ExperimentStore {
  const workloads = opts.workloads ?? EXPERIMENT_WORKLOADS;
  const delay = opts.rerunDelayMs ?? 250;
  const setT = opts.setTimeout ?? ((fn, ms) => setTimeout(fn, ms));
  const clearT = opts.clearTimeout ?? ((id) => clearTimeout(id as ReturnType<typeof setTimeout>));
  let stopRun: (() => void) | null = null;
  let stopRerun: (() => void) | null = null;
  let rerunTimer: unknown = null;

  const store = createStore<ExperimentState>()((set, get) => {
    const jobFor = (cells: ExperimentCell[], model: CostModel): ExperimentJob => {
      const { preset } = get();
      const same = modelKey(model) === modelKey(COST_PRESETS[preset]);
      return { type: 'run', cells, preset, costModel: same ? undefined : { ...model } };
    };

    /** Re-run, under the current model, the cells whose guest saw time and have no record for it. */
    const scheduleRerun = () => {
      if (rerunTimer !== null) clearT(rerunTimer);
      rerunTimer = null;
      stopRerun?.();
      stopRerun = null;
      const { runs, reruns, model } = get();
      const key = modelKey(model);
      const cells = Object.values(runs)
        .filter((k) => k.record.sawTime && k.modelKey !== key && reruns[cellKey(k.record.scenario, k.record.strategy)]?.modelKey !== key)
        .map((k) => ({ scenario: k.record.scenario, strategy: k.record.strategy }));
      if (cells.length === 0) {
        set({ rerunning: false });
        return;
      }
      set({ rerunning: true });
      rerunTimer = setT(() => {
        rerunTimer = null;
        const job = jobFor(cells, model);
        stopRerun = opts.runner(job, (e) => {
          if (modelKey(get().model) !== key) return; // superseded by a newer model
          if (e.type === 'cell') {
            set((s) => ({ reruns: { ...s.reruns, [cellKey(e.record.scenario, e.record.strategy)]: { record: e.record, modelKey: key } } }));
          } else if (e.type === 'done') {
            stopRerun = null;
            set({ rerunning: false });
          } else if (e.type === 'error') {
            stopRerun = null;
            set({ rerunning: false, error: e.message });
          }
        });
      }, delay);
    };

    const setModel = (model: CostModel, patch: Partial<ExperimentState> = {}) => {
      set({ ...patch, model });
      scheduleRerun();
    };

    return {
      workloads,
      preset: DEFAULT_COST_PRESET,
      model: { ...COST_PRESETS[DEFAULT_COST_PRESET] },
      runs: {},
      reruns: {},
      status: 'idle',
      progress: { done: 0, total: 0, current: null },
      rerunning: false,
      error: null,
      run() {
        get().cancel();
        const model = { ...get().model };
        const key = modelKey(model);
        const cells = workloads.flatMap((scenario) => STRATEGIES.map((strategy) => ({ scenario, strategy })));
        set({ status: 'running', runs: {}, reruns: {}, error: null, progress: { done: 0, total: cells.length, current: cells[0] ?? null } });
        stopRun = opts.runner(jobFor(cells, model), (e) => {
          switch (e.type) {
            case 'progress':
              set({ progress: { done: e.done, total: e.total, current: e.current } });
              break;
            case 'cell':
              set((s) => ({ runs: { ...s.runs, [cellKey(e.record.scenario, e.record.strategy)]: { record: e.record, modelKey: key } } }));
              break;
            case 'done':
              stopRun = null;
              set({ status: 'done' });
              scheduleRerun(); // the sliders may have moved while it ran
              break;
            case 'error':
              stopRun?.();
              stopRun = null;
              set({ status: 'error', error: e.message });
              break;
          }
        });
      },
      cancel() {
        if (stopRun) {
          stopRun();
          stopRun = null;
          set({ status: 'cancelled' });
        }
      },
      setPreset(preset) {
        setModel({ ...COST_PRESETS[preset] }, { preset });
      },
      setConstant(key, value) {
        if (!Number.isFinite(value) || value < 0) return;
        setModel({ ...get().model, [key]: value });
      },
    };
  });
  return store;
}
