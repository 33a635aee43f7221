/**
 * One experiment job: run each cell with the core's runWorkload (the function `npm run bench`
 * runs), one cell per task so that progress and each record go out between cells. The
 * experiment's Worker runs jobs with it; tests run it in-process.
 */
import { runWorkload } from '../core/experimentRun';
import type { ExperimentEvent, ExperimentJob } from './experimentProtocol';

export interface WorkloadSource {
  name: string;
  source: string;
}

/** Runs `job`, posting events; `defer` schedules the next cell. Returns a function that stops it. */
export function runExperimentJob(
  job: ExperimentJob,
  workloads: readonly WorkloadSource[],
  post: (e: ExperimentEvent) => void,
  defer: (fn: () => void) => void = (fn) => setTimeout(fn, 0),
): () => void {
  let stopped = false;
  const total = job.cells.length;
  const next = (i: number) => {
    if (stopped) return;
    if (i >= total) {
      post({ type: 'progress', done: total, total, current: null });
      post({ type: 'done' });
      return;
    }
    const cell = job.cells[i];
    post({ type: 'progress', done: i, total, current: cell });
    const w = workloads.find((s) => s.name === cell.scenario);
    if (!w) {
      post({ type: 'error', message: `no workload named ${cell.scenario}` });
      return;
    }
    try {
      post({ type: 'cell', record: runWorkload(w.name, w.source, cell.strategy, { preset: job.preset, costModel: job.costModel }) });
    } catch (e) {
      post({ type: 'error', message: `${cell.scenario} under ${cell.strategy}: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    defer(() => next(i + 1));
  };
  defer(() => next(0));
  return () => { stopped = true; };
}
