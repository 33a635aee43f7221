/**
 * A menu button for the toolbar's less-used controls (WAI-ARIA menu button pattern): the button
 * says what it holds; opening it focuses the first item; arrows, Home and End move between the
 * items; Esc closes it and gives the focus back to the button; Tab, a click outside or choosing
 * an item closes it. The items are ordinary buttons with role="menuitem", each with its own
 * label and tooltip, so they keep their test ids and behave like the toolbar buttons they were.
 */
import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

export interface MenuItem {
  testid: string;
  label: ReactNode;
  title: string;
  /** The page this item opens is the one shown (aria-current). */
  current?: boolean;
  onSelect: () => void;
}

export function ToolbarMenu({ label, title, testid, items }: { label: ReactNode; title: string; testid: string; items: readonly MenuItem[] }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const wrap = useRef<HTMLDivElement | null>(null);
  const button = useRef<HTMLButtonElement | null>(null);
  const itemEls = useRef<(HTMLButtonElement | null)[]>([]);
  const close = useCallback((refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  }, []);
  // Opening focuses the first item; a press outside closes.
  useEffect(() => {
    if (!open) return;
    itemEls.current[0]?.focus();
    const onDown = (e: PointerEvent) => {
      if (wrap.current && e.target instanceof Node && !wrap.current.contains(e.target)) close(false);
    };
    document.addEventListener('pointerdown', onDown, true);
    return () => document.removeEventListener('pointerdown', onDown, true);
  }, [open, close]);
  const onMenuKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const els = itemEls.current.filter((el): el is HTMLButtonElement => !!el);
    const at = els.indexOf(document.activeElement as HTMLButtonElement);
    const move = (i: number) => { e.preventDefault(); els[(i + els.length) % els.length]?.focus(); };
    if (e.key === 'ArrowDown') move(at + 1);
    else if (e.key === 'ArrowUp') move(at - 1);
    else if (e.key === 'Home') move(0);
    else if (e.key === 'End') move(els.length - 1);
    else if (e.key === 'Escape') { e.preventDefault(); close(true); }
    else if (e.key === 'Tab') close(false);
  };
  const onButtonKey = (e: KeyboardEvent<HTMLButtonElement>) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') { e.preventDefault(); setOpen(true); }
  };
  return (
    <div className="menu-wrap" ref={wrap}>
      <button
        ref={button}
        type="button"
        className={`btn ghost${open ? ' active' : ''}`}
        data-testid={testid}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        title={title}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={onButtonKey}
      >
        {label} <span aria-hidden className="menu-caret">▾</span>
      </button>
      {open && (
        <div className="menu" role="menu" id={id} aria-label={title} onKeyDown={onMenuKey}>
          {items.map((it, i) => (
            <button
              key={it.testid}
              ref={(el) => { itemEls.current[i] = el; }}
              type="button"
              role="menuitem"
              tabIndex={-1}
              className={`menu-item${it.current ? ' active' : ''}`}
              data-testid={it.testid}
              aria-current={it.current ? 'page' : undefined}
              title={it.title}
              onClick={() => { close(true); it.onSelect(); }}
            >
              {it.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
