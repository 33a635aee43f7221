/**
 * Leaving the editor from the keyboard. In Monaco, Tab indents, so a keyboard user who tabs in
 * is trapped. Two ways out, both told in the editor's title bar while it has the focus:
 * Esc then Tab (or Shift+Tab) moves the focus to the next (previous) control of the page, and
 * Ctrl+M (Monaco's own toggle) makes Tab move the focus until pressed again.
 * This module does not import Monaco: the page shell reads `useEditorFocused` before it loads.
 */
import { useSyncExternalStore } from 'react';

/** The part of Monaco's editor this needs. */
export interface FocusableEditor {
  hasTextFocus(): boolean;
  getDomNode(): HTMLElement | null;
  onDidFocusEditorText(fn: () => void): { dispose(): void };
  onDidBlurEditorText(fn: () => void): { dispose(): void };
}

let focused = false;
const listeners = new Set<() => void>();
function setFocused(v: boolean) {
  if (focused === v) return;
  focused = v;
  for (const l of listeners) l();
}

/** Whether the editor's text has the focus (for the hint in the title bar). */
export function useEditorFocused(): boolean {
  return useSyncExternalStore((l) => { listeners.add(l); return () => listeners.delete(l); }, () => focused, () => false);
}

const TABBABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The control Tab (forward) or Shift+Tab would reach from outside `from`, in document order. */
export function nextTabbable(doc: Document, from: Element, forward: boolean): HTMLElement | null {
  const all = [...doc.querySelectorAll<HTMLElement>(TABBABLE)].filter((el) =>
    !from.contains(el) && !el.closest('[inert]') && el.getClientRects().length > 0 && el.tabIndex >= 0);
  if (forward) return all.find((el) => from.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) ?? null;
  return all.filter((el) => from.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_PRECEDING).at(-1) ?? null;
}

/** Esc then Tab leaves the editor. Returns the disposer. */
export function installTabExit(editor: FocusableEditor): () => void {
  let armed = false;
  // On the window, in the capture phase: Esc may be taken by the page's shortcuts (pause) first.
  const onKey = (e: KeyboardEvent) => {
    if (!editor.hasTextFocus()) { armed = false; return; }
    if (e.key === 'Escape') { armed = true; return; }
    if (e.key === 'Tab' && armed && !e.ctrlKey && !e.altKey && !e.metaKey) {
      const node = editor.getDomNode();
      const target = node && nextTabbable(document, node, !e.shiftKey);
      if (target) {
        e.preventDefault();
        e.stopPropagation();
        target.focus();
      }
    }
    if (e.key !== 'Shift') armed = false;
  };
  window.addEventListener('keydown', onKey, true);
  const f = editor.onDidFocusEditorText(() => setFocused(true));
  const b = editor.onDidBlurEditorText(() => { armed = false; setFocused(false); });
  return () => {
    window.removeEventListener('keydown', onKey, true);
    f.dispose();
    b.dispose();
    setFocused(false);
  };
}
