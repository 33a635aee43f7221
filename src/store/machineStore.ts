/**
 * The machine as the UI sees it: mirrored from the Worker's per-frame events.
 * Components read one value per selector (or useShallow for derived lists) so a counter tick
 * re-renders only what shows it.
 *
 * There is one store per machine the page runs: `createMachineStore()` makes one, and
 * `MachineStoreContext` says which one a subtree shows (A/B mode runs two side by side).
 * `useMachineStore(selector)` reads the store of the nearest context, or the default store
 * (`defaultMachineStore`, side A) outside any; `useMachineStore.getState()` and friends are the
 * default store's, so imperative code outside React keeps working. Inside React, use
 * `useMachineStoreApi()` for the store of the current side.
 */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { exitCycles, type ExitEvent, type ExitReason, type StageName, type StopInfo } from '../core/events';
import type { ChartPoint, Counters, Diagnostic, LineMapEntry, MachineView, RunConfig, TimelineView, WorkerEvent } from '../worker/protocol';
import { reuseUnchanged } from './viewReuse';
import { mergeExits } from './exitLogMerge';

/** The event log keeps at most this many exits (oldest dropped first). */
export const EXIT_LOG_CAPACITY = 200_000;
/**
 * One chart sample: the counters after an exit the Worker sampled (ChartPoints: every
 * stride-th exit, the same in every run of the program), or as the machine stood at a frame.
 */
export interface HistorySample {
  /** Milliseconds since the program was loaded (host time, the CSV's only). */
  t: number;
  retired: number;
  exits: number;
  /** Exits by reason since the run started (the Worker's counters: every exit, listed or not). */
  exitsByReason: Partial<Record<ExitReason, number>>;
  /** Instruction-cache hits / lookups so far; null before the first lookup (none looks nothing up): not a 0 % hit rate. */
  hitRate: number | null;
  /** Modeled cycles per exit by stage over the exits since the sample before (from stageCycles). */
  cyclesPerExitByStage: Partial<Record<StageName, number>>;
  /** Modeled cycles of every exit since the run started, by stage (the Worker's counters). */
  stageCycles: Partial<Record<StageName, number>>;
  cyclesTotal: number;
}

/**
 * The counters' cycles by exit stage: what the exits' stages charged, summed. `emulate` less the
 * APICv accesses that did not exit; `exit` includes injecting interrupts at VM entry.
 */
export function stageCyclesOf(c: Counters): Record<StageName, number> {
  const y = exitCycles(c);
  return {
    exit: y.exit, icache: y.lookup, walk: y.walk, fetch: y.fetch, decode: y.decode, insert: y.insert,
    protect: y.protect, emulate: y.emulate, invalidate: y.invalidate, device: y.device,
  };
}

/**
 * The Worker's health as the MachineClient sees it: 'starting' until its first message,
 * 'crashed' after an error event, 'unresponsive' when it stopped sending frames while running.
 * Only Reset (which recreates the Worker) leaves 'crashed' and 'unresponsive'.
 */
export type WorkerStatus = 'starting' | 'ready' | 'crashed' | 'unresponsive';

/**
 * Which run a state's figures are of: a new load (`runId`) or a start or resume (`starts`) makes
 * another (the bench keys its rows by it too).
 */
export const runKey = (s: Pick<MachineState, 'runId' | 'starts'>): string => `${s.runId}:${s.starts}`;

/** The Worker is dead or hung: only Reset (a new Worker) helps. */
export const isWorkerFailed = (status: WorkerStatus): boolean => status === 'crashed' || status === 'unresponsive';

/** What a machine was last told to load: every counter and view of the store is about it. */
export interface LoadedProgram {
  source: string;
  file: string;
  config: RunConfig;
}

