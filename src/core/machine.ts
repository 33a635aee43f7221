/**
 * A machine: up to 2 VMs with 1–2 vCPUs each, built from one program and a config (the guest
 * environment contract of DESIGN.md), run round-robin in fixed instruction slices so that the
 * same program and config always give the same events and counters.
 *
 * Per VM entry the machine delivers due LAPIC interrupts, bounds the slice by the next timer
 * event, runs the vCPU, and hands the exit to the VMM: the exit path (instruction emulation,
 * write-protect faults, APIC-write traps, vmm/exitPath.ts) or the platform exits (HLT, I/O,
 * CPUID, MSRs, VMCALL, interrupt window, vmm/platform.ts). It keeps the one account of
 * modeled cycles (by stage bucket) and charges every exit's cycles to the vCPU's clock. The
 * Worker (worker/view.ts) turns its reports into what the UI shows.
 */
import { assemble, type AsmResult, type Diagnostic, type LineMapEntry } from './asm';
import {
  chargeCycles, costPreset, DEFAULT_COST_PRESET, guestCycles, newCostUnits, type CostModel, type CostUnits,
} from './cost';
import type { Block } from './cpu/codeCache';
import { CodeCache, Vcpu, type VmExit } from './cpu/vcpu';
import { DebugConsole } from './devices/console';
import { IoRam } from './devices/ioram';
import { LocalApic, type IpiDestination } from './devices/lapic';
import type {
  CodeCacheCounters, Counters, CycleCounters, ExitEvent, ExitReason, IcacheEntryView, LineStat, PageRole, PageView, StopInfo, Strategy, VcpuSnapshot,
} from './events';
import { GPR_NAMES, HOST_SAMPLE } from './events';
import { buildEpt, installFirmware, type FirmwareState } from './firmware';
import {
  FIRMWARE_LAYOUT, INITIAL_CONTROL, IORAM_BASE, IORAM_SIZE, LAPIC_BASE,
  PREDEFINED_SYMBOLS, PROGRAM_ORIGIN,
} from './guestAbi';
import { GuestRam, peekGla2gpa, type Ept } from './mem';
import { PageTracker } from './mem/pageTracker';
import { parseTopology, type Topology } from './topology';
import { createApicvFastPath, createApicvMsrFastPath, newApicvCounters } from './vmm/apicv';
import { cloneExitEvent, Vmm, type VmmExitEvent } from './vmm/exitPath';
import { InstructionCache, PAGE_SIZE, type ICacheEntry } from './vmm/icache';
import { platformExit } from './vmm/platform';
import { mmioRouter, type VcpuPort, type VmContext } from './vmm/ports';
import { ExitMark, ExitTimeline, type TimelineHost } from './timetravel/timeline';
import type { CapturePolicy } from './timetravel/stateCapture';

export interface MachineConfig {
  strategy: Strategy;
  preset: string;
  /** A cost model to use instead of the preset's (the what-if view's re-runs). */
  costModel?: Readonly<CostModel>;
  /** Instruction-cache capacity in entries. */
  icacheSize: number;
  /** Instruction-cache hash buckets. */
  icacheBuckets: number;
  ramBytes: number;
  /** The run stops with reason 'limit' after this many guest instructions (all vCPUs). */
  maxInsns: number;
  /** Round-robin slice per vCPU, in guest instructions. */
  sliceInsns: number;
  /** Override the topology the program asks for with `; exitscope: vms=N vcpus=M`. */
  topology?: Topology;
  /** Exits between checkpoints (TLB flush, time-travel snapshot). */
  checkpointEvery?: number;
}

export const DEFAULT_MACHINE_CONFIG: MachineConfig = {
  strategy: 'icache',
  preset: DEFAULT_COST_PRESET,
  icacheSize: 1024,
  icacheBuckets: 256,
  ramBytes: 64 * 1024 * 1024,
  maxInsns: 200_000_000,
  sliceInsns: 10_000,
};

/** Walk recording: every exit (step mode), one exit in SAMPLE_EVERY (full speed), or none. */
export type WalkRecording = 'all' | 'sampled' | 'none';

/**
 * Where the machine stands, as a recorded run's point it can be put back at (Machine.point,
 * seekPoint): at exit `exit`, not handled yet; or `retired` instructions in with `exits` handled.
 * The counts alone do not tell the first from the moment before the exit was taken, and an exit
 * that retires nothing (a write-protect fault) gives one retired count several points.
 */
export type MachinePoint = { readonly exit: number } | { readonly retired: number; readonly exits: number };

/** Exits handled at `p`. */
export const pointExits = (p: MachinePoint): number => ('exit' in p ? p.exit : p.exits);

const SAMPLE_EVERY = 64;

/**
 * Every CHECKPOINT_EVERY exits the machine reaches a checkpoint: it flushes the vCPUs' TLBs
 * (the SDM lets a processor drop TLB entries at any time) and an attached timeline may take a
 * snapshot there. Recorded or not, a run flushes at the same exits, so both go the same way.
 */
export const CHECKPOINT_EVERY = 1024;

/**
 * An attached timeline snapshots the machine every SNAPSHOT_CHECKPOINTS checkpoints' worth of
 * exits (fewer exits when the guest computes long between them: ExitTimeline.checkpoint). A
 * seek restores the newest snapshot at or before its exit and re-runs from there: at most
 * 4,095 exits of the LAPIC loop, a few ms. A snapshot cost the Worker ~10% of its time on the
 * hit path when it came at every checkpoint (profiled in Node: bench:exits --mode worker).
 */
export const SNAPSHOT_CHECKPOINTS = 4;

/** Keeps exit `seq` as a listener sees it (see Machine.exitDetailAt). */
class ExitCatch {
  seq = -1;
  exit: ExitEvent | null = null;
  readonly listen = (e: ExitEvent): void => {
    if (e.seq !== this.seq) return;
    // onExit hands on the VMM's own record: what it did next (action, a fault injected) is not the exit's.
    const { action: _action, injected: _injected, ...exit } = e as VmmExitEvent;
    this.exit = exit;
  };
}

export interface RunOptions {
  untilExit?: boolean;
  stopBeforeExit?: number;
  untilRetired?: number;
}

/**
 * Fields that are not the machine's state, for time travel's snapshots (captureState): static
 * inputs, derived caches (translated code, TLB contents: flushed on restore; iced's memo),
 * host-side settings and scratch. Guest RAM is saved as page versions (RamHistory).
 */
