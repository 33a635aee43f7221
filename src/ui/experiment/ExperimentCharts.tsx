/**
 * The experiment's charts: the speed-up of icache and decode-assist per workload with the
 * seed's published figures drawn in (the 35–40% band, "no difference" marks), and the
 * sensitivity of the microbenchmark's speed-up to one cost constant.
 */
import { memo, useMemo } from 'react';
import {
  Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ReferenceArea, ReferenceDot, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis,
} from 'recharts';
import type { CostConstant, CostModel } from '../../core/cost';
import { SEED_BAND, SEED_FIGURES, whatIfSpeedup, type RunRecord } from '../../core/experiment';
import type { WorkloadRow } from '../../store/experimentModel';
import { CONSTANT_LABELS } from './labels';
import { sliderMax } from './sliders';

const axis = { fontSize: 10, stroke: 'currentColor', tick: { fill: 'currentColor', fontSize: 10 } } as const;
const tooltipStyle = { contentStyle: { background: 'var(--panel-2)', border: '1px solid var(--border)', fontSize: 11 }, labelStyle: { color: 'var(--text)' } };
const percentTick = (v: number) => `${v}%`;
const percentValue = (v: unknown) => `${Number(v).toFixed(1)}%`;
const SHORT: Readonly<Record<string, string>> = {
  'lapic-microbench': 'LAPIC micro', 'cpu-bound-timer': 'CPU + timer', 'syscall-loop': 'getuid loop', 'memory-copy': 'dd copy', 'boot-cold-path': 'boot',
};

export const ResultChart = memo(function ResultChart({ rows }: { rows: WorkloadRow[] }) {
  const data = useMemo(() => rows.map((r) => ({
    workload: SHORT[r.scenario] ?? r.scenario,
    scenario: r.scenario,
    icache: r.cells.icache ? r.cells.icache.speedup * 100 : null,
    'decode-assist': r.cells['decode-assist'] ? r.cells['decode-assist'].speedup * 100 : null,
  })), [rows]);
  const apicv = rows.find((r) => r.scenario === 'lapic-microbench')?.cells.apicv;
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
            <ReferenceArea x1={SHORT['lapic-microbench']} x2={SHORT['lapic-microbench']} y1={SEED_BAND[0] * 100} y2={SEED_BAND[1] * 100}
              fill="var(--warn)" fillOpacity={0.35} stroke="var(--warn)" label={{ value: 'seed 35–40%', position: 'insideTopRight', fontSize: 10, fill: 'var(--warn)' }} ifOverflow="extendDomain" />
            {rows.filter((r) => SEED_FIGURES[r.scenario]?.noDifference).map((r) => (
              <ReferenceDot key={r.scenario} x={SHORT[r.scenario]} y={0} r={5} fill="var(--warn)" stroke="var(--bg)"
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

const POINTS = 41;

export const SensitivityChart = memo(function SensitivityChart({ constant, model, none, icache, presetValue }: {
  constant: CostConstant; model: CostModel; none: RunRecord; icache: RunRecord; presetValue: number;
}) {
  const max = sliderMax(presetValue);
  const data = useMemo(() => Array.from({ length: POINTS }, (_, i) => {
    const v = (max * i) / (POINTS - 1);
    return { v, speedup: whatIfSpeedup(none, icache, { ...model, [constant]: v }) * 100 };
  }), [max, none, icache, model, constant]);
  return (
    <figure className="xp-chart small" data-testid="experiment-sensitivity">
      <figcaption>
        Microbenchmark speed-up (icache over none) as <b>{CONSTANT_LABELS[constant]}</b> moves, the other constants as set; shaded: the seed's band.
        Focus a slider to chart its constant.
      </figcaption>
      <div className="xp-chart-body">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={data} margin={{ top: 6, right: 10, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis dataKey="v" type="number" domain={[0, max]} {...axis} tickFormatter={(v: number) => (v >= 1000 ? `${(v / 1000).toFixed(1)}k` : String(Number(v.toFixed(2))))} />
            <YAxis {...axis} tickFormatter={percentTick} width={40} />
            <Tooltip {...tooltipStyle} formatter={percentValue} labelFormatter={(v) => `${constant} = ${Number(v).toFixed(2)}`} />
            <ReferenceArea y1={SEED_BAND[0] * 100} y2={SEED_BAND[1] * 100} fill="var(--warn)" fillOpacity={0.3} ifOverflow="extendDomain" />
            <ReferenceLine x={model[constant]} stroke="var(--accent)" strokeDasharray="4 2" label={{ value: 'now', position: 'top', fontSize: 9, fill: 'var(--accent)' }} />
            <Line dataKey="speedup" stroke="var(--hit)" dot={false} isAnimationActive={false} name="speed-up" />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
});