export interface MachineState {
  ready: boolean;
  running: boolean;
  loaded: boolean;
  workerStatus: WorkerStatus;
  counters: Counters | null;
  view: MachineView | null;
  stop: StopInfo | null;
  banner: string | null;
  error: string | null;
  diagnostics: Diagnostic[];
  lineMap: LineMapEntry[];
  exitLines: number[];
  /** Lines with a memory access the VMM could not emulate (bhyve's decoder refuses it), with why. */
  unemulable: { line: number; why: string }[];
  /** Append-only log (bounded); `exitLogVersion` bumps on every append so views can re-read. */
  exitLog: ExitEvent[];
  exitLogVersion: number;
  droppedExits: number;
  selectedExit: ExitEvent | null;
  /**
   * The exit was picked while the machine ran: the stop keeps it selected (the Worker then sends
   * its walk) instead of selecting the run's last exit, which would lose the pick.
   */
  pickedWhileRunning: boolean;
  /**
   * The exit picked last, until the Worker's 'picked' answer: the events before that answer
   * answer commands sent before the pick (a Next exit's frame, a seek's answer), and they do not
   * select another exit over it (the user's latest choice stands). Null once answered.
   */
  pickPending: number | null;
  /**
   * The exit a run's stop selected (its last) and the run's rate just before it stopped
   * (`selectShownWhole`: a run shown as rates ends on its exit drawn whole); null after a step,
   * a new run or a load.
   */
  runEnd: { seq: number; exitsPerSec: number } | null;
  /** The charts' samples, in exit order (the Worker's, replaced by each frame that carries them). */
  history: HistorySample[];
  /** Exits per second of host time since the frame before, while running, else 0 (the pipeline and walk pace their animation by it). */
  exitsPerSec: number;
  /** The program and config the counters, views and log belong to (null before the first load). */
  program: LoadedProgram | null;
  /**
   * True from a load (or reset) until the Worker says 'loaded': frames still in flight from the
   * machine before are dropped, so no number of the old program shows beside the new one.
   */
  awaitingLoad: boolean;
  /**
   * True from a load of the program whose run the store shows (Run after the end, Reset) until
   * the Worker's answer: the run's figures, views, log, charts and timeline stay, as the previous
   * run (the page marks them so: aria-busy, dimmed), where clearing them made every panel show
   * its empty state for the frames before the answer; 'loaded' replaces them with the new run's
   * exit 0. Its stop, banner and error go at once (they are not about the run on its way).
   */
  restarting: boolean;
  /**
   * Which run the figures, views, log and charts are of: it changes whenever they start over (a
   * load's answer, a load that clears them), so a throttled view shows the new run at once.
   */
  runId: number;
  /** How many times the machine started or resumed running (a frame saying running after a stop). */
  starts: number;
  /**
   * The state as it stood before the latest start (its own `stood` cleared): what the panels
   * showed then, which they keep showing until their beat's first refresh after the start.
   */
  stood: MachineState | null;
  /** Time travel: the recording's reach and marks, and the past point shown (at), if any. */
  timeline: TimelineView | null;
  ingest(event: WorkerEvent): void;
  /**
   * A load or reset of `program` was sent. Another program (or config): the run's state is
   * cleared at once (counters, log, views, charts) instead of when the Worker answers. The same
   * program again, with a run to show: that run stays, marked `restarting`, until the answer.
   */
  beginLoad(program: LoadedProgram): void;
  /** `told`: the Worker was told of the pick (MachineClient.selectExit), and its 'picked' answer ends `pickPending`. */
  selectExit(exit: ExitEvent | null, told?: boolean): void;
  /** Set by the MachineClient; a failure status also stops the run and sets `error`. */
  setWorkerStatus(status: WorkerStatus, message?: string): void;
  clear(): void;
}

export type MachineStore = StoreApi<MachineState>;

/** The same program, file and configuration: a load of it builds the same machine. */
export function sameProgram(a: LoadedProgram, b: LoadedProgram): boolean {
  const x = a.config;
  const y = b.config;
  return a.source === b.source && a.file === b.file
    && x.strategy === y.strategy && x.preset === y.preset && x.icacheSize === y.icacheSize && x.maxInsns === y.maxInsns;
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
  pickedWhileRunning: false,
  pickPending: null as number | null,
  runEnd: null as MachineState['runEnd'],
  history: [] as HistorySample[],
  exitsPerSec: 0,
  timeline: null as TimelineView | null,
  // A new run lets go of the old one's state (its log and history with it).
  stood: null as MachineState | null,
});

function sample(prev: HistorySample | undefined, counters: Counters, t: number): HistorySample {
  const exitsDelta = counters.exits.total - (prev?.exits ?? 0);
  // Every exit of the interval, from the counters, not the few exits a frame lists.
  const stageCycles = stageCyclesOf(counters);
  const cyclesPerExitByStage: Partial<Record<StageName, number>> = {};
  for (const [k, v] of Object.entries(stageCycles) as [StageName, number][]) {
    const d = v - (prev?.stageCycles[k] ?? 0);
    if (d !== 0) cyclesPerExitByStage[k] = exitsDelta > 0 ? d / exitsDelta : 0;
  }
  const ic = counters.icache;
  return {
    t,
    retired: counters.retired,
    exits: counters.exits.total,
    exitsByReason: counters.exits.byReason,
    hitRate: ic.lookups ? ic.hits / ic.lookups : null,
    cyclesPerExitByStage,
    stageCycles,
    cyclesTotal: counters.cycles.total,
  };
}

/** The charts' history from the Worker's points, each sample's rates over the interval since the one before. */
export function historyOf(points: readonly ChartPoint[]): HistorySample[] {
  const out: HistorySample[] = [];
  for (const p of points) out.push(sample(out[out.length - 1], p.counters, p.t));
  return out;
}

