/**
 * Monaco with the asm language, bound to the page: the text lives in the UI store (autosaved),
 * the edited program is loaded ~250 ms after the last keystroke (side A's worker answers with
 * the diagnostics; every panel starts over with the new text), and the editor shows the current RIP line, breakpoints in the gutter, and each exiting
 * line's exit count and cache hits.
 */
import { useEffect, useRef, useState } from 'react';
import Editor, { type OnMount } from '@monaco-editor/react';
import { monaco } from './monacoSetup';
import { LANGUAGE_ID } from './asmLanguage';
import { defaultMachineStore, type MachineState } from '../../store/machineStore';
import { selectFollowedVcpu } from '../../store/selectors';
import { useUiStore } from '../../store/uiStore';
import * as ctl from '../controller';
import { editorChanged } from '../files';
import { LIVE_MS } from '../panels/useMachine';
import { LiveThrottle } from '../panels/lib/liveThrottle';
import { vcpuName } from '../panels/lib/format';
import type { Diagnostic } from '../../worker/protocol';
import { installTabExit } from './tabExit';
import { SourcePreview } from './SourcePreview';
import { RipMarker } from './ripMarker';
import { LineStatWidgets } from './lineStatWidgets';

export const ASSEMBLE_DEBOUNCE_MS = 250;

/** While running, the per-line exit counts follow at most this often. */
const VIEW_MS_RUNNING = 1000;
/** How long a line a panel asked for stays marked (its band fades over this time). */
const REVEAL_MS = 1600;

function markersOf(model: monaco.editor.ITextModel, diags: Diagnostic[]): monaco.editor.IMarkerData[] {
  const lines = model.getLineCount();
  return diags.slice(0, 500).map((d) => {
    const line = Math.min(Math.max(1, d.line), lines);
    const maxCol = model.getLineMaxColumn(line);
    const col = Math.min(Math.max(1, d.col), maxCol);
    const word = model.getWordAtPosition({ lineNumber: line, column: col });
    const whole = col <= 1 || !word;
    return {
      severity: d.severity === 'error' ? monaco.MarkerSeverity.Error : monaco.MarkerSeverity.Warning,
      message: d.message,
      startLineNumber: line,
      startColumn: whole ? model.getLineFirstNonWhitespaceColumn(line) || 1 : word.startColumn,
      endLineNumber: line,
      endColumn: whole ? maxCol : word.endColumn,
      source: 'assembler',
    };
  });
}

/** The margin mark of every line that exits: the lines with exits so far and those the program predicts. */
function exitMarkDecorations(lines: readonly number[], model: monaco.editor.ITextModel): monaco.editor.IModelDeltaDecoration[] {
  const n = model.getLineCount();
  return lines.filter((line) => line >= 1 && line <= n).map((line) => ({
    range: new monaco.Range(line, 1, line, 1),
    options: { linesDecorationsClassName: 'exit-line-mark', linesDecorationsTooltip: 'This line exits to the VMM' },
  }));
}