const STATE_POLICY: CapturePolicy = {
  keep: new Set([
    // Machine: inputs, settings, host-side measurement, the timeline itself, the listeners (a
    // null one was saved and put back over the one a seek's re-run listens with).
    'program', 'config', 'topology', 'cost', 'lineByAddr', 'breakpoints', 'breakpointHit', 'recording',
    'hostSample', 'timeline', 'firmware', 'onExit', 'onExitTransient', 'exitCatch',
    // Guest RAM (RamHistory) and the code translated from it (dropped per changed page), with
    // the page tracker's blocks (its entries are state, restored with the icache and the EPT).
    'ram', 'dv', 'codeCache', 'codeByPage',
    // vCPU: the TLB epoch only grows (chained blocks of an old epoch must never match again);
    // the list of filled TLB slots describes the live TLB, which a restore keeps and flushes.
    'tlbEpoch', 'linkKey', 'decodeBuf', 'walkOut', 'tlbFilled', 'tlbFilledCount',
    // VMM: iced decoder and its memo (a pure function of the bytes), reused scratch.
    'decoder', 'icedMemo', 'ev', 'stagePool', 'stageArrays', 'scratchVie', 'walk1', 'walk2', 'copyWalk', 'fetchBuf',
  ]),
  refOnly: new Set(['tlbPn', 'tlbDelta', 'tlbGlobal', 'tlbSup', 'tlbUser', 'readTag', 'writeTag', 'jumpCache', 'jumpCacheSingle']),
  // iced's wasm objects, and translated blocks (code cache contents).
  opaque: (o) => '__wbg_ptr' in o || ('insns' in o && 'fn' in o),
  // The EPT's table memory moves only with its generation; the console's ring only with a byte written.
  versions: new Map([['words', 'generation'], ['buf', 'written']]),
};

export type BuildResult =
  | { ok: true; machine: Machine; diagnostics: Diagnostic[]; lineMap: LineMapEntry[] }
  | { ok: false; diagnostics: Diagnostic[] };

type VcpuRun = 'runnable' | 'waiting' | 'stopped';

interface VcpuSlot {
  vcpu: Vcpu;
  /** The vCPU as the VMM sees it. */
  port: VcpuPort;
  lapic: LocalApic;
  run: VcpuRun;
  /** RIP of the hlt this vCPU waits or stopped in (RIP itself is past it), or -1. */
  hltRip: number;
}

interface VmInstance {
  ctx: VmContext;
  ram: GuestRam;
  ept: Ept;
  codeCache: CodeCache;
  firmware: FirmwareState;
  ioram: IoRam;
  slots: VcpuSlot[];
}

function diag(file: string, message: string): Diagnostic {
  return { file, line: 1, col: 1, severity: 'error', message };
}

/** Assemble `source` as a machine's program (at PROGRAM_ORIGIN, with the guest ABI's symbols). */
export function assembleProgram(source: string, file = 'program.s'): AsmResult {
  return assemble(source, { file, origin: PROGRAM_ORIGIN, predefined: PREDEFINED_SYMBOLS, runnable: true });
}

/** Assemble `source` and build a machine for it; diagnostics instead of a machine when it does not assemble. */
export function buildMachine(source: string, config: Partial<MachineConfig> = {}, file = 'program.s'): BuildResult {
  return buildMachineFrom(assembleProgram(source, file), source, config, file);
}

/**
 * Build a machine for `asm`, what assembleProgram(source, file) returned: the machine only
 * reads it, so one assembled program serves any number of machines (the Worker reloads the
 * same source on every Run). `source` gives the topology header.
 */
export function buildMachineFrom(asm: AsmResult, source: string, config: Partial<MachineConfig> = {}, file = 'program.s', recycled: GuestRam[] = []): BuildResult {
  const cfg: MachineConfig = { ...DEFAULT_MACHINE_CONFIG, ...config };
  if (!asm.ok) return { ok: false, diagnostics: asm.diagnostics };
  for (const seg of asm.segments) {
    if (seg.addr < FIRMWARE_LAYOUT.end) {
      return { ok: false, diagnostics: [...asm.diagnostics, diag(file, `${seg.name} at 0x${seg.addr.toString(16)} overlaps the firmware (below 0x${FIRMWARE_LAYOUT.end.toString(16)}); use org 0x100000 or above`)] };
    }
    if (seg.addr + seg.bytes.length > cfg.ramBytes) {
      return { ok: false, diagnostics: [...asm.diagnostics, diag(file, `${seg.name} ends at 0x${(seg.addr + seg.bytes.length).toString(16)}, beyond guest RAM (${cfg.ramBytes / 1048576} MiB)`)] };
    }
  }
  return { ok: true, machine: new Machine(asm, cfg, cfg.topology ?? parseTopology(source), recycled), diagnostics: asm.diagnostics, lineMap: asm.lineMap };
}

export class Machine {
  readonly cost: Readonly<CostModel>;
  /** Units charged per cost constant over the run (see cost.ts: cyclesOfUnits). */
  readonly units: CostUnits = newCostUnits();
  /** The part of `units` the VMM charged for emulated instructions' memory operands (no cache saves it). */
  readonly operandUnits: CostUnits = newCostUnits();
  readonly icache: InstructionCache;
  readonly vmm: Vmm;
  readonly console = new DebugConsole();
  /** APICv: LAPIC accesses the CPU virtualized without an exit. */
  readonly apicv = newApicvCounters();
  /** Called for every exit, in order, with a copy of it the listener may keep. */
  onExit: ((e: ExitEvent) => void) | null = null;
  /**
   * Called for every exit, in order, with the exit as the machine holds it: an object the VMM
   * reuses, valid only during the call. A listener that keeps a few exits (the Worker's newest
   * ones) copies those and saves the copy of every exit that onExit costs.
   */
  onExitTransient: ((e: Readonly<ExitEvent>) => void) | null = null;
  /**
   * exitDetailAt's listener, the same function at every call: a closure made per call was a new
   * call target at each seek, and V8 threw away the optimised exit path (finishExit) for it.
   */
  private readonly exitCatch = new ExitCatch();

  private readonly vms: VmInstance[] = [];
  private readonly slots: { vm: VmInstance; slot: VcpuSlot; vmIndex: number; vcpuIndex: number }[] = [];
  private current = 0;
  /** Instructions the current vCPU has retired in its slice so far. */
  private sliceUsed = 0;
  private stop: StopInfo | null = null;
  private exitSeq = 0;
  /** Exits per reason, in the order reasons first occurred (one record each: no per-exit keyed stores). */
  private readonly exitsByReason: { reason: ExitReason; n: number }[] = [];
  /** The record of the last exit's reason: most exits have the reason of the one before. */
  private lastReason: { reason: ExitReason; n: number } | null = null;
  private readonly cycles: CycleCounters = { total: 0, guest: 0, exit: 0, walk: 0, fetch: 0, decode: 0, emulate: 0, device: 0, icache: 0, lookup: 0, insert: 0, protect: 0, invalidate: 0 };
  private hostNsTotal = 0;
  /** Exits the VMM's emulation path handled (the ones it times; the others are handled by the platform, untimed). */
  private vmmExits = 0;
  /**
   * Host time is measured (performance.now around the VMM) for a pseudo-random 1 in HOST_SAMPLE
   * exits, scaled up: an unbiased estimate that does not cost two clock reads per exit (in a
   * browser a clock read costs more than a cache-hit exit). xorshift state, deterministic.
   */
  private hostSample = 0x9e3779b9;
  /** Guest-physical address of an exit's instruction -> its source line's stats (null: none); one lookup per exit. */
  private readonly lineByGpa = new Map<number, LineStat | null>();
  private recording: WalkRecording = 'none';
  private readonly statsByLine = new Map<number, LineStat>();
  private readonly lineByAddr: Map<number, number>;
  private breakpoints = new Set<number>();
  private breakpointHit = false;
  /** Exit count at which the next checkpoint comes (CHECKPOINT_EVERY). */
  private nextCheckpoint: number;
  /** A VM entry stopped at its exit before the VMM handled it (run's stopBeforeExit). */
  private pendingEntry: { pick: number; before: number; exit: VmExit; done: number } | null = null;
  private timeline: ExitTimeline | null = null;
  /** Where the program's segments end, for the vCPUs' ran-off-the-end stop (Vcpu.programEnds). */
  private readonly programEnds: Map<number, string>;

