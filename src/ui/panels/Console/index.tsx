/** The guest's debug console (bytes written to port 0xE9), following new output. */
import { useEffect, useRef } from 'react';
import { useMachine } from '../useMachine';
import '../panels.css';

export default function Console() {
  const text = useMachine((s) => s.view?.console ?? '');
  const ref = useRef<HTMLPreElement | null>(null);
  const body = useRef<HTMLSpanElement | null>(null);
  const follow = useRef(true);
  // Follow the output when its box grows. A ResizeObserver runs after layout, so reading
  // scrollHeight there is free; an effect on each new text read it before layout and forced a
  // layout of the whole page in the middle of React's commit.
  useEffect(() => {
    const el = ref.current;
    const inner = body.current;
    if (!el || !inner) return;
    const ro = new ResizeObserver(() => { if (follow.current) el.scrollTop = el.scrollHeight; });
    ro.observe(inner);
    return () => ro.disconnect();
  }, []);
  return (
    <section tabIndex={0} className="xs-panel" aria-label="Console">
      <pre
        ref={ref}
        className="xs-console"
        data-testid="console"
        onScroll={(e) => {
          const el = e.currentTarget;
          follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
        }}
      ><span ref={body} className="xs-console-text">{text || <span className="xs-note">(nothing written to port 0xE9 yet)</span>}</span></pre>
    </section>
  );
}
