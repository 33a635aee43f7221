/**
 * Which page the app shows: the workspace (editor and panels), the seed's experiment or the
 * glossary. `?view=experiment` and `?view=glossary` open a page directly; the address bar
 * follows the page shown, so a reload or a shared link opens the same page.
 */
import { APP_VIEWS, useUiStore, type AppView } from '../store/uiStore';

/** The page a query string asks for; anything else is the workspace. */
export function viewFromSearch(search: string): AppView {
  const v = new URLSearchParams(search).get('view');
  return (APP_VIEWS as readonly string[]).includes(v ?? '') ? (v as AppView) : 'workspace';
}

/** The query string for `view`, keeping every other parameter of `search`. */
export function searchForView(search: string, view: AppView): string {
  const p = new URLSearchParams(search);
  if (view === 'workspace') p.delete('view');
  else p.set('view', view);
  const s = p.toString();
  return s ? `?${s}` : '';
}

let installed = false;

/** Startup: show the page the URL names, then keep the URL in step with the page shown. */
export function installViewRoute(): void {
  if (installed) return;
  installed = true;
  useUiStore.getState().showView(viewFromSearch(location.search));
  useUiStore.subscribe((s, prev) => {
    if (s.view === prev.view) return;
    const search = searchForView(location.search, s.view);
    if (search !== location.search) history.replaceState(history.state, '', location.pathname + search + location.hash);
  });
}
