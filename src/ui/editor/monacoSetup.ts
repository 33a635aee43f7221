/**
 * Monaco, bundled (no CDN): the editor worker only, the x86-64 asm language, its completion
 * and hover providers, and the two themes. Runs once, when the editor chunk loads.
 */
import * as monaco from './monacoLean';
import { loader } from '@monaco-editor/react';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import { defaultMachineStore } from '../../store/machineStore';
import { selectTimelineAt } from '../../store/selectors';
import { useUiStore } from '../../store/uiStore';
import { counted, int, pct } from '../panels/lib/format';
import { exitCount } from './lineStats';
import {
  LANGUAGE_ID, completionWords, languageConfiguration, mmioBaseRegisters, monarchLanguage, symbolHover, vmmEffect,
} from './asmLanguage';

self.MonacoEnvironment = { getWorker: () => new EditorWorker() };
loader.config({ monaco });

const KIND = {
  mnemonic: monaco.languages.CompletionItemKind.Keyword,
  register: monaco.languages.CompletionItemKind.Variable,
  directive: monaco.languages.CompletionItemKind.Snippet,
  symbol: monaco.languages.CompletionItemKind.Constant,
} as const;

monaco.languages.register({ id: LANGUAGE_ID, extensions: ['.s', '.asm'], aliases: ['x86-64 assembly', 'asm'] });
monaco.languages.setMonarchTokensProvider(LANGUAGE_ID, monarchLanguage);
monaco.languages.setLanguageConfiguration(LANGUAGE_ID, languageConfiguration);

const WORDS = completionWords();

monaco.languages.registerCompletionItemProvider(LANGUAGE_ID, {
  provideCompletionItems(model, position) {
    const word = model.getWordUntilPosition(position);
    const range = new monaco.Range(position.lineNumber, word.startColumn, position.lineNumber, word.endColumn);
    const labels = new Set<string>();
    const text = model.getValue();
    if (text.length < 512 * 1024) {
      for (const m of text.matchAll(/^\s*([A-Za-z_.$@][\w.$@]*):/gm)) labels.add(m[1]);
      for (const m of text.matchAll(/^\s*([A-Za-z_][\w]*)\s+equ\b/gim)) labels.add(m[1]);
    }
    return {
      suggestions: [
        ...WORDS.map((w) => ({
          label: w.label,
          kind: KIND[w.kind],
          detail: w.detail,
          documentation: w.doc ? { value: w.doc } : undefined,
          insertText: w.label,
          range,
        })),
        ...[...labels].map((l) => ({ label: l, kind: monaco.languages.CompletionItemKind.Reference, detail: 'label', insertText: l, range })),
      ],
    };
  },
});

