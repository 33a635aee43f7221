/**
 * The typed message protocol between the UI thread and the machine Worker.
 * Commands go UI -> Worker; events go Worker -> UI, batched once per animation frame.
 * Everything here is structured-clone safe: 64-bit guest values travel as "0x..." strings.
 */
import type {
  CycleCounters, ExitEvent, ExitReason, GprName, ICacheCounters, StopInfo,
} from '../core/events';

/** Same shape as src/core/asm's Diagnostic and LineMapEntry (structural). */
export interface Diagnostic { file: string; line: number; col: number; severity: 'error' | 'warning'; message: string }
export interface LineMapEntry { addr: number; length: number; line: number }

export type Strategy = 'none' | 'icache' | 'decode-assist' | 'apicv';
export const STRATEGIES: readonly Strategy[] = ['none', 'icache', 'decode-assist', 'apicv'];

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
  | { type: 'run' }
  | { type: 'pause' }
  | { type: 'step' }
  | { type: 'stepExit' }
  | { type: 'reset' }
  | { type: 'setConfig'; config: Partial<RunConfig> }
  | { type: 'setSpeed'; speed: Speed }
  | { type: 'setBreakpoints'; lines: number[] }
  | { type: 'selectExit'; seq: number };

export interface Counters {
  retired: number;
  exits: { total: number; byReason: Partial<Record<ExitReason, number>> };
  icache: ICacheCounters;
  cycles: CycleCounters;
  /** Measured host nanoseconds per exit of this VMM's own handling (mean over the run). */
  hostNsPerExit: number;
}

export interface VcpuView {
  vm: number;
  vcpu: number;
  regs: Record<GprName | 'rip' | 'rflags' | 'cr0' | 'cr2' | 'cr3' | 'cr4' | 'efer', string>;
  halted: boolean;
  retired: number;
  lapic: { name: string; offset: number; value: number }[];
}

export interface IcacheEntryView {
  vm: number;
  rip: number;
  cr3: number;
  bucket: number;
  /** Instruction bytes as hex. */
  bytes: string;
  insn: string;
  hits: number;
  /** Insert sequence number (older entries have smaller numbers). */
  age: number;
  /** Guest-physical pages this entry depends on (code and page-table pages). */
  pages: number[];
}

export type PageRole = 'code' | 'data' | 'stack' | 'pagetable' | 'mmio' | 'firmware' | 'free';

export interface PageView {
  vm: number;
  gpa: number;
  role: PageRole;
  writeProtected: boolean;
}

/** Exit and cache-hit counts per source line, for editor decorations. */
export interface LineStat {
  line: number;
  exits: number;
  hits: number;
}

export interface MachineView {
  vcpus: VcpuView[];
  icache: IcacheEntryView[];
  /** Entries per hash bucket, for the heatmap. */
  buckets: number[];
  pages: PageView[];
  lines: LineStat[];
  console: string;
  /** RIP of the vCPU the UI follows (vm 0, vcpu 0), for the editor's current-line highlight. */
  ripLine: number | null;
}

export type WorkerEvent =
  | { type: 'ready' }
  | { type: 'diagnostics'; requestId: number; diagnostics: Diagnostic[] }
  | { type: 'loaded'; ok: boolean; diagnostics: Diagnostic[]; lineMap: LineMapEntry[]; exitLines: number[] }
  | {
      type: 'frame';
      running: boolean;
      counters: Counters;
      /** Exits since the last frame, newest last, at most a bounded number (see droppedExits). */
      exits: ExitEvent[];
      droppedExits: number;
      /** Omitted while running when the previous view is recent enough (the UI keeps it). */
      view?: MachineView;
      stop: StopInfo | null;
      /** Set when the guest ran away and the worker paused it. */
      banner?: string;
    }
  | { type: 'exitDetail'; exit: ExitEvent }
  | { type: 'error'; message: string };
