/**
 * The Worker's time travel under random command sequences, with the real host and machine:
 * seeks, back one instruction, back one exit, steps, Next exit, runs, pauses, breakpoints (a
 * run stops at them: the present is then mid-run), resets, exits picked in the log and idle
 * time (when the Worker rehearses a seek and fills in snapshots, moving the machine) in any
 * order. Whatever the host then shows must be the machine as a reference machine of the same
 * program stands at that point: the run is deterministic, so a point (an exit as it is taken,
 * or an instruction count) has one state, whatever path led there.
 */
import { buildMachine } from '../../core/machine';
import type { Strategy } from '../../core/events';
import { Prng } from '../differential/prng';
import { MachineHost } from '../../worker/host';
import { machineView } from '../../worker/view';
import type { Command, Counters, RunConfig, WorkerEvent } from '../../worker/protocol';

/** What a point shows, host time left out. */
export function shown(counters: Counters, view: unknown) {
  const { hostNsPerExit: _host, ...rest } = counters;
  return { counters: rest, view };
}

export type Shown = ReturnType<typeof shown>;

/**
 * The reference: the same program run to its end once. A point is named by its counts (exits
 * handled, instructions retired), and a few states share them: exit e as it is taken, before
 * the VMM handles it; the machine run to the instruction count; and the machine just after the
 * VMM handled exit e - 1, stopped there as Next exit stops (a write-protect fault leaves its
 * instruction to run again, an interrupt kick retires nothing). `candidates` gives each of these that has the counts.
 */
export function reference(source: string, config: RunConfig): { candidates: (retired: number, exits: number) => Shown[]; end: Shown } {
  const built = buildMachine(source, config);
  if (!built.ok) throw new Error('the program does not assemble');
  const m = built.machine;
  m.attachTimeline();
  m.runToEnd();
  const end = shown(m.counters(), machineView(m));
  const here = () => shown(m.counters(), machineView(m));
  const candidates = (retired: number, exits: number): Shown[] => {
    const out: Shown[] = [];
    const keep = () => { if (m.retired === retired && m.counters().exits.total === exits) out.push(here()); };
    if (m.seekExit(exits) !== false) keep();
    if (m.seekRetired(retired, exits)) keep();
    if (exits > 0 && m.seekExit(exits - 1) !== false) {
      m.run(1_000_000, { untilExit: true }); // handles exit e - 1 and stops, as Next exit does
      keep();
    }
    return out;
  };
  return { candidates, end };
}

export type Reference = ReturnType<typeof reference>;

/** How `got` differs from the reference at its counts (retired, exits), or null when it is the reference there. */
export function unlikeReference(ref: Reference, got: Shown): string | null {
  const retired = got.counters.retired, exits = got.counters.exits.total;
  const want = exits === ref.end.counters.exits.total && retired === ref.end.counters.retired ? [ref.end] : ref.candidates(retired, exits);
  if (want.length === 0) return `retired ${retired}, exits ${exits}: the reference never stands there`;
  if (want.some((w) => JSON.stringify(w) === JSON.stringify(got))) return null;
  const w = want[0]!;
  const diff = Object.keys(got.counters).filter((k) => JSON.stringify((got.counters as Record<string, unknown>)[k]) !== JSON.stringify((w.counters as Record<string, unknown>)[k]));
  if (process.env.HOST_WALK_DEBUG) {
    const a = JSON.stringify(got.view), b = JSON.stringify(w.view);
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    console.log('VIEWDIFF', a.slice(Math.max(0, i - 200), i + 120), '\n   REF', b.slice(Math.max(0, i - 200), i + 120));
  }
  return `retired ${retired}, exits ${exits}; the reference there differs in ${diff.length ? diff.join(', ') : 'the view'}`;
}

/**
 * `steps` random commands on a host that ran `source` to its end; returns the problems (each
 * names the program, the seed and the commands up to it).
 */
export async function hostWalk(name: string, source: string, seed: number, opts: { steps: number; strategy?: Strategy }): Promise<string[]> {
  const config: RunConfig = { strategy: opts.strategy ?? 'icache', preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 2_000_000 };
  const ref = reference(source, config);
  const endExits = ref.end.counters.exits.total;
  const events: WorkerEvent[] = [];
  // A Next exit that finds none stops after this many instructions (a timer scenario computes long between exits).
  const h = new MachineHost((e) => events.push(e), 200_000);
  const rng = new Prng(seed);
  const lines = source.split('\n').length;
  const problems: string[] = [];
  const tasks = async (until: () => boolean) => { for (let i = 0; i < 2000 && !until(); i++) await new Promise((r) => setTimeout(r, 0)); };
  const done: string[] = [];
  try {
    h.handle({ type: 'load', source, file: `${name}.s`, config });
    h.handle({ type: 'run' });
    await tasks(() => events.some((e) => e.type === 'frame' && !e.running));
    for (let s = 0; s < opts.steps && problems.length === 0; s++) {
      const from = events.length;
      const r = rng.int(100);
      let cmd: Command | 'idle';
      if (r < 30) cmd = { type: 'seekExit', exit: rng.int(endExits + 2) };
      else if (r < 42) cmd = { type: 'stepBack' };
      else if (r < 54) cmd = { type: 'backExit' };
      else if (r < 62) cmd = { type: 'step' };
      else if (r < 70) cmd = { type: 'stepExit' };
      else if (r < 76) cmd = { type: 'selectExit', seq: rng.int(endExits), detail: true };
      else if (r < 80) cmd = { type: 'pause' };
      else if (r < 84) cmd = { type: 'run' };
      else if (r < 88) cmd = { type: 'setBreakpoints', lines: Array.from({ length: rng.int(3) }, () => 1 + rng.int(lines)) };
      else if (r < 90) cmd = { type: 'reset' };
      else cmd = 'idle';
      done.push(cmd === 'idle' ? 'idle' : cmd.type === 'seekExit' ? `seek ${cmd.exit}` : cmd.type === 'selectExit' ? `select ${cmd.seq}`
        : cmd.type === 'setBreakpoints' ? `breakpoints [${cmd.lines.join(' ')}]` : cmd.type);
      if (cmd === 'idle') await tasks(() => !h.fillingSnapshots);
      else {
        h.handle(cmd);
        // Until it stops: at the end, a breakpoint or the runaway bound.
        if (cmd.type === 'run') await tasks(() => events.slice(from).some((e) => e.type === 'frame' && !e.running));
      }
      const where = `${name} (${config.strategy}) seed ${seed}, after ${done.join(', ')}`;
      for (const e of events.slice(from)) {
        if (e.type === 'error') problems.push(`${where}: error ${e.message}`);
        if (e.type !== 'timeTravel' && !(e.type === 'frame' && e.view && !e.running)) continue;
        const got = shown(e.counters, e.view!);
        const exits = e.counters.exits.total;
        if (e.type === 'timeTravel' && e.exit !== null && e.exit.seq !== e.timeline.at) problems.push(`${where}: the exit shown is #${e.exit.seq}, the timeline stands at ${e.timeline.at}`);
        if (e.type === 'timeTravel' && e.exit !== null && exits !== e.exit.seq) problems.push(`${where}: exit #${e.exit.seq} shown with ${exits} exits handled`);
        const unlike = unlikeReference(ref, got);
        if (unlike) problems.push(`${where}: ${e.type} shows ${unlike}`);
      }
    }
  } finally {
    h.dispose();
  }
  return problems;
}
