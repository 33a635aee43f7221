/**
 * The program's text, read-only, while Monaco loads (it is the largest part of the app and
 * takes seconds on a slow machine): the reader sees the source at once instead of a
 * "loading" line, and it is the same text the editor will hold.
 */
import { useUiStore } from '../../store/uiStore';

export function SourcePreview() {
  const source = useUiStore((s) => s.source);
  return (
    <pre tabIndex={0} className="editor-preview" data-testid="editor-preview" aria-label="Program source (read-only until the editor has loaded)" aria-busy="true">
      {source}
    </pre>
  );
}
