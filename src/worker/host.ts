/**
 * The Worker side of the protocol: owns one Machine, runs it in host-time slices so the Worker
 * stays responsive to commands, and posts one 'frame' per slice (≈ one animation frame).
 * Host time only schedules work here; the machine itself is deterministic.
 */
import { assemble } from '../core/asm';
import { PREDEFINED_SYMBOLS, PROGRAM_ORIGIN } from '../core/guestAbi';
import { buildMachine, DEFAULT_MACHINE_CONFIG, type Machine, type MachineConfig } from '../core/machine';
import type { ExitEvent } from '../core/events';
import type { Command, RunConfig, Speed, WorkerEvent } from './protocol';
import { machineView } from './view';

/** Exits sent per frame; the rest are counted as dropped (the counters stay exact). */
const MAX_EXITS_PER_FRAME = 150;
/** While running, frames go out at most this often (the UI thread must not drown in messages). */
const FRAME_INTERVAL_MS = 50;
/** While running, the full machine view (registers, cache entries, pages) at most this often. */
const VIEW_INTERVAL_MS = 200;
/** Host milliseconds of guest execution per frame at full speed. */
const SLICE_MS = 12;
/** Instructions between host-clock checks inside a slice. */
const CHUNK_INSNS = 20_000;
/** A guest that runs this long without stopping is paused with a banner. */
const RUNAWAY_MS = 15_000;
/** Exits kept for 'selectExit' (with their walks, where recorded). */
const EXIT_HISTORY = 4096;
/** Step to next exit gives up after this many instructions (and says so). */
const STEP_EXIT_LIMIT = 50_000_000;

export class MachineHost {
  private machine: Machine | null = null;
  private source = '';
  private file = 'program.s';
  private config: MachineConfig = { ...DEFAULT_MACHINE_CONFIG };
  private speed: Speed = 'max';
  private running = false;
  private runStartedAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private breakpointLines: number[] = [];
  private pending: ExitEvent[] = [];
  private dropped = 0;
  private history: ExitEvent[] = [];
  private banner: string | undefined;
  private lastFrameAt = -Infinity;
  private lastViewAt = -Infinity;

  constructor(private readonly post: (e: WorkerEvent) => void) {}

  handle(cmd: Command): void {
    try {
      this.dispatch(cmd);
    } catch (e) {
      this.stopRunning();
      this.post({ type: 'error', message: e instanceof Error ? `${e.message}` : String(e) });
    }
  }

  private dispatch(cmd: Command): void {
    switch (cmd.type) {
      case 'assemble': {
        const r = assemble(cmd.source, { file: cmd.file, origin: PROGRAM_ORIGIN, predefined: PREDEFINED_SYMBOLS });
        this.post({ type: 'diagnostics', requestId: cmd.requestId, diagnostics: r.diagnostics });
        return;
      }
      case 'load':
        this.source = cmd.source;
        this.file = cmd.file;
        this.applyRunConfig(cmd.config);
        this.load();
        return;
      case 'reset':
        this.load();
        return;
      case 'setConfig':
        this.applyRunConfig(cmd.config);
        this.load();
        return;
      case 'setSpeed':
        this.speed = cmd.speed;
        return;
      case 'setBreakpoints':
        this.breakpointLines = cmd.lines.slice(0, 10_000);
        this.machine?.setBreakpointLines(this.breakpointLines);
        return;
      case 'run':
        if (!this.machine || this.machine.stopInfo()) return;
        this.running = true;
        this.banner = undefined;
        this.runStartedAt = performance.now();
        this.machine.setRecordWalks(this.speed === 'max' && !cmd.recordWalks ? 'sampled' : 'all');
        this.schedule();
        return;
      case 'pause':
        this.stopRunning();
        this.frame();
        return;
      case 'step':
        this.stopRunning();
        if (!this.machine) return;
        this.machine.setRecordWalks('all');
        this.machine.step();
        this.frame();
        return;
      case 'stepExit': {
        this.stopRunning();
        const m = this.machine;
        if (!m) return;
        m.setRecordWalks('all');
        const before = m.counters().exits.total;
        m.run(STEP_EXIT_LIMIT, { untilExit: true });
        if (m.counters().exits.total === before && !m.stopInfo()) {
          this.banner = `no exit in the next ${STEP_EXIT_LIMIT.toLocaleString('en-US')} instructions; paused`;
        }
        this.frame();
        return;
      }
      case 'selectExit': {
        const exit = this.history.find((e) => e.seq === cmd.seq);
        if (exit) this.post({ type: 'exitDetail', exit });
        return;
      }
    }
  }

