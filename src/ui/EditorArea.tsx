/**
 * The editor pane: a title bar, and Monaco loaded lazily (it and its worker are the largest
 * part of the app; the page is usable before they arrive, and shows the source read-only
 * meanwhile). Dropping a file here opens it.
 */
import { lazy, Suspense, useState, type DragEvent } from 'react';
import { useMachineStore, type MachineState } from '../store/machineStore';
import { selectFollowedVcpu } from '../store/selectors';
import { useUiStore } from '../store/uiStore';
import { openFile } from './files';
import { useEditorFocused } from './editor/tabExit';
import { SourcePreview } from './editor/SourcePreview';
import { hex64, vcpuName } from './panels/lib/format';
import { IS_MAC } from './shortcuts';
import type { Diagnostic } from '../worker/protocol';

/** Monaco's switch for Tab moving the focus: Ctrl+M, on a Mac Ctrl+Shift+M (its toggleTabFocusMode). */
const TAB_FOCUS_KEYS = IS_MAC
  ? <><kbd>Ctrl</kbd>+<kbd>Shift</kbd>+<kbd>M</kbd></>
  : <><kbd>Ctrl</kbd>+<kbd>M</kbd></>;

/** How many diagnostics the count's tooltip lists (the editor marks every one). */
const TITLE_DIAGNOSTICS = 8;

/** The count's tooltip: the messages themselves, so one on an empty line (nothing to squiggle) can be read. */
function diagnosticsTitle(diags: readonly Diagnostic[]): string {
  if (diags.length === 0) return 'Assembler diagnostics: none';
  const shown = diags.slice(0, TITLE_DIAGNOSTICS).map((d) => `${d.line}:${d.col}: ${d.severity}: ${d.message}`);
  const more = diags.length - shown.length;
  return [...shown, ...(more > 0 ? [`and ${more} more (marked in the editor)`] : [])].join('\n');
}

// Requested as soon as this module runs (at startup, beside the machine Worker), not when
// React first renders the pane: Monaco's download and start overlap the Worker's.
const editorModule = import('./editor/AsmEditor');
const AsmEditor = lazy(() => editorModule);

function hasFiles(e: DragEvent): boolean {
  return Array.from(e.dataTransfer.types).includes('Files');
}

/** The followed vCPU's RIP when it is on no line of the program, else null (selectFollowedVcpu). */
const selectRipOutside = (s: MachineState): string | null => {
  const v = s.loaded ? selectFollowedVcpu(s) : undefined;
  return v && v.line === null ? v.regs.rip : null;
};

/** Which vCPU that is, as the bar's tooltip says it. */
const selectFollowedName = (s: MachineState): string => {
  const v = selectFollowedVcpu(s);
  return vcpuName(v ?? { vm: 0, vcpu: 0 });
};

export function EditorArea() {
  const fileName = useUiStore((s) => s.fileName);
  const diagnostics = useMachineStore((s) => s.diagnostics);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  // Reloading the program (Run after the end, Reset): the RIP line and line counts are the previous run's.
  const restarting = useMachineStore((s) => s.restarting);
  const [dragging, setDragging] = useState(false);
  const editorFocused = useEditorFocused();
  // The vCPU the arrow follows on no line of the program (a jump into data or onto a device
  // page): the editor has no line for its arrow, so the bar says where it is. Only for the text the machine runs.
  const ripOutside = useMachineStore(selectRipOutside);
  const followedName = useMachineStore(selectFollowedName);
  const runsThisText = useMachineStore((s) => s.program?.source) === useUiStore((s) => s.source);

  // Capture phase: Monaco would otherwise take the drop and insert the file's path.
  const onDragOver = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.stopPropagation();
    e.dataTransfer.dropEffect = 'copy';
    setDragging(true);
  };
  const onDrop = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.stopPropagation();
    setDragging(false);
    const f = e.dataTransfer.files[0];
    if (f) void openFile(f);
  };

  return (
    <div
      className={`editor-area${dragging ? ' dragging' : ''}`}
      onDragOverCapture={onDragOver}
      onDragEnterCapture={onDragOver}
      onDragLeave={() => setDragging(false)}
      onDropCapture={onDrop}
    >
      <div className="editor-bar">
        <span className="file-name" title="File name used for Save and in diagnostics">{fileName}</span>
        {editorFocused && (
          <span className="tab-hint" data-testid="tab-hint" role="note" title={`Esc then Tab leaves the editor; ${IS_MAC ? 'Ctrl+Shift+M' : 'Ctrl+M'} makes Tab move the focus. A click left of a line number (or Alt+click on the number) sets or clears a breakpoint. ${IS_MAC ? 'Cmd' : 'Ctrl'}+Enter assembles and resets.`}>
            <kbd>Esc</kbd> <kbd>Tab</kbd> leaves the editor · {TAB_FOCUS_KEYS}: Tab moves focus
          </span>
        )}
        <span className="diag-count" data-testid="diag-count" title={diagnosticsTitle(diagnostics)}>
          {errors > 0 && <span className="err">{errors} error{errors > 1 ? 's' : ''}</span>}
          {warnings > 0 && <span className="warn">{warnings} warning{warnings > 1 ? 's' : ''}</span>}
          {errors + warnings === 0 && <span className="ok">assembles cleanly</span>}
        </span>
      </div>
      {ripOutside !== null && runsThisText && !restarting && (
        <div className="rip-outside" data-testid="rip-outside" role="note" title={`The instruction pointer of ${followedName}: no line of this program is at that address (its bytes are data, a device page or nothing)`}>
          <span aria-hidden>➜</span> RIP {hex64(ripOutside, 0)}: on no line of the program
        </div>
      )}
      <div className="editor-host" data-testid="editor" data-run={restarting ? 'previous' : undefined}>
        <Suspense fallback={<SourcePreview />}>
          <AsmEditor />
        </Suspense>
      </div>
      {dragging && <div className="drop-hint">Drop a .s file to open it</div>}
    </div>
  );
}
