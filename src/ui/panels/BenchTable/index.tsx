/**
 * The bench of the current program: one row per complete run (strategy, cost preset, cache
 * size; recorded by src/store/benchStore whatever panel is open), with the speed-up against
 * `none` under the same preset. A run that has not ended by halting adds no row.
 */
import { STRATEGIES, type Strategy } from '../../../worker/protocol';
import { useUiStore } from '../../../store/uiStore';
import { useBenchStore } from '../../../store/benchStore';
import { selectTimelineAt } from '../../../store/selectors';
import { useMachine, useOwnSide } from '../useMachine';
import { compact, counted, int, pct } from '../lib/format';
import { benchRows, ROUGH_BELOW_STEPS, type BenchRow } from './benchModel';
import { clockTickNs } from './clockTick';
import '../panels.css';

/** µs with no needless decimals: 100, 5, 0.1. */
const us = (ns: number) => String(Number((ns / 1000).toPrecision(3)));

/** Host ns per exit, marked ≈ where the clock's steps make it rough (see `hostClockSteps`). */
function HostTimeCell({ r }: { r: BenchRow }) {
  if (r.hostNsPerExit === null || r.hostClockSteps === null) return <td>–</td>;
  const steps = r.hostClockSteps;
  const rough = steps < ROUGH_BELOW_STEPS;
  const clock = `the page's clock steps by ${us(clockTickNs())} µs; this run's timed exits spanned about ${int(steps)} of its steps`;
  const title = rough ? `Rough: ${clock}, so the figure is good to about ±${Math.round(100 / Math.sqrt(Math.max(1, steps)))} % (a longer run measures it better)` : `Measured: ${clock}`;
  return <td title={title} data-rough={rough || undefined}>{rough ? '≈' : ''}{int(r.hostNsPerExit)}</td>;
}

export default function BenchTable({ strategy: strategyProp }: { strategy?: Strategy }) {
  const uiStrategy = useUiStore((s) => s.strategy);
  const ownSide = useOwnSide();
  const strategy = strategyProp ?? ownSide?.strategy ?? uiStrategy;
  const program = useMachine((s) => s.program);
  // A run to come adds its row when it halts. Not one that halted, nor one the timeline shows at a
  // past exit: a halted run's row is in the table already (at its past exits the machine reads
  // 'paused', and the note said the run would add a row it had added).
  const settled = useMachine((s) => s.stop?.reason === 'halted' || selectTimelineAt(s) !== null);
  const runs = useBenchStore((s) => s.runs);
  const rows = program ? benchRows(runs, program.source, STRATEGIES, clockTickNs()) : [];
  const current = program?.config;
  const isCurrent = (r: { strategy: Strategy; preset: string; icacheSize: number | null }) =>
    !!current && r.strategy === current.strategy && r.preset === current.preset && (r.icacheSize === null || r.icacheSize === current.icacheSize);
  return (
    <section tabIndex={0} className="xs-panel" aria-label="Bench" data-testid="bench-table">
      {rows.length === 0 ? <div className="xs-empty">Run the program to its end; each strategy and cost preset you run it with adds a row.</div> : (
        <table className="xs-bench">
          <thead>
            <tr>
              <th>strategy</th>
              <th title="the program and the cost preset the row was run with">program · costs</th>
              <th>guest insns</th><th>exits</th><th>hit rate</th>
              <th title="modeled cycles one exit costs: VM exit + entry, the VMM's work and the interrupts it injects at VM entry, per exit">cycles per exit handled</th>
              <th title="modeled cycles per guest instruction: guest, VMM and, under APICv, the LAPIC accesses the CPU completed without an exit">cycles/insn</th>
              <th title="cycles per instruction of none / this, same program and cost preset">vs none</th>
              <th title="measured host time of this emulator's VMM per exit it emulated (mmio, write-protect faults, APIC writes; 1 in 16 timed); ≈ where the page's clock is too coarse for the run to measure it well; – when it emulated none">host ns/exit</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} className={isCurrent(r) ? 'xs-selected' : undefined} data-testid="bench-row" data-strategy={r.strategy} data-preset={r.preset}>
                <td>{r.strategy}{r.icacheSize !== null && <span className="xs-note"> ({r.icacheSize})</span>}</td>
                <td className="xs-bench-program">{r.file} · {r.preset}</td>
                <td>{compact(r.retired)}</td>
                <td title={r.virtualized ? `${counted(r.exits, 'exit')}; ${counted(r.virtualized, 'APIC access', 'APIC accesses')} completed in the CPU without an exit` : undefined}>
                  {compact(r.exits)}{r.virtualized > 0 && <span className="xs-note"> +{compact(r.virtualized)} virtualized</span>}
                </td>
                <td>{r.hitRate === null ? '–' : pct(r.hitRate)}</td>
                <td>{r.cyclesPerExit === null ? '–' : int(r.cyclesPerExit)}</td>
                <td>{r.cpi.toFixed(2)}</td>
                <td>{r.speedup === null ? '–' : `${r.speedup.toFixed(2)}×`}</td>
                <HostTimeCell r={r} />
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {program && !settled && rows.length > 0 && (
        <div className="xs-note">The current run ({strategy}, {program.config.preset}) adds its row when it halts.</div>
      )}
      <div className="xs-note">Modeled cycles (cost preset) and measured host time are separate clocks and never mixed.</div>
    </section>
  );
}
