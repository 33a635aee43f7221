/**
 * Messages between the experiment page and its own Worker (not the machine's): run a list of
 * workload × strategy cells under one cost model, one cell after the other, and report each
 * record as it is done. Cancelling is terminating the Worker.
 */
import type { CostModel } from '../core/cost';
import type { Strategy } from '../core/events';
import type { RunRecord } from '../core/experiment';

export interface ExperimentCell {
  scenario: string;
  strategy: Strategy;
}

export interface ExperimentJob {
  type: 'run';
  cells: ExperimentCell[];
  preset: string;
  /** A model that replaces the preset's constants (the what-if re-runs). */
  costModel?: CostModel;
}

export type ExperimentEvent =
  | { type: 'progress'; done: number; total: number; current: ExperimentCell | null }
  | { type: 'cell'; record: RunRecord }
  | { type: 'done' }
  | { type: 'error'; message: string };

const TYPES = new Set(['progress', 'cell', 'done', 'error']);

/** A message from the Worker is trusted only as far as its shape: unknown ones are dropped. */
export function isExperimentEvent(data: unknown): data is ExperimentEvent {
  return typeof data === 'object' && data !== null && TYPES.has((data as { type?: unknown }).type as string);
}
