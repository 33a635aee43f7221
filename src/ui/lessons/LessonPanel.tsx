/**
 * The lesson side panel: the lesson's text, a prediction, the run, and the result computed from
 * that run. While it is open the lesson's panels are spotlighted and the others dimmed.
 */
import { useEffect, useRef } from 'react';
import { LESSONS } from '../../lessons';
import { inlineRuns } from '../../lessons/lesson';
import { useLessonStore } from '../../store/lessonStore';
import { runKey, useMachineStore } from '../../store/machineStore';
import { PANEL_DEFS } from '../panelRegistry';
import { choose, closeLessons, runLesson, showLesson } from './lessonController';
import './lessons.css';

function Paragraph({ text, className }: { text: string; className?: string }) {
  return (
    <p className={className}>
      {inlineRuns(text).map((r, i) =>
        r.kind === 'code' ? <code key={i}>{r.text}</code>
          : r.kind === 'bold' ? <strong key={i}>{r.text}</strong>
          // A glossary term: its definition on hover and, being focusable, on keyboard focus.
          : r.kind === 'term' ? <span key={i} className="lesson-term" data-term={r.term} tabIndex={0}>{r.text}</span>
          : <span key={i}>{r.text}</span>,
      )}
    </p>
  );
}

export function LessonPanel() {
  const open = useLessonStore((s) => s.open);
  const index = useLessonStore((s) => s.index);
  const choice = useLessonStore((s) => s.choice);
  const phase = useLessonStore((s) => s.phase);
  const outcome = useLessonStore((s) => s.outcome);
  const done = useLessonStore((s) => s.done);
  const booted = useMachineStore((s) => s.ready);
  const outcomeRun = useLessonStore((s) => s.outcomeRun);
  // The machine has loaded or run since the lesson's run (another strategy or costs from the
  // toolbar, Reset, Run): the result keeps the lesson's figures, and says they are not the
  // strip's (it had ended "Figures from this run" beside another run's counters).
  const earlier = useMachineStore((s) => outcomeRun !== null && runKey(s) !== outcomeRun);
  const resultRef = useRef<HTMLElement>(null);
  useEffect(() => {
    if (phase === 'done') resultRef.current?.scrollIntoView({ block: 'nearest' });
  }, [phase, outcome]);
  if (!open) return null;
  const l = LESSONS[index];
  const held = outcome && outcome.answer !== null ? outcome.answer === choice : null;
  const answerText = outcome?.answer != null ? l.choices.find((c) => c.id === outcome.answer)?.text ?? outcome.answer : null;
  return (
    <aside className="lesson-panel" data-testid="lesson-panel" aria-label="Lesson">
      <header className="lesson-head">
        <span className="lesson-progress" data-testid="lesson-progress">
          Lesson {index + 1} of {LESSONS.length} · {done.length} done
        </span>
        <button type="button" className="btn ghost icon" data-testid="lesson-close" onClick={closeLessons} aria-label="Close the lessons" title="Close the lessons">✕</button>
      </header>
      <h2 className="lesson-title" data-testid="lesson-title">
        {l.title}
        {done.includes(l.name) && <span className="lesson-done" title="You ran this lesson to its result"> ✓</span>}
      </h2>
      <div className="lesson-body">
        {l.paragraphs.map((p, i) => <Paragraph key={i} text={p} />)}
        <p className="lesson-panels muted">Watch: {l.panels.map((p) => PANEL_DEFS.find((d) => d.id === p)?.title ?? p).join(', ')}. Runs with strategy <code>{l.strategy}</code>, costs <code>{l.preset}</code>.</p>
        <fieldset className="lesson-question" disabled={phase === 'running'}>
          <legend>Predict first</legend>
          <p className="lesson-q">{l.question}</p>
          {l.choices.map((c) => (
            <button
              key={c.id}
              type="button"
              className={`btn lesson-choice${choice === c.id ? ' chosen' : ''}`}
              data-testid="lesson-choice"
              data-choice={c.id}
              aria-pressed={choice === c.id}
              onClick={() => choose(c.id)}
            >
              {c.text}
            </button>
          ))}
        </fieldset>
        <button
          type="button"
          className="btn primary lesson-run"
          data-testid="lesson-run"
          disabled={choice === null || phase === 'running' || !booted}
          onClick={() => void runLesson()}
          title={choice === null ? 'Choose an answer first' : 'Run the lesson\'s program from the start'}
        >
          {phase === 'running' ? 'Running…' : phase === 'done' ? '▶ Run again' : '▶ Run it'}
        </button>
        {phase === 'done' && outcome && (
          <section ref={resultRef} className={`lesson-result${held === true ? ' held' : held === false ? ' missed' : ''}${earlier ? ' earlier' : ''}`} data-testid="lesson-result" aria-live="polite">
            <h3>
              {held === null ? 'No answer from this run' : held ? 'Your prediction held.' : 'Your prediction did not hold.'}
            </h3>
            {answerText && <p className="lesson-answer">The run says: <strong>{answerText}</strong></p>}
            {outcome.figures.length > 0 && (
              <table className="lesson-figures" data-testid="lesson-figures">
                <tbody>
                  {outcome.figures.map((f, i) => (
                    <tr key={i}><th scope="row">{f.label}</th><td>{f.value}</td></tr>
                  ))}
                </tbody>
              </table>
            )}
            <Paragraph className="lesson-why" text={outcome.why} />
            {earlier
              ? <p className="lesson-earlier small" data-testid="lesson-earlier">Figures from the lesson&apos;s run of <code>{l.program}</code> (strategy <code>{l.strategy}</code>, costs <code>{l.preset}</code>), not the run on screen: the machine has loaded or run since. Run again for them anew.</p>
              : <p className="muted small">Figures from this run of <code>{l.program}</code>.</p>}
          </section>
        )}
      </div>
      <footer className="lesson-nav">
        <button type="button" className="btn" data-testid="lesson-prev" disabled={index === 0} onClick={() => void showLesson(index - 1)}>← Previous</button>
        <button type="button" className="btn" data-testid="lesson-next" disabled={index === LESSONS.length - 1} onClick={() => void showLesson(index + 1)}>Next →</button>
      </footer>
    </aside>
  );
}
