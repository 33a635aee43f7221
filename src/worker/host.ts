/**
 * The Worker side of the protocol: owns one Machine, runs it in host-time slices so the Worker
 * stays responsive to commands, and posts one 'frame' per slice (≈ one animation frame).
 * Host time only schedules work here; the machine itself is deterministic.
 */
import type { AsmResult } from '../core/asm';
import { assembleProgram, buildMachineFrom, CHECKPOINT_EVERY, DEFAULT_MACHINE_CONFIG, type Machine, type MachineConfig, type MachinePoint, pointExits } from '../core/machine';
import { predictedExitLines, unemulableLines } from '../core/programLines';
import { walkUnrecorded, type ExitEvent } from '../core/events';
import type { ChartPoint, Command, RunConfig, Speed, TimelineView, WorkerEvent } from './protocol';
import { ChartPoints } from './chartPoints';
import { blankExit, copyExit, ExitRing } from './exitRing';
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
/** Bins of the timeline's marks (one tick per bin). */
const TIMELINE_BINS = 240;
/**
 * Exits re-run per task while filling in snapshots (a fifth of a checkpoint interval's, ~0.5 ms
 * on the hit path at ~0.5 M exits/s, bench:exits): what a seek that arrives meanwhile waits at most.
 */
const FILL_SLICE_EXITS = 256;

/** Commands that neither read nor run the machine: a machine gone past the exit shown may stay so. */
const QUIET_COMMANDS: ReadonlySet<Command['type']> = new Set(['seekExit', 'selectExit', 'setSpeed', 'setBreakpoints', 'assemble', 'load', 'reset', 'setConfig']);

type TimeTravelAt = Omit<Extract<WorkerEvent, { type: 'timeTravel' }>, 'type' | 'exit' | 'passed'>;
/**
 * Exits a seek's re-run hands to the log, the newest before the exit shown: the rows above it in
 * any log pane (the log centres it). 100 cost ~2 ms per seek more in bench:ui (their clone and
 * merge); 32 did not measurably.
 */
export const PASSED_EXITS = 32;

export class MachineHost {
  private machine: Machine | null = null;
  private source = '';
  private file = 'program.s';
  private config: MachineConfig = { ...DEFAULT_MACHINE_CONFIG };
  private speed: Speed = 'max';
  private running = false;
  private runStartedAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /**
   * At full speed the next slice is queued as a message to ourselves, not setTimeout(0): a
   * browser clamps nested zero timeouts to 4 ms, a quarter of each 12 ms slice lost. Commands
   * still get in between slices (each slice is a task of its own).
   */
  private wake: MessageChannel | null = null;
  private wakePending = false;
  private breakpointLines: number[] = [];
  /** The newest exits since the last frame (what the log and the charts get). */
  private readonly newest = new ExitRing(MAX_EXITS_PER_FRAME);
  /** The newest exits a seek's re-run went through. */
  private readonly passed = new ExitRing(PASSED_EXITS);
  private readonly pass = (e: Readonly<ExitEvent>) => this.passed.push(e);
  /** Exits with their walks (sampled at full speed, all in step mode), for 'selectExit'. */
  private history: ExitEvent[] = [];
  /** The charts' samples of this run (a frame with a view sends them). */
  private chart = new ChartPoints();
  private loadedAt = 0;
  private readonly chartPoint = (): ChartPoint => ({ t: performance.now() - this.loadedAt, counters: this.machine!.counters() });
  private banner: string | undefined;
  private lastFrameAt = -Infinity;
  /**
   * While running: when the previous frame was taken (the run's start, for its first) and the
   * exits then, for the frame's exit rate. Measured here, where the exits are taken: the page
   * ingests several frames in one task, and its own clock made rates of 12 k to 600 k exits/s
   * in one steady run.
   */
  private rateFrom: { at: number; exits: number } | null = null;
  private lastViewAt = -Infinity;
  /**
   * Time travel: null at the present; while the machine shows a past point, where the present
   * was, to go back to it (an exit not handled yet when a run stopped before its first slice,
   * after a seek had left it there).
   */
  private present: MachinePoint | null = null;
  /**
   * Time travel: the exit shown, when the machine went past it to report it (its walk and stages
   * come from handling it). Put back at k before any command that reads or runs the machine;
   * a seek needs nothing (it restores or runs on from where the machine stands).
   */
  private behind: number | null = null;
  /**
   * Idle fills (fill) moved the machine: where it must stand again before a command reads or
   * runs it. Null when it stands where it was put.
   */
  private home: MachinePoint | null = null;
  /** Snapshots are being filled in while the Worker has nothing else to do (see fill). */
  private filling = false;
  /** A seek's path has been taken in this Worker, by the page or by idle work (see rehearseSeek). */
  private seekTaken = false;
  private disposed = false;
  /** An exit picked while running whose walk the run did not keep: its detail follows the stop's frame. */
  private pickedWhileRunning: number | null = null;
  /**
   * The timeline's marks last sent, by the span they cover: a seek does not change them (the
   * re-run writes the recorded marks again), and binning 100 k exits took ~1 ms of each seek.
   */
  private marksSent: { key: string; marks: number[] } | null = null;
  /**
   * The program assembled last, with what a load reports of its lines (all functions of the
   * source and file): the page sends the same source with every Run, and assembling it cost
   * 3-20 ms of each Run of a 60-line program (Node, warm), the lines' scans up to 6 ms more.
   */
  private program: { source: string; file: string; asm: AsmResult; exitLines?: number[]; unemulable?: { line: number; why: string }[] } | null = null;