/**
 * Past EXIT_LOG_CAPACITY, the log drops its oldest tenth at once (in place). Returns how many it
 * dropped: they count as not listed, like the exits the Worker never sent.
 */
function dropOverflow(log: ExitEvent[]): number {
  if (log.length <= EXIT_LOG_CAPACITY) return 0;
  return log.splice(0, log.length - EXIT_LOG_CAPACITY + EXIT_LOG_CAPACITY / 10).length;
}

/** Makes an independent machine store. */
export function createMachineStore(): MachineStore {
  return createStore<MachineState>()((set, get) => ({
    ready: false,
    loaded: false,
    workerStatus: 'starting',
    diagnostics: [],
    lineMap: [],
    exitLines: [],
    unemulable: [],
    program: null,
    awaitingLoad: false,
    restarting: false,
    runId: 0,
    starts: 0,
    ...emptyRun(),

    ingest(event) {
      // Frames and exit details of the machine before a load are stale.
      if (get().awaitingLoad && (event.type === 'frame' || event.type === 'exitDetail' || event.type === 'picked' || event.type === 'timeTravel' || event.type === 'futureDropped')) return;
      switch (event.type) {
        case 'ready':
          set({ ready: true, workerStatus: 'ready' });
          return;
        case 'diagnostics':
          set({ diagnostics: event.diagnostics });
          return;
        case 'loaded': {
          const s = get();
          // The new run from its exit 0, in the same update that ends the old one (no empty view between).
          const start = event.ok ? event.start : undefined;
          set({
            ...emptyRun(),
            ...(start && { counters: start.counters, view: reuseUnchanged(s.view, start.view), stop: start.stop, timeline: start.timeline ?? null }),
            runId: s.runId + 1,
            awaitingLoad: false,
            restarting: false,
            loaded: event.ok,
            diagnostics: event.diagnostics,
            lineMap: event.lineMap,
            exitLines: event.exitLines,
            unemulable: event.unemulable ?? [],
          });
          return;
        }
        case 'frame': {
          const s = get();
          // The log is appended in place (copying 200k entries per frame would not keep up);
          // readers subscribe to exitLogVersion. Overflow drops the oldest tenth at once.
          const log = s.exitLog;
          for (const e of event.exits) log.push(e);
          const overflow = dropOverflow(log);
          // In step mode the newest exit is the one to show; at a run's stop, unless one was picked while it ran (or since the command this answers).
          const selectedExit = !event.running && event.exits.length && !s.pickedWhileRunning && s.pickPending === null ? event.exits[event.exits.length - 1] : s.selectedExit;
          set({
            ...(event.running && !s.running && { starts: s.starts + 1, stood: { ...s, stood: null } }),
            running: event.running,
            counters: event.counters,
            view: event.view ? reuseUnchanged(s.view, event.view) : s.view,
            stop: event.stop,
            banner: event.banner ?? null,
            exitLog: log,
            exitLogVersion: s.exitLogVersion + (event.exits.length ? 1 : 0),
            droppedExits: s.droppedExits + event.droppedExits + overflow,
            ...(event.chart && { history: historyOf(event.chart) }),
            // The Worker's measure (its clock, where the exits are taken); 0 stopped.
            exitsPerSec: event.running ? event.exitsPerSec ?? 0 : 0,
            timeline: event.timeline ?? s.timeline,
            selectedExit,
            pickedWhileRunning: event.running && s.pickedWhileRunning,
            // Set by the frame that stops a run, cleared by a run or a step's exit.
            runEnd: event.running ? null
              : s.running ? (selectedExit !== null && selectedExit !== s.selectedExit ? { seq: selectedExit.seq, exitsPerSec: s.exitsPerSec } : null)
                : event.exits.length ? null : s.runEnd,
          });
          return;
        }
        case 'exitDetail':
          // Not over another exit picked since (a lesson's focus may come with no pick before it).
          if ((get().selectedExit?.seq ?? event.exit.seq) === event.exit.seq) set({ selectedExit: event.exit });
          return;
        case 'picked':
          // Picked while the Worker ran (a pick made before the page heard of the run): kept at its stop.
          if (get().pickPending === event.seq) set({ pickPending: null, ...(event.running && { pickedWhileRunning: true }) });
          return;
        case 'timeTravel': {
          const s = get();
          // The log lists what led to the exit shown: the exits the seek re-ran, and that exit.
          const merged = mergeExits(s.exitLog, event.exit ? [...event.passed, event.exit] : event.passed);
          const overflow = merged ? dropOverflow(merged.log) : 0;
          set({
            running: false,
            counters: event.counters,
            view: reuseUnchanged(s.view, event.view),
            stop: event.stop,
            timeline: event.timeline,
            banner: null,
            pickedWhileRunning: false,
            // Between exits (a step back) no exit is taken: one selected that the machine has
            // not taken yet (the one it stood at) is deselected. A pick since the seek stands.
            ...(s.pickPending !== null ? {}
              : event.exit ? { selectedExit: event.exit }
                : event.timeline.at !== null && s.selectedExit !== null && s.selectedExit.seq >= event.timeline.at && { selectedExit: null }),
            ...(merged && { exitLog: merged.log, exitLogVersion: s.exitLogVersion + 1, droppedExits: Math.max(0, s.droppedExits - merged.added + overflow) }),
          });
          return;
        }
        case 'futureDropped': {
          // The run goes on from exit `at`: what the log and the charts hold after it runs again.
          const s = get();
          const log = s.exitLog;
          let i = log.length;
          while (i > 0 && log[i - 1].seq >= event.at) i--;
          log.length = i;
          set({
            exitLog: log,
            exitLogVersion: s.exitLogVersion + 1,
            // Exits #0 to #at-1 remain, `i` of them listed: the future's unlisted exits run again.
            droppedExits: event.at - i,
            // An exit of the dropped future is not taken (yet): the pipeline and walk show none, and
            // a pick of it does not hold the run's stop from showing its last exit.
            ...(s.selectedExit !== null && s.selectedExit.seq >= event.at && { selectedExit: null, pickPending: null, pickedWhileRunning: false }),
            history: s.history.filter((h) => h.exits <= event.at),
            timeline: s.timeline && { ...s.timeline, at: null, end: event.at },
          });
          return;
        }
        case 'error': {
          // A load that failed leaves no machine: the previous run kept for it goes too.
          const s = get();
          set({ ...(s.restarting && { ...emptyRun(), runId: s.runId + 1 }), error: event.message, running: false, awaitingLoad: false, restarting: false });
          return;
        }
      }
    },
    beginLoad(program) {
      const s = get();
      if ((s.loaded || s.restarting) && s.program !== null && sameProgram(s.program, program)) {
        // The program object stays: nothing that depends on which program is loaded changes.
        set({ awaitingLoad: true, restarting: true, loaded: false, running: false, stop: null, banner: null, error: null, pickedWhileRunning: false });
        return;
      }
      set({ ...emptyRun(), runId: s.runId + 1, program, awaitingLoad: true, restarting: false, loaded: false, lineMap: [], exitLines: [], unemulable: [] });
    },
    selectExit(exit, told = false) {
      set({ selectedExit: exit, pickedWhileRunning: get().running && exit !== null, pickPending: told && exit !== null ? exit.seq : null });
    },
    setWorkerStatus(status, message) {
      if (isWorkerFailed(status)) {
        set({ workerStatus: status, running: false, error: message ?? status });
      } else if (status === 'starting') {
        set({ workerStatus: status, ready: false, loaded: false, awaitingLoad: false, restarting: false, runId: get().runId + 1, diagnostics: [], lineMap: [], exitLines: [], unemulable: [], ...emptyRun() });
      } else {
        // Back from 'unresponsive' (a slow Worker that answered): its message goes with it.
        set({ workerStatus: status, ...(get().workerStatus === 'unresponsive' && { error: null }) });
      }
    },
    clear() {
      set({ ...emptyRun(), runId: get().runId + 1, restarting: false });
    },
  }));
}

