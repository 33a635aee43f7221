/**
 * Time travel one layer above hostWalk: what the page's panels read. The real MachineClient and
 * machine store, fed by the real MachineHost through an in-process stand-in for the Worker
 * (every message cloned and delivered a task later, as postMessage does), take random commands
 * as the page's controls send them (Run after the end loads the program again, a pick in the
 * log asks for the exit's walk), some sent back to back without waiting for an answer, as a
 * user clicks ahead of the Worker. Whenever every message has arrived and nothing runs, the
 * store must hold the reference machine's numbers: the counters and view at the point shown,
 * the timeline standing there, every exit the log lists, the exit the pipeline and walk show,
 * and every chart sample.
 */
import { buildMachine } from '../../core/machine';
import { walkUnrecorded, type Counters, type ExitEvent, type Strategy } from '../../core/events';
import { copyExit, blankExit } from '../../worker/exitRing';
import { MachineHost } from '../../worker/host';
import type { Command, RunConfig, WorkerEvent } from '../../worker/protocol';
import { createMachineStore, historyOf, type MachineState } from '../../store/machineStore';
import { MachineClient, type WorkerLike } from '../../ui/machineClient';
import { appendFileSync } from 'node:fs';
import { Prng } from '../differential/prng';
import { reference, shown, unlikeReference } from './hostWalk';

/** STORE_WALK_TRACE=file: every command and event, one a line (to follow a failing walk). */
function trace(line: string): void {
  const file = process.env.STORE_WALK_TRACE;
  if (file) appendFileSync(file, `${line}\n`);
}

function describeEvent(e: WorkerEvent): string {
  switch (e.type) {
    case 'frame': return `frame running=${e.running} exits=[${e.exits.map((x) => x.seq).join(',')}] total=${e.counters.exits.total}`;
    case 'timeTravel': return `timeTravel at=${e.timeline.at} exit=${e.exit?.seq} passed=[${e.passed.map((x) => x.seq).join(',')}] total=${e.counters.exits.total}`;
    case 'futureDropped': return `futureDropped at=${e.at}`;
    case 'exitDetail': return `exitDetail ${e.exit.seq}`;
    case 'picked': return `picked ${e.seq} running=${e.running}`;
    default: return e.type;
  }
}

/** The Worker, run in this thread: commands and events are structured-cloned and delivered a task later. */
class InProcessWorker implements WorkerLike {
  onmessage: ((e: MessageEvent) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  onmessageerror: ((e: MessageEvent) => void) | null = null;
  /** Messages posted either way and not delivered yet. */
  inFlight = 0;
  readonly host: MachineHost;

  constructor(stepExitLimit: number) {
    this.host = new MachineHost((e) => this.deliver(e), stepExitLimit);
    this.deliver({ type: 'ready' }); // as worker.ts says once the core has loaded
  }

  private deliver(e: WorkerEvent): void {
    const data = structuredClone(e);
    trace(`EVENT ${describeEvent(e)}`);
    this.inFlight++;
    setTimeout(() => {
      this.inFlight--;
      this.onmessage?.({ data } as MessageEvent);
    }, 0);
  }

  postMessage(cmd: Command): void {
    const c = structuredClone(cmd);
    trace(`COMMAND ${JSON.stringify(cmd).slice(0, 80)}`);
    this.inFlight++;
    setTimeout(() => {
      this.inFlight--;
      this.host.handle(c);
    }, 0);
  }

  terminate(): void {
    this.host.dispose();
  }
}

/** JSON with keys in order (the VMM and the platform fill an exit's fields in other orders) and bigints (a walk's entries) as text. */
const json = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => {
  if (typeof v === 'bigint') return `${v}n`;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
});

/** An exit as the log compares it: host time left out, and the walk (compared apart: only some exits carry it). */
function exitFields(e: ExitEvent): string {
  const { hostNs: _ns, walk: _walk, ...rest } = e;
  return json(rest);
}

/** The counters a chart sample is made of, as historyOf keeps them. */
function sampleOf(s: MachineState['history'][number]): string {
  return JSON.stringify([s.retired, s.exits, s.exitsByReason, s.hitRate, s.stageCycles, s.cyclesTotal]);
}

/**
 * Every exit of the program's run, with its walk, and the counters as each exit is handled (a
 * chart point's): the same run, so the same exits, whatever recording of walks the page asks.
 */
