/**
 * Live charts from the store's history (the Worker samples the counters every stride-th exit,
 * worker/chartPoints.ts), all over guest instructions retired: exits so far by reason, cache hit
 * rate, modeled cycles per exit stacked by stage, and cumulative modeled cycles, A against B
 * (the flatter line is the cheaper strategy). Paced by exits and drawn over instructions, a
 * chart is the same in every run of a program, and time travel cuts it at the exit shown.
 * Drawn on canvases (canvasChart.ts: a redraw costs well under a millisecond, where a recharts
 * update cost tens), at most every CHART_MS_*, at most MAX_POINTS points per series. Export as
 * CSV (all samples) or PNG (each chart).
 *
 * A/B: the panel's own side comes first: its three charts and its CSV are that side's; the
 * comparison chart shows every side of MachineSidesContext (the shell provides it in A/B mode),
 * each read through useStoresLive; without it the charts show the current side's store alone.
 */
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { StageName } from '../../../core/events';
import type { HistorySample, MachineState } from '../../../store/machineStore';
import { selectTimelineAt } from '../../../store/selectors';
import { useUiStore } from '../../../store/uiStore';
import { useMachine, useMachineLive, useMachineSides, useOwnSide, useStoresLive } from '../useMachine';
import { compact, counted, int } from '../lib/format';
import { HIT_COLOR, REASON_COLOR, STAGE_COLOR, STAGE_LABEL } from '../lib/stages';
import { downloadBlob, downloadText } from '../lib/exportImage';
import { prepareCanvas } from '../lib/prepareCanvas';
import { TextLayer } from '../lib/textLayer';
import { domainOf, drawChart, type ChartSpec } from './canvasChart';
import { chartRows, cyclesVersus, downsample, downsampledPrefix, exitsPerThousand, historyToCsv, reasonsOf, samplesUpTo, stagesOf, type ChartRow } from './chartData';
import '../panels.css';

/**
 * Chart refresh period while the machine runs (the other side's history in A/B mode too);
 * stopped, stepping or seeking, the panel's own charts follow the store at once, so the frame
 * that says 'halted' draws the run's last samples.
 */
const CHART_MS = 500;
const NO_HISTORY: readonly HistorySample[] = [];
const MAX_POINTS = 120;
const SIDE_COLORS = ['#3f8fdc', '#e67e22', '#2ecc71', '#d0508a'];

export interface ChartSide {
  label: string;
  /** The samples shown: the whole history, or its first ones at a past exit (a prefix of `full`). */
  history: readonly HistorySample[];
  /** The run's whole history: at a past exit the charts keep its axes. */
  full: readonly HistorySample[];
  /** The side's place in the shell (A first): its colour, the same in every pane. */
  slot: number;
  /**
   * At a past exit, the machine as shown there (its counters): the last sample before it is up
   * to a stride of exits older, and the A/B legend had read its cycles as the side's at k.
   */
  atShown?: { retired: number; cycles: number };
}

const selectHistory = (s: MachineState) => s.history;
const selectCounters = (s: MachineState) => s.counters;