/** Side A's store: the one the page shows outside any MachineStoreContext. */
export const defaultMachineStore: MachineStore = createMachineStore();

/** Which machine store a subtree shows (null: the default store). */
export const MachineStoreContext = createContext<MachineStore | null>(null);

/** The store of the nearest MachineStoreContext, for imperative use inside React. */
export function useMachineStoreApi(): MachineStore {
  return useContext(MachineStoreContext) ?? defaultMachineStore;
}

function useMachineStoreHook(): MachineState;
function useMachineStoreHook<T>(selector: (s: MachineState) => T): T;
function useMachineStoreHook<T>(selector?: (s: MachineState) => T): T | MachineState {
  const store = useMachineStoreApi();
  const pick: (s: MachineState) => T | MachineState = selector ?? identity;
  return useStore(store, pick);
}
const identity = (s: MachineState): MachineState => s;

/**
 * `useMachineStore(selector)` reads the current side's store (context-aware);
 * `useMachineStore.getState/setState/subscribe` are the default store's.
 */
export const useMachineStore = Object.assign(useMachineStoreHook, {
  getState: defaultMachineStore.getState,
  getInitialState: defaultMachineStore.getInitialState,
  setState: defaultMachineStore.setState,
  subscribe: defaultMachineStore.subscribe,
});