  private applyRunConfig(c: Partial<RunConfig>): void {
    this.config = {
      ...this.config,
      ...(c.strategy !== undefined && { strategy: c.strategy }),
      ...(c.preset !== undefined && { preset: c.preset }),
      ...(c.icacheSize !== undefined && { icacheSize: c.icacheSize }),
      ...(c.maxInsns !== undefined && { maxInsns: c.maxInsns }),
    };
  }

  private load(): void {
    this.stopRunning();
    this.pending = [];
    this.history = [];
    this.dropped = 0;
    this.banner = undefined;
    const built = buildMachine(this.source, this.config, this.file);
    if (!built.ok) {
      this.machine = null;
      this.post({ type: 'loaded', ok: false, diagnostics: built.diagnostics, lineMap: [], exitLines: [] });
      return;
    }
    this.machine = built.machine;
    this.machine.onExit = (e) => this.collect(e);
    this.machine.setBreakpointLines(this.breakpointLines);
    this.post({
      type: 'loaded',
      ok: true,
      diagnostics: built.diagnostics,
      lineMap: built.lineMap,
      exitLines: built.machine.predictedExitLines(),
    });
    this.frame();
  }

  private collect(e: ExitEvent): void {
    if (this.pending.length >= MAX_EXITS_PER_FRAME) {
      this.pending.shift();
      this.dropped++;
    }
    this.pending.push(e);
    if (e.walk) {
      this.history.push(e);
      if (this.history.length > EXIT_HISTORY) this.history.splice(0, EXIT_HISTORY / 4);
    }
  }

  private stopRunning(): void {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const delay = this.speed === 'max' ? 0 : Math.max(0, 1000 / Math.max(1, this.speed));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick();
    }, delay);
  }

  private tick(): void {
    const m = this.machine;
    if (!this.running || !m) return;
    try {
      if (this.speed === 'max') {
        // At least one chunk: Run from a breakpoint must move on (run() clears the flag).
        const end = performance.now() + SLICE_MS;
        do m.run(CHUNK_INSNS);
        while (performance.now() < end && !m.stopInfo() && !m.atBreakpoint());
      } else {
        m.step();
      }
    } catch (e) {
      this.stopRunning();
      this.post({ type: 'error', message: `the machine crashed: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    if (m.stopInfo() || m.atBreakpoint()) this.running = false;
    if (this.running && performance.now() - this.runStartedAt > RUNAWAY_MS) {
      this.running = false;
      this.banner = `paused: the guest ran ${RUNAWAY_MS / 1000} s without stopping (Run continues it)`;
    }
    if (!this.running || performance.now() - this.lastFrameAt >= FRAME_INTERVAL_MS) this.frame();
    if (this.running) this.schedule();
  }

  private frame(): void {
    const m = this.machine;
    if (!m) return;
    const now = performance.now();
    this.lastFrameAt = now;
    const sendView = !this.running || now - this.lastViewAt >= VIEW_INTERVAL_MS;
    if (sendView) this.lastViewAt = now;
    const exits = this.pending;
    this.pending = [];
    const dropped = this.dropped;
    this.dropped = 0;
    this.post({
      type: 'frame',
      running: this.running,
      counters: m.counters(),
      exits,
      droppedExits: dropped,
      ...(sendView && { view: machineView(m) }),
      stop: m.stopInfo(),
      ...(this.banner !== undefined && { banner: this.banner }),
    });
  }
}
