/**
 * Live charts from the store's history (one sample per worker frame): exits per second by
 * reason, cache hit rate, modeled cycles per exit stacked by stage, and cumulative modeled cycles
 * against guest instructions retired, A against B (the flatter line is the cheaper strategy). Animations off, re-rendered at most every CHART_MS_* (one chart per animation frame), at most
 * MAX_POINTS points per series. Export as CSV (all samples) or PNG (each chart).
 *
 * A/B: the first side given is the panel's own: its three charts and its CSV are that side's;
 * the comparison chart shows every side of MachineSidesContext (the shell provides it in A/B
 * mode), or the `sides` passed in; without either the charts show the current side's store alone.
 */
import { memo, useEffect, useMemo, useRef, useState, type ReactElement } from 'react';
import type { StageName } from '../../../core/events';
import {
  Area, AreaChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis,
} from 'recharts';
import type { HistorySample, MachineState } from '../../../store/machineStore';
import { useMachine, useMachineSides, useMachineThrottled, useOwnSide, useStoresThrottled } from '../useMachine';
import { compact } from '../lib/format';
import { HIT_COLOR, REASON_COLOR, STAGE_COLOR, STAGE_LABEL } from '../lib/stages';
import { downloadBlob, downloadText, svgToPng } from '../lib/exportImage';
import { chartRows, downsample, historyToCsv, reasonsOf, stagesOf, type ChartRow } from './chartData';
import '../panels.css';

/**
 * Chart refresh period while the machine runs (recharts re-renders cost tens of ms per chart),
 * and when it does not. Idle is not faster: runs that end and start again several times a second
 * (Run after the end, breakpoints, quick steps) would otherwise refresh all four charts each time.
 * The throttle keeps its clock, so the first change after a quiet second shows at once.
 */
const CHART_MS_RUNNING = 1000;
const CHART_MS_IDLE = 1000;
const MAX_POINTS = 120;
/** Charts share the panel's height (two by two when it is wide enough), but never shrink below this. */
const MIN_H = 110;
const SIDE_COLORS = ['#3f8fdc', '#e67e22', '#2ecc71', '#d0508a'];

export interface ChartSide {
  label: string;
  history: readonly HistorySample[];
}

const selectHistory = (s: MachineState) => s.history;
const axis = { fontSize: 10, stroke: 'currentColor', tick: { fill: 'currentColor', fontSize: 10 } } as const;
const tooltipStyle = { contentStyle: { background: 'var(--xs-bg2)', border: '1px solid var(--xs-line)', fontSize: 11 }, labelStyle: { color: 'var(--xs-fg)' } };

function ChartBox({ title, testid, name, children }: { title: string; testid: string; name: string; children: ReactElement }) {
  const ref = useRef<HTMLDivElement | null>(null);
  const png = async () => {
    const svg = ref.current?.querySelector('.recharts-wrapper > svg.recharts-surface');
    if (!(svg instanceof SVGSVGElement) || !ref.current) return;
    const bg = getComputedStyle(ref.current).backgroundColor || '#ffffff';
    downloadBlob(await svgToPng(svg, bg === 'rgba(0, 0, 0, 0)' ? '#ffffff' : bg), `exitscope-${name}.png`);
  };
  return (
    <div className="xs-chart" data-testid={testid} ref={ref}>
      <div className="xs-chart-title">{title}<button type="button" className="xs-btn xs-right" onClick={() => void png()} title="Save this chart as PNG">PNG</button></div>
      <div className="xs-chart-body"><ResponsiveContainer width="100%" height="100%" minHeight={MIN_H}>{children}</ResponsiveContainer></div>
    </div>
  );
}

interface SeriesData {
  rows: ChartRow[];
  reasons: string[];
  stages: StageName[];
}
type Cumulative = { label: string; rows: { retired: number; cycles: number }[] }[];

const margin = { top: 4, right: 8, bottom: 0, left: 0 };
const timeAxis = { dataKey: 't', type: 'number', domain: ['dataMin', 'dataMax'], tickFormatter: (v: number) => `${v.toFixed(v < 10 ? 1 : 0)}s` } as const;
const seconds = (v: unknown) => `${Number(v).toFixed(1)} s`;
// Props are module constants, not inline: recharts stores axis, legend and tooltip settings in its
// own store and dispatches again (re-rendering the chart) whenever one changes identity.
const compactTick = (v: number) => compact(v);
const compactValue = (v: unknown) => compact(Number(v));
const percentTick = (v: number) => `${v}%`;
const percentValue = (v: unknown) => `${Number(v).toFixed(1)}%`;
const instructionsLabel = (v: unknown) => `${compact(Number(v))} instructions`;
const legendStyle = { fontSize: 10 };
const percentDomain = [0, 100];
const dataDomain = ['dataMin', 'dataMax'];

