/**
 * Keyboard shortcuts, handled on the window in the capture phase so they work inside Monaco:
 * F5 run/continue, Esc pause (only while running: otherwise Esc stays Monaco's), F10 step,
 * Shift+F10 step to the next exit, Ctrl+F10 back one instruction, Ctrl+Shift+F10 back to the
 * previous exit, Ctrl+Enter (Cmd+Enter) assemble and reset, Alt+1..4 the layout presets.
 */
import { defaultMachineStore } from '../store/machineStore';
import { useUiStore } from '../store/uiStore';
import * as ctl from './controller';
import { LAYOUT_PRESETS } from './layoutPresets';
import { runControlEnabled, runControlsState, type RunControl } from './runControls';

export type ShortcutAction = RunControl;

/** Pure: which action a key press means. */
export function shortcutFor(e: Pick<KeyboardEvent, 'key' | 'shiftKey' | 'ctrlKey' | 'metaKey' | 'altKey'>, running: boolean): ShortcutAction | null {
  if (e.altKey) return null;
  if (e.key === 'F5' && !e.shiftKey && !e.ctrlKey && !e.metaKey) return 'run';
  if (e.key === 'F10' && (e.ctrlKey || e.metaKey)) return e.shiftKey ? 'backExit' : 'stepBack';
  if (e.key === 'F10') return e.shiftKey ? 'stepExit' : 'step';
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) return 'assembleAndReset';
  if (e.key === 'Escape' && running) return 'pause';
  return null;
}

/** Pure: the index of the layout preset a key press picks (Alt+1 is the first), or null. */
export function layoutShortcut(e: Pick<KeyboardEvent, 'code' | 'shiftKey' | 'ctrlKey' | 'metaKey' | 'altKey'>, presets: number): number | null {
  if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return null;
  const m = /^Digit([1-9])$/.exec(e.code);
  const i = m ? Number(m[1]) - 1 : -1;
  return i >= 0 && i < presets ? i : null;
}

/** An Apple keyboard: Option types characters, Monaco's Tab-focus key is Ctrl+Shift+M. */
export const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

/**
 * `layouts`: Alt+1..4 choose a layout (not in an embed, which has none and writes no settings).
 * Nothing acts while a modal dialog is open (the page behind it is inert: Ctrl+Enter typed in
 * the Share dialog had reset the program, and Esc that closed a dialog had paused the run too),
 * nor on the Experiment or Glossary page (they hide the workspace whose machine it would move).
 * A key acts only when its button would: F10 while running, or F5 with a crashed Worker, does
 * nothing (the key is still taken from the browser, whose F10 opens its menu).
 */
export function installShortcuts({ layouts = true }: { layouts?: boolean } = {}): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (document.querySelector('[role="dialog"][aria-modal="true"]')) return;
    // The Experiment and Glossary pages hide the workspace: its machine is not what is shown.
    if (useUiStore.getState().view !== 'workspace') return;
    // On a Mac, Option+digit types a character ("£", or "#", a comment here) where text is typed.
    const typing = IS_MAC && e.target instanceof HTMLElement && (e.target.isContentEditable || e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement);
    const preset = layouts && !typing ? layoutShortcut(e, LAYOUT_PRESETS.length) : null;
    if (preset !== null) {
      e.preventDefault();
      e.stopPropagation();
      ctl.chooseLayoutPreset(LAYOUT_PRESETS[preset].id);
      return;
    }
    const action = shortcutFor(e, defaultMachineStore.getState().running);
    if (!action) return;
    // Esc in an open menu closes the menu (ToolbarMenu), it does not pause the run.
    if (e.key === 'Escape' && e.target instanceof Element && e.target.closest('[role="menu"]')) return;
    e.preventDefault();
    e.stopPropagation();
    if (!runControlEnabled(action, runControlsState(defaultMachineStore.getState(), useUiStore.getState().booted))) return;
    if (e.repeat && action !== 'step' && action !== 'stepExit' && action !== 'stepBack' && action !== 'backExit') return;
    ctl[action]();
  };
  window.addEventListener('keydown', onKey, true);
  return () => window.removeEventListener('keydown', onKey, true);
}
