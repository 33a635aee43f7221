/**
 * The Share dialog: "Link" (a link holding the program and its configuration, copied to the
 * clipboard) and "Embed" (an iframe snippet for a course page, with the panels to show and a
 * live preview of exactly what the snippet embeds).
 */
import { useEffect, useMemo, useState } from 'react';
import { useUiStore } from '../store/uiStore';
import { DEFAULT_EMBED_PANELS, EMBED_PANELS, embedSnippet, embedUrl, type EmbedSpec } from './embed';
import { currentPayload } from './files';
import { shareUrl } from './share';
import './embed.css';

type Tab = 'link' | 'embed';

const PANEL_LABELS: Record<string, string> = {
  'exit-pipeline': 'exit pipeline', 'walk-grid': '2D walk', 'icache-table': 'instruction cache', 'memory-map': 'memory map',
  registers: 'registers', 'event-log': 'event log', charts: 'charts', console: 'console', editor: 'editor',
};

async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** The example the editor holds unchanged, if any: an embed can then name it instead of carrying the text. */
function useUnchangedExample(open: boolean): string | null {
  const source = useUiStore((s) => s.source);
  const fileName = useUiStore((s) => s.fileName);
  const [example, setExample] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    let live = true;
    import('../scenarios/index')
      .then((m) => { if (live) setExample(m.SCENARIOS.find((e) => `${e.name}.s` === fileName && e.source === source)?.name ?? null); })
      .catch(() => { if (live) setExample(null); });
    return () => { live = false; };
  }, [open, source, fileName]);
  return example;
}

export function ShareDialog() {
  const open = useUiStore((s) => s.shareOpen);
  const strategy = useUiStore((s) => s.strategy);
  const preset = useUiStore((s) => s.preset);
  const icacheSize = useUiStore((s) => s.icacheSize);
  const [tab, setTab] = useState<Tab>('link');
  const [panels, setPanels] = useState<string[]>(DEFAULT_EMBED_PANELS);
  const [autorun, setAutorun] = useState(false);
  const [copied, setCopied] = useState<string | null>(null);
  const example = useUnchangedExample(open);
  const close = () => { useUiStore.getState().setShareOpen(false); setCopied(null); };
  // Reading the payload when the dialog opens (the editor does not change under a modal).
  const payload = useMemo(() => (open ? currentPayload() : null), [open]);
  const link = payload ? shareUrl(location.href, payload) : '';
  const page = new URL(location.href);
  page.search = '';
  page.hash = '';
  // An example carries its configuration in the query (a program in its share link): all of it,
  // so the embed runs as here, not under the built-in defaults.
  const spec: EmbedSpec | null = payload
    ? { program: example ? { example } : { payload }, panels, ...(example && { strategy, preset, icacheSize }), autorun }
    : null;
  const url = spec ? embedUrl(page.toString(), spec) : '';
  const snippet = spec ? embedSnippet(url, `exitscope: ${example ?? 'a program'}`) : '';
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') { e.stopPropagation(); useUiStore.getState().setShareOpen(false); } };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [open]);
  useEffect(() => {
    if (open && link) void copy(link).then((ok) => setCopied(ok ? 'link' : null));
  }, [open, link]);
  if (!open) return null;
  const toggle = (id: string) => setPanels((ps) => (ps.includes(id) ? ps.filter((p) => p !== id) : [...ps, id]));
  return (
    <div className="modal-backdrop" onClick={close}>
      <div className="modal share" role="dialog" aria-modal="true" aria-label="Share" data-testid="share-dialog" onClick={(e) => e.stopPropagation()}>
        <div className="modal-head">
          <h2>Share</h2>
          <button type="button" className="close" aria-label="Close" onClick={close}>×</button>
        </div>
        <div className="tabs" role="tablist" aria-label="Share as">
          <button type="button" role="tab" id="share-tab-link" aria-controls="share-panel" aria-selected={tab === 'link'} data-testid="share-tab-link" onClick={() => setTab('link')}>Link</button>
          <button type="button" role="tab" id="share-tab-embed" aria-controls="share-panel" aria-selected={tab === 'embed'} data-testid="share-tab-embed" onClick={() => setTab('embed')}>Embed</button>
        </div>
        <div role="tabpanel" id="share-panel" aria-labelledby={`share-tab-${tab}`}>
          {tab === 'link' ? (
            <div className="share-row">
              <p className="muted">A link holding this program and its configuration ({strategy}).</p>
              <input className="share-link" data-testid="share-link" readOnly value={link} onFocus={(e) => e.currentTarget.select()} aria-label="Share link" />
              <button type="button" className="btn small" onClick={() => void copy(link).then((ok) => setCopied(ok ? 'link' : null))}>Copy</button>
              {copied === 'link' && <span className="muted" role="status">Copied to the clipboard.</span>}
            </div>
          ) : (
            <div className="share-embed">
              <p className="muted">
                An iframe for a course page: {example ? <>the example <b>{example}</b></> : 'this program'} under strategy <b>{strategy}</b>, costs <b>{preset}</b>{strategy === 'icache' && <>, cache <b>{icacheSize}</b></>}, with Run, Step and Next exit, the panels below, and a link to the full page.
              </p>
              <fieldset className="share-panels">
                <legend>panels</legend>
                {Object.keys(EMBED_PANELS).map((id) => (
                  <label key={id}>
                    <input type="checkbox" checked={panels.includes(id)} onChange={() => toggle(id)} data-testid={`embed-panel-${id}`} /> {PANEL_LABELS[id] ?? id}
                  </label>
                ))}
                <label><input type="checkbox" checked={autorun} onChange={(e) => setAutorun(e.target.checked)} data-testid="embed-autorun" /> run on load</label>
              </fieldset>
              <textarea className="embed-snippet" data-testid="embed-snippet" readOnly value={snippet} rows={3} aria-label="Embed snippet" onFocus={(e) => e.currentTarget.select()} />
              <div className="share-row">
                <button type="button" className="btn small" onClick={() => void copy(snippet).then((ok) => setCopied(ok ? 'snippet' : null))}>Copy snippet</button>
                {copied === 'snippet' && <span className="muted" role="status">Copied to the clipboard.</span>}
              </div>
              {panels.length > 0 && <iframe className="embed-preview" data-testid="embed-preview" title="Preview of the embed" src={url} />}
            </div>
          )}
        </div>
      </div>
    </div>
  );
}