// Each chart is its own component and takes new data in turn, at most one chart per animation
// frame: a recharts update costs tens of ms (its store dispatches re-render synchronously in the
// commit, so a deferred or transition render does not split it), and four at once would drop
// several frames in a row.
const turns: (() => void)[] = [];
let turnScheduled = false;
function nextTurn() {
  turnScheduled = false;
  turns.shift()?.();
  if (turns.length > 0) {
    turnScheduled = true;
    requestAnimationFrame(nextTurn);
  }
}

/** `value`, taken over when this chart's turn comes (one chart per animation frame). */
function useInTurn<T>(value: T): T {
  const [shown, setShown] = useState(value);
  useEffect(() => {
    if (Object.is(value, shown)) return;
    const job = () => setShown(() => value);
    turns.push(job);
    if (!turnScheduled) {
      turnScheduled = true;
      requestAnimationFrame(nextTurn);
    }
    return () => {
      const i = turns.indexOf(job);
      if (i >= 0) turns.splice(i, 1);
    };
  }, [value, shown]);
  return shown;
}

const ExitsChart = memo(function ExitsChart({ data: urgent }: { data: SeriesData }) {
  const data = useInTurn(urgent);
  return (
    <ChartBox title="exits per second, by reason" testid="chart-exits" name="exits">
      <AreaChart data={data.rows} margin={margin}>
        <CartesianGrid strokeOpacity={0.15} />
        <XAxis {...timeAxis} {...axis} />
        <YAxis width={44} tickFormatter={compactTick} {...axis} />
        <Tooltip {...tooltipStyle} formatter={compactValue} labelFormatter={seconds} />
        <Legend wrapperStyle={legendStyle} />
        {data.reasons.map((r) => (
          <Area key={r} type="monotone" dataKey={`r:${r}`} name={r} stackId="r" stroke={REASON_COLOR[r] ?? '#888'} fill={REASON_COLOR[r] ?? '#888'} fillOpacity={0.5} isAnimationActive={false} dot={false} />
        ))}
      </AreaChart>
    </ChartBox>
  );
});

const HitRateChart = memo(function HitRateChart({ data: urgent }: { data: SeriesData }) {
  const data = useInTurn(urgent);
  return (
    <ChartBox title="instruction-cache hit rate" testid="chart-hitrate" name="hit-rate">
      <LineChart data={data.rows} margin={margin}>
        <CartesianGrid strokeOpacity={0.15} />
        <XAxis {...timeAxis} {...axis} />
        <YAxis width={44} domain={percentDomain} tickFormatter={percentTick} {...axis} />
        <Tooltip {...tooltipStyle} formatter={percentValue} labelFormatter={seconds} />
        <Line type="monotone" dataKey="hitRate" name="hit rate" stroke={HIT_COLOR} dot={false} isAnimationActive={false} strokeWidth={2} />
      </LineChart>
    </ChartBox>
  );
});

const CyclesChart = memo(function CyclesChart({ data: urgent }: { data: SeriesData }) {
  const data = useInTurn(urgent);
  return (
    <ChartBox title="modeled cycles per exit, by stage" testid="chart-cycles" name="cycles">
      <AreaChart data={data.rows} margin={margin}>
        <CartesianGrid strokeOpacity={0.15} />
        <XAxis {...timeAxis} {...axis} />
        <YAxis width={44} tickFormatter={compactTick} {...axis} />
        <Tooltip {...tooltipStyle} formatter={compactValue} labelFormatter={seconds} />
        <Legend wrapperStyle={legendStyle} />
        {data.stages.map((st) => (
          <Area key={st} type="stepAfter" dataKey={`s:${st}`} name={STAGE_LABEL[st]} stackId="s" stroke={STAGE_COLOR[st]} fill={STAGE_COLOR[st]} fillOpacity={0.6} isAnimationActive={false} dot={false} />
        ))}
      </AreaChart>
    </ChartBox>
  );
});

