/**
 * The experiment's charts: the speed-up of icache and decode-assist per workload with the
 * seed's published figures drawn in (the 35–40% band, "no difference" marks), and the
 * sensitivity of the microbenchmark's speed-up to every cost constant that has a slider.
 */
import { memo, useMemo } from 'react';
import {
  Bar, BarChart, CartesianGrid, Legend, ReferenceArea, ReferenceDot, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis,
} from 'recharts';
import type { CostConstant, CostModel } from '../../core/cost';
import { SEED_BAND, SEED_FIGURES, type RunRecord } from '../../core/experiment';
import type { WorkloadRow } from '../../store/experimentModel';
import { CONSTANT_LABELS } from './labels';
import { bandText, charges, formatConstant, SENSITIVITY_STRATEGIES, sensitivity, type Sensitivity, type SensitivityStrategy } from './sensitivity';
import { sliderMax } from './sliders';

const axis = { fontSize: 10, stroke: 'currentColor', tick: { fill: 'currentColor', fontSize: 10 } } as const;
const tooltipStyle = { contentStyle: { background: 'var(--panel-2)', border: '1px solid var(--border)', fontSize: 11 }, labelStyle: { color: 'var(--text)' } };
const percentTick = (v: number) => `${v}%`;
const percentValue = (v: unknown) => `${Number(v).toFixed(1)}%`;
const SHORT: Readonly<Record<string, string>> = {
  'lapic-microbench': 'LAPIC micro', 'cpu-bound-timer': 'CPU + timer', 'syscall-loop': 'getuid loop', 'memory-copy': 'dd copy', 'boot-cold-path': 'boot',
};

/** A workload's axis label: "≈" while its bars are estimates (a guest that sees time, until its re-run ends), as the table marks them. */
function workloadLabel(r: WorkloadRow): string {
  const estimate = Object.values(r.cells).some((c) => c?.estimate);
  return `${estimate ? '≈ ' : ''}${SHORT[r.scenario] ?? r.scenario}`;
}

export const ResultChart = memo(function ResultChart({ rows }: { rows: WorkloadRow[] }) {
  const data = useMemo(() => rows.map((r) => ({
    workload: workloadLabel(r),
    scenario: r.scenario,
    icache: r.cells.icache ? r.cells.icache.speedup * 100 : null,
    'decode-assist': r.cells['decode-assist'] ? r.cells['decode-assist'].speedup * 100 : null,
  })), [rows]);
  const micro = rows.find((r) => r.scenario === 'lapic-microbench');
  const apicv = micro?.cells.apicv;
  return (
    <figure className="xp-chart" data-testid="experiment-chart">
      <figcaption>
        Speed-up over none (throughput), with the seed's figures: the shaded 35–40% band and ● “no difference” marks.
        {apicv && ` apicv is off this scale (microbenchmark ${(apicv.speedup * 100).toFixed(0)}%: its LAPIC accesses do not exit).`}
      </figcaption>
      <div className="xp-chart-body">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} margin={{ top: 6, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis dataKey="workload" {...axis} interval={0} />
            <YAxis {...axis} tickFormatter={percentTick} width={40} />
            <Tooltip {...tooltipStyle} formatter={percentValue} />
            <Legend wrapperStyle={{ fontSize: 10 }} />
            <ReferenceLine y={0} stroke="var(--muted)" />
            {/* No label on the band: drawn over the bars inside it (orange on blue) it read badly on
                a projector; the caption names the shaded band. */}
            {micro && <ReferenceArea x1={workloadLabel(micro)} x2={workloadLabel(micro)} y1={SEED_BAND[0] * 100} y2={SEED_BAND[1] * 100}
              fill="var(--warn)" fillOpacity={0.35} stroke="var(--warn)" ifOverflow="extendDomain" />}
            {rows.filter((r) => SEED_FIGURES[r.scenario]?.noDifference).map((r) => (
              <ReferenceDot key={r.scenario} x={workloadLabel(r)} y={0} r={5} fill="var(--warn)" stroke="var(--bg)"
                label={{ value: 'seed: no diff.', position: 'top', fontSize: 9, fill: 'var(--warn)' }} />
            ))}
            <Bar dataKey="icache" fill="var(--hit)" isAnimationActive={false} />
            <Bar dataKey="decode-assist" fill="var(--accent)" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
});

const CHART_W = 150;
const CHART_H = 62;
const PAD = { left: 26, right: 4, top: 4, bottom: 12 };
/** The grid's common speed-up scale, so slopes compare across constants; clipped beyond. */
const Y_MIN = -0.2;
const Y_MAX = 1.2;
const LINE_COLOR: Readonly<Record<SensitivityStrategy, string>> = { icache: 'var(--hit)', 'decode-assist': 'var(--accent)' };

/** One constant's small chart: a line per strategy, the seed's band shaded, the current value marked. */
const SensitivityMini = memo(function SensitivityMini({ s, now, max, focused }: { s: Sensitivity; now: number; max: number; focused: boolean }) {
  const w = CHART_W - PAD.left - PAD.right;
  const h = CHART_H - PAD.top - PAD.bottom;
  const x = (v: number) => PAD.left + (max > 0 ? (Math.min(v, max) / max) * w : 0);
  const y = (sp: number) => PAD.top + (1 - (Math.max(Y_MIN, Math.min(Y_MAX, sp)) - Y_MIN) / (Y_MAX - Y_MIN)) * h;
  const icache = s.lines.find((l) => l.strategy === 'icache');
  const summary = s.lines.map((l) => `${l.strategy}: ${percent(l.speedups[0])} at 0 to ${percent(l.speedups[l.speedups.length - 1])} at ${formatConstant(max)}; in the band for ${bandText(l.band)}`).join('. ');
  return (
    <div className={`xp-sens${focused ? ' focused' : ''}`} data-testid="sensitivity-chart" data-cost={s.constant} data-now={now}>
      <div className="xp-sens-title" title={`${CONSTANT_LABELS[s.constant]} (cost.ts: ${s.constant}), now ${formatConstant(now)}`}>{CONSTANT_LABELS[s.constant]}</div>
      <svg viewBox={`0 0 ${CHART_W} ${CHART_H}`} width={CHART_W} height={CHART_H} role="img" aria-label={`${CONSTANT_LABELS[s.constant]}: ${summary}`}>
        <rect x={PAD.left} y={y(SEED_BAND[1])} width={w} height={y(SEED_BAND[0]) - y(SEED_BAND[1])} fill="var(--warn)" fillOpacity={0.55} />
        {[0, 1].map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={PAD.left + w} y1={y(t)} y2={y(t)} stroke="var(--border)" />
            <text x={PAD.left - 3} y={y(t) + 3} textAnchor="end" className="xp-sens-tick">{t * 100}%</text>
          </g>
        ))}
        {s.lines.map((l) => (
          <polyline key={l.strategy} fill="none" stroke={LINE_COLOR[l.strategy]} strokeWidth={1.5}
            points={l.speedups.map((sp, i) => `${x(s.values[i]).toFixed(1)},${y(sp).toFixed(1)}`).join(' ')} />
        ))}
        <line x1={x(now)} x2={x(now)} y1={PAD.top} y2={PAD.top + h} stroke="var(--text)" strokeDasharray="3 2" />
        <text x={PAD.left} y={CHART_H - 2} className="xp-sens-tick">0</text>
        <text x={PAD.left + w} y={CHART_H - 2} textAnchor="end" className="xp-sens-tick">{formatConstant(max)}</text>
      </svg>
      <div className="xp-sens-band" data-testid="sensitivity-band" title="Values of this constant that put the microbenchmark's icache speed-up, read as throughput, inside the seed's 35–40%, the others as set">
        in band: {icache ? bandText(icache.band) : '–'}
      </div>
    </div>
  );
});