function referenceExits(source: string, config: RunConfig): { exits: ExitEvent[]; countersAt: Map<number, Counters> } {
  const built = buildMachine(source, config);
  if (!built.ok) throw new Error('the program does not assemble');
  const m = built.machine;
  const exits: ExitEvent[] = [];
  const countersAt = new Map<number, Counters>();
  m.setRecordWalks('all');
  m.onExitTransient = (e) => {
    exits.push(copyExit(blankExit(), e));
    const { hostNsPerExit: _ns, ...c } = m.counters();
    countersAt.set(e.seq + 1, c as Counters);
  };
  m.runToEnd();
  return { exits, countersAt };
}

/** The sample the charts make of counters (as historyOf makes the first). */
const sampleFromCounters = (c: Counters): string => sampleOf(historyOf([{ t: 0, counters: c }])[0]);

/**
 * `steps` random commands through a MachineClient whose store shows a program run to its end;
 * returns the problems (each names the program, the seed and the commands up to it).
 */
export async function storeWalk(name: string, source: string, seed: number, opts: { steps: number; strategy?: Strategy }): Promise<string[]> {
  const config: RunConfig = { strategy: opts.strategy ?? 'icache', preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 2_000_000 };
  const file = `${name}.s`;
  const ref = reference(source, config);
  const { exits: refExits, countersAt } = referenceExits(source, config);
  const store = createMachineStore();
  let worker: InProcessWorker | null = null;
  const client = new MachineClient(store, {
    // A Next exit that finds none stops after this many instructions (a timer scenario computes long between exits).
    createWorker: () => (worker = new InProcessWorker(200_000)),
    setInterval: () => 0,
    clearInterval: () => {},
  });
  const w = (): InProcessWorker => worker!;
  const rng = new Prng(seed);
  const lines = source.split('\n').length;
  const problems: string[] = [];
  const done: string[] = [];
  const tasks = async (until: () => boolean) => {
    for (let i = 0; i < 20_000 && !until(); i++) await new Promise((r) => setTimeout(r, 0));
  };
  // Every message has arrived, no run goes, and no answer waits in the client (a load's, held for a run's first frame).
  const quiet = () => w().inFlight === 0 && !w().host.isRunning && !store.getState().running && !store.getState().awaitingLoad;
  const settle = (idle: boolean) => tasks(() => quiet() && (!idle || !w().host.fillingSnapshots));

  /** The page's Run: after the end it loads the program again (controller.ensureLoaded). */
  const run = () => {
    if (store.getState().stop) client.load(source, file, config);
    client.run();
  };
  /** A pick in the log (useSelectExit): selected at once, the Worker told, its walk asked for when it carries none. */
  const pick = () => {
    const log = store.getState().exitLog;
    if (log.length === 0) return 'pick (empty log)';
    const e = log[rng.int(log.length)];
    store.getState().selectExit(e, true);
    client.selectExit(e.seq, walkUnrecorded(e));
    return `pick ${e.seq}`;
  };

  const check = (where: string, sought: boolean, picked: { seq: number; mayDrop: boolean } | null) => {
    const s = store.getState();
    if (s.error) { problems.push(`${where}: error ${s.error}`); return; }
    if (!s.counters || !s.view) { problems.push(`${where}: nothing shown`); return; }
    const c = s.counters;
    const retired = c.retired, exits = c.exits.total;
    // The counters and view: the reference machine at the same point.
    const unlike = unlikeReference(ref, shown(c, s.view));
    if (unlike) problems.push(`${where}: the store shows ${unlike}`);
    // The timeline stands where the counters do.
    const tl = s.timeline;
    if (tl && tl.at !== null && (tl.at !== exits || tl.retired !== retired)) problems.push(`${where}: the timeline stands at exit ${tl.at} (${tl.retired} retired), the counters at ${exits} (${retired})`);
    if (tl && tl.at !== null && (tl.at < tl.first || tl.at > tl.end)) problems.push(`${where}: the timeline stands at exit ${tl.at}, outside its reach ${tl.first}-${tl.end}`);
    // The exit the pipeline and walk show, as the reference took it (a pick in the log may show
    // one of the recorded future: the log lists it, muted).
    const sel = s.selectedExit;
    if (sel) {
      const r = refExits[sel.seq];
      if (!r) problems.push(`${where}: exit #${sel.seq} is shown; the reference took ${refExits.length}`);
      else {
        if (exitFields(sel) !== exitFields(r)) problems.push(`${where}: exit #${sel.seq} shown differs from the reference's${process.env.STORE_WALK_DEBUG ? `\n${exitFields(sel)}\n${exitFields(r)}` : ''}`);
        if (sel.walk?.length && json(sel.walk) !== json(r.walk)) problems.push(`${where}: exit #${sel.seq}'s walk differs from the reference's`);
      }
    }
    // A pick stays picked (a frame or an exit's detail that comes after it does not take it back),
    // unless a command sent before it and not answered yet loaded the program again or ran on
    // from a past point (which drops the recorded future the pick may be of).
    if (picked !== null && !picked.mayDrop && sel?.seq !== picked.seq) problems.push(`${where}: exit #${picked.seq} was picked; the pipeline shows ${sel ? `#${sel.seq}` : 'no exit'}`);
    // A seek shows the exit it went to.
    if (sought && tl && tl.at !== null && tl.at < tl.end && sel?.seq !== tl.at) problems.push(`${where}: at exit ${tl.at} the pipeline shows ${sel ? `#${sel.seq}` : 'no exit'}`);
    // The log: ascending, each exit as the reference took it.
    let prev = -1;
    for (const e of s.exitLog) {
      if (e.seq <= prev) { problems.push(`${where}: the log lists #${e.seq} after #${prev}`); break; }
      prev = e.seq;
      const r = refExits[e.seq];
      if (!r || exitFields(e) !== exitFields(r)) { problems.push(`${where}: the log's #${e.seq} differs from the reference's`); break; }
      if (e.walk?.length && json(e.walk) !== json(r.walk)) { problems.push(`${where}: the log's #${e.seq} has another walk than the reference's`); break; }
    }
    // At the present, listed and not listed make every exit taken.
    if (tl && tl.at === null && s.exitLog.length + s.droppedExits !== exits) problems.push(`${where}: the log lists ${s.exitLog.length} and counts ${s.droppedExits} unlisted of ${exits} exits`);
    // The charts: each sample the counters after its exit, or (the newest) a point the machine stood at.
    for (const [i, h] of s.history.entries()) {
      const r = countersAt.get(h.exits);
      const ok = (r !== undefined && sampleOf(h) === sampleFromCounters(r))
        || (i === s.history.length - 1 && ref.candidates(h.retired, h.exits).some((x) => sampleOf(h) === sampleFromCounters(x.counters as Counters)));
      if (!ok) { problems.push(`${where}: the chart's sample at exit ${h.exits} (${h.retired} retired) is not the reference's`); break; }
    }
  };

  try {
    await tasks(() => store.getState().ready);
    client.setSpeed('max');
    client.load(source, file, config);
    client.run();
    await settle(false);
    check(`${name} (${config.strategy}) seed ${seed}, after the first run`, false, null);
    // Commands sent since everything last settled, not answered yet when the next is sent.
    const unanswered: string[] = [];
    for (let s = 0; s < opts.steps && problems.length === 0; s++) {
      const end = store.getState().timeline?.end ?? 0;
      const r = rng.int(100);
      let what: string;
      if (r < 26) { const k = rng.int(end + 2); client.seekExit(k); what = `seek ${k}`; }
      else if (r < 30) { client.seekExit(Number.MAX_SAFE_INTEGER); what = 'now'; }
      else if (r < 40) { client.stepBack(); what = 'step back'; }
      else if (r < 50) { client.backExit(); what = 'back exit'; }
      else if (r < 57) { client.step(); what = 'step'; }
      else if (r < 64) { client.stepExit(); what = 'next exit'; }
      else if (r < 72) what = pick();
      else if (r < 75) { client.pause(); what = 'pause'; }
      else if (r < 81) { run(); what = 'run'; }
      else if (r < 85) { const bp = Array.from({ length: rng.int(3) }, () => 1 + rng.int(lines)); client.setBreakpoints(bp); what = `breakpoints [${bp.join(' ')}]`; }
      else if (r < 87) { client.reset(); what = 'reset'; }
      else what = 'idle';
      done.push(what);
      // Most commands wait for their answer; some go back to back with the next.
      const wait = what === 'idle' ? 'idle' : rng.int(4) === 0 ? 'no' : 'settle';
      if (wait === 'no') {
        done[done.length - 1] += ' (not waited for)';
        unanswered.push(what);
        continue;
      }
      const lastPick = /^pick \d/.test(what)
        ? { seq: Number(what.slice(5)), mayDrop: unanswered.some((c) => c === 'run' || c === 'step' || c === 'next exit' || c === 'reset') }
        : null;
      unanswered.length = 0;
      await settle(wait === 'idle');
      if (!quiet()) { problems.push(`${name}: seed ${seed}, after ${done.join(', ')}: the machine never settled`); break; }
      check(`${name} (${config.strategy}) seed ${seed}, after ${done.join(', ')}`, /^seek/.test(what), lastPick);
    }
  } finally {
    client.dispose();
  }
  return problems;
}
