/**
 * The editor's RIP line: an arrow in the glyph margin and a band across the line, as two Monaco
 * widgets. As a decoration, every move of RIP (each seek of the timeline, each beat of a run)
 * made Monaco rebuild the render data of every visible line (ViewLines.onDecorationsChanged
 * invalidates them all) and re-render its overlays; a widget moves alone.
 */
import { monaco } from './monacoSetup';

const HOVER = 'RIP: the next instruction to run';

export class RipMarker {
  /** The line shown, or null. */
  private line: number | null = null;
  private readonly arrow = document.createElement('div');
  private readonly band = document.createElement('div');
  private readonly arrowWidget: monaco.editor.IGlyphMarginWidget;
  private readonly bandWidget: monaco.editor.IOverlayWidget;
  private readonly subscriptions: monaco.IDisposable[];

  constructor(private readonly editor: monaco.editor.IStandaloneCodeEditor) {
    this.arrow.className = 'rip-glyph';
    this.arrow.title = HOVER;
    // The band lies over the text: it must not take the pointer from it.
    this.band.className = 'rip-line';
    this.band.style.pointerEvents = 'none';
    this.band.style.display = 'none';
    this.arrowWidget = {
      getId: () => 'exitscope.rip.arrow',
      getDomNode: () => this.arrow,
      getPosition: () => {
        const line = this.line ?? 1;
        return { lane: monaco.editor.GlyphMarginLane.Center, zIndex: 10, range: new monaco.Range(line, 1, line, 1) };
      },
    };
    this.bandWidget = {
      getId: () => 'exitscope.rip.band',
      getDomNode: () => this.band,
      getPosition: () => ({ preference: this.bandPosition() }),
    };
    editor.addOverlayWidget(this.bandWidget);
    this.subscriptions = [
      editor.onDidScrollChange((e) => { if (e.scrollTopChanged) this.placeBand(); }),
      editor.onDidLayoutChange(() => this.placeBand()),
    ];
  }

  /** Shows RIP on `line` (1-based), or nowhere; `of` names the vCPU when there are several ("VM 1's vCPU 0"). */
  show(line: number | null, of: string | null = null): void {
    const title = of === null ? HOVER : `RIP of ${of}: the next instruction it runs`;
    if (this.arrow.title !== title) this.arrow.title = title;
    if (line === this.line) return;
    const was = this.line;
    this.line = line;
    this.band.dataset.line = line === null ? '' : String(line);
    if (line === null) {
      if (was !== null) this.editor.removeGlyphMarginWidget(this.arrowWidget);
      this.band.style.display = 'none';
      return;
    }
    if (was === null) this.editor.addGlyphMarginWidget(this.arrowWidget);
    else this.editor.layoutGlyphMarginWidget(this.arrowWidget);
    this.band.style.display = '';
    this.placeBand();
  }

  dispose(): void {
    this.show(null);
    this.editor.removeOverlayWidget(this.bandWidget);
    for (const s of this.subscriptions) s.dispose();
  }

  private bandPosition(): monaco.editor.IOverlayWidgetPositionCoordinates {
    const line = this.line ?? 1;
    return { top: this.editor.getTopForLineNumber(line) - this.editor.getScrollTop(), left: this.editor.getLayoutInfo().contentLeft };
  }

  private placeBand(): void {
    if (this.line === null) return;
    const info = this.editor.getLayoutInfo();
    this.band.style.width = `${info.contentWidth}px`;
    this.band.style.height = `${this.editor.getOption(monaco.editor.EditorOption.lineHeight)}px`;
    this.editor.layoutOverlayWidget(this.bandWidget);
  }
}