const percent = (x: number) => `${(x * 100).toFixed(0)}%`;

/**
 * How the microbenchmark's speed-up (icache and decode-assist over none) moves with every
 * constant that has a slider: one small chart each, on one scale; the constants neither run
 * charged are named, not charted (their lines would be flat).
 */
export function SensitivityGrid({ constants, model, presets, micro, focus }: {
  constants: readonly CostConstant[]; model: CostModel; presets: CostModel;
  micro: { none: RunRecord } & Partial<Record<SensitivityStrategy, RunRecord>>; focus: CostConstant;
}) {
  const runs = [micro.none, ...SENSITIVITY_STRATEGIES.flatMap((st) => (micro[st] ? [micro[st]] : []))];
  const charted = constants.filter((k) => charges(runs, k));
  const flat = constants.filter((k) => !charges(runs, k));
  return (
    <figure className="xp-chart xp-sens-grid" data-testid="experiment-sensitivity">
      <figcaption>
        How the microbenchmark&apos;s speed-up over none moves with each constant, from 0 to its slider&apos;s end, the others as set:
        <span className="xp-key" style={{ color: LINE_COLOR.icache }}> ━ icache</span>
        <span className="xp-key" style={{ color: LINE_COLOR['decode-assist'] }}> ━ decode-assist</span>;
        shaded: the seed&apos;s 35–40%; dashed: the value now; scale −20% to 120% (apicv, far above, is left out).
        “in band”: the values that put icache inside it.
      </figcaption>
      <div className="xp-sens-cells">
        {charted.map((k) => (
          <SensitivityMini key={k} s={sensitivity(micro.none, micro, model, k, sliderMax(presets[k]))} now={model[k]} max={sliderMax(presets[k])} focused={k === focus} />
        ))}
      </div>
      {flat.length > 0 && (
        <p className="xp-sens-flat muted" data-testid="sensitivity-flat">
          No effect on the microbenchmark (it never charges them): {flat.map((k) => CONSTANT_LABELS[k]).join(', ')}.
        </p>
      )}
    </figure>
  );
}
