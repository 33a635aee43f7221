/**
 * The first visit's welcome (however the page was opened, except embedded: progress.ts
 * welcomeMayShow): three ways in. A banner, not a dialog: nothing behind it is blocked.
 */
import { useLessonStore } from '../../store/lessonStore';
import { useUiStore } from '../../store/uiStore';
import { closeWelcome, showLesson } from './lessonController';
import './lessons.css';

export function Welcome() {
  const open = useLessonStore((s) => s.welcome);
  if (!open) return null;
  return (
    <section className="welcome" data-testid="welcome" aria-label="Welcome">
      <div className="welcome-text">
        <strong>Welcome to exitscope.</strong> Watch what a hypervisor does when a guest touches an emulated
        device, and what the seed&apos;s instruction cache saves. Where do you want to start?
      </div>
      <div className="welcome-actions">
        <button type="button" className="btn primary" data-testid="welcome-lessons" onClick={() => { closeWelcome(); void showLesson(useLessonStore.getState().index); }}>
          Start the lessons
        </button>
        <button type="button" className="btn" data-testid="welcome-experiment" onClick={() => { closeWelcome(); useUiStore.getState().showView('experiment'); }}>
          Rerun the seed&apos;s experiment
        </button>
        <button type="button" className="btn" data-testid="welcome-playground" onClick={closeWelcome}>
          Open the playground
        </button>
        <button type="button" className="btn ghost icon" data-testid="welcome-close" onClick={closeWelcome} aria-label="Close the welcome" title="Close">✕</button>
      </div>
    </section>
  );
}
