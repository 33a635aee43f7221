/**
 * A source line number a panel names (a cache entry's code, an exit's instruction): with an
 * editor on the page, a button that scrolls the editor to the line and marks it. The editor
 * follows RIP; this is how a row or an exit the user picked finds its code.
 */
import { useUiStore } from '../../../store/uiStore';

export function SourceLine({ line, testid }: { line: number; testid?: string }) {
  const editor = useUiStore((s) => s.editorMounted);
  if (!editor) return <span data-testid={testid}>{line}</span>;
  return (
    <button type="button" className="xs-line-link" data-testid={testid} onClick={() => useUiStore.getState().revealLine(line)}
      aria-label={`Show line ${line} in the editor`} title={`Show line ${line} in the editor`}>
      {line}
    </button>
  );
}
