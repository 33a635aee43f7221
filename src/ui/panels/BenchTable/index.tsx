/**
 * The bench of the current program: the latest counters under each strategy it ran with
 * (kept while the program's text stays the same), with the speed-up against `none`.
 */
import { useEffect } from 'react';
import { create } from 'zustand';
import { STRATEGIES, type Counters, type Strategy } from '../../../worker/protocol';
import { useUiStore } from '../../../store/uiStore';
import type { MachineState } from '../../../store/machineStore';
import { useMachineThrottled, useOwnSide } from '../useMachine';
import { compact, int, pct } from '../lib/format';
import { benchRows } from './benchModel';
import '../panels.css';

interface BenchState {
  program: string;
  results: Partial<Record<Strategy, Counters>>;
  record(program: string, strategy: Strategy, c: Counters): void;
}

const useBench = create<BenchState>()((set) => ({
  program: '',
  results: {},
  record(program, strategy, c) {
    set((s) => (s.program === program ? { results: { ...s.results, [strategy]: c } } : { program, results: { [strategy]: c } }));
  },
}));

const selectCounters = (s: MachineState) => s.counters;

export default function BenchTable({ strategy: strategyProp }: { strategy?: Strategy }) {
  const counters = useMachineThrottled(selectCounters, 500);
  const uiStrategy = useUiStore((s) => s.strategy);
  const program = useUiStore((s) => s.source);
  const ownSide = useOwnSide();
  const strategy = strategyProp ?? ownSide?.strategy ?? uiStrategy;
  const results = useBench((s) => s.results);
  useEffect(() => {
    if (counters && counters.retired > 0) useBench.getState().record(program, strategy, counters);
  }, [counters, program, strategy]);
  const rows = benchRows(results, STRATEGIES);
  return (
    <section className="xs-panel" aria-label="Bench" data-testid="bench-table">
      {rows.length === 0 ? <div className="xs-empty">Run the program; each strategy you run it with adds a row.</div> : (
        <table className="xs-bench">
          <thead>
            <tr>
              <th>strategy</th><th>guest insns</th><th>exits</th><th>hit rate</th><th title="modeled VMM cycles per exit">cycles/exit</th>
              <th title="modeled cycles per guest instruction, guest + VMM">cycles/insn</th><th title="cycles per instruction of none / this">vs none</th>
              <th title="measured host time of this emulator's VMM per exit">host ns/exit</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.strategy} className={r.strategy === strategy ? 'xs-selected' : undefined}>
                <td>{r.strategy}</td><td>{compact(r.retired)}</td><td>{compact(r.exits)}</td><td>{r.hitRate === null ? '—' : pct(r.hitRate)}</td>
                <td>{int(r.cyclesPerExit)}</td><td>{r.cpi.toFixed(2)}</td>
                <td>{r.speedup === null ? '—' : `${r.speedup.toFixed(2)}×`}</td><td>{int(r.hostNsPerExit)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="xs-note">Modeled cycles (cost preset) and measured host time are separate clocks and never mixed.</div>
    </section>
  );
}
