/**
 * UI state that is not the machine's: settings (persisted), the editor's text, breakpoints and
 * the page's notices. The machine state lives in machineStore (one per side).
 */
import { create } from 'zustand';
import type { Speed, Strategy } from '../worker/protocol';
import { DEFAULT_SETTINGS, type Settings, type Theme } from './settings';

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
  notices: Notice[];
  galleryOpen: boolean;
  /** The page shown; the workspace stays mounted behind the others, so its state survives. */
  view: AppView;
  shareOpen: boolean;
  /** False until startup has applied the URL (a link or example) and loaded the program. */
  booted: boolean;
  setSettings(patch: Partial<Settings>): void;
  setSource(source: string, fileName?: string): void;
  setBreakpoints(lines: number[]): void;
  notify(n: Omit<Notice, 'id'>): number;
  dismiss(id: number): void;
  setGalleryOpen(open: boolean): void;
  /** Show a page (the welcome's "reproduce the seed" calls showView('experiment')). */
  showView(view: AppView): void;
  setShareOpen(open: boolean): void;
}

let noticeSeq = 0;

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
    // One notice of each kind of text at a time: a repeat replaces the old one.
    set((s) => ({ notices: [...s.notices.filter((x) => x.text !== n.text), { ...n, id }].slice(-4) }));
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
}));

export type { Settings, Speed, Strategy, Theme };
