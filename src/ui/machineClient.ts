/**
 * The UI side of the machine Worker: creates the module Worker, posts typed `Command`s, feeds
 * every `WorkerEvent` into one machine store, and watches the Worker's health.
 *
 * A Worker that throws (an 'error' event) is 'crashed'; one that sends nothing for
 * `stallMs` while it owes an answer (running, or a command that expects a frame) is
 * 'unresponsive'. Either way the store shows a message, and `reset()` recovers: it terminates
 * the Worker, creates a new one, and replays what the machine was told (config, speed,
 * breakpoints, the last program).
 */
import { isWorkerFailed, type MachineStore } from '../store/machineStore';
import type { Command, RunConfig, Speed, ToSecondHost, ToWorker, WorkerEvent } from '../worker/protocol';

/** What the client needs of a Worker (a real one, or a fake in tests). */
export interface WorkerLike {
  postMessage(message: ToWorker, transfer?: Transferable[]): void;
  terminate(): void;
  onmessage: ((e: MessageEvent) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
  onmessageerror: ((e: MessageEvent) => void) | null;
}

export interface MachineClientOptions {
  /** Creates the Worker; defaults to the module Worker at src/worker/worker.ts. */
  createWorker?: () => WorkerLike;
  /** No message for this long while an answer is owed: the Worker is unresponsive. */
  stallMs?: number;
  /** Before the Worker's first message (it loads iced-x86 and wasm), allow this long. */
  startMs?: number;
  now?: () => number;
  /** Timer hooks (tests drive the watchdog by hand). */
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (id: unknown) => void;
}

/** While a machine runs, its frames reach the store at most this often (the Worker sends up to 20/s). */
const INGEST_MS_RUNNING = 100;
/**
 * How long the answer to a load that a run follows waits for the run's first frame (see
 * `runAfterLoad`). The Worker posts that frame after its first chunk of guest instructions: on
 * the LAPIC microbenchmark in the browser, 0.2-0.4 s after the load's answer (which came 0.17 s
 * after the click; e2e trace, 2 cores shared with other work).
 */
const LOADED_HOLD_MS = 500;

const EVENT_TYPES = new Set(['ready', 'diagnostics', 'loaded', 'frame', 'exitDetail', 'picked', 'timeTravel', 'futureDropped', 'error']);

/** A message from the Worker is trusted only as far as its shape: unknown ones are dropped. */
export function isWorkerEvent(data: unknown): data is WorkerEvent {
  return typeof data === 'object' && data !== null && EVENT_TYPES.has((data as { type?: unknown }).type as string);
}

export function defaultCreateWorker(): WorkerLike {
  return new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'exitscope-machine' });
}

export class MachineClient {
  readonly store: MachineStore;
  private worker: WorkerLike | null = null;
  private readonly opts: Required<Omit<MachineClientOptions, 'createWorker'>> & { createWorker: () => WorkerLike };
  private lastMessageAt = 0;
  private startedAt = 0;
  private gotMessage = false;
  /** An answer is owed: a run is going, or a command that ends in a frame/loaded was sent. */
  private owed = false;
  private timer: unknown = null;
  /**
   * The last health check found the Worker silent. It is declared failed only if the next check
   * finds it silent still: a page that was itself busy (a long render) runs its overdue check
   * before the Worker's waiting answer, and must not blame the Worker for it.
   */
  private suspect = false;
  /** A load or reset is on its way: assembling a long program may take seconds, so it gets startMs. */
  private loadOwed = false;
  private assembleSeq = 0;
  private latestAssemble = 0;
  // What to replay into a fresh Worker.
  private lastLoad: Extract<Command, { type: 'load' }> | null = null;
  private config: Partial<RunConfig> = {};
  private speed: Speed | null = null;
  private breakpoints: number[] | null = null;
  private disposed = false;
  /**
   * Frames of a running machine wait here and are ingested together, at most every
   * INGEST_MS_RUNNING: every ingest re-renders whatever shows the machine, and React renders
   * the frames of one flush once. Any other event flushes them first (order is kept).
   */
  private pending: WorkerEvent[] = [];
  private pendingTimer: ReturnType<typeof setTimeout> | null = null;
  private flushedAt = 0;
  /**
   * Run was posted behind a load (Run after the end): the load's answer waits in `pending` for
   * the run's first frame, at most LOADED_HOLD_MS, and the store takes both in one task. The page
   * then goes from the previous run (marked, `restarting`) straight to the running one (or to its
   * end, for a run shorter than a slice), not through the new machine's exit 0 until that frame:
   * an empty log, charts, pipeline and walk that the run fills again at once.
   */
  private runAfterLoad = false;

  constructor(store: MachineStore, options: MachineClientOptions = {}) {
    this.store = store;
    this.opts = {
      createWorker: options.createWorker ?? defaultCreateWorker,
      stallMs: options.stallMs ?? 5000,
      startMs: options.startMs ?? 30_000,
      now: options.now ?? (() => performance.now()),
      setInterval: options.setInterval ?? ((fn, ms) => globalThis.setInterval(fn, ms)),
      clearInterval: options.clearInterval ?? ((id) => globalThis.clearInterval(id as ReturnType<typeof setInterval>)),
    };
    this.spawn();
    this.timer = this.opts.setInterval(() => this.checkHealth(), 500);
  }

