/** The examples gallery: each scenario with its title, what to watch, and the seed's figure. */
import { useEffect, useState } from 'react';
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
  if (!open) return null;
  const close = () => useUiStore.getState().setGalleryOpen(false);
  return (
    <div className="modal-backdrop" onClick={close}>
      <div className="modal gallery" role="dialog" aria-modal="true" aria-label="Examples" data-testid="gallery" onClick={(e) => e.stopPropagation()}>
        <header>
          <h2>Examples</h2>
          <button type="button" className="close" aria-label="Close" onClick={close}>×</button>
        </header>
        {!entries && <p className="muted">Loading…</p>}
        {entries && entries.length === 0 && <p className="muted">No examples are bundled with this build.</p>}
        <ul>
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
