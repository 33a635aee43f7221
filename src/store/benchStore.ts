/**
 * The bench: the counters of every complete run the page made, one per (program, strategy,
 * cost preset, cache size), taken from the machine stores when a run ends by halting. A run
 * that was paused, stopped at a breakpoint, hit the instruction limit or stopped on an
 * unsupported instruction is not complete and never becomes a row.
 *
 * It is fed by subscribing to the machine stores (`watchBench`), not by a panel, so that rows
 * are recorded whether the bench panel is open or not.
 */
import { create } from 'zustand';
import type { Counters, Strategy } from '../worker/protocol';
import { runKey, type MachineStore } from './machineStore';

/** One complete run. */
export interface BenchRun {
  source: string;
  file: string;
  strategy: Strategy;
  preset: string;
  /** The cache capacity, for the strategy that has a cache; null for the others. */
  icacheSize: number | null;
  counters: Counters;
}

/** Runs kept (oldest dropped first): enough for every strategy and preset of a few programs. */
export const BENCH_CAPACITY = 64;

export function benchKey(r: Pick<BenchRun, 'source' | 'strategy' | 'preset' | 'icacheSize'>): string {
  return JSON.stringify([r.source, r.strategy, r.preset, r.icacheSize]);
}

interface BenchState {
  runs: BenchRun[];
  record(run: BenchRun): void;
  clear(): void;
}

export const useBenchStore = create<BenchState>()((set) => ({
  runs: [],
  record(run) {
    const key = benchKey(run);
    set((s) => ({ runs: [...s.runs.filter((r) => benchKey(r) !== key), run].slice(-BENCH_CAPACITY) }));
  },
  clear() {
    set({ runs: [] });
  },
}));

/**
 * Records the runs of `store` that end by halting, once per run: going back to the present after
 * a seek brings 'halted' again, with the same modeled counters but host time re-measured over
 * the seek's re-runs (the row's host ns/exit had moved). Returns the unsubscribe function.
 */
export function watchBench(store: MachineStore, bench = useBenchStore): () => void {
  /** The run (program load and start) last recorded. */
  let recorded = '';
  return store.subscribe((s, prev) => {
    if (s.stop === prev.stop || s.stop?.reason !== 'halted' || !s.program || !s.counters) return;
    const run = runKey(s);
    if (run === recorded) return;
    recorded = run;
    const { source, file, config } = s.program;
    bench.getState().record({
      source,
      file,
      strategy: config.strategy,
      preset: config.preset,
      icacheSize: config.strategy === 'icache' ? config.icacheSize : null,
      counters: s.counters,
    });
  });
}
