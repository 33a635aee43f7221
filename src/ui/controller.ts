/**
 * The page's machines and what the controls do to them. Side A always exists (its store is
 * `defaultMachineStore`); side B exists in A/B mode and runs the same program under the
 * B strategy. Every control acts on all live sides.
 */
import { watchBench } from '../store/benchStore';
import { createMachineStore, defaultMachineStore, type MachineStore } from '../store/machineStore';
import { useUiStore } from '../store/uiStore';
import type { RunConfig, Speed } from '../worker/protocol';
import { MachineClient } from './machineClient';
import type { Settings } from '../store/settings';
import { pageStorage, saveSettings } from './persist';
import { layoutPreset } from './layoutPresets';

/**
 * Guest instructions before a run stops with 'limit'. High on purpose: a guest that runs away
 * is paused by the worker (after 15 s of host time) long before this, however fast the vCPU.
 */
export const MAX_INSNS = 1_000_000_000_000;

export type SideId = 'a' | 'b';

export interface Side {
  id: SideId;
  store: MachineStore;
  client: MachineClient;
  /** The source and config the machine was last loaded with. */
  loadedKey: string | null;
  /** Stops recording this side's complete runs into the bench. */
  unwatch: () => void;
}

const sides: Partial<Record<SideId, Side>> = {};
const sideListeners = new Set<() => void>();

function makeSide(id: SideId): Side {
  const store = id === 'a' ? defaultMachineStore : createMachineStore();
  const side: Side = { id, store, client: new MachineClient(store), loadedKey: null, unwatch: watchBench(store) };
  const ui = useUiStore.getState();
  side.client.setSpeed(ui.speed);
  side.client.setBreakpoints(ui.breakpoints);
  return side;
}

/** Side A, created on first use (in the browser only: it starts a Worker). */
export function sideA(): Side {
  return (sides.a ??= makeSide('a'));
}

export function sideB(): Side | undefined {
  return sides.b;
}

export function liveSides(): Side[] {
  return [sideA(), ...(sides.b ? [sides.b] : [])];
}

export function subscribeSides(fn: () => void): () => void {
  sideListeners.add(fn);
  return () => sideListeners.delete(fn);
}

/** Starts or stops side B to match A/B mode. */
export function syncAbMode(): void {
  const on = useUiStore.getState().abMode;
  if (on && !sides.b) {
    sides.b = makeSide('b');
    if (sides.a?.loadedKey) load(sides.b);
  } else if (!on && sides.b) {
    sides.b.client.dispose();
    sides.b.unwatch();
    delete sides.b;
  }
  for (const fn of sideListeners) fn();
}

export function configFor(id: SideId, s: Settings = useUiStore.getState()): RunConfig {
  return { strategy: id === 'b' ? s.strategyB : s.strategy, preset: s.preset, icacheSize: s.icacheSize, maxInsns: MAX_INSNS };
}

function keyFor(side: Side): string {
  const ui = useUiStore.getState();
  return JSON.stringify([ui.source, ui.fileName, configFor(side.id)]);
}

function load(side: Side): void {
  const ui = useUiStore.getState();
  side.client.load(ui.source, ui.fileName, configFor(side.id));
  side.loadedKey = keyFor(side);
}

/**
 * Loads the current program where it is not loaded yet, changed since, or has finished (Run
 * after the end starts over).
 */
function ensureLoaded(side: Side, restartFinished: boolean): void {
  if (side.client.failed) side.client.restart();
  if (side.loadedKey !== keyFor(side) || (restartFinished && side.store.getState().stop)) load(side);
}

/**
 * The program (or its file name) changed since a side was loaded: load it again, so every
 * panel, counter and decoration starts over with the new program at once.
 */
export function loadChanged(): void {
  for (const s of liveSides()) ensureLoaded(s, false);
}

/** Ctrl+Enter: assemble and reset every side with the editor's program. */
export function assembleAndReset(): void {
  for (const s of liveSides()) {
    if (s.client.failed) s.client.restart();
    load(s);
  }
}

export function run(): void {
  runWith({});
}

/** Run with options: `recordWalks` keeps every exit's walk even at full speed (lessons). */
export function runWith(opts: { recordWalks?: boolean }): void {
  for (const s of liveSides()) { ensureLoaded(s, true); s.client.run(opts); }
}

export function pause(): void {
  for (const s of liveSides()) s.client.pause();
}

export function step(): void {
  for (const s of liveSides()) { ensureLoaded(s, false); s.client.step(); }
}

export function stepExit(): void {
  for (const s of liveSides()) { ensureLoaded(s, false); s.client.stepExit(); }
}

/**
 * Time travel (side A's timeline drives every side: the same exit number on each). `end`: side
 * A's recorded end; at or past it every side goes to its own present, not to exit `end` (side B
 * may have taken more exits, and Now had left it at a past exit with no way back but Run).
 */
export function seekExit(exit: number, end = Infinity): void {
  const k = exit >= end ? Number.MAX_SAFE_INTEGER : exit;
  for (const s of liveSides()) s.client.seekExit(k);
}

export function stepBack(): void {
  for (const s of liveSides()) s.client.stepBack();
}

export function backExit(): void {
  for (const s of liveSides()) s.client.backExit();
}

/** Back to the start of the program; a crashed or hung worker is replaced. */
export function reset(): void {
  for (const s of liveSides()) {
    if (s.client.failed) {
      s.client.restart(); // replays the last program
      if (s.loadedKey !== keyFor(s)) load(s);
    } else if (s.loadedKey !== keyFor(s)) {
      load(s);
    } else {
      s.client.reset();
    }
  }
}

export function setBreakpoints(lines: number[]): void {
  useUiStore.getState().setBreakpoints(lines);
  const sorted = useUiStore.getState().breakpoints;
  for (const s of liveSides()) s.client.setBreakpoints(sorted);
}

export function setSpeed(speed: Speed): void {
  updateSettings({ speed });
  for (const s of liveSides()) s.client.setSpeed(speed);
}

/**
 * Strategy, preset or cache size changed: a loaded machine starts over with the new
 * configuration (counters of two configurations never mix). A load carries the config.
 */
export function setMachineConfig(patch: Partial<Pick<Settings, 'strategy' | 'strategyB' | 'preset' | 'icacheSize'>>): void {
  updateSettings(patch);
  for (const s of liveSides()) {
    if (s.loadedKey !== null && !s.client.failed) load(s);
    else s.client.setConfig(configFor(s.id));
  }
}

export function setAbMode(on: boolean): void {
  updateSettings({ abMode: on });
  syncAbMode();
}

/** The teacher picked a named layout: show it at its own sizes, and keep the choice. */
export function chooseLayoutPreset(id: string): void {
  updateSettings({ layoutPreset: id });
  useUiStore.getState().applyLayout(layoutPreset(id));
}

export function updateSettings(patch: Partial<Settings>): void {
  const ui = useUiStore.getState();
  ui.setSettings(patch);
  const s = useUiStore.getState();
  saveSettings(pageStorage(), {
    theme: s.theme, strategy: s.strategy, strategyB: s.strategyB, preset: s.preset, icacheSize: s.icacheSize, speed: s.speed, abMode: s.abMode,
    layoutPreset: s.layoutPreset,
  });
}