export default function AsmEditor() {
  const theme = useUiStore((s) => s.theme);
  const [initial] = useState(() => useUiStore.getState().source);
  const cleanup = useRef<(() => void) | null>(null);

  useEffect(() => () => cleanup.current?.(), []);

  const onMount: OnMount = (editor) => {
    const model = editor.getModel();
    if (!model) return;
    const disposers: (() => void)[] = [];
    let assembleTimer: ReturnType<typeof setTimeout> | null = null;
    const scheduleAssemble = () => {
      if (assembleTimer) clearTimeout(assembleTimer);
      assembleTimer = setTimeout(ctl.loadChanged, ASSEMBLE_DEBOUNCE_MS);
    };
    disposers.push(() => { if (assembleTimer) clearTimeout(assembleTimer); });

    // Text: the editor writes the store; programs from elsewhere (examples, links, files) come back.
    // The run decorations describe the loaded program: once the text differs from it they are
    // dropped at once (a paste would otherwise stretch the RIP highlight over every line).
    const change = editor.onDidChangeModelContent(() => {
      const text = model.getValue();
      editorChanged(text);
      // Either way: the program may have been loaded before its text reached the model.
      const loaded = text === defaultMachineStore.getState().program?.source;
      if (loaded !== textIsLoaded) {
        textIsLoaded = loaded;
        if (loaded) applyView(defaultMachineStore.getState());
        else clearRunDecorations();
      }
      scheduleAssemble();
      syncBreakpointsFromDecorations();
    });
    disposers.push(() => change.dispose());
    disposers.push(useUiStore.subscribe((s, prev) => {
      if (s.source === prev.source || s.source === model.getValue()) return;
      model.pushEditOperations([], [{ range: model.getFullModelRange(), text: s.source }], () => null);
      model.pushStackElement();
    }));

    // Diagnostics.
    const applyMarkers = (diags: Diagnostic[]) => monaco.editor.setModelMarkers(model, 'assembler', markersOf(model, diags));
    disposers.push(defaultMachineStore.subscribe((s, prev) => { if (s.diagnostics !== prev.diagnostics) applyMarkers(s.diagnostics); }));
    applyMarkers(defaultMachineStore.getState().diagnostics);

    // RIP line and per-line exit counts.
    const rip = new RipMarker(editor);
    disposers.push(() => rip.dispose());
    const marks = editor.createDecorationsCollection();
    const statWidgets = new LineStatWidgets(editor, model);
    disposers.push(() => statWidgets.dispose());
    let lastRip: number | null = -1;
    let lastRipOf: string | null = null;
    let lastMarksKey = '';
    /** Whether the text is the program the machine loaded (run decorations apply to it). */
    let textIsLoaded = defaultMachineStore.getState().program?.source === model.getValue();
    function clearRunDecorations() {
      rip.show(null);
      marks.clear();
      statWidgets.clear();
      lastRip = null;
      lastRipOf = null;
      lastMarksKey = '';
    }
    // The vCPU whose exit is shown, as the registers follow it: with two VMs the arrow had stayed
    // on VM 0's hlt beside VM 1's exit on the line before.
    const applyRip = (s: MachineState) => {
      const followed = selectFollowedVcpu(s);
      const ripLine = textIsLoaded ? followed?.line ?? null : null;
      const of = followed && (s.view?.vcpus.length ?? 0) > 1 ? vcpuName(followed) : null;
      if (ripLine !== lastRip || of !== lastRipOf) {
        const moved = ripLine !== lastRip;
        lastRip = ripLine;
        lastRipOf = of;
        rip.show(ripLine && ripLine <= model.getLineCount() ? ripLine : null, of);
        if (moved && ripLine && !s.running) editor.revealLineInCenterIfOutsideViewport(ripLine);
      }
    };
    const applyStats = (s: MachineState) => {
      const lines = textIsLoaded ? s.view?.lines ?? [] : [];
      statWidgets.set(lines);
      // The margin marks change only when a line exits for the first time (or the program changes).
      const marked = [...new Set([...lines.filter((l) => l.exits > 0).map((l) => l.line), ...(textIsLoaded ? s.exitLines : [])])].sort((a, b) => a - b);
      const key = marked.join(',');
      if (key !== lastMarksKey) {
        lastMarksKey = key;
        marks.set(exitMarkDecorations(marked, model));
      }
    };
    const applyView = (s: MachineState) => {
      applyRip(s);
      applyStats(s);
    };
    // The RIP line follows every view; while running, it moves at the panels' pace (LIVE_MS) and
    // the per-line exit counts at most once per VIEW_MS_RUNNING (each change is a Monaco render of
    // their widgets), both on the panels' beat.
    const ripLine = new LiveThrottle(() => applyRip(defaultMachineStore.getState()), LIVE_MS);
    const lineStats = new LiveThrottle(() => applyStats(defaultMachineStore.getState()), VIEW_MS_RUNNING);
    disposers.push(defaultMachineStore.subscribe((s, prev) => {
      if (s.program !== prev.program) textIsLoaded = s.program?.source === model.getValue();
      if (s.view === prev.view && s.exitLines === prev.exitLines && s.running === prev.running && s.program === prev.program
        && selectFollowedVcpu(s) === selectFollowedVcpu(prev)) return;
      const now = !s.running || s.program !== prev.program;
      ripLine.poke(now);
      lineStats.poke(now);
    }));
    disposers.push(() => {
      ripLine.cancel();
      lineStats.cancel();
    });
    applyView(defaultMachineStore.getState());

    // A line a panel asked for (a cache entry's, an exit's): scrolled into view and marked a moment.
    const revealed = editor.createDecorationsCollection();
    let revealTimer: ReturnType<typeof setTimeout> | null = null;
    disposers.push(useUiStore.subscribe((s, prev) => {
      if (!s.revealedLine || s.revealedLine === prev.revealedLine) return;
      const { line } = s.revealedLine;
      if (line < 1 || line > model.getLineCount()) return;
      // Edited since the run: the panels still describe the loaded program, whose lines may have moved.
      if (!textIsLoaded) useUiStore.getState().notify({ kind: 'info', text: `The text changed since this run: line ${line} may no longer hold the code the panel shows.` });
      editor.revealLineInCenterIfOutsideViewport(line);
      revealed.set([{ range: new monaco.Range(line, 1, line, 1), options: { isWholeLine: true, className: 'reveal-line', linesDecorationsClassName: 'reveal-line-edge' } }]);
      if (revealTimer) clearTimeout(revealTimer);
      revealTimer = setTimeout(() => { revealTimer = null; revealed.clear(); }, REVEAL_MS);
    }));
    disposers.push(() => { if (revealTimer) clearTimeout(revealTimer); });
    useUiStore.getState().setEditorMounted(true);
    disposers.push(() => useUiStore.getState().setEditorMounted(false));

    // Breakpoints in the glyph margin; they move with the text.
    const bps = editor.createDecorationsCollection();
    const bpDecos = (lines: number[]) => lines.map((line) => ({
      range: new monaco.Range(line, 1, line, 1),
      options: { glyphMarginClassName: 'bp-glyph', glyphMarginHoverMessage: { value: 'Breakpoint (click to remove)' }, stickiness: monaco.editor.TrackedRangeStickiness.NeverGrowsWhenTypingAtEdges },
    }));
    const validLines = (lines: number[]) => lines.filter((l) => l >= 1 && l <= model.getLineCount());
    bps.set(bpDecos(validLines(useUiStore.getState().breakpoints)));
    function syncBreakpointsFromDecorations() {
      const now = [...new Set(bps.getRanges().map((r) => r.startLineNumber))].sort((a, b) => a - b);
      const cur = useUiStore.getState().breakpoints;
      if (now.join() !== cur.join()) ctl.setBreakpoints(now);
    }
    disposers.push(useUiStore.subscribe((s, prev) => { if (s.breakpoints !== prev.breakpoints) bps.set(bpDecos(validLines(s.breakpoints))); }));
    const mouse = editor.onMouseDown((e) => {
      const t = e.target.type;
      if (t !== monaco.editor.MouseTargetType.GUTTER_GLYPH_MARGIN && t !== monaco.editor.MouseTargetType.GUTTER_LINE_NUMBERS) return;
      if (t === monaco.editor.MouseTargetType.GUTTER_LINE_NUMBERS && !e.event.altKey) return;
      const line = e.target.position?.lineNumber;
      if (!line) return;
      const cur = useUiStore.getState().breakpoints;
      ctl.setBreakpoints(cur.includes(line) ? cur.filter((l) => l !== line) : [...cur, line]);
    });
    disposers.push(() => mouse.dispose());

    disposers.push(installTabExit(editor));

    cleanup.current = () => disposers.forEach((d) => d());
    // The model was made from the text of this component's first render; a program opened
    // between that render and this mount (a share link applied at startup, while Monaco
    // started) reached no subscription. The change handler above takes it from here.
    const source = useUiStore.getState().source;
    if (model.getValue() !== source) model.setValue(source);
    scheduleAssemble();
    // Expose for e2e tests and debugging (no behaviour depends on it).
    (window as unknown as { __exitscopeEditor?: monaco.editor.IStandaloneCodeEditor }).__exitscopeEditor = editor;
  };

  return (
    <Editor
      defaultLanguage={LANGUAGE_ID}
      defaultValue={initial}
      theme={theme === 'dark' ? 'exitscope-dark' : 'exitscope-light'}
      onMount={onMount}
      loading={<SourcePreview />}
      options={{
        glyphMargin: true,
        lineNumbersMinChars: 3,
        minimap: { enabled: false },
        fontSize: 13,
        fontFamily: "'JetBrains Mono', 'Fira Code', ui-monospace, 'Cascadia Mono', Menlo, Consolas, monospace",
        scrollBeyondLastLine: false,
        automaticLayout: true,
        tabSize: 4,
        renderWhitespace: 'none',
        fixedOverflowWidgets: true,
        hover: { delay: 250 },
        quickSuggestions: { other: true, comments: false, strings: false },
        wordBasedSuggestions: 'off',
      }}
    />
  );
}
