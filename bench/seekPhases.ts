/**
 * Where a timeline seek's time goes, read off a Chrome trace of it (bench:ui `--trace-first`):
 * from the click's pointerdown to the end of the first frame after the Worker's answer, on the
 * page's main thread (its tasks' wall and CPU time, and the parts named below) and in the
 * machine Worker. CPU time is the thread's own (the trace's `tdur`): on a shared 2-core machine
 * a first seek's wall time swung 50-89 ms with the load, and a thread's CPU time moves less.
 * Pure: the events of one trace in, the figures out.
 */

/** A trace event, with the fields read here (Chrome's JSON trace format). */
export interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  tdur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: { type?: string } };
}

/** One seek's figures, in ms. */
export interface SeekPhases {
  /** Pointerdown to the end of the frame that follows the answer. */
  wall: number;
  /** The main thread's CPU time in its tasks over that span. */
  mainCpu: number;
  /** The press and the release (their event handlers and the page's own work for them). */
  input: number;
  /** Frames the main thread drew before the answer came in (the answer waits for them). */
  framesBefore: number;
  /** From pointerdown until the main thread took up the Worker's answer. */
  answerAt: number;
  /** The answer's task on the main thread: the store takes it in and React renders the panels. */
  answer: number;
  /** The frame after it: animation-frame callbacks (the editor's render), layout and paint. */
  frame: number;
  /** Of that frame: layout (forced by a callback or in the lifecycle) and paint (with layerization). */
  layout: number;
  paint: number;
  /** The Worker's task for the seek: its wall time, and its own CPU time. */
  workerWall: number;
  workerCpu: number;
}

const ms = (us: number): number => us / 1000;
const end = (e: TraceEvent): number => e.ts + (e.dur ?? 0);

/** The figures of the one seek in `events` (its pointerdown starts it); null if the trace lacks a part. */
export function seekPhases(events: readonly TraceEvent[]): SeekPhases | null {
  const threadName = new Map<string, string>();
  const key = (e: TraceEvent) => `${e.pid}:${e.tid}`;
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name' && e.args?.name) threadName.set(key(e), e.args.name);
  const press = events.find((e) => e.name === 'EventDispatch' && e.args?.data?.type === 'pointerdown');
  if (!press) return null;
  const t0 = press.ts;
  const main = key(press);
  const complete = (e: TraceEvent) => e.ph === 'X' && e.dur !== undefined;
  const onMain = events.filter((e) => complete(e) && key(e) === main && e.ts >= t0 - 1000).sort((a, b) => a.ts - b.ts);
  const answer = onMain.find((e) => e.name === 'HandlePostMessage' && e.ts >= t0);
  if (!answer) return null;
  const frame = onMain.find((e) => e.name === 'ProxyMain::BeginMainFrame' && e.ts >= end(answer));
  if (!frame) return null;
  const stop = end(frame);
  const sum = (name: string, from: number, to: number) => ms(onMain.filter((e) => e.name === name && e.ts >= from && e.ts < to).reduce((n, e) => n + (e.dur ?? 0), 0));
  // The page's top-level tasks: RunTask, each once (a nested RunTask is a task's own step).
  const tasks = onMain.filter((e) => e.name === 'RunTask' && e.ts < stop);
  const top = tasks.filter((e, i) => !tasks.slice(0, i).some((o) => o.ts <= e.ts && end(o) >= end(e)));
  const worker = events
    .filter((e) => complete(e) && e.name === 'HandlePostMessage' && e.ts >= t0 && threadName.get(key(e))?.includes('Worker'))
    .sort((a, b) => a.ts - b.ts)[0];
  return {
    wall: ms(stop - t0),
    mainCpu: ms(top.reduce((n, e) => n + (e.tdur ?? e.dur ?? 0), 0)),
    input: sum('EventHandler::handleMousePressEvent', t0 - 1000, answer.ts) + sum('EventHandler::handleMouseReleaseEvent', t0 - 1000, answer.ts),
    framesBefore: sum('ProxyMain::BeginMainFrame', t0, answer.ts),
    answerAt: ms(answer.ts - t0),
    answer: sum('HandlePostMessage', answer.ts, frame.ts),
    frame: ms(frame.dur ?? 0),
    layout: sum('Layout', frame.ts, stop),
    paint: sum('LocalFrameView::RunPaintLifecyclePhase', frame.ts, stop),
    workerWall: worker ? ms(worker.dur ?? 0) : NaN,
    workerCpu: worker ? ms(worker.tdur ?? 0) : NaN,
  };
}