  /**
   * `recycled`: guest RAMs a retired machine gave back (retire()); a VM takes one of its size,
   * zeroed, instead of a new one. A new 64 MiB buffer per load cost the Worker ~5 ms to
   * allocate and, as external memory, a full garbage collection every few loads.
   */
  constructor(readonly program: AsmResult, readonly config: MachineConfig, readonly topology: Topology, recycled: GuestRam[] = []) {
    this.cost = config.costModel ?? costPreset(config.preset);
    this.nextCheckpoint = config.checkpointEvery ?? CHECKPOINT_EVERY;
    this.icache = new InstructionCache({ buckets: config.icacheBuckets, capacity: config.icacheSize });
    this.vmm = new Vmm({ strategy: config.strategy, cost: this.cost, units: this.units, operandUnits: this.operandUnits, icache: this.icache, measureHostTime: true });
    this.lineByAddr = new Map(program.lineMap.map((e) => [e.addr, e.line]));
    this.programEnds = programEndsOf(program);
    for (let v = 0; v < topology.vms; v++) this.vms.push(this.buildVm(v, recycled));
    this.vms.forEach((vm, vmIndex) => vm.slots.forEach((slot, vcpuIndex) => this.slots.push({ vm, slot, vmIndex, vcpuIndex })));
  }

  private buildVm(id: number, recycled: GuestRam[]): VmInstance {
    const reused = recycled.findIndex((r) => r.size === this.config.ramBytes);
    const ram = reused >= 0 ? recycled.splice(reused, 1)[0] : new GuestRam(this.config.ramBytes);
    if (reused >= 0) ram.reset();
    for (const seg of this.program.segments) ram.load(seg.bytes, seg.addr);
    const firmware = installFirmware(ram, this.program.symbols, this.topology.vcpusPerVm);
    const ept = buildEpt(ram, { largePages: this.topology.eptLargePages });
    const pages = new PageTracker<Block, ICacheEntry>(ept);
    const codeCache = new CodeCache(pages);
    const ioram = new IoRam();
    const slots: VcpuSlot[] = [];
    const lapics: LocalApic[] = [];
    const vm = { ram, ept, codeCache, firmware, ioram, slots } as Omit<VmInstance, 'ctx'> as VmInstance;
    const entryAp = this.program.symbols.get('ap_start');
    for (let i = 0; i < this.topology.vcpusPerVm; i++) {
      const vcpu = new Vcpu({ ram, ept, codeCache, vcpuId: i });
      vcpu.programEnds = this.programEnds;
      const lapic = new LocalApic({
        apicId: i,
        clock: () => vcpu.cycles,
        onIpi: (dest, vector) => this.deliverIpi(vm, i, dest, vector),
      });
      vcpu.cr0 = INITIAL_CONTROL.cr0;
      vcpu.cr4 = INITIAL_CONTROL.cr4;
      vcpu.efer = INITIAL_CONTROL.efer;
      vcpu.cr3 = firmware.cr3;
      vcpu.gdtBase = firmware.gdtr.base;
      vcpu.gdtLimit = firmware.gdtr.limit;
      vcpu.idtBase = firmware.idtr.base;
      vcpu.idtLimit = firmware.idtr.limit;
      vcpu.setRflags(INITIAL_CONTROL.rflags);
      vcpu.setGpr(4, BigInt(firmware.stackTops[i]));
      vcpu.rip = i > 0 && entryAp !== undefined ? Number(entryAp) : this.program.entry;
      vcpu.cyclesPerInsn = this.cost.guestInsn;
      if (this.config.strategy === 'apicv') {
        const fast = createApicvFastPath(lapic, this.cost, () => { vcpu.apicWritePending = true; }, this.apicv, this.units);
        // In x2APIC mode the VMM turns "virtualize APIC accesses" off (bhyve
        // vmx_enable_x2apic_mode_vid): the page exits like any MMIO and no longer reaches the APIC.
        // A virtualized access's cycles pass on the vCPU's clock too (RDTSC, the LAPIC timer, a
        // trace's axis), not only in the run's total: a trace had ended 2,000,000 cycles short.
        const charged = this.apicv;
        const onClock = <A extends unknown[]>(hook: (...a: A) => bigint | boolean | null) => (...a: A) => {
          const before = charged.cycles;
          const r = hook(...a);
          vcpu.cycles += charged.cycles - before;
          return r;
        };
        vcpu.mmioFastPath = onClock((gpa: number, size: number, isWrite: boolean, value: bigint) => (lapic.mmioEnabled ? fast(gpa, size, isWrite, value) : null));
        // ... and, in x2APIC mode, "virtualize x2APIC mode" with the MSR bitmap bhyve sets
        // (vmx_allow_x2apic_msrs): TPR, EOI and SELF IPI writes and most reads do not exit.
        vcpu.msrFastPath = onClock(createApicvMsrFastPath(lapic, this.cost, this.apicv, this.units));
      }
      slots.push({ vcpu, port: vcpu, lapic, run: 'runnable', hltRip: -1 });
      lapics.push(lapic);
    }
    vm.ctx = { id, ram, ept, pages, mmio: mmioRouter(lapics.map((l) => [l]), [ioram]) };
    this.vmm.attachVm(vm.ctx);
    return vm;
  }

  // ---------------------------------------------------------------------------------------
  // Running

  stopInfo(): StopInfo | null {
    return this.stop;
  }

  atBreakpoint(): boolean {
    return this.breakpointHit;
  }

  get retired(): number {
    let n = 0;
    for (const s of this.slots) n += s.slot.vcpu.retired;
    return n;
  }

  setRecordWalks(mode: WalkRecording): void {
    this.recording = mode;
  }

  setBreakpointLines(lines: readonly number[]): void {
    const wanted = new Set(lines);
    this.breakpoints = new Set(this.program.lineMap.filter((e) => wanted.has(e.line)).map((e) => e.addr));
  }

  /** Run until the machine stops (halt, limit, fault). */
  runToEnd(): void {
    while (!this.stop) this.run(this.config.maxInsns);
  }

  /** Retire exactly one instruction on the next runnable vCPU (or handle one exit). */
  step(): void {
    this.run(1, { untilExit: true });
  }