  /** `stepExitLimit`: instructions a Next exit runs at most (tests take fewer than the page's). */
  constructor(private readonly post: (e: WorkerEvent) => void, private readonly stepExitLimit = STEP_EXIT_LIMIT) {}

  handle(cmd: Command): void {
    try {
      this.dispatch(cmd);
    } catch (e) {
      this.stopRunning();
      this.post({ type: 'error', message: e instanceof Error ? `${e.message}` : String(e) });
    }
  }

  private dispatch(cmd: Command): void {
    if (!QUIET_COMMANDS.has(cmd.type)) {
      // A command that reads or runs the machine ends filling (stepping must not pay a seek per step).
      this.filling = false;
      this.settle();
    }
    switch (cmd.type) {
      case 'assemble': {
        const r = this.assembled(cmd.source, cmd.file).asm;
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
        this.leavePast();
        if (!this.machine || this.machine.stopInfo()) return;
        this.running = true;
        this.banner = undefined;
        this.runStartedAt = performance.now();
        this.rateFrom = { at: this.runStartedAt, exits: this.machine.counters().exits.total };
        this.machine.setRecordWalks(this.speed === 'max' && !cmd.recordWalks ? 'sampled' : 'all');
        this.schedule();
        return;
      case 'pause':
        this.stopRunning();
        this.frame();
        this.startFilling();
        return;
      case 'step':
        this.stopRunning();
        this.banner = undefined;
        this.leavePast();
        if (!this.machine) return;
        this.machine.setRecordWalks('all');
        this.machine.step();
        this.frame();
        return;
      case 'stepExit': {
        this.stopRunning();
        this.banner = undefined;
        this.leavePast();
        const m = this.machine;
        if (!m) return;
        m.setRecordWalks('all');
        const before = m.counters().exits.total;
        m.run(this.stepExitLimit, { untilExit: true });
        if (m.counters().exits.total === before && !m.stopInfo()) {
          this.banner = `no exit in the next ${this.stepExitLimit.toLocaleString('en-US')} instructions; paused`;
        }
        this.frame();
        return;
      }
      case 'selectExit': {
        const exit = cmd.detail ? this.history.find((e) => e.seq === cmd.seq) ?? this.exitByReplay(cmd.seq) : null;
        if (exit) this.post({ type: 'exitDetail', exit });
        // Running, an exit that walked can be handled again only after the stop (see frame).
        this.pickedWhileRunning = this.running && cmd.detail && (!exit || walkUnrecorded(exit)) ? cmd.seq : null;
        this.post({ type: 'picked', seq: cmd.seq, running: this.running });
        return;
      }
      case 'seekExit':
        this.stopReporting();
        this.seekExit(cmd.exit);
        this.startFilling();
        return;
      case 'stepBack': {
        this.stopReporting();
        const m = this.machine;
        if (!m || m.retired === 0) return;
        this.present ??= m.point();
        m.seekRetired(m.retired - 1);
        this.postTimeTravel(this.timeTravelAtHere(), null);
        this.startFilling();
        return;
      }
      case 'backExit': {
        this.stopReporting();
        const m = this.machine;
        if (!m) return;
        // At a pending exit k the previous is k - 1; between exits, the last one handled.
        const k = m.exitsHandled - 1;
        if (k >= 0) this.seekExit(k);
        this.startFilling();
        return;
      }
    }
  }

  /**
   * Show exit k (the recorded end: the present). The machine goes to k (one restore and re-run at
   * most, or on from where it stands), the counters and view are taken there, then it handles
   * exit k for its walk and stages and stays past it (`behind`) until something else needs it.
   */
  private seekExit(k: number): void {
    const m = this.machine;
    const tl = m?.getTimeline();
    if (!m || !tl) return;
    const info = tl.info();
    // Where the present is: kept since the first seek, else where the machine stands (or stood
    // before idle work moved it: at the present, `behind` is null).
    const here = this.present ?? this.home ?? m.point();
    if (this.present !== null && k >= pointExits(this.present)) {
      this.behind = null;
      this.home = null;
      m.seekPoint(this.present);
      this.present = null;
      this.postTimeTravel(this.timeTravelAtHere(), null);
      return;
    }
    if (this.present === null && k >= pointExits(here)) return; // already the present
    if (k < info.first) k = info.first;
    this.seekTaken = true;
    this.passed.clear();
    if (m.seekExit(k, false, this.pass) === false) return; // out of reach: nothing moved
    this.behind = null;
    this.home = null;
    this.present ??= here;
    const shown = this.timeTravelAtHere();
    if (!shown) return;
    const detail = k < info.end ? m.exitDetailAt(k) : null;
    if (detail !== false && detail !== null) this.behind = k;
    this.postTimeTravel(shown, detail === false ? null : detail, this.passed.take().exits);
  }

  /**
   * Exit k with its walk when the run kept none (at full speed it records only sampled walks):
   * the timeline handles it again (Machine.exitDetailAt), and the machine goes back to where it
   * is shown before the next command that reads or runs it (`home`, as after a fill). Not while
   * running (a slice would run on from the wrong point); null when k is out of the timeline's reach.
   */
  private exitByReplay(k: number): ExitEvent | null {
    const m = this.machine;
    if (!m || this.running || !m.getTimeline()) return null;
    this.keepHome(m);
    const exit = m.exitDetailAt(k);
    return exit === false ? null : exit;
  }

  /** About to move the machine for idle work: remember where it is shown (see `home`), once. */
  private keepHome(m: Machine): void {
    if (this.home !== null) return;
    this.home = this.behind !== null ? { exit: this.behind } : m.point();
    this.behind = null;
  }

  /** Put the machine back where it is shown if it went past it (`behind`) or a fill moved it (`home`). */
  private settle(): void {
    const home = this.home ?? (this.behind !== null ? { exit: this.behind } : null);
    this.behind = null;
    this.home = null;
    if (home !== null) this.machine?.seekPoint(home);
  }

  /** A run is going (tests wait for it to stop). */
  get isRunning(): boolean {
    return this.running;
  }

  /** Idle work (a rehearsal, snapshot fills) is still going on (tests wait for the Worker to be idle). */
  get fillingSnapshots(): boolean {
    return this.filling;
  }

  /** A seek's path has been taken in this Worker (tests: see rehearseSeek). */
  get seekPathTaken(): boolean {
    return this.seekTaken;
  }

  /**
   * While the Worker has nothing else to do (a run stopped, a seek answered): once, rehearse a
   * seek (rehearseSeek), then fill in the snapshots the recording skipped, FILL_SLICE_EXITS re-run
   * exits per task (Machine.fillSnapshot): a seek re-runs at most one checkpoint interval then,
   * and the re-run path is optimised before the first seek. A command waits for one slice at
   * most; one that reads or runs the machine ends filling and puts the machine back (settle).
   */
  private startFilling(): void {
    if (this.disposed || this.running || !this.machine || !this.idleWork(this.machine)) return;
    this.filling = true;
    this.wakeUp();
  }

  /** Whether idle work has something to do: a seek to rehearse or a snapshot to fill in. */
  private idleWork(m: Machine): boolean {
    return this.rehearsalDue(m) || m.canFillSnapshot();
  }

  private fill(): void {
    const m = this.machine;
    if (!this.filling || this.running || !m || !this.idleWork(m)) {
      this.filling = false;
      return;
    }
    this.keepHome(m);
    try {
      if (this.rehearsalDue(m)) this.rehearseSeek(m);
      else if (!m.fillSnapshot(FILL_SLICE_EXITS)) this.filling = false;
    } catch (e) {
      this.filling = false;
      this.post({ type: 'error', message: `time travel failed to fill in a snapshot: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    if (this.filling) this.wakeUp();
  }

  /**
   * A seek is worth rehearsing once the timeline spans a checkpoint interval: by then V8 has
   * optimised the exit path with the run's listener, and nobody has sought yet.
   */
  private rehearsalDue(m: Machine): boolean {
    if (this.seekTaken) return false;
    const info = m.getTimeline()?.info();
    return info !== undefined && info.end - info.first >= CHECKPOINT_EVERY;
  }

  /**
   * Idle work's first slice: one seek, shown to nobody, before the snapshot fills. A seek's re-run
   * calls the machine's exit listeners with other functions than a run does (the host's `pass`,
   * exitDetailAt's); V8 had compiled Machine.finishExit for the run's, so the page's first seek
   * threw that code away ("wrong call target"), re-ran its exits unoptimised and recompiled the
   * path on background threads while the page drew the seek (Maglev then TurboFan: tens of ms of
   * CPU, on 2 cores taken from the page). Here that happens while nobody waits, and the fills
   * after it re-optimise the path with both listeners. The exit is one past a snapshot (a re-run of
   * one exit); the machine is put back like after a fill (`home`). Once per Worker: V8's code and
   * feedback live as long as the Worker does.
   */
  private rehearseSeek(m: Machine): void {
    this.seekTaken = true;
    const tl = m.getTimeline();
    if (!tl) return;
    const { first, end } = tl.info();
    const k = Math.max(first, tl.snapshotBefore(first + ((end - first) >> 1))) + 1;
    if (k >= end) return;
    m.seekExit(k, false, this.pass);
    this.passed.clear();
    m.exitDetailAt(k);
  }

  /** A command that moves forward from a past point drops the recorded future after it. */
  private leavePast(): void {
    const m = this.machine;
    if (this.present === null || !m) return;
    const at = m.exitsHandled;
    m.getTimeline()?.truncateAfter(at);
    this.present = null;
    this.history = this.history.filter((e) => e.seq < at);
    this.chart.dropAfter(at);
    this.post({ type: 'futureDropped', at });
  }

  private timelineView(): TimelineView | undefined {
    const m = this.machine;
    const tl = m?.getTimeline();
    if (!m || !tl) return undefined;
    const info = tl.info();
    const to = this.present ? pointExits(this.present) : info.end;
    const key = `${info.first}:${to}:${info.end}`;
    if (this.marksSent?.key !== key) this.marksSent = { key, marks: Array.from(tl.markBins(TIMELINE_BINS, info.first, to)) };
    return {
      first: info.first,
      end: this.present ? pointExits(this.present) : Math.max(info.end, m.exitsHandled),
      at: this.present === null ? null : m.exitsHandled,
      retired: m.retired,
      marks: this.marksSent.marks,
      bytes: info.bytes,
      budget: info.budget,
    };
  }

  /** What a 'timeTravel' event shows of the machine as it stands now. */
  private timeTravelAtHere(): TimeTravelAt | null {
    const m = this.machine;
    const timeline = this.timelineView();
    if (!m || !timeline) return null;
    return { counters: m.counters(), view: machineView(m), stop: m.stopInfo(), timeline };
  }

  private postTimeTravel(at: TimeTravelAt | null, exit: ExitEvent | null, passed: ExitEvent[] = []): void {
    if (!at) return;
    this.newest.clear();
    this.post({ type: 'timeTravel', ...at, exit, passed });
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
    this.newest.clear();
    this.chart = new ChartPoints();
    this.loadedAt = performance.now();
    this.history = [];
    this.banner = undefined;
    this.pickedWhileRunning = null;
    const program = this.assembled(this.source, this.file);
    // The machine shown until now goes: the new one takes its guest RAM (zeroed where it was written).
    const recycled = this.machine?.retire() ?? [];
    this.machine = null;
    const built = buildMachineFrom(program.asm, this.source, this.config, this.file, recycled);
    if (!built.ok) {
      this.post({ type: 'loaded', ok: false, diagnostics: built.diagnostics, lineMap: [], exitLines: [] });
      return;
    }
    this.machine = built.machine;
    this.present = null;
    this.behind = null;
    this.home = null;
    this.filling = false;
    this.marksSent = null;
    this.machine.attachTimeline();
    this.machine.onExitTransient = (e) => this.collect(e);
    this.machine.setBreakpointLines(this.breakpointLines);
    // The answer carries the machine as a frame would (no frame follows): the page shows the
    // new run from it, with no empty state between the old run and this one.
    const m = this.machine;
    this.lastFrameAt = this.lastViewAt = performance.now();
    this.post({
      type: 'loaded',
      ok: true,
      diagnostics: built.diagnostics,
      lineMap: built.lineMap,
      exitLines: (program.exitLines ??= predictedExitLines(program.asm)),
      unemulable: (program.unemulable ??= unemulableLines(program.asm)),
      start: { counters: m.counters(), view: machineView(m), stop: m.stopInfo(), timeline: this.timelineView() },
    });
  }

  /** `source` assembled (the last program again when source and file are the same). */
  private assembled(source: string, file: string): NonNullable<MachineHost['program']> {
    const p = this.program;
    if (p !== null && p.source === source && p.file === file) return p;
    return (this.program = { source, file, asm: assembleProgram(source, file) });
  }

  /** Every exit passes here (the machine's reused event): keep copies of what the UI will get. */
  private collect(e: Readonly<ExitEvent>): void {
    this.newest.push(e);
    this.chart.noteExit(e.seq + 1, this.chartPoint);
    if (e.walk) {
      this.history.push(copyExit(blankExit(), e));
      if (this.history.length > EXIT_HISTORY) this.history.splice(0, EXIT_HISTORY / 4);
    }
  }

  /** Stop and let the wake channel go (a host in Node would otherwise keep the process alive). */
  dispose(): void {
    this.disposed = true;
    this.filling = false;
    this.stopRunning();
    this.wake?.port1.close();
    this.wake?.port2.close();
    this.wake = null;
    this.wakePending = false;
  }

  private stopRunning(): void {
    this.running = false;
    this.rateFrom = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Before time travel moves the machine: a run stops as Pause stops it, with a frame of the exits
   * taken since the last one (a seek's answer starts the log's batch anew: they had been neither
   * listed nor counted as not listed, when a shortcut went back while it ran). A banner of
   * before is done with.
   */
  private stopReporting(): void {
    this.banner = undefined;
    if (!this.running) return;
    this.stopRunning();
    this.frame();
  }

  private schedule(): void {
    if (this.timer !== null || this.wakePending) return;
    if (this.speed === 'max') {
      this.wakeUp();
      return;
    }
    const delay = Math.max(0, 1000 / Math.max(1, this.speed));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick();
    }, delay);
  }

  /** Queue a task for the next slice of a run, or else of filling (one message at a time). */
  private wakeUp(): void {
    if (this.wakePending || this.disposed) return;
    if (this.wake === null) {
      this.wake = new MessageChannel();
      this.wake.port1.onmessage = () => {
        this.wakePending = false;
        if (this.running) this.tick();
        else this.fill();
      };
    }
    this.wakePending = true;
    this.wake.port2.postMessage(null);
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
    else this.startFilling();
  }

  private frame(): void {
    const m = this.machine;
    if (!m) return;
    const now = performance.now();
    this.lastFrameAt = now;
    const sendView = !this.running || now - this.lastViewAt >= VIEW_INTERVAL_MS;
    if (sendView) this.lastViewAt = now;
    const { exits, dropped } = this.newest.take();
    const counters = m.counters();
    const rate = this.rateFrom;
    if (this.running) this.rateFrom = { at: now, exits: counters.exits.total };
    const frame: WorkerEvent = {
      type: 'frame',
      running: this.running,
      counters,
      exits,
      droppedExits: dropped,
      ...(this.running && rate !== null && now > rate.at && { exitsPerSec: ((counters.exits.total - rate.exits) * 1000) / (now - rate.at) }),
      ...(sendView && { view: machineView(m), timeline: this.timelineView(), chart: this.chart.list({ t: now - this.loadedAt, counters }) }),
      stop: m.stopInfo(),
      ...(this.banner !== undefined && { banner: this.banner }),
    };
    // Stopped, the page shows the last exit: with its walk, though a full-speed run kept none
    // (after the machine's state above was taken: the replay moves it).
    const last = exits[exits.length - 1];
    if (!this.running && last && walkUnrecorded(last)) {
      exits[exits.length - 1] = this.exitByReplay(last.seq) ?? last;
    }
    this.post(frame);
    // An exit picked while it ran, which the page keeps selected at the stop (machineStore): its walk now.
    const picked = this.running ? null : this.pickedWhileRunning;
    if (picked !== null) {
      this.pickedWhileRunning = null;
      const exit = this.exitByReplay(picked);
      if (exit) this.post({ type: 'exitDetail', exit });
    }
  }
}
