/**
 * Where programs come from and go to: .s files, drag and drop, examples, share links, and the
 * autosaved draft. Whatever replaces the editor's text first sets the current draft aside,
 * and the notice it shows offers to restore it.
 */
import { COST_PRESET_NAMES } from '../core/cost';
import { DEFAULT_SETTINGS } from '../store/settings';
import { useUiStore } from '../store/uiStore';
import * as ctl from './controller';
import { isStrategy } from '../core/events';
import {
  isIcacheSize, loadDraft, loadDraftName, loadSettings, loadPreviousDraft, pageStorage, saveDraft, saveDraftName,
  setAsideDraft,
} from './persist';
import { decodeShare, SHARED_FILE, shareParam, type SharePayload } from './share';
import type { EmbedParams } from './embed';

/** Largest file the editor opens. */
export const MAX_FILE_BYTES = 1024 * 1024;

export const STARTER_PROGRAM = `; Welcome to exitscope. Press F5 to run, F10 to step one instruction,
; Shift+F10 to step to the next VM exit, Ctrl+Enter to assemble and reset.
; Every access to the local APIC page exits to the VMM, which walks the guest
; page tables through the EPT, fetches, decodes and emulates the instruction.
_start:
    mov rbx, LAPIC_BASE
    mov ecx, 1000
.loop:
    mov eax, [rbx + LAPIC_ID]          ; exits: the VMM emulates this read
    mov dword [rbx + LAPIC_TPR], 0x10  ; ... and this write
    dec ecx
    jnz .loop
    mov al, 'o'
    out DEBUG_PORT, al
    mov al, 'k'
    out DEBUG_PORT, al
    hlt                                ; IF = 0: the run ends here
`;

let autosaveTimer: ReturnType<typeof setTimeout> | null = null;
/** False in the embedded view: an iframe on someone's course page must not touch the reader's draft. */
let persistDraft = true;

/** The editor changed: keep it, debounced, in localStorage. */
export function editorChanged(source: string): void {
  useUiStore.getState().setSource(source);
  if (!persistDraft) return;
  if (autosaveTimer) clearTimeout(autosaveTimer);
  autosaveTimer = setTimeout(() => saveDraft(pageStorage(), useUiStore.getState().source), 400);
}

/** The editor's text and file name, kept across reloads; the machine loads the new program at once. */
function setProgram(source: string, fileName: string): void {
  useUiStore.getState().setSource(source, fileName);
  saveDraft(pageStorage(), source);
  saveDraftName(pageStorage(), fileName);
  // Before startup has applied the URL, startup loads the program itself.
  if (useUiStore.getState().booted) ctl.loadChanged();
}

/**
 * Programs the app ships (the starter, the examples seen so far): a text equal to one of them
 * is nobody's draft, so replacing it keeps nothing and offers no restore.
 */
const bundledSources = new Set<string>();

/** Replace the editor's text with a program from elsewhere, keeping the current draft. */
export function replaceSource(source: string, fileName: string, what: string): void {
  const ui = useUiStore.getState();
  const isDraft = ui.source !== STARTER_PROGRAM && !bundledSources.has(ui.source);
  const kept = isDraft && setAsideDraft(pageStorage(), ui.source, source);
  setProgram(source, fileName);
  ui.notify({ kind: 'info', text: `Opened ${what}.${kept ? ' Your previous draft is kept.' : ''}`, restoreDraft: kept });
}

export function restorePreviousDraft(): void {
  const prev = loadPreviousDraft(pageStorage());
  if (prev === null) return;
  const ui = useUiStore.getState();
  setAsideDraft(pageStorage(), ui.source, prev); // the restore is itself undoable
  setProgram(prev, 'program.s');
  ui.notify({ kind: 'info', text: 'Restored your previous draft.' });
}

const TEXT_NAME = /\.(s|asm|txt)$/i;

export async function openFile(file: File): Promise<void> {
  const ui = useUiStore.getState();
  if (file.size > MAX_FILE_BYTES) {
    ui.notify({ kind: 'error', text: `${file.name} is too large to open (${Math.round(file.size / 1024)} KB, at most ${MAX_FILE_BYTES / 1024} KB).` });
    return;
  }
  if (!TEXT_NAME.test(file.name) && file.type && !file.type.startsWith('text/')) {
    ui.notify({ kind: 'error', text: `${file.name} does not look like an assembly source file (.s, .asm or .txt).` });
    return;
  }
  let text: string;
  try {
    text = await file.text();
  } catch {
    ui.notify({ kind: 'error', text: `Could not read ${file.name}.` });
    return;
  }
  if (text.includes('\u0000')) {
    ui.notify({ kind: 'error', text: `${file.name} is a binary file, not assembly source.` });
    return;
  }
  replaceSource(text, file.name.replace(/[^\w.-]/g, '_').slice(0, 80) || 'program.s', file.name);
}

