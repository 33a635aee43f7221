/**
 * Each exiting line's counts ("5,000 exits · 4,999 hits") after its text in the editor, as
 * content widgets. In a narrow editor (a lesson's is ~300 px) a long line's counts fell past the
 * right edge, cut off where a student could not see them, or cut to "5,00". Counts that do not
 * fit after their line are pinned to the edge of the text area over the line's comment, or the
 * end of code that runs off it anyway, in a tighter form if need be ("5,000 exits", "5k×"),
 * never over code shown whole: where not even "5k×" fits beside it, it goes before the code, in
 * the line's indentation and the gutter's blank right of the exit mark (`placeCounts`), drawn
 * in an overlay of the editor since a content widget is clipped to the text area. They go back
 * after the text when a horizontal scroll makes room.
 */
import { monaco } from './monacoSetup';
import type { LineStat } from '../../worker/protocol';
import { lineStatForms, placeCounts, visibleColumns, type CountForm } from './lineStats';
import { stripComment } from './asmLanguage';

/** The counts' size: a step below the code's, in the editor's (monospace) font. */
const FONT_PX = 12;

/**
 * Where the gutter's exit mark ends, px right of the line decorations' start (app.css: its
 * `.exit-line-mark` has 3 px of margin and 3 of width), and the space kept after it: a count
 * before the code may use the gutter from there to the text area.
 */
const MARK_END_PX = 6 + 3;

interface Shown {
  line: number;
  node: HTMLSpanElement;
  /** The counts when they go before the code, in the overlay (`lead`); made when first needed. */
  leadNode: HTMLSpanElement | null;
  /** The counts to show there ('' for none) and their gap after them, in or out of view. */
  leadText: string;
  leadGap: string;
  /** Where the lead node was put ("top|right|gap"), so a seek that moves nothing writes no style. */
  leadAt: string;
  widget: monaco.editor.IContentWidget;
  /** Where the line's text ends, its code before any comment, and where it starts, px from column 1. */
  endPx: number;
  codeEndPx: number;
  indentPx: number;
  /** The counts in each form, widest (whole) first; none for no counts. */
  forms: CountForm[];
  /** Whether the whole counts include hits. */
  hits: boolean;
  /** The transform and padding written, so a seek that moves nothing writes no style. */
  transform: string;
  padding: string;
}

/**
 * A seek of the timeline changes every count, and as injected text (an `after` decoration) each
 * change made Monaco rebuild and re-render those lines and measure them again in the DOM (its
 * indent guides read every changed line's layout: a forced layout per seek). A widget's text is
 * set in place; Monaco only places it, from the line's cached measurements, and a pinned one
 * moves by a transform computed from the font's metrics (no layout read).
 */
export class LineStatWidgets {
  private readonly shown = new Map<number, Shown>();
  private readonly subscriptions: monaco.IDisposable[];
  /** The counts before the code: they reach into the gutter, left of the text area that clips content widgets. */
  private readonly leadLayer = document.createElement('div');
  private readonly leadWidget: monaco.editor.IOverlayWidget = {
    getId: () => 'exitscope.line-stat-lead',
    getDomNode: () => this.leadLayer,
    getPosition: () => null,
  };

  constructor(private readonly editor: monaco.editor.IStandaloneCodeEditor, private readonly model: monaco.editor.ITextModel) {
    this.leadLayer.className = 'line-stat-layer';
    editor.addOverlayWidget(this.leadWidget);
    this.subscriptions = [
      editor.onDidScrollChange((e) => {
        if (e.scrollLeftChanged) this.placeAll();
        else if (e.scrollTopChanged) this.placeLeads();
      }),
      editor.onDidLayoutChange(() => this.placeAll()),
    ];
  }

