/**
 * A small chart drawn on a canvas: axes with round ticks, stacked areas, steps or lines. The
 * live charts use it instead of recharts, whose every update cost tens of milliseconds of
 * main-thread work (React re-renders its SVG tree); a canvas redraw of 120 points costs well under
 * one. Geometry (ticks, stacking, scales) is pure and tested; `drawChart` does the drawing.
 */
import type { TextLayer } from '../lib/textLayer';

export interface ChartSeries {
  name: string;
  color: string;
  xs: readonly number[];
  ys: readonly number[];
}

export type ChartKind = 'area' | 'step' | 'line';

export interface ChartSpec {
  kind: ChartKind;
  /** Areas and steps stack their series bottom to top, in order. */
  stacked: boolean;
  series: readonly ChartSeries[];
  /** Fixed y range (hit rate: 0..100; a whole run's, travelling); otherwise 0..the data's maximum. */
  yDomain?: readonly [number, number];
  /** Fixed x range (a whole run's, travelling); otherwise the data's. */
  xDomain?: readonly [number, number];
  formatX(v: number): string;
  formatY(v: number): string;
}

/**
 * Round tick values covering [min, max]: steps of 1, 2 or 5 times a power of ten, about `count`
 * of them, and never fewer than two (a step past the range left a chart with "0" alone, no scale).
 */
export function niceTicks(min: number, max: number, count = 4): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max <= min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const steps = [0.5, 1, 2, 5, 10].map((m) => m * mag);
  let i = steps.findIndex((s) => s >= raw);
  const ticksOf = (step: number) => {
    const out: number[] = [];
    for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
    return out;
  };
  let out = ticksOf(steps[i]);
  while (out.length < 2 && i > 0) out = ticksOf(steps[--i]);
  return out;
}

/** Cumulative ys, series by series (each series' top edge when stacked); xs must agree. */
export function stackSeries(series: readonly ChartSeries[]): ChartSeries[] {
  const out: ChartSeries[] = [];
  let below: readonly number[] | null = null;
  for (const s of series) {
    const base: readonly number[] | null = below;
    const ys: number[] = s.ys.map((y, i) => y + (base?.[i] ?? 0));
    out.push({ ...s, ys });
    below = ys;
  }
  return out;
}

export interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** The drawing frame: plot area inside the canvas and the data ranges it maps. */
export function frameOf(spec: ChartSpec, widthPx: number, heightPx: number, stacked: readonly ChartSeries[]): Frame {
  let x0 = Infinity;
  let x1 = -Infinity;
  let yMax = 0;
  for (const s of stacked) {
    for (const x of s.xs) { if (x < x0) x0 = x; if (x > x1) x1 = x; }
    for (const y of s.ys) if (y > yMax) yMax = y;
  }
  if (spec.xDomain) [x0, x1] = spec.xDomain;
  if (!Number.isFinite(x0)) { x0 = 0; x1 = 1; }
  if (x1 === x0) x1 = x0 + 1;
  const [y0, y1] = spec.yDomain ?? [0, yMax > 0 ? yMax : 1];
  const left = 46;
  const top = 6;
  return { left, top, width: Math.max(1, widthPx - left - 10), height: Math.max(1, heightPx - top - 18), x0, x1, y0, y1 };
}

/**
 * The data ranges `spec`'s frame spans. Another spec drawn with them (xDomain, yDomain) keeps
 * this one's axes: a chart cut at a past exit keeps the whole run's, and a seek redraws no label.
 */
export function domainOf(spec: ChartSpec): { x: readonly [number, number]; y: readonly [number, number] } {
  const f = frameOf(spec, 100, 100, spec.stacked ? stackSeries(spec.series) : spec.series);
  return { x: [f.x0, f.x1], y: [f.y0, f.y1] };
}

export const px = (f: Frame, x: number) => f.left + ((x - f.x0) / (f.x1 - f.x0)) * f.width;
export const py = (f: Frame, y: number) => f.top + f.height - ((y - f.y0) / (f.y1 - f.y0 || 1)) * f.height;

/** One tick label: text, anchor, alignment ('right': a y label, 'end': an x label ending at x). */
export type Label = readonly [text: string, x: number, y: number, align: 'right' | 'center' | 'end'];
/** An x label centred closer than this to the canvas's right edge would be cut: it ends at the edge. */
const X_LABEL_HALF = 24;

const LABEL_FONT = '10px system-ui, sans-serif';