  private spawn(): void {
    const w = this.opts.createWorker();
    this.worker = w;
    this.gotMessage = false;
    this.owed = false;
    this.suspect = false;
    this.loadOwed = false;
    this.startedAt = this.lastMessageAt = this.opts.now();
    this.store.getState().setWorkerStatus('starting');
    w.onmessage = (e) => {
      if (w !== this.worker) return; // a terminated Worker's late message
      this.lastMessageAt = this.opts.now();
      this.suspect = false;
      if (!this.gotMessage) {
        this.gotMessage = true;
        if (this.store.getState().workerStatus === 'starting') this.store.getState().setWorkerStatus('ready');
      }
      // Flagged as not answering, it answers after all: it was only slow (a long load, a host
      // that stalled). Ready again, its frames showing the machine as it is (commands sent
      // meanwhile were not posted); counters had moved beside "unresponsive".
      if (this.store.getState().workerStatus === 'unresponsive') this.store.getState().setWorkerStatus('ready');
      if (!isWorkerEvent(e.data)) return;
      this.onEvent(e.data);
    };
    w.onerror = (e) => {
      if (w !== this.worker) return;
      e.preventDefault?.();
      const where = e.filename ? ` (${e.filename.split('/').pop()}:${e.lineno})` : '';
      this.fail('crashed', `The machine worker crashed: ${e.message || 'unknown error'}${where}. Press Reset to start a new one.`);
    };
    w.onmessageerror = () => {
      if (w !== this.worker) return;
      this.fail('crashed', 'The machine worker sent a message the page could not read. Press Reset to start a new one.');
    };
  }

  private onEvent(ev: WorkerEvent): void {
    if (ev.type === 'diagnostics' && ev.requestId !== this.latestAssemble) return; // stale
    if (ev.type === 'frame') this.owed = ev.running;
    if (ev.type === 'loaded' || ev.type === 'error') {
      this.owed = false;
      this.loadOwed = false;
    }
    if (ev.type === 'loaded' && this.runAfterLoad) {
      this.runAfterLoad = false;
      // A machine that stopped before its first instruction sends no frame: it shows at once.
      if (ev.start && ev.start.stop === null) {
        this.flush();
        this.pending.push(ev);
        this.pendingTimer = setTimeout(() => this.flush(), LOADED_HOLD_MS);
        return;
      }
    }
    if (ev.type === 'frame' && ev.running) {
      this.pending.push(ev);
      if (this.pending[0].type === 'loaded') {
        this.flush(); // the held answer with the run's first frame
        return;
      }
      if (this.pendingTimer === null) {
        this.pendingTimer = setTimeout(() => this.flush(), Math.max(0, this.flushedAt + INGEST_MS_RUNNING - performance.now()));
      }
      return;
    }
    this.flush();
    this.store.getState().ingest(ev);
  }

  /** Ingests the frames waiting (see `pending`). */
  private flush(): void {
    if (this.pendingTimer !== null) clearTimeout(this.pendingTimer);
    this.pendingTimer = null;
    this.flushedAt = performance.now();
    const evs = this.pending;
    if (evs.length === 0) return;
    this.pending = [];
    for (const ev of evs) this.store.getState().ingest(ev);
  }

  /** Drops the frames of a Worker that is going away (or of a machine a new load replaces). */
  private dropPending(): void {
    if (this.pendingTimer !== null) clearTimeout(this.pendingTimer);
    this.pendingTimer = null;
    this.pending = [];
    this.runAfterLoad = false;
  }

  private fail(status: 'crashed' | 'unresponsive', message: string): void {
    this.flush();
    this.owed = false;
    this.store.getState().setWorkerStatus(status, message);
  }

  /** Runs every 500 ms: flags a Worker that owes an answer and has gone quiet (two checks in a row). */
  checkHealth(): void {
    const status = this.store.getState().workerStatus;
    if (isWorkerFailed(status)) return;
    const now = this.opts.now();
    let failure: string | null = null;
    if (!this.gotMessage) {
      if (now - this.startedAt > this.opts.startMs) {
        failure = `The machine worker did not start within ${Math.round(this.opts.startMs / 1000)} s. Press Reset to try again.`;
      }
    } else {
      const owed = this.owed || this.store.getState().running;
      const limit = this.loadOwed ? this.opts.startMs : this.opts.stallMs;
      if (owed && now - this.lastMessageAt > limit) {
        failure = `The machine worker stopped answering (no ${this.loadOwed ? 'answer to a load' : 'frame'} for ${Math.round(limit / 1000)} s). Press Reset to start a new one.`;
      }
    }
    if (failure === null || !this.suspect) {
      this.suspect = failure !== null;
      return;
    }
    this.suspect = false;
    this.fail('unresponsive', failure);
  }