  /**
   * A line without exits now (a new run starts at 0) keeps its widget, blank: re-adding it at the
   * run's first batch made Monaco measure it again in its next render, a forced layout of the
   * whole page in the frame where every panel changes. Only `clear` (new text) removes them.
   */
  set(lines: readonly LineStat[]): void {
    const n = this.model.getLineCount();
    const want = new Map<number, LineStat>();
    for (const l of lines) if (l.line >= 1 && l.line <= n && l.exits > 0) want.set(l.line, l);
    for (const [line, w] of this.shown) if (!want.has(line)) this.blank(w);
    for (const [line, l] of want) {
      let w = this.shown.get(line);
      if (!w) {
        const node = document.createElement('span');
        node.dataset.line = String(line);
        // The editor's line box and font, so the text sits on the line as injected text did.
        const font = this.editor.getOption(monaco.editor.EditorOption.fontInfo);
        node.style.lineHeight = `${this.editor.getOption(monaco.editor.EditorOption.lineHeight)}px`;
        node.style.fontFamily = font.fontFamily;
        node.style.fontSize = `${FONT_PX}px`;
        const column = this.model.getLineMaxColumn(line);
        const widget: monaco.editor.IContentWidget = {
          getId: () => `exitscope.line-stat.${line}`,
          getDomNode: () => node,
          getPosition: () => ({ position: { lineNumber: line, column }, preference: [monaco.editor.ContentWidgetPositionPreference.EXACT] }),
        };
        const tabSize = this.model.getOptions().tabSize;
        const content = this.model.getLineContent(line);
        const px = (text: string) => visibleColumns(text, tabSize) * font.typicalHalfwidthCharacterWidth;
        w = { line, node, leadNode: null, leadText: '', leadGap: '', leadAt: '', widget, endPx: px(content), codeEndPx: px(stripComment(content).trimEnd()), indentPx: px(/^\s*/.exec(content)![0]), forms: [], hits: false, transform: '', padding: '-' };
        this.shown.set(line, w);
        this.fill(w, l);
        this.editor.addContentWidget(widget);
      } else {
        this.fill(w, l);
      }
    }
  }

  clear(): void {
    for (const w of this.shown.values()) this.editor.removeContentWidget(w.widget);
    this.shown.clear();
    this.leadLayer.replaceChildren();
  }

  dispose(): void {
    this.clear();
    this.editor.removeOverlayWidget(this.leadWidget);
    for (const s of this.subscriptions) s.dispose();
  }

  /** No mark: no text and not a `line-stat` (what the page and its tests count as a mark). */
  private blank(w: Shown): void {
    w.forms = [];
    this.place(w);
  }

  /** In place: a new text node (textContent) is a layout object removed and one added, per seek. */
  private setText(node: HTMLSpanElement, text: string): void {
    const t = node.firstChild;
    if (t instanceof Text) {
      if (t.data !== text) t.data = text;
    } else if (text !== '') {
      node.textContent = text;
    }
  }

  private fill(w: Shown, l: LineStat): void {
    w.forms = lineStatForms(l);
    w.hits = l.hits > 0;
    this.place(w);
  }

  private placeAll(): void {
    for (const w of this.shown.values()) this.place(w);
  }

  /** After a vertical scroll, only the counts in the overlay move: Monaco places its widgets. */
  private placeLeads(): void {
    for (const w of this.shown.values()) if (w.leadText !== '') this.placeLead(w);
  }

