/**
 * The exitscope page: toolbar, notices, and the resizable workspace (editor | machine panels).
 * Settings and the draft are read before the first render; a share link or ?example= in the
 * URL is applied right after, then the program is loaded into the machine.
 */
import { lazy, Suspense, useEffect, useState } from 'react';
import { useUiStore } from '../store/uiStore';
import * as ctl from './controller';
import { applyUrl, initFromStorage, onHashChange } from './files';
import { Gallery } from './Gallery';
import { Notices } from './Notices';
import { installViewRoute } from './route';
import { installShortcuts } from './shortcuts';
import { Toolbar } from './Toolbar';
import { Workspace } from './Workspace';
import './app.css';

initFromStorage();
installViewRoute();

// The pages beside the workspace load on first use (recharts and the experiment's worker stay
// out of the first paint).
const ExperimentView = lazy(() => import('./experiment/ExperimentView'));
const GlossaryView = lazy(() => import('./glossary/GlossaryView'));

let started = false;
function startOnce(): void {
  if (started) return;
  started = true;
  ctl.syncAbMode();
  window.addEventListener('hashchange', onHashChange);
  void applyUrl().finally(() => {
    ctl.assembleAndReset();
    useUiStore.setState({ booted: true });
  });
}

export function App() {
  const [a] = useState(() => ctl.sideA());
  const theme = useUiStore((s) => s.theme);
  const view = useUiStore((s) => s.view);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.style.colorScheme = theme;
  }, [theme]);
  useEffect(() => installShortcuts(), []);
  useEffect(startOnce, []);
  return (
    <div className="app">
      <Toolbar />
      <Notices />
      <main className="main" hidden={view !== 'workspace'}>
        <Workspace a={a} />
      </main>
      {view !== 'workspace' && (
        <Suspense fallback={<main className="page"><p className="muted">Loading…</p></main>}>
          {view === 'experiment' ? <ExperimentView /> : <GlossaryView />}
        </Suspense>
      )}
      <Gallery />
    </div>
  );
}
