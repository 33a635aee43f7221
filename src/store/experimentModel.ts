/**
 * What the experiment page shows, derived from its state: every workload × strategy cell under
 * the current cost model, with where each figure comes from.
 *
 * - 'run': the cell's own run, made under the current model;
 * - 'rerun': a re-run under the current model (a guest that saw time);
 * - 'exact': the run's units × the current constants (the guest never saw time: same path);
 * - 'estimate': units × constants for a guest that saw time, until its re-run arrives.
 */
import type { CostModel } from '../core/cost';
import { STRATEGIES, type Strategy } from '../core/events';
import { percent } from '../core/percent';
import { speedup, timeSaved, whatIfCycles, whyFigures, type RunRecord, type WhyFigures } from '../core/experiment';
import { cellKey, modelKey, type ExperimentState, type KeptRecord } from './experimentStore';

export type FigureSource = 'run' | 'rerun' | 'exact' | 'estimate';

export interface CellFigure {
  scenario: string;
  strategy: Strategy;
  /** Modeled cycles of the whole run under the current model. */
  cycles: number;
  /** Cycles of none ÷ cycles of this strategy − 1 (0 for none itself). */
  speedup: number;
  /** 1 − cycles of this strategy ÷ cycles of none. */
  timeSaved: number;
  source: FigureSource;
  /** The speed-up is an estimate (this cell's figure or none's is). */
  estimate: boolean;
  why: WhyFigures;
  record: RunRecord;
}

export interface WorkloadRow {
  scenario: string;
  cells: Partial<Record<Strategy, CellFigure>>;
}

function figureOf(kept: KeptRecord, rerun: KeptRecord | undefined, model: CostModel, key: string): Omit<CellFigure, 'speedup' | 'timeSaved' | 'estimate'> {
  const { record } = kept;
  if (kept.modelKey === key) {
    return { scenario: record.scenario, strategy: record.strategy, cycles: record.cycles.total, source: 'run', why: whyFigures(record, model), record };
  }
  if (rerun && rerun.modelKey === key) {
    const r = rerun.record;
    return { scenario: r.scenario, strategy: r.strategy, cycles: r.cycles.total, source: 'rerun', why: whyFigures(r, model), record: r };
  }
  return {
    scenario: record.scenario,
    strategy: record.strategy,
    cycles: whatIfCycles(record, model),
    source: record.sawTime ? 'estimate' : 'exact',
    why: whyFigures(record, model),
    record,
  };
}

/** The table under `model` (default: the state's current one). */
export function experimentRows(state: Pick<ExperimentState, 'workloads' | 'runs' | 'reruns' | 'model'>, model: CostModel = state.model): WorkloadRow[] {
  const key = modelKey(model);
  return state.workloads.map((scenario) => {
    const base: Partial<Record<Strategy, Omit<CellFigure, 'speedup' | 'timeSaved' | 'estimate'>>> = {};
    for (const strategy of STRATEGIES) {
      const k = cellKey(scenario, strategy);
      const kept = state.runs[k];
      if (kept) base[strategy] = figureOf(kept, state.reruns[k], model, key);
    }
    const none = base.none;
    const cells: Partial<Record<Strategy, CellFigure>> = {};
    for (const strategy of STRATEGIES) {
      const f = base[strategy];
      if (!f || !none) continue;
      cells[strategy] = {
        ...f,
        speedup: speedup(none.cycles, f.cycles),
        timeSaved: timeSaved(none.cycles, f.cycles),
        estimate: f.source === 'estimate' || none.source === 'estimate',
      };
    }
    return { scenario, cells };
  });
}

/** A speed-up as the table's data attribute: a plain decimal with three places (0.617). */
export function speedupAttr(s: number): string {
  return s.toFixed(3);
}

/** "+61.7%" / "−38.2%": a signed percentage with one decimal. */
export function signedPercent(x: number): string {
  const v = (x * 100).toFixed(1);
  return x < 0 && v !== '-0.0' ? `−${v.slice(1)}%` : `+${v.replace('-', '')}%`;
}

const STRATEGY_COLUMNS = STRATEGIES;

/** Exits per 1,000 instructions: two significant digits below 1 (the timer loop's 0.049 is not 0.0). */
export function exitsPerKiloText(x: number): string {
  return x === 0 ? '0' : x < 1 ? x.toPrecision(2) : x.toFixed(1);
}

/** The table as CSV: one line per workload × strategy, figures under the current model. */
export function experimentCsv(rows: readonly WorkloadRow[], costs: string): string {
  const head = ['workload', 'strategy', 'costs', 'modeled cycles', 'speed-up (none/strategy - 1)', 'time saved (1 - strategy/none)',
    'source', 'exits', 'guest instructions', 'exits per 1000 instructions', 'walk+fetch+decode share'];
  const lines = [head.join(',')];
  for (const row of rows) {
    for (const strategy of STRATEGY_COLUMNS) {
      const c = row.cells[strategy];
      if (!c) continue;
      lines.push([
        row.scenario, strategy, costs, String(Math.round(c.cycles)), speedupAttr(c.speedup), c.timeSaved.toFixed(3),
        c.estimate ? 'estimate' : c.source, String(c.record.exits), String(c.record.retired),
        c.why.exitsPerKiloInsn.toFixed(2), c.why.walkFetchDecodeShare.toFixed(3),
      ].join(','));
    }
  }
  return lines.join('\n') + '\n';
}

/** The table as Markdown: one row per workload, the speed-up of each strategy over none. */
export function experimentMarkdown(rows: readonly WorkloadRow[], costs: string): string {
  const others = STRATEGY_COLUMNS.filter((s) => s !== 'none');
  const lines = [
    `Modeled cycles (costs: ${costs}); speed-up = cycles of none ÷ cycles of the strategy − 1 (time saved in brackets).`,
    '',
    `| workload | none (cycles) | ${others.join(' | ')} | exits / 1,000 insns (none) | walk+fetch+decode share (none) |`,
    `|---|---:|${others.map(() => '---:').join('|')}|---:|---:|`,
  ];
  for (const row of rows) {
    const none = row.cells.none;
    if (!none) continue;
    const cells = others.map((s) => {
      const c = row.cells[s];
      return c ? `${signedPercent(c.speedup)} (${signedPercent(-c.timeSaved)})${c.estimate ? ' est.' : ''}` : '';
    });
    lines.push(`| ${row.scenario} | ${Math.round(none.cycles).toLocaleString('en-US')} | ${cells.join(' | ')} | ${exitsPerKiloText(none.why.exitsPerKiloInsn)} | ${percent(none.why.walkFetchDecodeShare)} |`);
  }
  return lines.join('\n') + '\n';
}