const AbChart = memo(function AbChart({ sides: urgent }: { sides: Cumulative }) {
  const sides = useInTurn(urgent);
  return (
    <ChartBox title={`cumulative modeled cycles by guest instructions retired${sides.length > 1 ? `: ${sides.map((s) => s.label).join(' vs ')}` : ''}`} testid="chart-ab" name="ab">
      <LineChart margin={margin}>
        <CartesianGrid strokeOpacity={0.15} />
        <XAxis dataKey="retired" type="number" domain={dataDomain} tickFormatter={compactTick} {...axis} />
        <YAxis width={44} tickFormatter={compactTick} {...axis} />
        <Tooltip {...tooltipStyle} formatter={compactValue} labelFormatter={instructionsLabel} />
        <Legend wrapperStyle={legendStyle} />
        {sides.map((s, i) => (
          <Line key={s.label} data={s.rows} dataKey="cycles" name={s.label} stroke={SIDE_COLORS[i % SIDE_COLORS.length]} dot={false} isAnimationActive={false} strokeWidth={2} />
        ))}
      </LineChart>
    </ChartBox>
  );
});

const ChartsView = memo(function ChartsView({ sides }: { sides: readonly ChartSide[] }) {
  const empty = sides.every((s) => s.history.length === 0);
  // Once shown, the charts stay mounted, hidden and not re-rendered while empty: a new run
  // starts with no samples, and mounting four recharts charts again per run costs far more.
  const [src, setSrc] = useState(sides);
  if (!empty && src !== sides) setSrc(sides);
  const data = useMemo((): SeriesData => {
    const sampled = downsample(src[0]?.history ?? [], MAX_POINTS);
    const reasons = reasonsOf(sampled);
    const stages = stagesOf(sampled);
    return { rows: chartRows(sampled, reasons, stages), reasons, stages };
  }, [src]);
  const cumulative = useMemo((): Cumulative => src.map((s) => ({
    label: s.label,
    rows: downsample(s.history, MAX_POINTS).map((h) => ({ retired: h.retired, cycles: h.cyclesTotal })),
  })), [src]);
  if (src.every((s) => s.history.length === 0)) return <div className="xs-empty">Charts fill in while the machine runs.</div>;
  return (
    <>
    {empty && <div className="xs-empty">Charts fill in while the machine runs.</div>}
    <div className="xs-charts" style={empty ? { visibility: 'hidden' } : undefined}>
      <ExitsChart data={data} />
      <HitRateChart data={data} />
      <CyclesChart data={data} />
      <AbChart sides={cumulative} />
    </div>
    </>
  );
});

/** A side label as a file-name part: "B none" -> "B-none". */
const csvName = (label: string) => label.replace(/[^\w-]+/g, '-').replace(/^-|-$/g, '');

export default function Charts({ sides }: { sides?: readonly ChartSide[] }) {
  const running = useMachine((s) => s.running);
  const ms = running ? CHART_MS_RUNNING : CHART_MS_IDLE;
  const fullHistory = useMachineThrottled(selectHistory, ms);
  // Time travel: looking at exit k, the charts end at k.
  const at = useMachine((s) => s.timeline?.at ?? null);
  const history = useMemo(() => (at === null ? fullHistory : fullHistory.filter((h) => h.exits <= at)), [fullHistory, at]);
  // A/B: when the shell says which sides run, the comparison chart shows every side.
  const machineSides = useMachineSides();
  const ownSide = useOwnSide();
  const stores = useMemo(() => (machineSides ?? []).map((s) => s.store), [machineSides]);
  const histories = useStoresThrottled(stores, selectHistory, ms);
  const shown = useMemo((): readonly ChartSide[] => {
    if (sides) return sides;
    if (!machineSides || machineSides.length < 2) return [{ label: 'A', history }];
    // Own side first (its charts), then the others for the A-vs-B chart.
    const all = machineSides.map((s, i) => ({ label: `${s.label} (${s.strategy})`, history: s === ownSide ? history : histories[i] ?? [] }));
    const own = ownSide ? machineSides.indexOf(ownSide) : -1;
    if (own > 0) all.unshift(...all.splice(own, 1));
    return all;
  }, [sides, machineSides, histories, history, ownSide]);
  return (
    <section tabIndex={0} className="xs-panel xs-charts-panel" aria-label="Charts">
      <div className="xs-toolbar">
        <span className="xs-note">{shown[0]?.history.length ?? 0} samples</span>
        <button
          type="button"
          className="xs-btn xs-right"
          data-testid="export-csv"
          title={`Save ${shown.length > 1 ? `side ${shown[0]?.label ?? ''}'s` : 'the'} chart history as CSV`}
          onClick={() => downloadText(historyToCsv(shown.slice(0, 1)), `exitscope-history${shown.length > 1 ? `-${csvName(shown[0]?.label ?? '')}` : ''}.csv`)}
        >CSV</button>
      </div>
      <ChartsView sides={shown} />
    </section>
  );
}
