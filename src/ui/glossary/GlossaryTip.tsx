/**
 * The glossary's tooltip: any element with data-term="<term>" shows the term's short definition
 * while the pointer is over it or it has keyboard focus (one listener on the document, so
 * panels only add the attribute). Escape hides it.
 */
import { useEffect, useState } from 'react';
import { glossaryEntry, type GlossaryTerm } from './terms';
import './glossary.css';

const TIP_ID = 'glossary-tip';
const TIP_WIDTH = 320;

interface Shown {
  entry: GlossaryTerm;
  rect: DOMRect;
}

export function GlossaryTip() {
  const [shown, setShown] = useState<Shown | null>(null);
  useEffect(() => {
    let host: Element | null = null;
    const show = (target: EventTarget | null) => {
      const el = target instanceof Element ? target.closest('[data-term]') : null;
      if (el === host) return;
      host?.removeAttribute('aria-describedby');
      host = el;
      const entry = el ? glossaryEntry(el.getAttribute('data-term') ?? '') : undefined;
      if (el && entry) {
        el.setAttribute('aria-describedby', TIP_ID);
        setShown({ entry, rect: el.getBoundingClientRect() });
      } else {
        setShown(null);
      }
    };
    const onOver = (e: MouseEvent) => show(e.target);
    // A focused control whose label is a term (a panel's collapse button, a filter chip) shows
    // that term; a focused panel does not show the first term somewhere inside it.
    const onFocus = (e: FocusEvent) => {
      const t = e.target;
      const control = t instanceof Element && !t.closest('[data-term]') && t.matches('button, a, [role="tab"]');
      show(control ? t.querySelector('[data-term]') : t);
    };
    const onBlur = () => show(null);
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') show(null); };
    document.addEventListener('mouseover', onOver);
    document.addEventListener('focusin', onFocus);
    document.addEventListener('focusout', onBlur);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mouseover', onOver);
      document.removeEventListener('focusin', onFocus);
      document.removeEventListener('focusout', onBlur);
      document.removeEventListener('keydown', onKey);
    };
  }, []);
  if (!shown) return null;
  const { rect, entry } = shown;
  const below = rect.bottom + 120 < window.innerHeight;
  const left = Math.max(8, Math.min(rect.left, window.innerWidth - TIP_WIDTH - 8));
  const style = below ? { left, top: rect.bottom + 6, width: TIP_WIDTH } : { left, bottom: window.innerHeight - rect.top + 6, width: TIP_WIDTH };
  return (
    <div id={TIP_ID} role="tooltip" data-testid="glossary-tip" className="glossary-tip" style={style}>
      <b>{entry.term}</b> {entry.definition}
    </div>
  );
}