  /**
   * Run up to `maxInsns` guest instructions over all vCPUs. With `untilExit`, return after the
   * first VM exit. Stops at a breakpoint line (after at least one instruction).
   * With `stopBeforeExit: k`, stops when the vCPU has taken exit k but before the VMM handles
   * it (the next run handles it first): time travel shows the machine "at exit k" this way.
   * With `untilRetired: r`, stops when r instructions have retired over all vCPUs.
   */
  run(maxInsns: number, opts: RunOptions = {}): void {
    if (this.stop) return;
    this.breakpointHit = false;
    let budget = maxInsns;
    const startSeq = this.exitSeq;
    if (this.pendingEntry !== null) {
      // Finish the entry that stopped at an exit: handle it now.
      const p = this.pendingEntry;
      this.pendingEntry = null;
      const done = this.finishEntry(p.pick, p.before, p.exit, opts, startSeq, maxInsns, p.done);
      if (done) return;
    }
    while (budget > 0 && !this.stop) {
      const retired = this.retired;
      if (opts.untilRetired !== undefined && retired >= opts.untilRetired) break;
      const pick = this.nextRunnable();
      if (pick < 0) {
        if (!this.idleUntilNextEvent()) break;
        continue;
      }
      if (pick !== this.current) {
        this.current = pick;
        this.sliceUsed = 0;
      }
      const { slot } = this.slots[pick];
      const vcpu = slot.vcpu;
      this.deliverInterrupts(slot);
      let n = Math.min(budget, this.sliceLeft(vcpu), this.config.maxInsns - retired);
      if (opts.untilRetired !== undefined) n = Math.min(n, opts.untilRetired - retired);
      const next = slot.lapic.nextEventAt();
      if (Number.isFinite(next)) n = Math.max(1, Math.min(n, Math.ceil((next - vcpu.cycles) / Math.max(1e-9, this.cost.guestInsn))));
      if (this.breakpoints.size > 0 || opts.untilExit) n = Math.min(n, 1);
      const before = vcpu.retired;
      const exit = vcpu.run(n);
      const done = vcpu.retired - before;
      budget -= Math.max(done, 0);
      const guest = guestCycles(done, this.cost, this.units);
      this.cycles.guest += guest;
      this.cycles.total += guest;
      if (exit.reason === 'budget' && done === 0) budget--; // never spin without progress
      if (exit.reason === 'budget' && this.kickedByTimer(slot)) exit.reason = 'external-interrupt';
      if (opts.stopBeforeExit === this.exitSeq && exit.reason !== 'budget' && exit.reason !== 'stop') {
        this.pendingEntry = { pick, before, exit, done };
        return;
      }
      if (this.finishEntry(pick, before, exit, opts, startSeq, maxInsns, done)) return;
    }
  }

  /**
   * Instructions the current vCPU may still run in its slice. With one vCPU a slice's end
   * changes nothing: the next entry is the same vCPU's, and its LAPIC changes only at exits
   * and at timer events, which end an entry anyway. So that vCPU runs on to its next exit or
   * timer event (QEMU's round-robin TCG starts its kick timer only when there is a second
   * vCPU: accel/tcg/tcg-accel-ops-rr.c rr_start_kick_timer). Not under APICv: a virtualized
   * EOI, TPR or self-IPI write changes the LAPIC without an exit, and a slice's end is when
   * the machine looks at it.
   */
  private sliceLeft(vcpu: Vcpu): number {
    if (this.slots.length === 1 && vcpu.mmioFastPath === null) return Infinity;
    return this.config.sliceInsns - this.sliceUsed;
  }

  /**
   * The LAPIC timer came due while this vCPU ran guest code (its slice ends at the timer's next
   * event): in bhyve the vlapic's callout fires on a host CPU (vlapic_fire_timer:
   * vlapic_set_intr_ready, then vcpu_notify_event), whose IPI to the vCPU's CPU is an external
   * interrupt, and external-interrupt exiting is always on: the guest exits (basic reason 1, SDM
   * Vol. 3C §26.2; vmx_exit_process hands it to the host and resumes). The interrupt is injected
   * at the next VM entry, as before. Under APICv the model takes posted-interrupt processing as on
   * (bhyve's vmx_set_intr_ready with posted interrupts): the notification does not exit.
   */
  private kickedByTimer(slot: VcpuSlot): boolean {
    return this.config.strategy !== 'apicv' && slot.lapic.nextEventAt() <= slot.vcpu.cycles;
  }

  /** Handle the exit of one VM entry and do the bookkeeping after it; true when run() must return. */
  private finishEntry(pick: number, before: number, exit: VmExit, opts: RunOptions, startSeq: number, maxInsns: number, done: number): boolean {
    const entry = this.slots[pick];
    const { slot } = entry;
    const vcpu = slot.vcpu;
    this.handleExit(entry.vm, entry.vcpuIndex, slot, exit);
    const retired = this.retired;
    if (retired >= this.config.maxInsns && !this.stop) {
      this.stop = { reason: 'limit', message: `stopped after ${retired.toLocaleString('en-US')} instructions (the instruction limit)` };
    }
    // The slice is counted in retired instructions (emulated ones included), so a vCPU that
    // exits on every instruction still yields after sliceInsns, and the interleaving of vCPUs
    // does not depend on how many exits a strategy takes. Counted before any stop below, so a
    // run that pauses (breakpoint, step) goes on exactly as one that did not.
    this.sliceUsed += vcpu.retired - before;
    if (this.sliceUsed >= this.config.sliceInsns || slot.run !== 'runnable') {
      this.current = (pick + 1) % this.slots.length;
      this.sliceUsed = 0;
    }
    if (this.exitSeq >= this.nextCheckpoint) this.checkpoint();
    // Checked after the instruction ran, so Run from a breakpoint makes progress.
    if (this.breakpoints.size > 0 && entry.vmIndex === 0 && this.onBreakpointLine(entry.vm, vcpu)) {
      this.breakpointHit = true;
      return true;
    }
    if (opts.untilExit && (this.exitSeq > startSeq || done > 0) && (maxInsns === 1 || this.exitSeq > startSeq)) return true;
    return false;
  }

  private nextRunnable(): number {
    for (let k = 0; k < this.slots.length; k++) {
      const i = (this.current + k) % this.slots.length;
      const s = this.slots[i].slot;
      if (s.run === 'runnable') return i;
      if (s.run === 'waiting' && s.lapic.pendingVector() >= 0) {
        s.run = 'runnable';
        return i;
      }
    }
    return -1;
  }

