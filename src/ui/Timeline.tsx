/**
 * The timeline under the toolbar: a slider over the run's exits (its value is the exit shown,
 * exits handled = that number), ticks for cache misses, write-protect faults and interrupts,
 * back one instruction / back one exit, and how far back the recording reaches in how much
 * memory. Moving it shows every panel as the machine was at that exit (the Worker restores the
 * nearest snapshot and re-runs to it); Run from there drops the recorded future after it.
 * A click or a key moves the thumb with the exit, in one frame (timelineInput.ts says why); a
 * drag moves it under the pointer.
 */
import { memo, useEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { useMachineStore, type MachineState } from '../store/machineStore';
import { selectTravelled } from '../store/selectors';
import { useUiStore } from '../store/uiStore';
import * as ctl from './controller';
import { runControlEnabled, runControlsState } from './runControls';
import { useMachineLive } from './panels/useMachine';
import './timeline.css';
import { counted, int, plural } from './panels/lib/format';
import { onThumb, thumbX, valueAtX, valueForKey } from './timelineInput';
import { reachReadout } from './timelineReach';

/** Seeks while dragging go out at most this often (each one re-runs up to a checkpoint interval). */
const SEEK_MS = 40;
/** A click or a key waits at most this long for its exit before the thumb moves without it. */
const THUMB_WAIT_MS = 100;
const MARK_CLASS = ['', 'tl-hit', 'tl-miss', 'tl-wp', 'tl-irq'];
// 'interrupt exits': the exits an interrupt took (a window it waited on, the timer's kick); its injection at an entry is no exit of its own, so no mark.
const MARK_TITLE = ['', 'cache hits', 'cache misses', 'write-protect faults', 'interrupt exits (windows, timer kicks)'];

/**
 * One path per kind of mark (a bucket is a 1-wide bar: short for hits, full height otherwise):
 * four elements to update and paint per frame, where one rect per bucket made hundreds. Drawn
 * again only when a mark changed: every drag step renders the timeline, and a seek's answer
 * brings the same marks in a new array.
 */
const Marks = memo(function Marks({ marks }: { marks: readonly number[] }) {
  const n = marks.length;
  const paths = ['', '', '', '', ''];
  marks.forEach((m, i) => {
    if (m > 0 && m < paths.length) paths[m] += m === 1 ? `M${i} 6h1v4h-1z` : `M${i} 0h1v10h-1z`;
  });
  return (
    <svg className="tl-marks" viewBox={`0 0 ${n} 10`} preserveAspectRatio="none" aria-hidden>
      {paths.map((d, m) => (d ? <path key={m} d={d} className={MARK_CLASS[m]} /> : null))}
    </svg>
  );
}, (a, b) => a.marks.length === b.marks.length && a.marks.every((m, i) => m === b.marks[i]));

const selectTimeline = (s: MachineState) => s.timeline;

/** Width of the position readout in ch (its font is monospaced): its longest text for this run, so the track keeps its width while the number changes. */
function whereWidth(end: number): number {
  return `exit ${int(end)} of ${int(end)}`.length;
}

export function Timeline() {
  const running = useMachineStore((s) => s.running);
  // Reloading the program (Run after the end, Reset): the bar is the previous run's; a seek would
  // go to the machine on its way, so the controls wait for it.
  const restarting = useMachineStore((s) => s.restarting);
  // While running, the bar follows at the panels' pace; stopped, paused or seeking, at once.
  const t = useMachineLive(selectTimeline);
  const booted = useUiStore((s) => s.booted);
  const canStepBack = useMachineStore((s) => runControlEnabled('stepBack', runControlsState(s, booted)));
  const canBackExit = useMachineStore((s) => runControlEnabled('backExit', runControlsState(s, booted)));
  // At a past point: at exit k as it is taken (a seek), or between exits (a step back).
  const atAnExit = useMachineStore(selectTravelled);
  const [drag, setDrag] = useState<number | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  /** The exit last asked for, until the machine shows it. */
  const latest = useRef<number | null>(null);
  /** A click's or a key's thumb, moved if its exit is slow to come (THUMB_WAIT_MS). */
  const thumbWait = useRef<ReturnType<typeof setTimeout> | null>(null);
  /** A drag by the mouse: where on the thumb it holds it (px from the thumb's centre). */
  const grab = useRef<{ pointer: number; offset: number } | null>(null);
  const stopThumbWait = () => { if (thumbWait.current !== null) clearTimeout(thumbWait.current); thumbWait.current = null; };
  useEffect(() => () => { if (timer.current) clearTimeout(timer.current); stopThumbWait(); }, []);
  // The answer to the last seek arrived (or the machine moved by other means once the seeks
  // stopped): show the machine's position again.
  const at = t?.at ?? null;
  const shown = t ? at ?? t.end : null;
  useEffect(() => {
    if (timer.current !== null && latest.current !== shown) return;
    latest.current = null;
    stopThumbWait();
    setDrag(null);
  }, [shown, t?.retired]);

  if (!t) return <section className="timeline" data-testid="timeline-bar" aria-label="Timeline" />;
  const end = t.end;
  const value = drag ?? at ?? end;
  const past = at !== null;
  const span = { min: t.first, max: end };
  const reach = reachReadout(t);
  /** Where a step starts from: the exit last asked for, else the one shown. */
  const asked = () => latest.current ?? value;
  const disabled = !booted || restarting || end === 0;
  /** Show exit k; the thumb moves now (a drag, a value set from outside) or with the exit (a click, a key). */
  const seek = (k: number, thumb: 'now' | 'with-exit' = 'now') => {
    stopThumbWait();
    if (thumb === 'now') setDrag(k);
    else thumbWait.current = setTimeout(() => { thumbWait.current = null; setDrag(k); }, THUMB_WAIT_MS);
    latest.current = k;
    if (running) ctl.pause();
    if (timer.current !== null) return;
    ctl.seekExit(k, end);
    timer.current = setTimeout(function flush() {
      timer.current = null;
      if (latest.current !== null && latest.current !== k) {
        k = latest.current;
        ctl.seekExit(k, end);
        timer.current = setTimeout(flush, SEEK_MS);
      }
    }, SEEK_MS);
  };
  // The mouse, taken from the native slider (preventDefault: it would move its thumb at once);
  // touch and pen are left to it. The box's width is fractional (clientWidth is rounded): one
  // pixel is ~150 exits of a 100 k-exit run.
  const pointerX = (e: PointerEvent<HTMLInputElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return { x: e.clientX - r.left, width: r.width };
  };
  const onPointerDown = (e: PointerEvent<HTMLInputElement>) => {
    if (e.pointerType !== 'mouse' || e.button !== 0 || disabled) return;
    e.preventDefault();
    // Focused by the mouse: no focus ring (as a platform slider clicked), and so nothing to
    // repaint before the exit comes; a key shows it again (onKeyDown).
    e.currentTarget.dataset.pointer = '';
    e.currentTarget.focus({ preventScroll: true });
    // Untrusted (synthetic) events have no pointer to capture; the drag then ends here.
    try { e.currentTarget.setPointerCapture(e.pointerId); } catch { /* no such pointer */ }
    const { x, width } = pointerX(e);
    if (onThumb(x, value, width, span)) {
      grab.current = { pointer: e.pointerId, offset: x - thumbX(value, width, span) };
      return;
    }
    grab.current = { pointer: e.pointerId, offset: 0 };
    seek(valueAtX(x, width, span), 'with-exit');
  };
  const onPointerMove = (e: PointerEvent<HTMLInputElement>) => {
    if (grab.current?.pointer !== e.pointerId) return;
    const { x, width } = pointerX(e);
    const k = valueAtX(x - grab.current.offset, width, span);
    if (k !== asked()) seek(k);
  };
  const letGo = (e: PointerEvent<HTMLInputElement>) => { if (grab.current?.pointer === e.pointerId) grab.current = null; };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    delete e.currentTarget.dataset.pointer;
    if (disabled || e.altKey || e.ctrlKey || e.metaKey) return;
    const from = asked();
    const k = valueForKey(e.key, from, span);
    if (k === null) return;
    e.preventDefault();
    if (k !== from) seek(k, 'with-exit');
  };
  const present = [1, 2, 3, 4].filter((m) => t.marks.includes(m)).map((m) => MARK_TITLE[m]);
  return (
    <section className={`timeline${past ? ' tl-past' : ''}`} data-testid="timeline-bar" aria-label="Timeline" aria-busy={restarting || undefined}>
      <button type="button" className="btn small" data-testid="btn-step-back" onClick={ctl.stepBack} disabled={!canStepBack} title="Back one instruction (Ctrl+F10)">
        <span aria-hidden>↶</span> Step back
      </button>
      <button type="button" className="btn small" data-testid="btn-back-exit" onClick={ctl.backExit} disabled={!canBackExit || value <= t.first} title="Back to the previous exit (Ctrl+Shift+F10)">
        <span aria-hidden>⇤</span> Exit back
      </button>
      <div className="tl-track" title={present.length ? `Marks: ${present.join(', ')}` : 'No marks yet: cache hits, cache misses, write-protect faults and interrupt exits are marked here as they happen'}>
        <Marks marks={t.marks} />
        <input
          type="range"
          data-testid="timeline"
          aria-label="Exit shown"
          min={t.first}
          max={end}
          step={1}
          value={value}
          aria-valuenow={value}
          aria-valuetext={value >= end ? `the present: ${counted(end, 'exit')}` : `exit ${int(value)} of ${int(end)}`}
          disabled={disabled}
          onChange={(e) => seek(Number(e.currentTarget.value))}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={letGo}
          onPointerCancel={letGo}
          onLostPointerCapture={letGo}
          onKeyDown={onKeyDown}
          onBlur={(e) => { delete e.currentTarget.dataset.pointer; }}
        />
      </div>
      <span
        className="tl-where" data-testid="timeline-where" style={{ minWidth: `${whereWidth(end)}ch` }}
        title={past && (atAnExit || drag !== null)
          ? `Exit #${value} as it is taken: ${counted(value, 'exit')} handled before it (exits are numbered from #0); the run took ${int(end)}`
          : past ? `Between exits: ${counted(value, 'exit')} handled, the next is #${value}; ${counted(t.retired, 'instruction')} retired (the run took ${int(end)} exits)`
          : `The run has taken ${counted(end, 'exit')}${end > 0 ? ` (#0 to #${end - 1})` : ''}`}
      >
        {/* The number is bold in the present too: a seek then draws no font the page has not drawn. */}
        {past ? <>exit <b>{int(value)}</b> of {int(end)}</> : <><b>{int(end)}</b> {plural(end, 'exit')}</>}
      </span>
      <span className="tl-reach" data-testid="timeline-reach" title={reach.title}>{reach.text}</span>
      {/* In the present they keep their room, unseen: the track must not narrow under the
          pointer as a drag leaves the present (its thumb would jump away from it). */}
      <span className={`tl-past-controls${past ? '' : ' tl-unseen'}`}>
        <button type="button" className="btn small primary" data-testid="btn-run-from-here" onClick={ctl.run} disabled={!past} title={`Run on from exit #${value}: the recorded exits #${value} to #${end - 1} (${int(Math.max(0, end - value))}) are dropped and run again`}>
          Run from here
        </button>
        <button type="button" className="btn small" data-testid="btn-present" onClick={() => seek(end)} disabled={!past} title="Back to where the run stands">Now</button>
      </span>
    </section>
  );
}
