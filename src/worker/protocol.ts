/**
 * The typed message protocol between the UI thread and the machine Worker.
 * Commands go UI -> Worker; events go Worker -> UI, batched once per animation frame.
 * Everything here is structured-clone safe: 64-bit guest values travel as "0x..." strings.
 */
import type { Diagnostic, LineMapEntry } from '../core/asm';
import type { Counters, ExitEvent, MachineView, StopInfo, Strategy } from '../core/events';

export type { Diagnostic, LineMapEntry } from '../core/asm';
export type {
  Counters, IcacheEntryView, LineStat, MachineView, PageRole, PageView, Strategy, VcpuView,
} from '../core/events';
export { STRATEGIES } from '../core/events';

export interface RunConfig {
  strategy: Strategy;
  /** Cost preset name from src/core/cost.ts. */
  preset: string;
  /** Instruction-cache capacity in entries. */
  icacheSize: number;
  /** Guest instructions before the run stops with reason 'limit'. */
  maxInsns: number;
}

/** Animated steps per second, or as fast as the machine goes. */
export type Speed = number | 'max';

export type Command =
  | { type: 'load'; source: string; file: string; config: RunConfig }
  | { type: 'assemble'; source: string; file: string; requestId: number }
  /** `recordWalks`: record every exit's walk even at full speed (a lesson about walks asks for it). */
  | { type: 'run'; recordWalks?: boolean }
  | { type: 'pause' }
  | { type: 'step' }
  | { type: 'stepExit' }
  | { type: 'reset' }
  | { type: 'setConfig'; config: Partial<RunConfig> }
  | { type: 'setSpeed'; speed: Speed }
  | { type: 'setBreakpoints'; lines: number[] }
  /**
   * An exit picked in the page (the log, a lesson). `detail`: its walk is wanted (the page's record
   * has none; 'exitDetail' brings it). Answered by 'picked' either way.
   */
  | { type: 'selectExit'; seq: number; detail: boolean }
  /** Time travel: show the machine at exit `exit` (the number of exits recorded, or more: the present). */
  | { type: 'seekExit'; exit: number }
  /** Time travel: back one instruction (over all vCPUs). */
  | { type: 'stepBack' }
  /** Time travel: back to the previous exit. */
  | { type: 'backExit' };

/** What the timeline shows: how far the recording reaches, where the machine stands, its marks. */
export interface TimelineView {
  /** The oldest exit the timeline can show. */
  first: number;
  /** Exits recorded: the present stands at `end`. */
  end: number;
  /** The exit shown while looking at the past (exits handled), or null at the present. */
  at: number | null;
  /** Instructions retired where the machine stands (the position of a step back between exits). */
  retired: number;
  /** Marks in equal bins of [first, end): 0 other exits, 1 hit, 2 miss, 3 write-protect fault, 4 interrupt, 255 none. */
  marks: number[];
  /** Bytes the recording holds, and its budget. */
  bytes: number;
  budget: number;
}

/** The counters after an exit (or as the machine stands), `t` ms after the program was loaded: one chart sample. */
export interface ChartPoint {
  t: number;
  counters: Counters;
}

/**
 * Not a command to the machine the page shows: opens a second MachineHost in the same Worker,
 * which takes Commands on `port` and answers WorkerEvents there, until `{ type: 'end' }` (the
 * page's unseen rehearsal of a first seek, ui/seekRehearsal.tsx).
 */
export interface OpenSecondHost { type: 'openSecondHost'; port: MessagePort }

/** What the page posts to the Worker itself. */
export type ToWorker = Command | OpenSecondHost;

/** What the page posts on a second host's port: Commands, then 'end'. */
export type ToSecondHost = Command | { type: 'end' };

export type WorkerEvent =
  | { type: 'ready' }
  | { type: 'diagnostics'; requestId: number; diagnostics: Diagnostic[] }
  | {
      type: 'loaded'; ok: boolean; diagnostics: Diagnostic[]; lineMap: LineMapEntry[]; exitLines: number[];
      /** Lines with a memory access bhyve's decoder refuses (programLines.unemulableLines); absent = none. */
      unemulable?: { line: number; why: string }[];
      /**
       * The new machine before its first instruction (when ok): the store shows the new run from
       * this answer on, so the panels go from the previous run straight to this one's exit 0.
       */
      start?: { counters: Counters; view: MachineView; stop: StopInfo | null; timeline?: TimelineView };
    }
  | {
      type: 'frame';
      running: boolean;
      counters: Counters;
      /** Exits since the last frame, newest last, at most a bounded number (see droppedExits). */
      exits: ExitEvent[];
      droppedExits: number;
      /**
       * While running: exits per second since the previous frame (since the run started, for its
       * first), on the Worker's clock. Absent when stopped.
       */
      exitsPerSec?: number;
      /** Omitted while running when the previous view is recent enough (the UI keeps it). */
      view?: MachineView;
      stop: StopInfo | null;
      /** Set when the guest ran away and the worker paused it. */
      banner?: string;
      timeline?: TimelineView;
      /**
       * With a view: the run's chart samples so far (ChartPoints: every stride-th exit, and the
       * machine now when it is past the newest), replacing the ones sent before.
       */
      chart?: ChartPoint[];
    }
  /**
   * The machine shown at a past point (or back at the present): counters, view and timeline
   * as of that point, and the exit it stands at (with its walk), if any. `passed`: the newest
   * exits (at most PASSED_EXITS, oldest first) the Worker's re-run to that point went through,
   * for the log to list what led there (a run at full speed lists only some of its exits).
   */
  | { type: 'timeTravel'; counters: Counters; view: MachineView; stop: StopInfo | null; timeline: TimelineView; exit: ExitEvent | null; passed: ExitEvent[] }
  /** Running from a past point: what was recorded after exit `at` is dropped (it runs again). */
  | { type: 'futureDropped'; at: number }
  | { type: 'exitDetail'; exit: ExitEvent }
  /**
   * The answer to 'selectExit', after any 'exitDetail' for it. The Worker answers commands in
   * order, so every event after this one answers a command sent after the pick: the events
   * before it (a Next exit's frame, a seek's answer) do not take the pick back. `running`: a run
   * was going (the page keeps the pick at its stop, as for a pick made while it showed the run).
   */
  | { type: 'picked'; seq: number; running: boolean }
  | { type: 'error'; message: string };