  /** Every vCPU is halted: jump guest time to the next timer event, or stop if none can come. */
  private idleUntilNextEvent(): boolean {
    let best = -1;
    let at = Infinity;
    this.slots.forEach((s, i) => {
      if (s.slot.run !== 'waiting') return;
      const t = s.slot.lapic.nextEventAt();
      if (t < at) { at = t; best = i; }
    });
    if (best < 0) {
      const waiting = this.slots.filter((s) => s.slot.run === 'waiting').length;
      this.stop = waiting === 0
        ? { reason: 'halted', message: this.slots.length === 1 ? 'hlt with interrupts disabled' : `all ${this.slots.length} vCPUs halted` }
        : { reason: 'halted', message: `deadlock: ${waiting === 1 ? '1 vCPU waits' : `${waiting} vCPUs wait`} in hlt with interrupts enabled, and no interrupt can come` };
      return false;
    }
    const s = this.slots[best].slot;
    if (s.vcpu.cycles < at) s.vcpu.cycles = at;
    s.lapic.advanceTo(s.vcpu.cycles);
    s.run = 'runnable';
    return true;
  }

  /**
   * Inject the LAPIC's pending interrupt at this VM entry, or ask for an interrupt window.
   * `charged`: the exit being handled charged the injection already (an interrupt-window exit's
   * 'device' stage): charging it here too counted each such interrupt twice.
   */
  private deliverInterrupts(slot: VcpuSlot, charged = false): void {
    const { vcpu, lapic } = slot;
    lapic.advanceTo(vcpu.cycles);
    const vector = lapic.pendingVector();
    if (vector < 0) return;
    if (vcpu.interruptWindowOpen()) {
      lapic.acknowledge(vector);
      vcpu.injectInterrupt(vector);
      if (charged) return;
      const inject = chargeCycles('injectInterrupt', 1, this.cost, this.units);
      vcpu.cycles += inject;
      this.cycles.total += inject;
      this.cycles.exit += inject;
    } else {
      vcpu.requestInterruptWindow = true;
    }
  }

  private deliverIpi(vm: VmInstance, from: number, dest: IpiDestination, vector: number): void {
    vm.slots.forEach((s, i) => {
      if (i === from) return;
      if (s.lapic.isIpiTarget(dest)) {
        s.lapic.acceptInterrupt(vector);
        if (s.run === 'waiting') s.run = 'runnable';
      }
    });
  }

  // ---------------------------------------------------------------------------------------
  // Exits

  private handleExit(vm: VmInstance, vcpuIndex: number, slot: VcpuSlot, exit: VmExit): void {
    const vcpu = slot.vcpu;
    switch (exit.reason) {
      case 'budget':
        return;
      case 'stop':
        this.stop = exit.stop ?? { reason: 'error', message: 'the vCPU stopped' };
        return;
      case 'mmio':
      case 'ept-violation':
      case 'apic-write': {
        this.vmm.recordWalks = this.recording === 'all' || (this.recording === 'sampled' && this.exitSeq % SAMPLE_EVERY === 0);
        let sample = this.hostSample;
        sample ^= sample << 13; sample ^= sample >>> 17; sample ^= sample << 5;
        this.hostSample = sample;
        const timed = (sample & (HOST_SAMPLE - 1)) === 0;
        this.vmm.measureHostTime = timed;
        const ev = this.vmm.handleExit(vm.ctx, slot.port, exit);
        this.vmmExits++;
        if (ev.action === 'stop') {
          this.stop = ev.stop ? { ...ev.stop } : { reason: 'error', message: 'the VMM stopped the run' };
          // An exit the VMM cannot handle (an instruction it cannot emulate, an EPT violation with
          // no memory behind it) still happened: it is counted and logged with the stages it went
          // through, up to the one that refused it.
          ev.seq = this.exitSeq;
          ev.retired = vcpu.retired;
          this.finishExit(ev, vcpu, 0, true);
          return;
        }
        // `retired` is the count before the exit (as for every other exit), not after the
        // emulated instruction: the CSV's mmio rows had read one more than the registers at k.
        ev.seq = this.exitSeq;
        ev.retired = vcpu.retired;
        // An emulated instruction retires in the guest's view like any other (RIP moved on).
        if (ev.reason !== 'ept-violation' && ev.reason !== 'apic-write' && vcpu.rip !== exit.rip) this.retireEmulated(vcpu);
        const hostNs = ev.hostNs === undefined ? 0 : ev.hostNs * HOST_SAMPLE;
        this.finishExit(ev, vcpu, hostNs, true);
        return;
      }
      default: {
        const { event, next } = platformExit({ vmId: vm.ctx.id, index: vcpuIndex, vcpu, lapic: slot.lapic }, exit, this.console, this.cost, this.units);
        if (exit.reason === 'hlt') slot.hltRip = exit.rip;
        if (next === 'suspend') {
          // bhyve suspends the whole VM (VM_SUSPEND_TRIPLEFAULT): the run ends here. The vCPU
          // keeps its run state: it did not halt (the registers panel would say "hlt").
          this.stop = exit.stop ? { ...exit.stop } : { reason: 'triple-fault', message: 'triple fault' };
          event.stop = this.stop;
        } else if (next === 'wait') slot.run = 'waiting';
        else if (next === 'stop') {
          slot.run = 'stopped';
          if (this.slots.every((s) => s.slot.run === 'stopped')) {
            this.stop = { reason: 'halted', message: this.slots.length === 1 ? `hlt at 0x${exit.rip.toString(16)} with interrupts disabled` : `all ${this.slots.length} vCPUs halted` };
          }
        } else if (next === 'inject') this.deliverInterrupts(slot, true);
        event.seq = this.exitSeq;
        if (vcpu.rip !== exit.rip) this.retireEmulated(vcpu);
        this.finishExit(event, vcpu, 0, false);
      }
    }
  }

  /**
   * The emulated instruction's own guest cycle goes on the vCPU's clock too (the TSC, the LAPIC
   * timer, a trace's time axis), not only into the run's total: a trace had ended one cycle
   * per emulated exit short of the run's cycles (20,003 on lapic-microbench).
   */
  private retireEmulated(vcpu: Vcpu): void {
    vcpu.retired++;
    const guest = guestCycles(1, this.cost, this.units);
    vcpu.cycles += guest;
    this.cycles.guest += guest;
    this.cycles.total += guest;
  }