function paintLabels(g: OffscreenCanvasRenderingContext2D, labels: readonly Label[], ink: string): void {
  g.fillStyle = ink;
  for (const [text, x, y, align] of labels) {
    g.textAlign = align === 'end' ? 'right' : align;
    g.textBaseline = align === 'right' ? 'middle' : 'top';
    g.fillText(text, x, y);
  }
}

/** The tick labels of the axes, where they go on a canvas `widthPx` wide. */
export function tickLabels(spec: ChartSpec, f: Frame, widthPx: number, yTicks: readonly number[], xTicks: readonly number[]): Label[] {
  // A tick whose label reads as the one before it (a range narrower than the format's
  // precision: "40.0k 40.0k") keeps its grid line but loses its label.
  const distinct = (l: Label, i: number, all: Label[]) => i === 0 || l[0] !== all[i - 1][0];
  return [
    ...yTicks.map((t): Label => [spec.formatY(t), f.left - 5, py(f, t), 'right']).filter(distinct),
    ...xTicks.map((t): Label => {
      const x = px(f, t);
      return x + X_LABEL_HALF > widthPx ? [spec.formatX(t), widthPx - 1, f.top + f.height + 4, 'end'] : [spec.formatX(t), x, f.top + f.height + 4, 'center'];
    }).filter(distinct),
  ];
}

/**
 * Draws the chart on a cleared canvas (prepareCanvas); `ink` is the text and axis colour. The
 * tick labels go through `text` (an OffscreenCanvas copied in: a page canvas's fillText lays the
 * page out first, inside the commit of every timeline seek that moved the charts' end).
 */
export function drawChart(g: CanvasRenderingContext2D, spec: ChartSpec, widthPx: number, heightPx: number, ink: string, text: TextLayer): void {
  const stacked = spec.stacked ? stackSeries(spec.series) : [...spec.series];
  const f = frameOf(spec, widthPx, heightPx, stacked);
  g.fillStyle = ink;
  g.strokeStyle = ink;
  // Grid and tick labels.
  g.globalAlpha = 0.15;
  g.lineWidth = 1;
  const yTicks = niceTicks(f.y0, f.y1, Math.max(2, Math.min(5, Math.floor(f.height / 28))));
  const xTicks = niceTicks(f.x0, f.x1, Math.max(2, Math.min(6, Math.floor(f.width / 70))));
  g.beginPath();
  for (const t of yTicks) { const y = Math.round(py(f, t)) + 0.5; g.moveTo(f.left, y); g.lineTo(f.left + f.width, y); }
  for (const t of xTicks) { const x = Math.round(px(f, t)) + 0.5; g.moveTo(x, f.top); g.lineTo(x, f.top + f.height); }
  g.stroke();
  g.globalAlpha = 1;
  const labels = tickLabels(spec, f, widthPx, yTicks, xTicks);
  text.draw(g, `${ink}|${labels.join('|')}`, widthPx, heightPx, (t) => {
    t.font = LABEL_FONT;
    paintLabels(t, labels, ink);
  });
  // Series: areas from the one below (or the axis), then the top edge.
  const path = (s: ChartSeries) => {
    for (let i = 0; i < s.xs.length; i++) {
      const x = px(f, s.xs[i]);
      const y = py(f, s.ys[i]);
      if (i === 0) g.moveTo(x, y);
      else {
        if (spec.kind === 'step') g.lineTo(x, py(f, s.ys[i - 1]));
        g.lineTo(x, y);
      }
    }
  };
  g.save();
  g.beginPath();
  g.rect(f.left, f.top - 1, f.width + 1, f.height + 2);
  g.clip();
  stacked.forEach((s, k) => {
    if (s.xs.length === 0) return;
    if (spec.kind !== 'line') {
      const below = spec.stacked && k > 0 ? stacked[k - 1] : null;
      g.beginPath();
      path(s);
      for (let i = s.xs.length - 1; i >= 0; i--) {
        const yb = below ? below.ys[i] : f.y0;
        if (spec.kind === 'step' && i < s.xs.length - 1) g.lineTo(px(f, s.xs[i + 1]), py(f, yb));
        g.lineTo(px(f, s.xs[i]), py(f, yb));
      }
      g.closePath();
      g.globalAlpha = 0.5;
      g.fillStyle = s.color;
      g.fill();
      g.globalAlpha = 1;
    }
    g.beginPath();
    path(s);
    g.strokeStyle = s.color;
    g.lineWidth = spec.kind === 'line' ? 2 : 1.25;
    g.stroke();
  });
  g.restore();
}
