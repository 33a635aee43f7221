import { describe, expect, it } from 'vitest';
import { seekPhases, type TraceEvent } from './seekPhases';

const MAIN = { pid: 1, tid: 1 };
const WORKER = { pid: 1, tid: 2 };
const x = (where: { pid: number; tid: number }, name: string, ts: number, dur: number, tdur?: number, type?: string): TraceEvent =>
  ({ name, ph: 'X', ts, dur, ...(tdur !== undefined && { tdur }), ...where, ...(type && { args: { data: { type } } }) });

/** A seek as Chrome traces one (µs; the pointerdown at 100): the click, a frame, the Worker's answer, its render, the frame that shows it. */
function trace(): TraceEvent[] {
  return [
    { name: 'thread_name', ph: 'M', ts: 0, ...MAIN, args: { name: 'CrRendererMain' } },
    { name: 'thread_name', ph: 'M', ts: 0, ...WORKER, args: { name: 'DedicatedWorker thread' } },
    // A task long before the click: not the seek's.
    x(MAIN, 'RunTask', -50_000, 4_000, 4_000),
    x(MAIN, 'RunTask', 0, 5_000, 4_000),
    x(MAIN, 'EventHandler::handleMousePressEvent', 50, 2_500),
    x(MAIN, 'EventDispatch', 100, 2_000, undefined, 'pointerdown'),
    x(MAIN, 'EventHandler::handleMouseReleaseEvent', 2_600, 1_500),
    // The frame the click drew while the Worker worked, with a layout of its own.
    x(MAIN, 'RunTask', 6_000, 3_000, 2_500),
    x(MAIN, 'ProxyMain::BeginMainFrame', 6_000, 3_000),
    x(MAIN, 'Layout', 7_000, 1_000),
    x(WORKER, 'HandlePostMessage', 1_000, 6_000, 3_000),
    // The answer's task, with a nested task step that must not count twice.
    x(MAIN, 'RunTask', 10_000, 20_000, 18_000),
    x(MAIN, 'RunTask', 10_000, 19_000, 17_000),
    x(MAIN, 'HandlePostMessage', 10_000, 20_000),
    x(MAIN, 'RunTask', 31_000, 25_000, 22_000),
    x(MAIN, 'ProxyMain::BeginMainFrame', 31_000, 25_000),
    x(MAIN, 'Layout', 32_000, 10_000),
    x(MAIN, 'LocalFrameView::RunPaintLifecyclePhase', 45_000, 9_000),
    // After the frame that showed the exit: not the seek's.
    x(MAIN, 'RunTask', 60_000, 5_000, 5_000),
    x(MAIN, 'ProxyMain::BeginMainFrame', 60_000, 5_000),
  ];
}

describe('a seek traced', () => {
  it('splits the seek into the click, the frames before the answer, the answer and the frame that shows it', () => {
    expect(seekPhases(trace())).toEqual({
      wall: 55.9, mainCpu: 46.5, input: 4, framesBefore: 3, answerAt: 9.9, answer: 20, frame: 25, layout: 10, paint: 9, workerWall: 6, workerCpu: 3,
    });
  });

  it('takes the wall time where a task has no CPU time traced', () => {
    const t = trace().map((e) => (e.name === 'RunTask' && e.ts === 31_000 ? { ...e, tdur: undefined } : e));
    expect(seekPhases(t)?.mainCpu).toBe(4 + 2.5 + 18 + 25);
  });

  it('is null without the click, the answer, or a frame after it', () => {
    expect(seekPhases(trace().filter((e) => e.args?.data?.type !== 'pointerdown'))).toBeNull();
    expect(seekPhases(trace().filter((e) => !(e.name === 'HandlePostMessage' && e.tid === MAIN.tid)))).toBeNull();
    expect(seekPhases(trace().filter((e) => !(e.name === 'ProxyMain::BeginMainFrame' && e.ts >= 30_000)))).toBeNull();
  });

  it('says the Worker\'s part is unknown when the trace has no Worker thread', () => {
    const p = seekPhases(trace().filter((e) => e.tid !== WORKER.tid));
    expect(p?.workerWall).toBeNaN();
    expect(p?.workerCpu).toBeNaN();
  });
});