  private post(cmd: Command, expectsAnswer = false): void {
    if (!this.worker || this.disposed) return;
    const status = this.store.getState().workerStatus;
    if (isWorkerFailed(status)) return; // only Reset helps now
    if (cmd.type === 'load' || cmd.type === 'reset' || cmd.type === 'setConfig') this.loadOwed = true;
    if (expectsAnswer && !this.owed) {
      this.owed = true;
      // The clock for the answer starts now, not at the last (possibly old) message.
      this.lastMessageAt = Math.max(this.lastMessageAt, this.opts.now());
    }
    this.worker.postMessage(cmd);
  }

  /** Assemble and reset the machine with this program. */
  load(source: string, file: string, config: RunConfig): void {
    this.lastLoad = { type: 'load', source, file, config };
    this.config = { ...config };
    this.dropPending();
    if (!this.failed) this.store.getState().beginLoad({ source, file, config });
    this.post(this.lastLoad, true);
  }

  /** Assemble only, for live diagnostics; stale answers are dropped. */
  assemble(source: string, file: string): void {
    this.latestAssemble = ++this.assembleSeq;
    this.post({ type: 'assemble', source, file, requestId: this.latestAssemble });
  }

  /**
   * The Worker answers run/step/stepExit with a frame only when it has a machine (the last
   * load assembled) that has not stopped; otherwise nothing is owed. A load in flight is owed
   * already.
   */
  private answersMachineCommand(): boolean {
    const s = this.store.getState();
    return s.loaded && !s.stop;
  }

  run(opts: { recordWalks?: boolean } = {}): void {
    if (this.loadOwed && !this.failed) this.runAfterLoad = true;
    this.post({ type: 'run', ...(opts.recordWalks && { recordWalks: true }) }, this.answersMachineCommand());
  }
  pause(): void { this.post({ type: 'pause' }); }
  step(): void { this.post({ type: 'step' }, this.store.getState().loaded); }
  stepExit(): void { this.post({ type: 'stepExit' }, this.store.getState().loaded); }
  /** An exit picked in the page: `detail` asks for its walk (see the 'selectExit' command). */
  selectExit(seq: number, detail: boolean): void { this.post({ type: 'selectExit', seq, detail }); }
  /** Time travel: show exit k (the recorded end: the present); back one instruction; back one exit. */
  seekExit(exit: number): void { this.post({ type: 'seekExit', exit }); }
  stepBack(): void { this.post({ type: 'stepBack' }); }
  backExit(): void { this.post({ type: 'backExit' }); }

  setConfig(config: Partial<RunConfig>): void {
    this.config = { ...this.config, ...config };
    this.post({ type: 'setConfig', config });
  }

  setSpeed(speed: Speed): void {
    this.speed = speed;
    this.post({ type: 'setSpeed', speed });
  }

  setBreakpoints(lines: number[]): void {
    this.breakpoints = lines.slice();
    this.post({ type: 'setBreakpoints', lines });
  }

  /** Whether the Worker is dead or hung, so Reset will recreate it. */
  get failed(): boolean {
    return isWorkerFailed(this.store.getState().workerStatus);
  }

  /**
   * Reset the machine to the start of its program. A crashed or hung Worker is terminated and
   * replaced, and the new one is told everything the old one knew.
   */
  reset(): void {
    if (this.failed) {
      this.restart();
      return;
    }
    this.dropPending();
    const l = this.lastLoad;
    if (l) this.store.getState().beginLoad({ source: l.source, file: l.file, config: { ...l.config, ...this.config } });
    this.post({ type: 'reset' }, true);
  }

  /** Terminate the Worker and start a fresh one with the same program and settings. */
  restart(): void {
    this.dropPending();
    this.worker?.terminate();
    this.worker = null;
    this.spawn();
    if (this.speed !== null) this.post({ type: 'setSpeed', speed: this.speed });
    if (this.breakpoints) this.post({ type: 'setBreakpoints', lines: this.breakpoints });
    if (this.lastLoad) {
      const l = (this.lastLoad = { ...this.lastLoad, config: { ...this.lastLoad.config, ...this.config } });
      this.store.getState().beginLoad({ source: l.source, file: l.file, config: l.config });
      this.post(l, true);
    } else if (Object.keys(this.config).length) {
      this.post({ type: 'setConfig', config: this.config });
    }
  }

  /**
   * A second machine in this client's Worker, on a port of its own, as a WorkerLike another
   * client can drive (its `terminate` ends that machine only); null when this Worker has failed.
   */
  openSecondHost(): WorkerLike | null {
    const w = this.worker;
    if (!w || this.disposed || isWorkerFailed(this.store.getState().workerStatus)) return null;
    const { port1, port2 } = new MessageChannel();
    w.postMessage({ type: 'openSecondHost', port: port2 }, [port2]);
    const second: WorkerLike = {
      postMessage: (m) => port1.postMessage(m),
      terminate: () => { port1.postMessage({ type: 'end' } satisfies ToSecondHost); port1.close(); },
      onmessage: null,
      onerror: null,
      onmessageerror: null,
    };
    port1.onmessage = (e) => second.onmessage?.(e);
    return second;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) this.opts.clearInterval(this.timer);
    this.timer = null;
    this.dropPending();
    this.worker?.terminate();
    this.worker = null;
  }
}
