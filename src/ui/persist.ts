/**
 * What the page keeps in localStorage: settings, pane layouts and the editor draft.
 * Stored data is read back as untrusted: each field is checked and a bad value falls back to
 * its default, so a corrupt or old entry never breaks the page.
 */
import { COST_PRESET_NAMES } from '../core/cost';
import { isStrategy } from '../core/events';
import type { Speed } from '../worker/protocol';
import { DEFAULT_SETTINGS, SPEEDS, type Settings } from '../store/settings';
import { ICACHE_SIZE_MAX, ICACHE_SIZE_MIN } from './share';
import { isLayoutPresetId } from './layoutPresets';

export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export const KEYS = {
  settings: 'exitscope.settings.v1',
  layout: 'exitscope.layout.v1',
  draft: 'exitscope.draft.v1',
  draftName: 'exitscope.draft.name.v1',
  previousDraft: 'exitscope.draft.previous.v1',
} as const;

/** localStorage when the page may use it, else a memory map (private mode, blocked storage). */
export function pageStorage(): KeyValueStorage {
  try {
    const s = globalThis.localStorage;
    const probe = '__exitscope_probe__';
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    return memoryStorage();
  }
}

export function memoryStorage(): KeyValueStorage {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, String(v)),
    removeItem: (k) => void m.delete(k),
  };
}

function readJson(storage: KeyValueStorage, key: string): unknown {
  try {
    const raw = storage.getItem(key);
    return raw === null ? null : (JSON.parse(raw) as unknown);
  } catch {
    return null;
  }
}

/** Writes, and swallows quota errors: persistence is a convenience, never a failure. */
export function writeItem(storage: KeyValueStorage, key: string, value: string): boolean {
  try {
    storage.setItem(key, value);
    return true;
  } catch {
    return false;
  }
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

// ---------------------------------------------------------------------------------------------
// Settings

export function isIcacheSize(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= ICACHE_SIZE_MIN && x <= ICACHE_SIZE_MAX;
}

export function parseSettings(data: unknown): Settings {
  const d = DEFAULT_SETTINGS;
  if (!isRecord(data)) return { ...d };
  return {
    theme: data.theme === 'light' || data.theme === 'dark' ? data.theme : d.theme,
    strategy: isStrategy(data.strategy) ? data.strategy : d.strategy,
    strategyB: isStrategy(data.strategyB) ? data.strategyB : d.strategyB,
    preset: typeof data.preset === 'string' && (COST_PRESET_NAMES as readonly string[]).includes(data.preset) ? data.preset : d.preset,
    icacheSize: isIcacheSize(data.icacheSize) ? data.icacheSize : d.icacheSize,
    speed: SPEEDS.includes(data.speed as Speed) ? (data.speed as Speed) : d.speed,
    abMode: typeof data.abMode === 'boolean' ? data.abMode : d.abMode,
    layoutPreset: isLayoutPresetId(data.layoutPreset) ? data.layoutPreset : d.layoutPreset,
  };
}

export function loadSettings(storage: KeyValueStorage): Settings {
  return parseSettings(readJson(storage, KEYS.settings));
}

export function saveSettings(storage: KeyValueStorage, s: Settings): void {
  writeItem(storage, KEYS.settings, JSON.stringify(s));
}

// ---------------------------------------------------------------------------------------------
// Pane layouts: per resizable group, panel id -> size in percent (react-resizable-panels' Layout)

export type PaneLayout = Record<string, number>;
export type PaneLayouts = Record<string, PaneLayout>;

const ID = /^[a-z0-9-]{1,40}$/;

/**
 * A stored group layout is used only if it names exactly the panels the group has now, each
 * with a finite size in 0..100, adding up to about 100; otherwise the group gets its default.
 */
export function validPaneLayout(layout: unknown, panelIds: readonly string[]): PaneLayout | undefined {
  if (!isRecord(layout)) return undefined;
  const keys = Object.keys(layout);
  if (keys.length !== panelIds.length || !panelIds.every((id) => keys.includes(id))) return undefined;
  let sum = 0;
  for (const id of panelIds) {
    const v = layout[id];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) return undefined;
    sum += v;
  }
  if (Math.abs(sum - 100) > 1) return undefined;
  const out: PaneLayout = {};
  for (const id of panelIds) out[id] = layout[id] as number;
  return out;
}

export function loadPaneLayouts(storage: KeyValueStorage): PaneLayouts {
  const data = readJson(storage, KEYS.layout);
  const out: PaneLayouts = {};
  if (!isRecord(data) || data.v !== 1 || !isRecord(data.groups)) return out;
  for (const [group, layout] of Object.entries(data.groups)) {
    if (!ID.test(group) || !isRecord(layout)) continue;
    const ids = Object.keys(layout).filter((k) => ID.test(k));
    const valid = validPaneLayout(layout, ids);
    if (valid) out[group] = valid;
  }
  return out;
}

export function savePaneLayout(storage: KeyValueStorage, group: string, layout: PaneLayout): void {
  if (!ID.test(group)) return;
  const all = loadPaneLayouts(storage);
  all[group] = { ...layout };
  writeItem(storage, KEYS.layout, JSON.stringify({ v: 1, groups: all }));
}

// ---------------------------------------------------------------------------------------------
// Editor draft

export function loadDraft(storage: KeyValueStorage): string | null {
  try {
    return storage.getItem(KEYS.draft);
  } catch {
    return null;
  }
}

export function saveDraft(storage: KeyValueStorage, source: string): void {
  writeItem(storage, KEYS.draft, source);
}

/** A file name as the editor shows it and Save uses it: letters, digits, `_.-`, at most 80. */
export const FILE_NAME = /^[\w.-]{1,80}$/;

/** The draft's file name (an example's, an opened file's), or program.s. */
export function loadDraftName(storage: KeyValueStorage): string {
  try {
    const name = storage.getItem(KEYS.draftName);
    return name !== null && FILE_NAME.test(name) ? name : 'program.s';
  } catch {
    return 'program.s';
  }
}

export function saveDraftName(storage: KeyValueStorage, name: string): void {
  writeItem(storage, KEYS.draftName, name);
}

/**
 * Before a share link or an example replaces the editor's text, the current draft is set
 * aside, so it can be restored. Returns whether there was anything worth keeping.
 */
export function setAsideDraft(storage: KeyValueStorage, current: string, incoming: string): boolean {
  if (!current.trim() || current === incoming) return false;
  return writeItem(storage, KEYS.previousDraft, current);
}

export function loadPreviousDraft(storage: KeyValueStorage): string | null {
  try {
    return storage.getItem(KEYS.previousDraft);
  } catch {
    return null;
  }
}
