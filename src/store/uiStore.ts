/**
 * UI state that is not the machine's: settings (persisted), the editor's text, breakpoints and
 * the page's notices. The machine state lives in machineStore (one per side).
 */
import { create } from 'zustand';
import type { Speed, Strategy } from '../worker/protocol';
import { DEFAULT_SETTINGS, type Settings, type Theme } from './settings';
import type { LayoutSpec } from './layout';

export type NoticeKind = 'info' | 'error';

/** The pages of the app: the workspace (editor and panels) and the pages beside it. */
export const APP_VIEWS = ['workspace', 'experiment', 'glossary'] as const;
export type AppView = (typeof APP_VIEWS)[number];

export interface Notice {
  id: number;
  kind: NoticeKind;
  text: string;
  /** A share link to show and copy. */
  link?: string;
  /** Offer to bring back the draft a link or an example replaced. */
  restoreDraft?: boolean;
}

export interface UiState extends Settings {
  source: string;
  fileName: string;
  breakpoints: number[];
  /** The page's notice, newest only (the page shows one at a time; each leaves by itself). */
  notices: Notice[];
  galleryOpen: boolean;
  /** The page shown; the workspace stays mounted behind the others, so its state survives. */
  view: AppView;
  shareOpen: boolean;
  /** False until startup has applied the URL (a link or example) and loaded the program. */
  booted: boolean;
  /** What the machine side shows (a named preset or a lesson's own spec). */
  layout: LayoutSpec;
  /** Counts applyLayout calls: after one, the spec's sizes win over the sizes saved for it. */
  layoutRevision: number;
  /** An editor is on the page (panels offer to show a source line in it only then). */
  editorMounted: boolean;
  /** The last line a panel asked the editor to show; `n` counts the asks (the same line again shows it again). */
  revealedLine: { line: number; n: number } | null;
  setSettings(patch: Partial<Settings>): void;
  setSource(source: string, fileName?: string): void;
  setBreakpoints(lines: number[]): void;
  notify(n: Omit<Notice, 'id'>): number;
  dismiss(id: number): void;
  setGalleryOpen(open: boolean): void;
  /** Show a page (the welcome's "reproduce the seed" calls showView('experiment')). */
  showView(view: AppView): void;
  setShareOpen(open: boolean): void;
  /** Shows `spec` now, at the spec's own sizes (a preset chosen, a lesson's focus). */
  applyLayout(spec: LayoutSpec): void;
  setEditorMounted(mounted: boolean): void;
  /** Scrolls the editor to `line` (1-based, of the loaded program) and marks it for a moment. */
  revealLine(line: number): void;
}

let noticeSeq = 0;

/** Until startup sets the saved preset (App), nothing is placed. */
const EMPTY_LAYOUT: LayoutSpec = { id: 'none', title: '', editor: 36, columns: [] };

export const useUiStore = create<UiState>()((set) => ({
  ...DEFAULT_SETTINGS,
  source: '',
  fileName: 'program.s',
  breakpoints: [],
  notices: [],
  galleryOpen: false,
  view: 'workspace',
  shareOpen: false,
  booted: false,
  layout: EMPTY_LAYOUT,
  layoutRevision: 0,
  editorMounted: false,
  revealedLine: null,
  setSettings(patch) {
    set(patch);
  },
  setSource(source, fileName) {
    set(fileName === undefined ? { source } : { source, fileName });
  },
  setBreakpoints(lines) {
    set({ breakpoints: [...new Set(lines)].sort((a, b) => a - b) });
  },
  notify(n) {
    const id = ++noticeSeq;
    // One notice at a time: a new one replaces the last (a pile of old ones eats the page).
    set({ notices: [{ ...n, id }] });
    return id;
  },
  dismiss(id) {
    set((s) => ({ notices: s.notices.filter((x) => x.id !== id) }));
  },
  setGalleryOpen(open) {
    set({ galleryOpen: open });
  },
  showView(view) {
    set({ view });
  },
  setShareOpen(open) {
    set({ shareOpen: open });
  },
  applyLayout(spec) {
    set((s) => ({ layout: spec, layoutRevision: s.layoutRevision + 1 }));
  },
  setEditorMounted(mounted) {
    set({ editorMounted: mounted });
  },
  revealLine(line) {
    set((s) => ({ revealedLine: { line, n: (s.revealedLine?.n ?? 0) + 1 } }));
  },
}));

export type { Settings, Speed, Strategy, Theme };
