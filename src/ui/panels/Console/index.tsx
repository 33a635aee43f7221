/** The guest's debug console (bytes written to port 0xE9), following new output. */
import { useEffect, useRef } from 'react';
import { useMachine } from '../useMachine';
import '../panels.css';

export default function Console() {
  const text = useMachine((s) => s.view?.console ?? '');
  const ref = useRef<HTMLPreElement | null>(null);
  const follow = useRef(true);
  useEffect(() => {
    const el = ref.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [text]);
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
      >{text || <span className="xs-note">(nothing written to port 0xE9 yet)</span>}</pre>
    </section>
  );
}