  /** The bookkeeping of an exit handled; `reused`: `e` is the VMM's reused event (copied for onExit). */
  private finishExit(e: ExitEvent, vcpu: Vcpu, hostNs: number, reused: boolean): void {
    if (this.timeline) {
      const mark = e.reason === 'ept-violation' ? ExitMark.WpFault : e.reason === 'interrupt-window' || e.reason === 'external-interrupt' ? ExitMark.Interrupt
        : e.icache === 'hit' ? ExitMark.Hit : e.icache === 'miss' ? ExitMark.Miss : ExitMark.Other;
      this.timeline.noteExit(this.exitSeq, mark);
    }
    this.exitSeq++;
    let byReason = this.lastReason;
    if (byReason === null || byReason.reason !== e.reason) byReason = this.lastReason = this.reasonRecord(e.reason);
    byReason.n++;
    e.atCycle = vcpu.cycles;
    vcpu.cycles += e.cycles;
    this.cycles.total += e.cycles;
    for (const s of e.stages) {
      switch (s.name) {
        case 'exit': this.cycles.exit += s.cycles; break;
        case 'walk': this.cycles.walk += s.cycles; break;
        case 'fetch': this.cycles.fetch += s.cycles; break;
        case 'decode': this.cycles.decode += s.cycles; break;
        case 'icache': this.cycles.icache += s.cycles; this.cycles.lookup += s.cycles; break;
        case 'insert': this.cycles.icache += s.cycles; this.cycles.insert += s.cycles; break;
        case 'protect': this.cycles.icache += s.cycles; this.cycles.protect += s.cycles; break;
        case 'invalidate': this.cycles.icache += s.cycles; this.cycles.invalidate += s.cycles; break;
        case 'device': this.cycles.device += s.cycles; break;
        default: this.cycles.emulate += s.cycles;
      }
    }
    this.hostNsTotal += hostNs;
    // By the guest-physical address of the code, not RIP: the same RIP runs other code after
    // a remap (smc-then-remap's page_a, pt-remap's 0x40000000).
    const gpa = this.codeGpa(this.vms[e.vm], vcpu, e.rip);
    let st = this.lineByGpa.get(gpa);
    if (st === undefined) {
      const line = this.lineByAddr.get(gpa);
      this.lineByGpa.set(gpa, (st = line === undefined ? null : this.lineStat(line)));
    }
    if (st) {
      e.line = st.line;
      // A timer's kick is where the guest was, not an exit of the line's: the line counts only
      // exits its instruction took (or an interrupt's delivery before it, counted apart).
      if (e.reason !== 'external-interrupt') {
        st.exits++;
        if (e.icache === 'hit' || e.icache === 'miss') st.lookups++;
        if (e.icache === 'hit') st.hits++;
        // The exit came from delivering an event at this instruction, not from the instruction.
        if (e.wp?.delivering) st.delivery = (st.delivery ?? 0) + 1;
      }
    }
    this.onExitTransient?.(e);
    if (this.onExit) this.onExit(reused ? cloneExitEvent(e as VmmExitEvent) : e);
  }

  private lineStat(line: number): LineStat {
    let st = this.statsByLine.get(line);
    if (st === undefined) this.statsByLine.set(line, (st = { line, exits: 0, lookups: 0, hits: 0, delivery: 0 }));
    return st;
  }

  /**
   * The guest-physical address of the code at linear `rip` as `vcpu` sees it: its TLB's
   * translation for fetches (what it ran; nothing to walk on an exit's hot path), else the
   * guest's tables walked without side effects. The program's lines are keyed by these
   * addresses (it is loaded where it was assembled); the TLB holds host-physical addresses,
   * the same for RAM, which the EPT maps 1:1 (firmware.ts buildEpt).
   */
  private codeGpa(vm: VmInstance, vcpu: Vcpu, rip: number): number {
    const hpa = vcpu.fetchedAt(rip);
    return hpa >= 0 ? hpa : peekGla2gpa(vm.ram, vm.ept, vcpu, rip);
  }

  /** RIP is on a breakpoint's instruction, wherever the guest's tables map it (codeGpa). */
  private onBreakpointLine(vm: VmInstance, vcpu: Vcpu): boolean {
    return this.breakpoints.has(this.codeGpa(vm, vcpu, vcpu.rip));
  }

  private reasonRecord(reason: ExitReason): { reason: ExitReason; n: number } {
    for (const r of this.exitsByReason) if (r.reason === reason) return r;
    const r = { reason, n: 0 };
    this.exitsByReason.push(r);
    return r;
  }

  // ---------------------------------------------------------------------------------------
  // Checkpoints and time travel

  private checkpoint(): void {
    for (const s of this.slots) s.slot.vcpu.flushTlb(true);
    const every = this.config.checkpointEvery ?? CHECKPOINT_EVERY;
    this.nextCheckpoint = this.exitSeq - (this.exitSeq % every) + every;
    this.timeline?.checkpoint();
  }

  /** Exits handled so far. */
  get exitsHandled(): number {
    return this.exitSeq;
  }

  /** True while the machine stands at an exit the VMM has not handled yet (see run's stopBeforeExit). */
  get atPendingExit(): boolean {
    return this.pendingEntry !== null;
  }

  /**
   * Start recording for time travel: an exit log and snapshots within `budgetBytes`. Call it
   * before the first run (it snapshots the machine as it is: exit 0).
   */
  attachTimeline(budgetBytes?: number): ExitTimeline {
    this.timeline?.detach();
    for (const s of this.slots) s.slot.vcpu.flushTlb(true);
    const host: TimelineHost = {
      exitsHandled: 0,
      retired: 0,
      snapshotSpacing: SNAPSHOT_CHECKPOINTS * (this.config.checkpointEvery ?? CHECKPOINT_EVERY),
      statePolicy: STATE_POLICY,
      stateRoots: () => [this],
      guestRams: () => this.vms.map((v) => v.ram),
      resync: (changed) => this.resync(changed),
    };
    Object.defineProperty(host, 'exitsHandled', { get: () => this.exitSeq });
    Object.defineProperty(host, 'retired', { get: () => this.retired });
    this.timeline = new ExitTimeline(host, budgetBytes);
    this.timeline.checkpoint();
    return this.timeline;
  }

  /**
   * This machine is done: its guest RAMs, for a new machine to reuse (buildMachineFrom's
   * `recycled`), which zeroes them. The machine must not be used after.
   */
  retire(): GuestRam[] {
    this.detachTimeline();
    this.stop ??= { reason: 'error', message: 'the machine was retired' };
    return this.vms.map((v) => v.ram);
  }

  /** Stop recording and let the recording go. */
  detachTimeline(): void {
    this.timeline?.detach();
    this.timeline = null;
  }

  getTimeline(): ExitTimeline | null {
    return this.timeline;
  }

  /** After a restore: the TLBs forget, and code translated from RAM pages that changed goes. */
  private resync(changed: readonly (readonly number[])[]): void {
    changed.forEach((pages, v) => { for (const p of pages) this.vms[v].codeCache.dropPage(p); });
    for (const s of this.slots) s.slot.vcpu.flushTlb(true);
  }

  /**
   * Go to exit `k` of the recorded run: the machine stands at that exit, before the VMM handles
   * it (exits handled = k); `k` = the number of exits recorded is the end. Returns exit k as the
   * VMM handles it (with its walk) when `withDetail`, else null; false when k is out of reach.
   * A machine already at or before k, and not before the snapshot k would restore, runs on
   * from where it stands (what restoring and re-running would do, minus the re-run).
   * `passed` sees each exit the way there handles (the reused event, as onExitTransient does):
   * the recorded run's exits before k, from the snapshot or the point the machine ran on from.
   */
  seekExit(k: number, withDetail = false, passed?: (e: Readonly<ExitEvent>) => void): ExitEvent | null | false {
    const tl = this.timeline;
    if (!tl || k < tl.info().first || k > tl.info().end) return false;
    const detail = withDetail && k < tl.info().end ? this.exitDetailAt(k) : null;
    if (detail === false) return false;
    return this.replay(() => (this.goTo(k) ? detail : false), passed);
  }