/** A titled chart drawn on a canvas that follows its box's size, with an HTML legend and PNG export. */
/** `legendFirst`: the legend above the plot (the A/B comparison: in a short pane it names the sides where the plot is cut). */
/** `values`: a figure per series, after its name in the legend. `note`: said over the plot, when it has nothing to draw. */
/** `about`: the title's tooltip, when the title alone does not say what the chart counts. */
function ChartBox({ title, about, testid, name, spec, legendFirst = false, values, note }: { title: string; about?: string; testid: string; name: string; spec: ChartSpec; legendFirst?: boolean; values?: readonly string[]; note?: string }) {
  const box = useRef<HTMLDivElement | null>(null);
  const canvas = useRef<HTMLCanvasElement | null>(null);
  const [size, setSize] = useState<{ w: number; h: number }>({ w: 0, h: 0 });
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setSize({ w: Math.floor(el.clientWidth), h: Math.floor(el.clientHeight) }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const theme = useUiStore((s) => s.theme); // App sets it on <html> in a layout effect, before this one reads the colour
  const ink = useRef<{ theme: string; color: string } | null>(null);
  const [labels] = useState(() => new TextLayer());
  useEffect(() => {
    const c = canvas.current;
    if (!c || size.w === 0 || size.h === 0) return;
    // Read the ink colour again only when the theme changed (the read forces a style pass).
    if (ink.current?.theme !== theme) ink.current = { theme, color: getComputedStyle(c).color };
    const g = prepareCanvas(c, size.w, size.h);
    if (g) drawChart(g, spec, size.w, size.h, ink.current.color, labels);
  }, [spec, size, theme, labels]);
  // The instructions the x axis spans (its labels), for tests: at a past exit, still the whole run's.
  const xRange = useMemo(() => (spec.xDomain ?? domainOf(spec).x).join('..'), [spec]);
  const png = () => {
    const c = canvas.current;
    if (!c || !box.current) return;
    const bg = getComputedStyle(box.current).backgroundColor;
    const out = document.createElement('canvas');
    out.width = c.width;
    out.height = c.height;
    const g = out.getContext('2d');
    if (!g) return;
    g.fillStyle = !bg || bg === 'rgba(0, 0, 0, 0)' ? '#ffffff' : bg;
    g.fillRect(0, 0, out.width, out.height);
    g.drawImage(c, 0, 0);
    out.toBlob((b) => { if (b) downloadBlob(b, `exitscope-${name}.png`); }, 'image/png');
  };
  // Always there (one line tall at least): a legend that appeared with a run's second series resized the chart mid-run.
  const legend = (
    <div className="xs-legend xs-chart-legend">
      {spec.series.map((x, i) => <span key={x.name}><i style={{ background: x.color }} />{x.name}{values?.[i] && <b className="xs-legend-value"> {values[i]}</b>}</span>)}
    </div>
  );
  return (
    <div className="xs-chart" data-testid={testid} data-points={spec.series.map((x) => x.xs.length).join(',')} data-x-range={xRange}>
      <div className="xs-chart-title"><span className="xs-chart-name" title={about ? `${title}: ${about}` : title}>{title}</span><button type="button" className="xs-btn xs-right" onClick={png} title="Save this chart as PNG">PNG</button></div>
      {legendFirst && legend}
      <div className="xs-chart-body" ref={box}>
        <canvas ref={canvas} className="xs-chart-canvas" role="img" aria-label={note ? `${title}: ${note}` : title} style={{ width: size.w, height: size.h }} />
        {note && <div className="xs-chart-note"><span data-testid={`${testid}-note`}>{note}</span></div>}
      </div>
      {!legendFirst && legend}
    </div>
  );
}

interface SeriesData {
  rows: ChartRow[];
  reasons: string[];
  stages: StageName[];
}
type Cumulative = { label: string; slot: number; rows: { retired: number; cycles: number }[] }[];

const percent = (v: number) => `${v}%`;
const ORIGIN = { retired: 0, cycles: 0 };
const HIT_DOMAIN = [0, 100] as const;

/**
 * `build`'s spec of the samples shown, on the axes of the whole run's (`whole`): at a past exit
 * the plot ends there and its frame stays the run's, so moving along the timeline neither
 * rescales the axes nor redraws their labels (their text drawn anew was most of a chart's cost
 * in a seek). Pass a module-level `build`.
 */
function useFramedSpec<D>(build: (d: D) => ChartSpec, data: D, whole: D): ChartSpec {
  // The whole run's spec with its frame, once per run's data (not per seek): at the present it
  // is what is drawn, so the frame a first seek needs is made when the run stops, not in the seek.
  const wholeSpec = useMemo(() => {
    const spec = build(whole);
    const frame = domainOf(spec);
    return { ...spec, xDomain: frame.x, yDomain: frame.y };
  }, [build, whole]);
  return useMemo(() => (data === whole ? wholeSpec : { ...build(data), xDomain: wholeSpec.xDomain, yDomain: wholeSpec.yDomain }), [build, data, whole, wholeSpec]);
}

const exitsSpec = (data: SeriesData): ChartSpec => ({
  kind: 'area', stacked: true, formatX: compact, formatY: compact,
  // Counts from the origin (no instruction, no exit), like the cumulative cycles.
  series: data.reasons.map((r) => ({ name: r, color: REASON_COLOR[r] ?? '#888', xs: [0, ...data.rows.map((row) => row.retired)], ys: [0, ...data.rows.map((row) => row[`r:${r}`] ?? 0)] })),
});

/** The samples taken after a lookup: before the first there is no hit rate to plot (not 0 %). */
const hasHitRate = (row: ChartRow): boolean => row.hitRate !== null;
const looked = (data: SeriesData): ChartRow[] => data.rows.filter(hasHitRate);

const hitRateSpec = (data: SeriesData): ChartSpec => {
  const rows = looked(data);
  const all = data.rows;
  return {
    kind: 'line', stacked: false, formatX: compact, formatY: percent, yDomain: HIT_DOMAIN,
    // Over every sample's instructions, as the charts beside it (and axes to say so over, without a lookup).
    xDomain: all.length ? [all[0].retired, all[all.length - 1].retired] : undefined,
    series: [{ name: 'hit rate', color: HIT_COLOR, xs: rows.map((row) => row.retired), ys: rows.map((row) => row.hitRate ?? 0) }],
  };
};

const cyclesSpec = (data: SeriesData): ChartSpec => ({
  kind: 'step', stacked: true, formatX: compact, formatY: compact,
  series: data.stages.map((st) => ({ name: STAGE_LABEL[st], color: STAGE_COLOR[st], xs: data.rows.map((row) => row.retired), ys: data.rows.map((row) => row[`s:${st}`] ?? 0) })),
});

const abSpec = (sides: Cumulative): ChartSpec => ({
  kind: 'line', stacked: false, formatX: compact, formatY: compact,
  series: sides.map((x) => ({ name: x.label, color: SIDE_COLORS[x.slot % SIDE_COLORS.length], xs: x.rows.map((r) => r.retired), ys: x.rows.map((r) => r.cycles) })),
});

/** `density`: exits per 1,000 instructions of the machine as shown (the stats strip's exits over its instructions retired). */
function ExitsChart({ data, whole, density }: { data: SeriesData; whole: SeriesData; density: string | null }) {
  const spec = useFramedSpec(exitsSpec, data, whole);
  // The figure and its unit first: the narrowest chart (a 240 px column, ~199 px of title) shows
  // "0.025 exits per 1,000 instructions" whole (186 px) and cuts only what the plot shows anyway.
  return <ChartBox title={density === null ? 'exits so far, by reason' : `${density} exits per 1,000 instructions · so far, by reason`} testid="chart-exits" name="exits" spec={spec} />;
}

function HitRateChart({ data, whole, strategy }: { data: SeriesData; whole: SeriesData; strategy: string }) {
  const spec = useFramedSpec(hitRateSpec, data, whole);
  // A run that never looked up has no hit rate: say so over empty axes rather than draw a line
  // at 0 %. Only icache looks up (exitPath.ts, handleInstEmul).
  const note = whole.rows.length === 0 || whole.rows.some(hasHitRate) ? undefined
    : strategy === 'icache' ? 'No instruction-cache lookups in this run: no exit emulated an instruction'
    : `No lookups: only icache looks instructions up (this run: ${strategy || 'another strategy'})`;
  return <ChartBox title="instruction-cache hit rate" testid="chart-hitrate" name="hit-rate" spec={spec} note={note} />;
}

function CyclesChart({ data, whole }: { data: SeriesData; whole: SeriesData }) {
  const spec = useFramedSpec(cyclesSpec, data, whole);
  return <ChartBox title="modeled cycles per exit, by stage" about="VM exit + entry includes the interrupts injected at VM entry; emulate leaves out the LAPIC accesses APICv completed without an exit" testid="chart-cycles" name="cycles" spec={spec} />;
}

function AbChart({ sides, whole }: { sides: Cumulative; whole: Cumulative }) {
  const spec = useFramedSpec(abSpec, sides, whole);
  // A/B: the pane's own side against the other, where both stand at the same instruction count.
  const [own, other] = sides;
  const versus = sides.length === 2 && own.rows.length > 0 && other.rows.length > 0 ? cyclesVersus(own.rows[own.rows.length - 1], other.rows[other.rows.length - 1]) : null;
  const title = `cumulative modeled cycles${versus === null ? '' : ` · ${own.label} ${versus} ${other.label}`}`;
  // The two figures the title compares, by each side's name: an A/B side's stats strip has no
  // room for its run cycles. Only where the comparison is exact, as the title's.
  const values = versus === null ? undefined : sides.map((x) => `${int(x.rows[x.rows.length - 1].cycles)} cyc`);
  // One line in an A/B pane: its legend, above the plot there, names the sides.
  return <ChartBox title={title} testid="chart-ab" name="ab" spec={spec} legendFirst={sides.length > 1} values={values} />;
}

function seriesData(sampled: readonly HistorySample[]): SeriesData {
  const reasons = reasonsOf(sampled);
  const stages = stagesOf(sampled);
  return { rows: chartRows(sampled, reasons, stages), reasons, stages };
}

/** Each side's cumulative cycles over the samples `sample` picks of it. */
function cumulativeOf(sides: readonly ChartSide[], sample: (s: ChartSide) => readonly HistorySample[]): Cumulative {
  return sides.map((s) => {
    const picked = sample(s);
    const rows = picked.length ? [ORIGIN, ...picked.map((h) => ({ retired: h.retired, cycles: h.cyclesTotal }))] : [];
    // The machine as shown, where it stands past the last sample (a past exit; see `atShown`).
    if (rows.length && s.atShown && s.atShown.retired > rows[rows.length - 1].retired) rows.push(s.atShown);
    return {
      label: s.label,
      slot: s.slot,
      // From the origin: a run starts at no instruction and no cycle (under APICv, lapic-microbench
      // exits three times, all at its end: its line began there).
      rows,
    };
  });
}

/** `strategy`: the own side's, for what its hit-rate chart says when the run looked nothing up. */
const ChartsView = memo(function ChartsView({ sides, emptyNote, density, strategy }: { sides: readonly ChartSide[]; emptyNote: string; density: string | null; strategy: string }) {
  const empty = sides.every((s) => s.history.length === 0);
  // Once shown, the charts stay mounted, hidden and not re-rendered while empty: a new run
  // starts with no samples, and mounting four charts again per run costs more.
  const [src, setSrc] = useState(sides);
  if (!empty && src !== sides) setSrc(sides);
  // Every side shows all its samples (no past exit): the charts draw the whole run, on its own axes.
  const whole = src.every((s) => s.history.length === s.full.length);
  const own = src[0]?.full ?? NO_HISTORY;
  const ownShown = src[0]?.history.length ?? 0;
  const wholeData = useMemo(() => seriesData(downsample(own, MAX_POINTS)), [own]);
  const data = useMemo(() => (ownShown === own.length ? wholeData : seriesData(downsampledPrefix(own, ownShown, MAX_POINTS))), [own, ownShown, wholeData]);
  const wholeCumulative = useMemo(() => cumulativeOf(src, (s) => downsample(s.full, MAX_POINTS)), [src]);
  const cumulative = useMemo(() => (whole ? wholeCumulative : cumulativeOf(src, (s) => downsampledPrefix(s.full, s.history.length, MAX_POINTS))), [src, whole, wholeCumulative]);
  if (src.every((s) => s.history.length === 0)) return <div className="xs-empty">{emptyNote}</div>;
  return (
    <>
    {empty && <div className="xs-empty">{emptyNote}</div>}
    <div className="xs-charts" style={empty ? { visibility: 'hidden' } : undefined}>
      {/* A/B: the comparison is what the mode is for; first, where a short pane shows one chart. */}
      {src.length > 1 && <AbChart sides={cumulative} whole={wholeCumulative} />}
      <ExitsChart data={data} whole={wholeData} density={density} />
      <HitRateChart data={data} whole={wholeData} strategy={strategy} />
      <CyclesChart data={data} whole={wholeData} />
      {src.length === 1 && <AbChart sides={cumulative} whole={wholeCumulative} />}
    </div>
    </>
  );
});

/**
 * What an empty chart area says. Looking back at exit k before the first sample (a run that
 * retired instructions before its first exit, seen at exit 0) is not "nothing ran yet".
 */
function emptyNote(at: number | null, fullHistory: readonly HistorySample[]): string {
  const first = fullHistory[0];
  if (at !== null && first) return `No chart sample up to exit ${int(at)}: the first was taken at exit ${int(first.exits)}.`;
  return 'Charts fill in while the machine runs.';
}

const samplesText = (n: number) => counted(n, 'sample');

/** A side label as a file-name part: "B none" -> "B-none". */
const csvName = (label: string) => label.replace(/[^\w-]+/g, '-').replace(/^-|-$/g, '');

export default function Charts() {
  const fullHistory = useMachineLive(selectHistory, CHART_MS) ?? NO_HISTORY;
  // Time travel: looking at exit k, the charts end at k. The samples come in exit order, so
  // that is a prefix; a seek that keeps the same prefix keeps the same array, and the charts
  // draw nothing (a redraw's fillText laid the whole page out inside the seek's commit).
  const at = useMachine(selectTimelineAt);
  // At a past exit the last sample is the one after the exit before (the vCPU ran on to exit k
  // since): the figure is the machine's as shown, the strip's 9 exits in 25 instructions, not 9 in 24.
  const counters = useMachineLive(selectCounters, CHART_MS);
  const density = counters ? exitsPerThousand(counters.exits.total, counters.retired) : null;
  const cut = at === null ? fullHistory.length : samplesUpTo(fullHistory, at);
  const history = useMemo(() => (cut === fullHistory.length ? fullHistory : fullHistory.slice(0, cut)), [fullHistory, cut]);
  // A/B: when the shell says which sides run, the comparison chart shows every side.
  const machineSides = useMachineSides();
  const ownSide = useOwnSide();
  const strategy = useMachine((s) => s.program?.config.strategy ?? null);
  const stores = useMemo(() => (machineSides ?? []).map((s) => s.store), [machineSides]);
  const histories = useStoresLive(stores, selectHistory, CHART_MS);
  // Each side as it is shown: one side may stand at a past exit while the other is at its end
  // (apicv has 3 exits where icache has 20,003: a seek to exit 10,001 leaves it at its end).
  const ats = useStoresLive(stores, selectTimelineAt, CHART_MS);
  const sideCounters = useStoresLive(stores, selectCounters, CHART_MS);
  const shown = useMemo((): readonly ChartSide[] => {
    // One machine: its series is named by its strategy (a lone "A" in the legend said nothing).
    if (!machineSides || machineSides.length < 2) return [{ label: strategy ?? 'this run', history, full: fullHistory, slot: 0 }];
    // Own side first (its charts), then the others for the A-vs-B chart, each cut at its exit shown.
    const asShown = (h: readonly HistorySample[] = [], k: number | null = null) => (k === null ? h : h.slice(0, samplesUpTo(h, k)));
    const shownAt = (i: number) => {
      const c = sideCounters[i];
      return ats[i] === null || !c ? undefined : { retired: c.retired, cycles: c.cycles.total };
    };
    const all = machineSides.map((s, i) => ({
      label: `${s.label} ${s.strategy}`,
      history: s === ownSide ? history : asShown(histories[i], ats[i]),
      full: s === ownSide ? fullHistory : histories[i] ?? NO_HISTORY,
      slot: i,
      atShown: shownAt(i),
    }));
    const own = ownSide ? machineSides.indexOf(ownSide) : -1;
    if (own > 0) all.unshift(...all.splice(own, 1));
    return all;
  }, [machineSides, histories, ats, sideCounters, history, fullHistory, ownSide, strategy]);
  return (
    <section tabIndex={0} className="xs-panel xs-charts-panel" aria-label="Charts">
      <div className="xs-toolbar">
        <span className="xs-note" title="The counters after every exit, or every 2nd, 4th… in a long run (at most 256 samples, the same exits in every run of the program), and as the machine stands now">{samplesText(shown[0]?.history.length ?? 0)} · x: guest instructions retired</span>
        <button
          type="button"
          className="xs-btn xs-right"
          data-testid="export-csv"
          title={`Save ${shown.length > 1 ? `side ${shown[0]?.label ?? ''}'s` : 'the'} chart history as CSV`}
          onClick={() => downloadText(historyToCsv(shown.slice(0, 1)), `exitscope-history${shown.length > 1 ? `-${csvName(shown[0]?.label ?? '')}` : ''}.csv`)}
        >CSV</button>
      </div>
      <ChartsView sides={shown} emptyNote={emptyNote(at, fullHistory)} density={density} strategy={strategy ?? ''} />
    </section>
  );
}
