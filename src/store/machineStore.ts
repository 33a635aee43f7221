/**
 * The machine as the UI sees it: mirrored from the Worker's per-frame events.
 * Components read one value per selector (or useShallow for derived lists) so a counter tick
 * re-renders only what shows it.
 */
import { create } from 'zustand';
import type { ExitEvent, StageName, StopInfo } from '../core/events';
import type { Counters, Diagnostic, LineMapEntry, MachineView, WorkerEvent } from '../worker/protocol';

/** The event log keeps at most this many exits (oldest dropped first). */
export const EXIT_LOG_CAPACITY = 200_000;
/** Chart history: one sample per frame batch, at most this many. */
export const HISTORY_CAPACITY = 600;

/** One chart sample, taken when a frame arrives. */
export interface HistorySample {
  /** Milliseconds since the run started (host time, for the x axis only). */
  t: number;
  retired: number;
  exits: number;
  exitsPerSec: number;
  byReasonPerSec: Record<string, number>;
  hitRate: number;
  cyclesPerExitByStage: Partial<Record<StageName, number>>;
  cyclesTotal: number;
}

export interface MachineState {
  ready: boolean;
  running: boolean;
  loaded: boolean;
  counters: Counters | null;
  view: MachineView | null;
  stop: StopInfo | null;
  banner: string | null;
  error: string | null;
  diagnostics: Diagnostic[];
  lineMap: LineMapEntry[];
  exitLines: number[];
  /** Append-only log (bounded); `exitLogVersion` bumps on every append so views can re-read. */
  exitLog: ExitEvent[];
  exitLogVersion: number;
  droppedExits: number;
  selectedExit: ExitEvent | null;
  history: HistorySample[];
  ingest(event: WorkerEvent): void;
  selectExit(exit: ExitEvent | null): void;
  clear(): void;
}

const emptyRun = () => ({
  running: false,
  counters: null,
  view: null,
  stop: null,
  banner: null,
  error: null,
  exitLog: [] as ExitEvent[], // replaced, never shared, on each load
  exitLogVersion: 0,
  droppedExits: 0,
  selectedExit: null,
  history: [] as HistorySample[],
});

let runStartedAt = 0;

function sample(prev: HistorySample | undefined, counters: Counters, exits: ExitEvent[], now: number): HistorySample {
  const t = now - runStartedAt;
  const dt = prev ? Math.max(1, t - prev.t) / 1000 : 1;
  const exitsDelta = prev ? counters.exits.total - prev.exits : counters.exits.total;
  const byReasonPerSec: Record<string, number> = {};
  for (const e of exits) byReasonPerSec[e.reason] = (byReasonPerSec[e.reason] ?? 0) + 1 / dt;
  const stageSums: Partial<Record<StageName, number>> = {};
  for (const e of exits) for (const s of e.stages) stageSums[s.name] = (stageSums[s.name] ?? 0) + s.cycles;
  const cyclesPerExitByStage: Partial<Record<StageName, number>> = {};
  for (const [k, v] of Object.entries(stageSums)) cyclesPerExitByStage[k as StageName] = exits.length ? v / exits.length : 0;
  const ic = counters.icache;
  return {
    t,
    retired: counters.retired,
    exits: counters.exits.total,
    exitsPerSec: exitsDelta / dt,
    byReasonPerSec,
    hitRate: ic.lookups ? ic.hits / ic.lookups : 0,
    cyclesPerExitByStage,
    cyclesTotal: counters.cycles.total,
  };
}

export const useMachineStore = create<MachineState>()((set, get) => ({
  ready: false,
  loaded: false,
  diagnostics: [],
  lineMap: [],
  exitLines: [],
  ...emptyRun(),

  ingest(event) {
    switch (event.type) {
      case 'ready':
        set({ ready: true });
        return;
      case 'diagnostics':
        set({ diagnostics: event.diagnostics });
        return;
      case 'loaded':
        runStartedAt = performance.now();
        set({
          ...emptyRun(),
          loaded: event.ok,
          diagnostics: event.diagnostics,
          lineMap: event.lineMap,
          exitLines: event.exitLines,
        });
        return;
      case 'frame': {
        const s = get();
        // The log is appended in place (copying 200k entries per frame would not keep up);
        // readers subscribe to exitLogVersion. Overflow drops the oldest tenth at once.
        const log = s.exitLog;
        for (const e of event.exits) log.push(e);
        if (log.length > EXIT_LOG_CAPACITY) log.splice(0, log.length - EXIT_LOG_CAPACITY + EXIT_LOG_CAPACITY / 10);
        const history = s.history.length >= HISTORY_CAPACITY ? s.history.slice(1) : s.history.slice();
        history.push(sample(s.history[s.history.length - 1], event.counters, event.exits, performance.now()));
        set({
          running: event.running,
          counters: event.counters,
          view: event.view,
          stop: event.stop,
          banner: event.banner ?? null,
          exitLog: log,
          exitLogVersion: s.exitLogVersion + (event.exits.length ? 1 : 0),
          droppedExits: s.droppedExits + event.droppedExits,
          history,
          // In step mode the newest exit is the one to show.
          selectedExit: !event.running && event.exits.length ? event.exits[event.exits.length - 1] : s.selectedExit,
        });
        return;
      }
      case 'exitDetail':
        set({ selectedExit: event.exit });
        return;
      case 'error':
        set({ error: event.message, running: false });
        return;
    }
  },
  selectExit(exit) {
    set({ selectedExit: exit });
  },
  clear() {
    set({ ...emptyRun() });
  },
}));