  /**
   * After its line; or pinned to the text area's right edge, over the line's comment, in the
   * widest form that leaves the code whole ("5,000 exits", "5k×"); or, with no room for "5k×"
   * beside the code, in its indentation; or, when the code itself runs past the edge, short over
   * its end; else not shown (`placeCounts`).
   */
  private place(w: Shown): void {
    let text = '';
    let shift = 0;
    let cut = false;
    let sb = 0;
    let form = 0;
    let lead = false;
    let gapCh = 0;
    if (w.forms.length > 0) {
      const font = this.editor.getOption(monaco.editor.EditorOption.fontInfo);
      const layout = this.editor.getLayoutInfo();
      const start = this.editor.getScrollLeft();
      // The text area's right edge, short of the vertical scrollbar when the text has one: its
      // slider lies over the text when shown (it covered a pinned "1 exit"'s last letters).
      sb = this.editor.getScrollHeight() > layout.height ? layout.verticalScrollbarWidth : 0;
      const edge = start + layout.contentWidth - sb;
      // A monospace font's advance scales with its size: the counts' ch from the editor's.
      const ch = font.typicalHalfwidthCharacterWidth * FONT_PX / font.fontSize;
      const gutter = layout.contentLeft - layout.decorationsLeft - MARK_END_PX;
      const at = placeCounts(w.endPx, w.codeEndPx, w.indentPx, w.forms.map((f) => (f.text.length + f.gapCh) * ch), start, edge, gutter);
      form = at.form;
      text = w.forms[form].text;
      gapCh = w.forms[form].gapCh;
      shift = at.shift;
      lead = at.lead;
      cut = at.cut;
    }
    // Before the code, the counts are drawn in the overlay, and the widget stays blank.
    w.leadText = lead ? text : '';
    w.leadGap = lead ? `${gapCh}ch` : '';
    this.placeLead(w);
    if (lead) text = '';
    this.setText(w.node, text);
    const transform = shift > 0 && !lead ? `translateX(-${shift}px)` : '';
    if (transform !== w.transform) {
      w.transform = transform;
      w.node.style.transform = transform;
    }
    // The gap between the code and the counts, in their own ch, before them (the fade when
    // pinned). Pinned, their background runs on under the scrollbar, so no code shows between them.
    const padLeft = gapCh > 0 && !lead ? `${gapCh}ch` : '';
    const padRight = shift > 0 && sb > 0 && !lead ? `${sb}px` : '';
    if (`${padLeft}|${padRight}` !== w.padding) {
      w.padding = `${padLeft}|${padRight}`;
      w.node.style.paddingLeft = padLeft;
      w.node.style.paddingRight = padRight;
    }
    // Green when the text shows hits.
    const cls = text === '' ? '' : `line-stat${w.hits && form === 0 ? ' line-stat-hit' : ''}${shift > 0 ? ' line-stat-pinned' : ''}${cut ? ' line-stat-cut' : ''}`;
    if (w.node.className !== cls) w.node.className = cls;
  }

  /**
   * The counts before a line's code (`leadText`), ending where its code starts, their gap
   * between: in the overlay, at the line's top less the scroll, hidden when the line is not in
   * view (scrolled out, or folded).
   */
  private placeLead(w: Shown): void {
    const text = w.leadText;
    const padRight = w.leadGap;
    if (text === '' && !w.leadNode) return;
    const node = w.leadNode ?? this.makeLeadNode(w);
    const inView = text !== '' && this.editor.getVisibleRanges().some((r) => r.startLineNumber <= w.line && w.line <= r.endLineNumber);
    this.setText(node, inView ? text : '');
    const cls = inView ? 'line-stat line-stat-lead' : '';
    if (node.className !== cls) node.className = cls;
    if (!inView) return;
    const layout = this.editor.getLayoutInfo();
    const top = this.editor.getTopForLineNumber(w.line) - this.editor.getScrollTop();
    // Where the code starts: the node's left, which its CSS moves left by its own width.
    const codeStart = layout.contentLeft + w.indentPx - this.editor.getScrollLeft();
    const at = `${top}|${codeStart}|${padRight}`;
    if (at === w.leadAt) return;
    w.leadAt = at;
    node.style.top = `${top}px`;
    node.style.left = `${codeStart}px`;
    node.style.paddingRight = padRight;
  }

  private makeLeadNode(w: Shown): HTMLSpanElement {
    const node = w.node.cloneNode(false) as HTMLSpanElement;
    node.removeAttribute('style');
    node.style.lineHeight = w.node.style.lineHeight;
    node.style.fontFamily = w.node.style.fontFamily;
    node.style.fontSize = w.node.style.fontSize;
    node.className = '';
    this.leadLayer.append(node);
    w.leadNode = node;
    return node;
  }
}