monaco.languages.registerHoverProvider(LANGUAGE_ID, {
  provideHover(model, position) {
    const line = position.lineNumber;
    const word = model.getWordAtPosition(position);
    const contents: monaco.IMarkdownString[] = [];
    const sym = word ? symbolHover(word.word) : null;
    if (sym) contents.push({ value: sym });
    const text = model.getValueLength() < 512 * 1024 ? model.getValue() : '';
    const s = defaultMachineStore.getState();
    // bhyve's opcode table decides what the VMM can emulate (the Worker checked each line's bytes).
    const refused = s.unemulable.find((u) => u.line === line);
    const effect = refused
      ? `**The VMM cannot emulate this instruction:** ${refused.why} (sys/amd64/vmm/vmm_instruction_emul.c), so bhyve's decoder refuses it. If it accesses an MMIO page (the LAPIC, IORAM), the exit reaches the decode and the run stops as 'unsupported'.`
      : vmmEffect(model.getLineContent(line), mmioBaseRegisters(text));
    if (effect) contents.push({ value: effect });
    if (s.exitLines.includes(line) && !effect) contents.push({ value: '**This line exits:** its instruction always exits (HLT, I/O, CPUID or VMCALL), known before the run; a line that accesses MMIO is marked once it has exited.' });
    const stat = s.view?.lines.find((l) => l.line === line);
    if (stat && stat.exits > 0) {
      // (The count after the line may be its short form: the hover says it all.)
      // At a timeline point the counts are those of exits #0..#k-1, as the registers' "as exit #k is taken".
      const at = selectTimelineAt(s);
      // In A/B mode the editor's counts are side A's (B's strategy may hit nothing).
      const side = useUiStore.getState().abMode && s.program ? `Side A (${s.program.config.strategy})` : null;
      const when = at === null ? (side ? `${side}, this run` : 'This run') : `${side ? `${side}, as` : 'As'} exit #${int(at)} is taken`;
      // Only icache's emulated exits look the instruction up: an I/O exit, or any exit under
      // another strategy, has no hit rate, not "0 cache hits (0%)".
      const hits = stat.lookups > 0
        ? `, **${counted(stat.hits, 'cache hit')}** in ${counted(stat.lookups, 'lookup')} (${pct(stat.hits / stat.lookups)})`
        : ', no cache lookups';
      contents.push({ value: `${when}: **${exitCount(stat)}** on this line${hits}.` });
      const d = stat.delivery ?? 0;
      if (d > 0) {
        contents.push({ value: `${d === stat.exits ? 'All of them were' : `${int(d)} of them were`} taken **while delivering an interrupt**, before this instruction ran: pushing the interrupt frame walked the page tables and set an accessed/dirty bit on a page-table page the VMM write-protects (a write-protect fault). The instruction itself did not exit.` });
      }
    }
    if (!contents.length) return null;
    return { contents, range: word ? new monaco.Range(line, word.startColumn, line, word.endColumn) : undefined };
  },
});

monaco.editor.defineTheme('exitscope-dark', {
  base: 'vs-dark',
  inherit: true,
  rules: [
    { token: 'keyword', foreground: '7aa2f7', fontStyle: 'bold' },
    { token: 'keyword.directive', foreground: 'bb9af7' },
    { token: 'variable.predefined', foreground: 'e0af68' },
    { token: 'constant', foreground: 'f7768e' },
    { token: 'number', foreground: 'ff9e64' },
    { token: 'type.identifier', foreground: '9ece6a', fontStyle: 'bold' },
    { token: 'type', foreground: '7dcfff' },
    { token: 'comment', foreground: '9aa3bf', fontStyle: 'italic' },
    { token: 'string', foreground: '9ece6a' },
  ],
  colors: {
    'editor.background': '#161a23',
    'editorGutter.background': '#161a23',
    'editor.lineHighlightBackground': '#1f2433',
    // Text colours keep 4.5:1 against the background (WCAG AA; axe checks it in e2e).
    'editorLineNumber.foreground': '#8890ad',
    'editorLineNumber.dimmedForeground': '#8890ad',
    'editorLineNumber.activeForeground': '#dde3ee',
  },
});

monaco.editor.defineTheme('exitscope-light', {
  base: 'vs',
  inherit: true,
  rules: [
    { token: 'keyword', foreground: '2451c9', fontStyle: 'bold' },
    { token: 'keyword.directive', foreground: '7c3aed' },
    { token: 'variable.predefined', foreground: 'a15c00' },
    { token: 'constant', foreground: 'c0264b' },
    { token: 'number', foreground: 'b45309' },
    { token: 'type.identifier', foreground: '15803d', fontStyle: 'bold' },
    { token: 'type', foreground: '0e7490' },
    { token: 'comment', foreground: '596070', fontStyle: 'italic' },
    { token: 'string', foreground: '15803d' },
  ],
  colors: {
    'editor.background': '#ffffff',
    'editorLineNumber.foreground': '#566176',
    'editorLineNumber.dimmedForeground': '#566176',
    'editorLineNumber.activeForeground': '#1b2130',
  },
});

export { monaco };
