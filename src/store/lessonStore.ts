/**
 * The lesson side panel's state: which lesson is open, the prediction taken, where the run is,
 * and the result computed from it. The lessons themselves are data (src/lessons).
 */
import { create } from 'zustand';
import type { LessonOutcome } from '../lessons/results';

/** predict: choose an answer; running: the lesson's program runs; done: the result is shown. */
export type LessonPhase = 'predict' | 'running' | 'done';

export interface LessonState {
  open: boolean;
  /** 0-based lesson index. */
  index: number;
  choice: string | null;
  phase: LessonPhase;
  outcome: LessonOutcome | null;
  /**
   * Which run of side A the outcome is of (`runKey`): once the machine has run or loaded since,
   * the panel says its figures are the lesson's run's, not the run on screen's.
   */
  outcomeRun: string | null;
  /** Names of lessons run to a result (mirrors localStorage). */
  done: string[];
  /** The first-visit welcome is showing. */
  welcome: boolean;
}

export const useLessonStore = create<LessonState>()(() => ({
  open: false,
  index: 0,
  choice: null,
  phase: 'predict',
  outcome: null,
  outcomeRun: null,
  done: [],
  welcome: false,
}));
