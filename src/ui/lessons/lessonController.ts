/**
 * What the lesson panel and the welcome do: open a lesson (its program, strategy and preset on
 * side A), run it, and turn the finished run into the lesson's result. The result is computed
 * from that run's own counters and exits (src/lessons/results.ts), never from stored figures.
 */
import { LESSONS } from '../../lessons';
import { LESSON_RESULTS, type LessonRun } from '../../lessons/results';
import { runKey, type MachineState } from '../../store/machineStore';
import { useLessonStore } from '../../store/lessonStore';
import { useUiStore } from '../../store/uiStore';
import * as ctl from '../controller';
import { replaceSource } from '../files';
import { pageStorage, saveDraft } from '../persist';
import { lessonLayout } from './lessonLayout';
import { dismissWelcome, lessonFromSearch, loadProgress, saveProgress, welcomeDismissed, welcomeMayShow } from './progress';

let stopWatching: (() => void) | null = null;

function persist(): void {
  const { index, done } = useLessonStore.getState();
  saveProgress(pageStorage(), { current: index, done });
}

async function programOf(index: number): Promise<{ source: string; file: string } | null> {
  const { SCENARIOS } = await import('../../scenarios/index');
  const s = SCENARIOS.find((x) => x.name === LESSONS[index].program);
  return s ? { source: s.source, file: `${s.name}.s` } : null;
}

/**
 * The editor gets the lesson's program. The reader's own draft is set aside (with the usual
 * notice and undo) only when it is not one of the bundled programs, so walking through the
 * lessons does not stack a notice per lesson.
 */
async function putProgram(source: string, file: string): Promise<void> {
  const { SCENARIOS } = await import('../../scenarios/index');
  const ui = useUiStore.getState();
  if (SCENARIOS.some((s) => s.source === ui.source)) {
    ui.setSource(source, file);
    saveDraft(pageStorage(), source);
  } else {
    replaceSource(source, file, 'the lesson\'s program');
  }
}

/** Puts lesson `index`'s program and configuration on side A; `load` also resets the machine. */
async function applyLessonProgram(index: number, load: boolean): Promise<void> {
  const l = LESSONS[index];
  const p = await programOf(index);
  if (!p || useLessonStore.getState().index !== index) return;
  const ui = useUiStore.getState();
  if (ui.source !== p.source || ui.fileName !== p.file) await putProgram(p.source, p.file);
  if (ui.abMode) ctl.setAbMode(false);
  if (load) {
    ctl.setMachineConfig({ strategy: l.strategy, preset: l.preset });
    ctl.assembleAndReset();
  } else {
    ctl.updateSettings({ strategy: l.strategy, preset: l.preset });
  }
}

function watchStop(): void {
  stopWatching?.();
  stopWatching = null;
}

/** Opens the panel at lesson `index` (0-based) and loads its program. */
export function showLesson(index: number, opts: { load?: boolean } = {}): Promise<void> {
  const i = Math.max(0, Math.min(LESSONS.length - 1, index));
  watchStop();
  useLessonStore.setState({ open: true, index: i, choice: null, phase: 'predict', outcome: null });
  useUiStore.getState().applyLayout(lessonLayout(LESSONS[i], i));
  persist();
  return applyLessonProgram(i, opts.load ?? true);
}

/** Toolbar "Learn": open where the reader left off, or close. */
export function toggleLessons(): void {
  if (useLessonStore.getState().welcome) closeWelcome(); // Learn is the welcome's first choice
  if (useLessonStore.getState().open) closeLessons();
  else void showLesson(loadProgress(pageStorage(), LESSONS.length).current);
}

export function closeLessons(): void {
  watchStop();
  useLessonStore.setState({ open: false, phase: 'predict', choice: null, outcome: null });
  // Back to the reader's own layout preset.
  ctl.chooseLayoutPreset(useUiStore.getState().layoutPreset);
}

export function choose(id: string): void {
  const s = useLessonStore.getState();
  if (s.phase === 'running') return;
  useLessonStore.setState({ choice: id, phase: 'predict', outcome: null });
}

/** The lesson's run, as its result function reads it. */
export function lessonRunOf(s: MachineState): LessonRun | null {
  if (!s.counters || !s.view) return null;
  return {
    counters: s.counters,
    exits: s.exitLog.slice(),
    pages: s.view.pages,
    icache: s.view.icache,
    console: s.view.console,
    stop: s.stop,
  };
}

/** Runs the lesson's program from the start and shows the result when it stops. */
export async function runLesson(): Promise<void> {
  const st = useLessonStore.getState();
  if (st.choice === null || st.phase === 'running') return;
  const index = st.index;
  // The student has taken the lessons up: the welcome's choices are behind them, and it held
  // 56 px of a 720 px projector through all eight.
  if (useLessonStore.getState().welcome) closeWelcome();
  useLessonStore.setState({ phase: 'running', outcome: null });
  await applyLessonProgram(index, false);
  ctl.setMachineConfig({ strategy: LESSONS[index].strategy, preset: LESSONS[index].preset });
  ctl.setSpeed('max');
  const store = ctl.sideA().store;
  watchStop();
  // A run that ended before this one must not count: wait until the old stop is cleared.
  let cleared = store.getState().stop === null;
  const check = (s: MachineState) => {
    if (useLessonStore.getState().index !== index) return watchStop();
    if (s.error) {
      watchStop();
      useLessonStore.setState({ phase: 'done', outcome: { answer: null, figures: [], why: `The machine failed: ${s.error}` }, outcomeRun: runKey(s) });
      return;
    }
    if (s.stop === null) {
      cleared = true;
      return;
    }
    if (!cleared || s.running) return;
    const run = lessonRunOf(s);
    if (!run) return;
    watchStop();
    const l = LESSONS[index];
    const outcome = LESSON_RESULTS[l.result](run);
    const done = useLessonStore.getState().done.includes(l.name) ? useLessonStore.getState().done : [...useLessonStore.getState().done, l.name];
    useLessonStore.setState({ phase: 'done', outcome, outcomeRun: runKey(s), done });
    persist();
    // Show the exit the result talks about in the pipeline and the walk grid.
    if (outcome.focus !== undefined) {
      // Unlisted, nothing is selected until the Worker's detail comes (the store takes a detail
      // only for the exit selected, or when none is).
      store.getState().selectExit(run.exits.find((x) => x.seq === outcome.focus) ?? null, true);
      ctl.sideA().client.selectExit(outcome.focus, true);
    }
  };
  stopWatching = store.subscribe(check);
  // Lessons about the walk record every walk, so the grid can show the exit the result names.
  ctl.runWith({ recordWalks: LESSONS[index].panels.includes('walk') });
}

/**
 * Startup: progress from localStorage, `?lesson=N`, and whether to welcome a first visit.
 * `search` is the address's query as the page opened (applyUrl may tidy it away first).
 */
export async function applyLessonUrl(search: string): Promise<void> {
  const progress = loadProgress(pageStorage(), LESSONS.length);
  const asked = lessonFromSearch(search, LESSONS.length);
  useLessonStore.setState({ done: progress.done, index: progress.current, welcome: welcomeMayShow(search) && !welcomeDismissed(pageStorage()) });
  if (asked === null) return;
  if ('index' in asked) await showLesson(asked.index, { load: false });
  else useUiStore.getState().notify({ kind: 'error', text: `There is no lesson "${asked.unknown.slice(0, 20)}": the lessons are 1 to ${LESSONS.length}.` });
}

export function closeWelcome(): void {
  dismissWelcome(pageStorage());
  useLessonStore.setState({ welcome: false });
}