  /**
   * Exit `k` as the VMM handles it, with its walk: goes to exit k (seekExit) and handles it, so
   * the machine is left past k, at exit k + 1 (seekExit(k) puts it back). The Worker shows a past
   * exit this way: the machine's view at k first, then this, and the re-run back to k waits for
   * whatever comes next (a seek restores anyway). False when k is out of reach or the end.
   */
  exitDetailAt(k: number): ExitEvent | false {
    const tl = this.timeline;
    if (!tl || k < tl.info().first || k >= tl.info().end) return false;
    return this.replay(() => {
      if (!this.goTo(k)) return false;
      const c = this.exitCatch;
      c.seq = k;
      this.recording = 'all';
      this.onExit = c.listen;
      this.runTo({ stopBeforeExit: k + 1 });
      const detail = c.exit;
      c.seq = -1;
      c.exit = null;
      return detail ?? false;
    });
  }

  /**
   * Inside replay: stand at exit `k` (pending). Runs on from here when that reaches k on the
   * recorded path no later than restoring would (the machine is at or before k and not before
   * the snapshot restoreBefore(k) would use; it always stands on the recorded run, since running
   * from a past point drops the future); else restores that snapshot and re-runs. False when k is
   * before the oldest snapshot.
   */
  private goTo(k: number): boolean {
    const tl = this.timeline;
    if (!tl) return false;
    if (this.exitSeq === k && this.pendingEntry !== null) return true;
    const from = tl.snapshotBefore(k);
    const runOn = !this.stop && this.exitSeq <= k && from >= 0 && this.exitSeq >= from;
    if (!runOn && tl.restoreBefore(k) < 0) return false;
    this.runTo({ stopBeforeExit: k });
    return true;
  }

  /** Whether fillSnapshot has a snapshot to fill in (cheap: no machine moves). */
  canFillSnapshot(): boolean {
    return this.fillTarget() >= 0;
  }

  /** The checkpoint fillSnapshot goes to next (ExitTimeline.fillTarget), or -1. */
  private fillTarget(): number {
    return this.timeline?.fillTarget(this.config.checkpointEvery ?? CHECKPOINT_EVERY, this.exitSeq) ?? -1;
  }

  /**
   * One step of idle work for time travel: snapshot a checkpoint the recording skipped
   * (ExitTimeline.fillTarget), so that a later seek re-runs at most one checkpoint interval.
   * Runs on to it from where the machine stands when it can, else restores the snapshot
   * before it. With `maxExits`, stops after that many exits on the way: the next call runs on
   * from there to the same checkpoint. The machine is left where it stopped (whoever needs it
   * elsewhere puts it back, as after exitDetailAt). False when there was nothing to fill in.
   */
  fillSnapshot(maxExits = Infinity): boolean {
    const tl = this.timeline;
    const at = this.fillTarget();
    if (!tl || at < 0) return false;
    return this.replay(() => {
      const runOn = !this.stop && this.exitSeq < at && this.exitSeq >= tl.snapshotBefore(at);
      if (!runOn && tl.restoreBefore(at) < 0) return false;
      const stop = Math.min(at, this.exitSeq + Math.max(1, maxExits));
      tl.fillAtCheckpoint(at);
      try {
        this.runTo({ stopBeforeExit: stop });
      } finally {
        tl.fillAtCheckpoint(-1);
      }
      return tl.snapshotBefore(at) === at || (this.exitSeq === stop && this.pendingEntry !== null);
    });
  }

  /** Where the machine stands now, for seekPoint to come back to. */
  point(): MachinePoint {
    return this.pendingEntry !== null ? { exit: this.exitSeq } : { retired: this.retired, exits: this.exitSeq };
  }

  /** Go back to a point `point()` gave (seekExit or seekRetired); false when out of reach. */
  seekPoint(p: MachinePoint): boolean {
    return 'exit' in p ? this.seekExit(p.exit) !== false : this.seekRetired(p.retired, p.exits);
  }

  /**
   * Go to the moment `r` instructions had retired (over all vCPUs): back one instruction (the
   * first such moment), or, given `exits`, back to where a run stood with r retired and that many
   * exits handled. Exits that retire nothing (a write-protect fault: its store runs again) give
   * one retired count several such points: a Next exit that handled the fault stands after it.
   */
  seekRetired(r: number, exits?: number): boolean {
    const tl = this.timeline;
    if (!tl) return false;
    return this.replay(() => {
      // The newest snapshot that is not past r: try from the exit count (at or after r's) down.
      let k = exits ?? this.exitSeq;
      for (;;) {
        const at = tl.restoreBefore(k);
        if (at < 0) return false;
        if (this.retired <= r) break;
        k = at - 1;
      }
      this.runTo({ untilRetired: r });
      if (exits !== undefined && this.retired === r && this.exitSeq < exits) {
        // The exits up to `exits` come before the next instruction retires: take them, and handle the last.
        this.runTo({ stopBeforeExit: exits - 1 });
        if (this.retired === r && this.exitSeq === exits - 1 && this.pendingEntry !== null) this.run(1, { untilExit: true });
      }
      return this.retired === r && (exits === undefined || (this.exitSeq === exits && this.pendingEntry === null));
    });
  }

  /**
   * Run until the machine stands at exit `k`, before the VMM handles it (exits handled = k);
   * false when the run ends first.
   */
  runToExit(k: number): boolean {
    if (this.exitSeq > k) return false;
    this.runTo({ stopBeforeExit: k });
    return this.pendingEntry !== null && this.exitSeq === k;
  }

  /** Re-run quietly (no listener but `passed`, no walks, no breakpoints, no host timing) inside `f`. */
  private replay<T>(f: () => T, passed?: (e: Readonly<ExitEvent>) => void): T {
    const saved = { onExit: this.onExit, onExitTransient: this.onExitTransient, recording: this.recording, breakpoints: this.breakpoints };
    this.onExit = null;
    this.onExitTransient = passed ?? null;
    this.recording = 'none';
    this.breakpoints = new Set();
    // A pending exit stays: a restore replaces it, and running on from it handles it first.
    try {
      return f();
    } finally {
      this.onExit = saved.onExit;
      this.onExitTransient = saved.onExitTransient;
      this.recording = saved.recording;
      this.breakpoints = saved.breakpoints;
      this.breakpointHit = false;
    }
  }

  /** Run until the stop `opts` names (a pending exit, a retired count) or the end. */
  private runTo(opts: RunOptions): void {
    do {
      const before = this.exitSeq;
      const retired = this.retired;
      const wasPending = this.pendingEntry !== null;
      this.run(this.config.maxInsns, opts);
      if (opts.untilRetired !== undefined && this.retired >= opts.untilRetired) return;
      if (!wasPending && this.exitSeq === before && this.retired === retired && this.pendingEntry === null) return;
    } while (!this.stop && this.pendingEntry === null);
  }

  // ---------------------------------------------------------------------------------------
  // Views

