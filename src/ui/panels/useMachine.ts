/**
 * The one place the panels read machine state from. Every panel calls `useMachine(selector)`;
 * the store is the one of the nearest MachineStoreContext (A/B mode: one per side), so a panel
 * mounted inside side B's provider shows side B.
 */
import { createContext, startTransition, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { useStore, type StoreApi } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { walkUnrecorded, type ExitEvent } from '../../core/events';
import type { Strategy } from '../../worker/protocol';
import { useMachineStoreApi, type MachineState } from '../../store/machineStore';
import { LiveThrottle } from './lib/liveThrottle';

function useBoundStore(): StoreApi<MachineState> {
  return useMachineStoreApi();
}

/**
 * Tells the Worker an exit was picked, and asks for its full record when `detail` (its walk steps
 * are only kept for exits the UI shows). The shell provides it:
 * `<ExitDetailContext.Provider value={(seq, detail) => client.selectExit(seq, detail)}>`.
 */
export const ExitDetailContext = createContext<((seq: number, detail: boolean) => void) | null>(null);

/**
 * Select an exit (drives the pipeline and walk panels) and tell the Worker, which answers with its
 * detail when it walked and the log's record holds no walk: its answer 'picked' says the pick
 * stands over the answers to commands sent before it (machineStore's `pickPending`).
 */
export function useSelectExit(): (exit: ExitEvent | null) => void {
  const api = useBoundStore();
  const requestDetail = useContext(ExitDetailContext);
  return useCallback((exit: ExitEvent | null) => {
    api.getState().selectExit(exit, exit !== null && requestDetail !== null);
    // The Worker's detail adds only the walk (the log keeps every other field).
    if (exit && requestDetail) requestDetail(exit.seq, walkUnrecorded(exit));
  }, [api, requestDetail]);
}

/** Subscribe to one value of the machine store (re-renders only when it changes, by Object.is). */
export function useMachine<T>(selector: (s: MachineState) => T): T {
  return useStore(useBoundStore(), selector);
}

/** Subscribe to a derived object/array compared shallowly. */
export function useMachineShallow<T>(selector: (s: MachineState) => T): T {
  return useStore(useBoundStore(), useShallow(selector));
}

/** The store itself, for actions (selectExit) and for reading without subscribing. */
export function useMachineApi(): StoreApi<MachineState> {
  return useBoundStore();
}

/**
 * How often the panels that need not follow every batch refresh while the machine runs (4/s:
 * still clearly live; the store takes a batch every 100 ms). Their last refresh after a stop
 * shows the final state.
 */
export const LIVE_MS = 250;

/**
 * Sets a live view's new value. While its machine runs (`running`: in A/B mode, any side), as a
 * transition: React renders the beat's panels in slices of a few ms, yielding to the Worker's
 * messages and the frame between them, where one synchronous pass of every panel was the page's
 * longest task (the first batch of a run after a page load: up to 100 ms of wall time on 2
 * cores the Worker shares). Stopped, at once: a load, a stop and a seek show in the very next
 * frame.
 */
export function setLive(running: boolean, set: () => void): void {
  if (running) startTransition(set);
  else set();
}

/**
 * `selector`'s value while the machine runs, read at most once per `ms`, with the machine's
 * `starts` when it was read; a new run (`runId`: a load's answer) is read at once (LiveThrottle
 * says how). Changes of a stopped machine (a seek, a step) do not refresh it: useMachineLive
 * reads a stopped machine's value itself, in the render that shows the change, and a refresh
 * re-rendered every reader once more in a later task after each seek (React renders such a
 * setState apart), one more render pass before the seek's frame and, off the beat, under the next.
 */
function useThrottledEntry<T>(selector: (s: MachineState) => T, ms: number): { value: T; starts: number } {
  const api = useBoundStore();
  const [entry, setEntry] = useState(() => ({ value: selector(api.getState()), starts: api.getState().starts }));
  // Kept across changes of `ms` (running <-> idle): a run that starts or stops does not force an
  // immediate re-render, the next one comes `ms` after the previous.
  const kept = useRef<LiveThrottle | null>(null);
  useEffect(() => {
    const flush = () => {
      const st = api.getState();
      const next = selector(st);
      setLive(st.running, () => setEntry((old) => (Object.is(old.value, next) && old.starts === st.starts ? old : { value: next, starts: st.starts })));
    };
    const throttle = (kept.current ??= new LiveThrottle(flush, ms));
    throttle.flush = flush;
    throttle.ms = ms;
    // A new run (a load's answer, a load that clears) shows at once: no view may keep the old run's
    // figures. Outside the throttle's pace: the run's first frame, often ingested in the same task
    // as the load's answer (MachineClient), is then due too, as after any stop.
    let runId = api.getState().runId;
    const unsubscribe = api.subscribe((state: MachineState) => {
      if (state.runId === runId) {
        if (state.running) throttle.poke();
        return;
      }
      runId = state.runId;
      flush();
    });
    throttle.poke();
    return () => {
      unsubscribe();
      throttle.cancel();
    };
  }, [api, selector, ms]);
  return entry;
}

/**
 * A value of the store that follows at most every `ms` (LIVE_MS unless told) while the machine
 * runs (in the panels' React pass) and at once otherwise, in the same render as `running`
 * turning false: a run's end shows its final value together with 'halted', where a throttled
 * setState would show it one render later. Pass a stable (module-level) selector.
 */
export function useMachineLive<T>(selector: (s: MachineState) => T, ms = LIVE_MS): T {
  const live = useThrottledEntry(selector, ms);
  // Running, the throttled value once it was read since the run started or resumed; until then
  // what showed while the machine stood (the throttled value may be older than a pause, a step or
  // a seek: a run resumed right after a pause showed the exits of the last beat before it, 130 k
  // fewer in one test). The same value as the render before: the start renders nothing new.
  const now = useMachine((s) => (!s.running ? selector(s) : live.starts === s.starts || !s.stood ? LIVE : selector(s.stood)));
  return now === LIVE ? live.value : now;
}
const LIVE = Symbol('live');

/** One machine the page runs (A/B mode: two), for views that compare them. */
export interface MachineSide {
  label: string;
  strategy: Strategy;
  store: StoreApi<MachineState>;
}

/**
 * Every side the page runs. The shell provides it in A/B mode
 * (`<MachineSidesContext.Provider value={[{ label: 'A', strategy, store }, ...]}>`); without it the
 * panels know only their own side.
 */
export const MachineSidesContext = createContext<readonly MachineSide[] | null>(null);

export function useMachineSides(): readonly MachineSide[] | null {
  return useContext(MachineSidesContext);
}

/** The side this subtree shows, when the shell said which sides there are. */
export function useOwnSide(): MachineSide | null {
  const store = useBoundStore();
  const sides = useContext(MachineSidesContext);
  return sides?.find((s) => s.store === store) ?? null;
}

/**
 * `selector` applied to each of `stores`, re-read at most every `ms` while they run, on the
 * panels' beat (LiveThrottle), and at once on a load, a stop, a step or a seek of any of them (as
 * useMachineLive: the comparison must not show a stopped side's figures from up to `ms` ago).
 * Pass a stable selector.
 */
function useStoresThrottled<T>(stores: readonly StoreApi<MachineState>[], selector: (s: MachineState) => T, ms: number): T[] {
  const [values, setValues] = useState<T[]>(() => stores.map((s) => selector(s.getState())));
  useEffect(() => {
    // `now`: a side's new run, set at once even while another side runs (no render may show the old run's values).
    const read = (now = false) => setLive(!now && stores.some((s) => s.getState().running), () => setValues((old) => {
      const next = stores.map((s) => selector(s.getState()));
      return next.length === old.length && next.every((v, i) => Object.is(v, old[i])) ? old : next;
    }));
    const throttle = new LiveThrottle(read, ms);
    const runIds = stores.map((s) => s.getState().runId);
    const unsubscribes = stores.map((s, i) => s.subscribe((state) => {
      if (state.runId === runIds[i]) {
        throttle.poke(!state.running);
        return;
      }
      runIds[i] = state.runId;
      read(true); // as useMachineLive: at once, outside the throttle's pace
    }));
    throttle.poke(true);
    return () => {
      for (const u of unsubscribes) u();
      throttle.cancel();
    };
  }, [stores, selector, ms]);
  return values;
}

/**
 * useStoresThrottled for the sides that run, and for a stopped side its value now, read through
 * useSyncExternalStore: it renders in the same commit as that side's own 'halted' (its store's
 * subscribers render in one synchronous pass), where the throttle's setState came a render later.
 * The useMachineLive of several stores. Pass a stable selector and a stable `stores` array.
 */
export function useStoresLive<T>(stores: readonly StoreApi<MachineState>[], selector: (s: MachineState) => T, ms: number): T[] {
  const live = useStoresThrottled(stores, selector, ms);
  const still = useSyncExternalStore(
    useCallback((onChange: () => void) => {
      const unsubscribes = stores.map((s) => s.subscribe(onChange));
      return () => { for (const u of unsubscribes) u(); };
    }, [stores]),
    useStillSnapshot(stores, selector),
  );
  return useMemo(() => live.map((v, i) => (still[i] === STILL_RUNNING ? v : (still[i] as T))), [live, still]);
}

const STILL_RUNNING = Symbol('running');

/** getSnapshot for useStoresLive: each stopped store's value (running: STILL_RUNNING), the same array while none changes. */
function useStillSnapshot<T>(stores: readonly StoreApi<MachineState>[], selector: (s: MachineState) => T): () => readonly (T | typeof STILL_RUNNING)[] {
  const cache = useRef<(T | typeof STILL_RUNNING)[]>([]);
  return useCallback(() => {
    const next = stores.map((s) => { const st = s.getState(); return st.running ? STILL_RUNNING : selector(st); });
    const old = cache.current;
    if (next.length !== old.length || next.some((v, i) => !Object.is(v, old[i]))) cache.current = next;
    return cache.current;
  }, [stores, selector]);
}
