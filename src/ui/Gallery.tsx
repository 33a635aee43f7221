/** The examples gallery: each scenario with its title, what to watch, and the seed's figure. */
import { useEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { useUiStore } from '../store/uiStore';
import { openExample } from './files';

interface Entry { name: string; title: string; watch: string; seedFigure?: string }

export function Gallery() {
  const open = useUiStore((s) => s.galleryOpen);
  const [entries, setEntries] = useState<Entry[] | null>(null);
  useEffect(() => {
    if (!open || entries) return;
    import('../scenarios/index')
      .then((m) => setEntries(m.SCENARIOS.map(({ name, title, watch, seedFigure }) => ({ name, title, watch, seedFigure }))))
      .catch(() => setEntries([]));
  }, [open, entries]);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') { e.stopPropagation(); useUiStore.getState().setGalleryOpen(false); } };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [open]);
  // The dialog takes the focus (its first card once listed) and gives it back when it closes.
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    return () => { if (before?.isConnected) before.focus(); };
  }, [open]);
  useEffect(() => {
    if (!open) return;
    const el = dialog.current;
    (el?.querySelector<HTMLElement>('.example') ?? el)?.focus();
  }, [open, entries]);
  if (!open) return null;
  const close = () => useUiStore.getState().setGalleryOpen(false);
  // Arrow keys move between the cards (Tab does too).
  const onCardsKey = (e: ReactKeyboardEvent<HTMLUListElement>) => {
    const step = e.key === 'ArrowDown' || e.key === 'ArrowRight' ? 1 : e.key === 'ArrowUp' || e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    const cards = [...e.currentTarget.querySelectorAll<HTMLElement>('.example')];
    const i = cards.indexOf(document.activeElement as HTMLElement);
    cards[Math.max(0, Math.min(cards.length - 1, i + step))]?.focus();
    e.preventDefault();
  };
  // Tab and Shift+Tab go round inside the dialog (the page behind it is inert).
  const onDialogKey = (e: ReactKeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'Tab') return;
    const all = [...e.currentTarget.querySelectorAll<HTMLElement>('button, [href], input, select, [tabindex="0"]')];
    const first = all[0];
    const last = all.at(-1);
    if (!first || !last) return;
    if (e.shiftKey && document.activeElement === first) { last.focus(); e.preventDefault(); }
    else if (!e.shiftKey && document.activeElement === last) { first.focus(); e.preventDefault(); }
  };
  return (
    <div className="modal-backdrop" onClick={close}>
      <div ref={dialog} onKeyDown={onDialogKey} tabIndex={-1} className="modal gallery" role="dialog" aria-modal="true" aria-label="Examples" data-testid="gallery" onClick={(e) => e.stopPropagation()}>
        <div className="modal-head">
          <h2>Examples</h2>
          <button type="button" className="close" aria-label="Close" onClick={close}>×</button>
        </div>
        {!entries && <p className="muted">Loading…</p>}
        {entries && entries.length === 0 && <p className="muted">No examples are bundled with this build.</p>}
        <ul onKeyDown={onCardsKey}>
          {entries?.map((e) => (
            <li key={e.name}>
              <button
                type="button"
                className="example"
                data-testid={`example-${e.name}`}
                onClick={() => { close(); void openExample(e.name); }}
              >
                <span className="example-title">{e.title}</span>
                <span className="example-name">{e.name}</span>
                {e.watch && <span className="example-watch">{e.watch}</span>}
                {e.seedFigure && <span className="example-seed">Seed: {e.seedFigure}</span>}
              </button>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