export function saveFile(): void {
  const { source, fileName } = useUiStore.getState();
  const blob = new Blob([source], { type: 'text/plain' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = /\.(s|asm)$/i.test(fileName) ? fileName : `${fileName.replace(/\.\w*$/, '')}.s`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function currentPayload(): SharePayload {
  const s = useUiStore.getState();
  return {
    v: 1,
    source: s.source,
    config: { strategy: s.strategy, preset: s.preset, icacheSize: s.icacheSize, strategyB: s.strategyB, abMode: s.abMode },
    file: s.fileName,
  };
}

/** Applies a share link (the `s=` value); a bad one leaves the editor alone and says why. */
export function openShareLink(encoded: string): boolean {
  const r = decodeShare(encoded, COST_PRESET_NAMES);
  const ui = useUiStore.getState();
  if (!r.ok) {
    ui.notify({ kind: 'error', text: `This share link could not be opened: ${r.error}. Your draft is unchanged.` });
    return false;
  }
  const { source, config } = r.payload;
  if (isStrategy(config.strategy) && isIcacheSize(config.icacheSize)) {
    ctl.updateSettings({ strategy: config.strategy, preset: config.preset, icacheSize: config.icacheSize, ...(config.strategyB && { strategyB: config.strategyB }) });
    if (config.abMode !== undefined && config.abMode !== ui.abMode) ctl.setAbMode(config.abMode);
  }
  replaceSource(source, r.payload.file ?? SHARED_FILE, r.payload.file ? `the shared program “${r.payload.file}”` : 'a shared program');
  return true;
}

export async function openExample(name: string): Promise<boolean> {
  const ui = useUiStore.getState();
  let list: { name: string; title: string; source: string }[] = [];
  try {
    list = (await import('../scenarios/index')).SCENARIOS;
  } catch {
    list = [];
  }
  for (const s of list) bundledSources.add(s.source);
  const ex = list.find((s) => s.name === name);
  if (!ex) {
    ui.notify({ kind: 'error', text: `There is no example named "${name.slice(0, 60)}". Your draft is unchanged.` });
    return false;
  }
  replaceSource(ex.source, `${ex.name}.s`, `the example “${ex.title}”`);
  return true;
}

/** Startup, before the first render: settings and the autosaved draft. */
export function initFromStorage(): void {
  const ui = useUiStore.getState();
  ui.setSettings(loadSettings(pageStorage()));
  const draft = loadDraft(pageStorage());
  ui.setSource(draft ?? STARTER_PROGRAM, draft === null ? 'program.s' : loadDraftName(pageStorage()));
}

/** A share link pasted into the address bar of the open page arrives as a hash change. */
export function onHashChange(): void {
  const s = shareParam(location.hash);
  if (s === null) return;
  openShareLink(s);
  history.replaceState(null, '', location.pathname + location.search);
}

/** Startup, after the first render: a share link or an example named in the URL. */
export async function applyUrl(): Promise<void> {
  const s = shareParam(location.hash);
  const example = new URLSearchParams(location.search).get('example');
  if (s !== null) {
    openShareLink(s);
    // The link has been read; the URL no longer needs it (a reload must not replace later edits).
    history.replaceState(null, '', location.pathname + location.search);
  } else if (example) {
    await openExample(example);
    history.replaceState(null, '', location.pathname);
  }
}

/** What an embed's URL opened: its program, or why it has none (the embed says so where its panels are). */
export interface EmbedStart {
  /**
   * The program under the configuration the embed runs it with, for the "Open in exitscope"
   * link (a share link: the full page takes a configuration from nothing else); null when the
   * URL names none that opens.
   */
  program: { payload: SharePayload } | null;
  problem: string | null;
}

/**
 * Startup of the embedded view: its program comes from the URL only (a share link, else the
 * example), its configuration from the built-in defaults, then the share link's, then
 * `strategy=`, `preset=` and `icache=`: never from the reader's saved settings, so every reader
 * of a course page sees the same figures. Nothing is saved, the reader's draft stays as it is.
 * A URL whose program does not open is said in the embed itself, not in a notice that leaves:
 * the one who pastes the iframe must see why it runs nothing.
 */
export async function applyEmbed(p: EmbedParams): Promise<EmbedStart> {
  persistDraft = false;
  const ui = useUiStore.getState();
  ui.setSettings({ ...DEFAULT_SETTINGS, abMode: false });
  const s = shareParam(location.hash);
  let source: string | null = null;
  let problem: string | null = null;
  if (s !== null) {
    const r = decodeShare(s, COST_PRESET_NAMES);
    if (r.ok) {
      const { config } = r.payload;
      // strategyB too: "Open in exitscope" carries it on (the default had replaced the link's).
      ui.setSettings({ strategy: config.strategy, strategyB: config.strategyB, preset: config.preset, icacheSize: config.icacheSize });
      source = r.payload.source;
      ui.setSource(source, r.payload.file ?? SHARED_FILE);
    } else {
      problem = `This embedded program could not be opened: ${r.error}.`;
    }
  } else if (p.example) {
    const list = (await import('../scenarios/index')).SCENARIOS;
    const ex = list.find((e) => e.name === p.example);
    if (ex) {
      source = ex.source;
      ui.setSource(ex.source, `${ex.name}.s`);
    } else {
      problem = `There is no example named "${p.example}" (known: ${list.map((e) => e.name).join(', ')}).`;
    }
  } else {
    problem = 'This embed names no program: add example=NAME or a share link.';
  }
  if (p.strategy) ui.setSettings({ strategy: p.strategy });
  if (p.preset) ui.setSettings({ preset: p.preset });
  if (p.icacheSize !== null) ui.setSettings({ icacheSize: p.icacheSize });
  if (source === null) {
    ui.setSource('');
    return { program: null, problem };
  }
  const { strategy, strategyB, preset, icacheSize, fileName } = useUiStore.getState();
  return { program: { payload: { v: 1, source, config: { strategy, strategyB, preset, icacheSize, abMode: false }, file: fileName } }, problem };
}