  counters(): Counters {
    const total = this.exitSeq;
    return {
      retired: this.retired,
      exits: { total, byReason: Object.fromEntries(this.exitsByReason.map((r) => [r.reason, r.n])) as Partial<Record<ExitReason, number>> },
      icache: { ...this.icache.counters },
      // APICv accesses the CPU virtualized cost cycles without an exit: they count as emulation.
      cycles: { ...this.cycles, emulate: this.cycles.emulate + this.apicv.cycles, total: this.cycles.total + this.apicv.cycles },
      apicv: { virtualized: this.apicv.virtualized, cycles: this.apicv.cycles },
      hostNsPerExit: this.vmmExits ? this.hostNsTotal / this.vmmExits : 0,
    };
  }

  /**
   * Whether the guest saw modeled time pass (armed a LAPIC timer, read its count or the TSC).
   * When it did not, the run's path is the same under any cost model and its cycles under
   * another model are cyclesOfUnits(this.units, model), exactly.
   */
  guestSawTime(): boolean {
    return this.slots.some(({ slot }) => slot.lapic.timeObserved || slot.vcpu.tscReads > 0);
  }

  /** The vCPUs' translated code (the CLI's `run --json`, tests of boundedness). */
  codeCounters(): CodeCacheCounters {
    const c: CodeCacheCounters = { translated: 0, invalidated: 0, flushes: 0, blocks: 0, insns: 0, trackedPages: 0 };
    for (const vm of this.vms) {
      const cc = vm.codeCache;
      c.translated += cc.translated; c.invalidated += cc.invalidated; c.flushes += cc.flushes;
      c.blocks += cc.size; c.insns += cc.insns; c.trackedPages += cc.pages.trackedPages;
    }
    return c;
  }

  consoleText(): string {
    return this.console.text;
  }

  /** One vCPU's registers, 64-bit values (RIP as its unsigned 64-bit pattern). */
  vcpuRegs(vm: number, vcpu: number): VcpuSnapshot<bigint>['regs'] {
    const v = this.vms[vm].slots[vcpu].vcpu;
    const regs = {} as VcpuSnapshot<bigint>['regs'];
    GPR_NAMES.forEach((n, i) => { regs[n] = v.getGpr(i); });
    regs.rip = BigInt.asUintN(64, BigInt(v.rip));
    regs.rflags = BigInt(v.getRflags());
    regs.cr0 = BigInt(v.cr0);
    regs.cr2 = BigInt(v.cr2);
    regs.cr3 = BigInt(v.cr3);
    regs.cr4 = BigInt(v.cr4);
    regs.efer = BigInt(v.efer);
    return regs;
  }

  /** Every vCPU's registers (64-bit values), run state, instruction count and LAPIC registers, VM by VM. */
  vcpuStates(): VcpuSnapshot<bigint>[] {
    const out: VcpuSnapshot<bigint>[] = [];
    this.vms.forEach((vm, vmIndex) => vm.slots.forEach((s, i) => {
      const regs = this.vcpuRegs(vmIndex, i);
      out.push({ vm: vmIndex, vcpu: i, regs, halted: s.run !== 'runnable', retired: s.vcpu.retired, lapic: s.lapic.snapshot(), line: this.ripLine(vmIndex, i) });
    }));
    return out;
  }

  /** Exit and cache-hit counts per source line (lines that exited at least once): copies, they stay as of now. */
  lineStats(): LineStat[] {
    return Array.from(this.statsByLine.values(), (s) => ({ ...s }));
  }

  /**
   * The cache's entries, oldest first, each with its instruction's line: the code page the VMM
   * fetched it from (an entry's first page) plus RIP's offset in it (the low 12 bits of a
   * linear address are its physical address's under 4K, 2M and 1G pages alike).
   */
  icacheEntries(): IcacheEntryView[] {
    const entries = this.icache.entries();
    for (const e of entries) {
      const line = this.lineByAddr.get(e.pages[0] + (e.rip % PAGE_SIZE));
      if (line !== undefined) e.line = line;
    }
    return entries;
  }

  /**
   * The source line of the instruction a vCPU (by default VM 0's vCPU 0) is at: the next one to
   * run, or the hlt it waits or stopped in (RIP is already past a hlt, on whatever follows it).
   * Null when RIP is on no line of the program (firmware, data).
   */
  ripLine(vm = 0, vcpu = 0): number | null {
    const v = this.vms[vm];
    const slot = v.slots[vcpu];
    const at = slot.run !== 'runnable' && slot.hltRip >= 0 ? slot.hltRip : slot.vcpu.rip;
    return this.lineByAddr.get(this.codeGpa(v, slot.vcpu, at)) ?? null;
  }

  /**
   * What each guest-physical page holds, VM by VM, in address order: firmware, page tables
   * (the firmware's and, from `entries`, those the instruction cache depends on), stacks, the
   * program's code and data, MMIO; and whether the EPT write-protects it.
   */
  pageRoles(entries: readonly IcacheEntryView[]): PageView[] {
    const pages: PageView[] = [];
    this.vms.forEach((vm, vmIndex) => {
      const roles = new Map<number, PageRole>();
      const mark = (start: number, end: number, role: PageRole) => {
        for (let p = start - (start % 4096); p < end; p += 4096) roles.set(p, role);
      };
      mark(FIRMWARE_LAYOUT.idt, FIRMWARE_LAYOUT.gdt + 0x1000, 'firmware');
      for (const p of vm.firmware.pageTablePages) roles.set(p, 'pagetable');
      for (const top of vm.firmware.stackTops) mark(top - FIRMWARE_LAYOUT.stackSize, top, 'stack');
      for (const seg of this.program.segments) mark(seg.addr, seg.addr + Math.max(1, seg.bytes.length), seg.name === '.text' ? 'code' : 'data');
      for (const e of entries) if (e.vm === vmIndex) for (const p of e.pages.slice(1)) if (!roles.has(p) || roles.get(p) === 'data') roles.set(p, 'pagetable');
      mark(LAPIC_BASE, LAPIC_BASE + 0x1000, 'mmio');
      mark(IORAM_BASE, IORAM_BASE + IORAM_SIZE, 'mmio');
      for (const [gpa, role] of [...roles].sort((a, b) => a[0] - b[0])) {
        pages.push({ vm: vmIndex, gpa, role, writeProtected: role !== 'mmio' && vm.ept.isWriteProtected(gpa) });
      }
    });
    return pages;
  }
}

/** The end address of each non-empty segment, with the line of the last thing before it. */
function programEndsOf(program: AsmResult): Map<number, string> {
  const ends = new Map<number, string>();
  for (const seg of program.segments) {
    if (seg.bytes.length === 0) continue;
    const end = seg.addr + seg.bytes.length;
    let line: number | undefined;
    for (const e of program.lineMap) if (e.addr < end && e.addr >= seg.addr) line = e.line;
    ends.set(end, `the end of ${seg.name}${line === undefined ? '' : `, after line ${line}`}`);
  }
  return ends;
}
