/**
 * The exitscope page: toolbar, notices, and the resizable workspace (editor | machine panels).
 * Settings and the draft are read before the first render; a share link or ?example= in the
 * URL is applied right after, then the program is loaded into the machine.
 * With `?embed=1` the page is the embeddable view instead (EmbedView): the URL's program and
 * panels only, nothing read from or written to the draft.
 */
import { lazy, Suspense, useEffect, useLayoutEffect, useState } from 'react';
import { useUiStore } from '../store/uiStore';
import * as ctl from './controller';
import { fullPageUrl, parseEmbed } from './embed';
import { EmbedView } from './EmbedView';
import { applyEmbed, applyUrl, initFromStorage, onHashChange, type EmbedStart } from './files';
import { Gallery } from './Gallery';
import { layoutPreset } from './layoutPresets';
import { applyLessonUrl } from './lessons/lessonController';
import { LessonPanel } from './lessons/LessonPanel';
import { Welcome } from './lessons/Welcome';
import { Notices, NoticeToasts } from './Notices';
import { GlossaryTip } from './glossary/GlossaryTip';
import { installViewRoute } from './route';
import { ShareDialog } from './ShareDialog';
import { installShortcuts } from './shortcuts';
import { Timeline } from './Timeline';
import { Toolbar } from './Toolbar';
import { Workspace } from './Workspace';
import { rehearseFirstSeek } from './seekRehearsal';
import { defaultMachineStore } from '../store/machineStore';
import './app.css';

const embed = parseEmbed(location.search);
if (!embed) {
  initFromStorage();
  installViewRoute();
}
// The saved preset, at the sizes saved for it (applyLayout would reset them to the preset's).
useUiStore.setState({ layout: layoutPreset(useUiStore.getState().layoutPreset) });

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
  const { search } = location;
  void applyUrl().then(() => applyLessonUrl(search)).finally(() => {
    ctl.assembleAndReset();
    useUiStore.setState({ booted: true });
    rehearseWhenIdle();
  });
}

/** Once the page's program has loaded and the page is idle: see seekRehearsal. */
function rehearseWhenIdle(): void {
  const go = () => requestIdleCallback(() => { void rehearseFirstSeek(() => ctl.sideA().client.openSecondHost()); }, { timeout: 3000 });
  if (defaultMachineStore.getState().loaded) { go(); return; }
  const stop = defaultMachineStore.subscribe((s) => { if (s.loaded) { stop(); go(); } });
}

let embedStart: EmbedStart = { program: null, problem: null };
function startEmbedOnce(onStart: (s: EmbedStart) => void): void {
  if (started || !embed) return;
  started = true;
  void applyEmbed(embed).then((start) => {
    embedStart = start;
    onStart(start);
    ctl.syncAbMode();
    ctl.assembleAndReset();
    useUiStore.setState({ booted: true });
    if (start.program && embed.autorun) ctl.run();
  });
}

function useTheme(): void {
  const theme = useUiStore((s) => s.theme);
  // A layout effect: it runs before any panel's effect that reads a colour of the theme.
  useLayoutEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.documentElement.style.colorScheme = theme;
  }, [theme]);
}

function EmbedApp() {
  const [a] = useState(() => ctl.sideA());
  const [{ program, problem }, setStart] = useState(embedStart);
  useTheme();
  useEffect(() => installShortcuts({ layouts: false }), []);
  useEffect(() => startEmbedOnce(setStart), []);
  const page = new URL(location.href);
  page.search = '';
  page.hash = '';
  const fullUrl = program ? fullPageUrl(page.toString(), { program }) : page.toString();
  return (
    <div className="app app-embed">
      <Notices />
      {embed && <EmbedView side={a} params={embed} fullUrl={fullUrl} problem={problem} />}
      {/* The page's passing notices too (a line asked of an editor whose text changed). */}
      <NoticeToasts />
    </div>
  );
}

function FullApp() {
  const [a] = useState(() => ctl.sideA());
  const view = useUiStore((s) => s.view);
  const modal = useUiStore((s) => s.galleryOpen || s.shareOpen);
  useTheme();
  useEffect(() => installShortcuts(), []);
  useEffect(startOnce, []);
  return (
    <div className="app">
      {/* Behind an open dialog the page is inert: no focus, no clicks, not read out. */}
      <div className="app-page" inert={modal}>
        <Toolbar />
        {/* The timeline scrubs the workspace's run: the Experiment and Glossary pages have none. */}
        {view === 'workspace' && <Timeline />}
        <Notices />
        <Welcome />
        <main className="main" hidden={view !== 'workspace'}>
          <div className="workspace-row">
            <div className="workspace-fill"><Workspace a={a} /></div>
            <LessonPanel />
          </div>
        </main>
        {view !== 'workspace' && (
          <Suspense fallback={<main className="page"><p className="muted">Loading…</p></main>}>
            {view === 'experiment' ? <ExperimentView /> : <GlossaryView />}
          </Suspense>
        )}
        <NoticeToasts />
      </div>
      <Gallery />
      <ShareDialog />
      <GlossaryTip />
    </div>
  );
}

export function App() {
  return embed ? <EmbedApp /> : <FullApp />;
}
