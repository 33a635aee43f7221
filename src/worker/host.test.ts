/**
 * The Worker's time travel with the real host and machine: a seek reports the machine at exit k
 * with exit k's detail (the host handles exit k for it and goes back only when something needs
 * the machine), and every command after a seek sees the machine at k.
 */
import { describe, expect, it } from 'vitest';
import { buildMachine } from '../core/machine';
import { MachineHost } from './host';
import { machineView } from './view';
import type { Counters, WorkerEvent } from './protocol';

const LOOP = '_start:\n  mov rbx, LAPIC_BASE\n  mov ecx, 30\n.l:\n  mov eax, [rbx + LAPIC_ID]\n  mov dword [rbx + LAPIC_TPR], 0x10\n  dec ecx\n  jnz .l\n  hlt\n';

type TimeTravel = Extract<WorkerEvent, { type: 'timeTravel' }>;

function host() {
  const events: WorkerEvent[] = [];
  const h = new MachineHost((e) => events.push(e));
  const last = <T extends WorkerEvent['type']>(type: T) => {
    const e = [...events].reverse().find((x) => x.type === type);
    if (!e) throw new Error(`no '${type}' event`);
    return e as Extract<WorkerEvent, { type: T }>;
  };
  h.handle({ type: 'load', source: LOOP, file: 'loop.s', config: { strategy: 'icache', preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 1_000_000 } });
  // Step exit by exit to the end (every exit of the loop, then the HLT); the load's answer is the first state.
  expect(last('loaded').start?.counters.exits.total).toBe(0);
  for (let i = 0; i < 100 && !(i > 0 && last('frame').stop); i++) h.handle({ type: 'stepExit' });
  return { h, events, last };
}

const figures = (c: Counters) => ({ retired: c.retired, exits: c.exits.total, cycles: c.cycles.total });

describe('MachineHost time travel', () => {
  it('a seek shows the machine at exit k with exit k itself; back one exit, back one instruction and the present follow from there', () => {
    const { h, last } = host();
    const end = last('frame');
    expect(end.stop?.reason).toBe('halted');
    const n = end.counters.exits.total;
    expect(n).toBe(61); // 30 iterations of 2, and the HLT

    h.handle({ type: 'seekExit', exit: 41 });
    const at41 = last('timeTravel');
    expect(at41.counters.exits.total).toBe(41);
    expect(at41.timeline.at).toBe(41);
    expect(at41.exit?.seq).toBe(41);
    expect(at41.exit?.rip).toBe(parseInt(at41.view.vcpus[0].regs.rip, 16));

    // Forward in the same interval (the machine runs on) and back again give the same figures.
    h.handle({ type: 'seekExit', exit: 45 });
    expect(last('timeTravel').counters.exits.total).toBe(45);
    h.handle({ type: 'seekExit', exit: 41 });
    expect(figures(last('timeTravel').counters)).toEqual(figures(at41.counters));
    expect(last('timeTravel').view).toEqual(at41.view);

    // Back one exit from 41 is 40, not 41 (the host handled exit 41 to show it).
    h.handle({ type: 'backExit' });
    const at40: TimeTravel = last('timeTravel');
    expect(at40.counters.exits.total).toBe(40);
    expect(at40.exit?.seq).toBe(40);
    h.handle({ type: 'stepBack' });
    expect(last('timeTravel').counters.retired).toBe(at40.counters.retired - 1);

    // The present again: the run's end.
    h.handle({ type: 'seekExit', exit: n });
    expect(figures(last('timeTravel').counters)).toEqual(figures(end.counters));
    expect(last('timeTravel').timeline.at).toBeNull();
  });

  it('a seek hands the log the exits its re-run went through: the recorded ones, in order, up to k', () => {
    const { h, events, last } = host();
    const stepped = events.flatMap((e) => (e.type === 'frame' ? e.exits : []));
    const row = (e: { seq: number; reason: string; rip: number; icache?: string; cycles: number; insn?: string }) => `${e.seq} ${e.reason} ${e.rip} ${e.icache} ${e.cycles} ${e.insn}`;
    // From the end, the machine goes back to a snapshot and re-runs to exit 41.
    h.handle({ type: 'seekExit', exit: 41 });
    const at41 = last('timeTravel');
    expect(at41.passed.length).toBeGreaterThan(0);
    expect(at41.passed.at(-1)?.seq).toBe(40);
    expect(at41.passed.map(row)).toEqual(stepped.filter((e) => e.seq >= at41.passed[0].seq && e.seq < 41).map(row));
    // Forward from there, only the exits between; back to the present, none.
    h.handle({ type: 'seekExit', exit: 45 });
    expect(last('timeTravel').passed.map((e) => e.seq)).toEqual([42, 43, 44]);
    h.handle({ type: 'seekExit', exit: 61 });
    expect(last('timeTravel').passed).toEqual([]);
  });

  it('pausing or stepping after a seek starts from exit k, and running on from k ends where the run ended', () => {
    const { h, events, last } = host();
    const end = last('frame');
    h.handle({ type: 'seekExit', exit: 20 });
    const at20 = last('timeTravel');
    h.handle({ type: 'pause' });
    expect(figures(last('frame').counters)).toEqual(figures(at20.counters));
    h.handle({ type: 'stepExit' });
    expect(last('futureDropped').at).toBe(20);
    expect(last('frame').counters.exits.total).toBe(21);
    expect(last('frame').exits.map((e) => e.seq)).toEqual([20]);
    for (let i = 0; i < 100 && !last('frame').stop; i++) h.handle({ type: 'stepExit' });
    expect(figures(last('frame').counters)).toEqual(figures(end.counters));
    expect(events.some((e) => e.type === 'error')).toBe(false);
  });

  it('after a run stops the Worker fills in snapshots while idle; seeks, the present and running on from a past point stay the same', async () => {
    // 6,001 exits: the recording snapshots exits 0 and 4,096; idle, the Worker adds 1,024, 2,048, 3,072 and 5,120.
    const source = LOOP.replace('mov ecx, 30', 'mov ecx, 3000');
    const events: WorkerEvent[] = [];
    const h = new MachineHost((e) => events.push(e));
    const last = <T extends WorkerEvent['type']>(type: T) => [...events].reverse().find((x) => x.type === type) as Extract<WorkerEvent, { type: T }>;
    const tasks = async (until: () => boolean) => { for (let i = 0; i < 1000 && !until(); i++) await new Promise((r) => setTimeout(r, 0)); };
    /** Until a frame after the last `from` events says the run stopped. */
    const stopped = (from: number) => tasks(() => events.slice(from).some((e) => e.type === 'frame' && e.stop !== null));
    const idle = () => tasks(() => !h.fillingSnapshots);
    try {
      h.handle({ type: 'load', source, file: 'loop.s', config: { strategy: 'icache', preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 1_000_000 } });
      h.handle({ type: 'run' });
      await stopped(0);
      const end = last('frame');
      expect(end.stop?.reason).toBe('halted');
      const recorded = end.timeline?.bytes ?? 0;
      await idle();

      // The machine as the core alone shows it at exit k.
      const built = buildMachine(source, { strategy: 'icache', preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 1_000_000 });
      if (!built.ok) throw new Error('the loop does not assemble');
      const reference = built.machine;
      reference.attachTimeline();
      reference.runToEnd();
      const at = (k: number) => {
        reference.seekExit(k);
        return { figures: figures(reference.counters()), view: machineView(reference) };
      };
      // The first seek after the fills moved the machine: the present it keeps is where the run ended.
      for (const k of [5_000, 1_500, 2_047, 2_048]) {
        h.handle({ type: 'seekExit', exit: k });
        const shown = last('timeTravel');
        expect({ figures: figures(shown.counters), view: shown.view }, `exit ${k}`).toEqual(at(k));
        expect(shown.timeline.bytes).toBeGreaterThan(recorded);
        await idle();
      }
      h.handle({ type: 'seekExit', exit: end.counters.exits.total });
      expect(figures(last('timeTravel').counters)).toEqual(figures(end.counters));
      expect(last('timeTravel').stop?.reason).toBe('halted');

      // Run on from a past point: the same end. The future after it went (snapshots 4,096 and
      // 5,120 with it) and the new recording's fills come back while the machine stands at the end.
      h.handle({ type: 'seekExit', exit: 3_333 });
      await idle();
      const before = events.length;
      h.handle({ type: 'run' });
      expect(last('futureDropped').at).toBe(3_333);
      await stopped(before);
      expect(figures(last('frame').counters)).toEqual(figures(end.counters));
      await idle();
      // Filling moved the machine; what reads it next finds it where the run ended, halted.
      h.handle({ type: 'pause' });
      expect(figures(last('frame').counters)).toEqual(figures(end.counters));
      expect(last('frame').stop?.reason).toBe('halted');
      expect(last('frame').view).toEqual(at(end.counters.exits.total).view);
      expect(events.some((e) => e.type === 'error')).toBe(false);
    } finally {
      h.dispose();
    }
  });
});

describe('MachineHost idle rehearsal', () => {
  it('after a run of a checkpoint interval or more, idle work takes a seek\'s path once, shown to nobody: no event, and the machine is read where the run ended', async () => {
    const events: WorkerEvent[] = [];
    const h = new MachineHost((e) => events.push(e));
    const last = <T extends WorkerEvent['type']>(type: T) => [...events].reverse().find((x) => x.type === type) as Extract<WorkerEvent, { type: T }>;
    const tasks = async (until: () => boolean) => { for (let i = 0; i < 1000 && !until(); i++) await new Promise((r) => setTimeout(r, 0)); };
    const config = { strategy: 'icache', preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 1_000_000 } as const;
    try {
      // 601 exits: under a checkpoint interval (1,024), nothing V8 would have optimised yet.
      h.handle({ type: 'load', source: LOOP.replace('mov ecx, 30', 'mov ecx, 300'), file: 'loop.s', config });
      h.handle({ type: 'run' });
      await tasks(() => last('frame')?.stop !== undefined && last('frame').stop !== null);
      await tasks(() => !h.fillingSnapshots);
      expect(last('frame').counters.exits.total).toBe(601);
      expect(h.seekPathTaken).toBe(false);

      // 6,001 exits: rehearsed once the run stops.
      h.handle({ type: 'load', source: LOOP.replace('mov ecx, 30', 'mov ecx, 3000'), file: 'loop.s', config });
      h.handle({ type: 'run' });
      await tasks(() => last('frame')?.stop !== undefined && last('frame').stop !== null && last('frame').counters.exits.total === 6001);
      const end = last('frame');
      const posted = events.length;
      await tasks(() => !h.fillingSnapshots);
      expect(h.seekPathTaken).toBe(true);
      expect(events.slice(posted)).toEqual([]);
      // The rehearsal and the fills moved the machine; a command finds it where the run ended.
      h.handle({ type: 'pause' });
      expect(figures(last('frame').counters)).toEqual(figures(end.counters));
      expect(last('frame').view).toEqual(end.view);
      expect(last('frame').stop?.reason).toBe('halted');
    } finally {
      h.dispose();
    }
  });
});

describe('MachineHost exit detail', () => {
  it('an exit picked while a full-speed run goes gets its walk after the frame that says the run stopped', async () => {
    const source = LOOP.replace('mov ecx, 30', 'mov ecx, 50000000');
    const events: WorkerEvent[] = [];
    // Exit 500 walked (no cache), but a full-speed run keeps only sampled walks: picked in the
    // task of a running frame (a run at full speed leaves Node's timers no turn), then paused.
    const k = 500;
    let picked = -1;
    const h = new MachineHost((e) => {
      events.push(e);
      if (picked < 0 && e.type === 'frame' && e.running && e.counters.exits.total > 1000) {
        picked = events.length;
        queueMicrotask(() => {
          h.handle({ type: 'selectExit', seq: k, detail: true });
          h.handle({ type: 'pause' });
        });
      }
    });
    const tasks = async (until: () => boolean) => { for (let i = 0; i < 1000 && !until(); i++) await new Promise((r) => setTimeout(r, 0)); };
    try {
      h.handle({ type: 'load', source, file: 'loop.s', config: { strategy: 'none', preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 1_000_000_000 } });
      h.handle({ type: 'run' });
      await tasks(() => picked >= 0 && events.slice(picked).some((e) => e.type === 'frame' && !e.running));
      const stop = events.findIndex((e, i) => i >= picked && e.type === 'frame' && !e.running);
      expect(stop).toBeGreaterThan(0);
      // Nothing of it while running; after the stop's frame, exit k with its walk.
      expect(events.slice(picked, stop).some((e) => e.type === 'exitDetail')).toBe(false);
      const detail = events.slice(stop + 1).find((e) => e.type === 'exitDetail');
      expect(detail?.type === 'exitDetail' && detail.exit.seq).toBe(k);
      expect(detail?.type === 'exitDetail' && detail.exit.walk?.length).toBeGreaterThan(0);
      // Once: the next stop sends no detail of it again.
      const from = events.length;
      h.handle({ type: 'stepExit' });
      expect(events.slice(from).some((e) => e.type === 'exitDetail')).toBe(false);
      expect(events.some((e) => e.type === 'error')).toBe(false);
    } finally {
      h.dispose();
    }
  });

  it('an exit a full-speed run kept no walk for gets its walk from the timeline when picked, and the machine stays where it stood', async () => {
    const source = LOOP.replace('mov ecx, 30', 'mov ecx, 300');
    const config = { strategy: 'none', preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 1_000_000 } as const;
    const events: WorkerEvent[] = [];
    const h = new MachineHost((e) => events.push(e));
    const last = <T extends WorkerEvent['type']>(type: T) => [...events].reverse().find((x) => x.type === type) as Extract<WorkerEvent, { type: T }> | undefined;
    const tasks = async (until: () => boolean) => { for (let i = 0; i < 1000 && !until(); i++) await new Promise((r) => setTimeout(r, 0)); };
    try {
      h.handle({ type: 'load', source, file: 'loop.s', config });
      // Stop at the breakpoint on `dec ecx` (line 7) of the 100th pass: after exit 199, the TPR write.
      h.handle({ type: 'setBreakpoints', lines: [7] });
      for (let pass = 0; pass < 100; pass++) {
        const from = events.length;
        h.handle({ type: 'run' });
        await tasks(() => events.slice(from).some((e) => e.type === 'frame' && !e.running));
      }
      const stopped = last('frame');
      expect(stopped?.counters.exits.total).toBe(200);
      // The stopped frame's last exit: exit 199 (not one of the 1 in 64 sampled) with its walk.
      const shown = stopped?.exits.at(-1);
      expect(shown?.seq).toBe(199);
      expect(shown?.walk?.length).toBeGreaterThan(0);

      // The reference: the core recording every walk.
      const built = buildMachine(source, config);
      if (!built.ok) throw new Error('the loop does not assemble');
      const walks = new Map<number, number>();
      built.machine.setRecordWalks('all');
      built.machine.onExit = (e) => { walks.set(e.seq, e.walk?.length ?? 0); };
      built.machine.runToEnd();

      for (const k of [3, 130, 65]) {
        h.handle({ type: 'selectExit', seq: k, detail: true });
        const detail = last('exitDetail')?.exit;
        expect(detail?.seq, `exit ${k}`).toBe(k);
        expect(detail?.walk?.length, `exit ${k}'s walk`).toBe(walks.get(k));
        // Then the answer to the pick itself, after its detail (the store holds the pick until it).
        expect(events.at(-1)).toEqual({ type: 'picked', seq: k, running: false });
      }
      // A pick that wants no walk moves nothing and is answered at once.
      const before = events.length;
      h.handle({ type: 'selectExit', seq: 7, detail: false });
      expect(events.slice(before)).toEqual([{ type: 'picked', seq: 7, running: false }]);
      // The picks moved nothing the page sees: running on hits the breakpoint of the next pass.
      const from = events.length;
      h.handle({ type: 'run' });
      await tasks(() => events.slice(from).some((e) => e.type === 'frame' && !e.running));
      expect(last('frame')?.counters.exits.total).toBe(202);
      expect(last('frame')?.counters.retired).toBe((stopped?.counters.retired ?? 0) + 4); // dec, jnz, the two LAPIC accesses
      expect(events.some((e) => e.type === 'error')).toBe(false);
    } finally {
      h.dispose();
    }
  });
});

describe('MachineHost chart points', () => {
  it('a frame with a view carries a point after every exit of a short run, the same exits stepped or run, cut by running on from a past exit', async () => {
    const { h, events, last } = host();
    const stepped = last('frame').chart ?? [];
    // 61 exits, then the HLT's instruction retired nothing more: one point per exit.
    expect(stepped.map((p) => p.counters.exits.total)).toEqual(Array.from({ length: 61 }, (_, i) => i + 1));
    expect(stepped.at(-1)?.counters).toEqual(last('frame').counters);
    // Run from the start at full speed: the same points.
    h.handle({ type: 'load', source: LOOP, file: 'loop.s', config: { strategy: 'icache', preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 1_000_000 } });
    const from = events.length;
    h.handle({ type: 'run' });
    for (let i = 0; i < 1000 && !events.slice(from).some((e) => e.type === 'frame' && e.stop !== null); i++) await new Promise((r) => setTimeout(r, 0));
    const run = last('frame').chart ?? [];
    const figures = (ps: typeof run) => ps.map((p) => ({ ...p.counters, hostNsPerExit: 0 }));
    expect(figures(run)).toEqual(figures(stepped));
    // A seek keeps them; running on from exit 20 drops the points after it.
    h.handle({ type: 'seekExit', exit: 20 });
    expect(last('timeTravel').counters.exits.total).toBe(20);
    h.handle({ type: 'step' });
    expect(last('futureDropped').at).toBe(20);
    const after = last('frame').chart ?? [];
    expect(after.map((p) => p.counters.exits.total).filter((n) => n > 20).length).toBeLessThanOrEqual(1);
    expect(after.slice(0, 20).map((p) => p.counters.exits.total)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    h.dispose();
  });
});

describe('MachineHost loads', () => {
  it('a Run that reloads the same program runs it the same; an edited source is assembled anew', () => {
    const events: WorkerEvent[] = [];
    const h = new MachineHost((e) => events.push(e));
    const config = { strategy: 'icache' as const, preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 1_000_000 };
    const loadAndFinish = (source: string) => {
      const from = events.length;
      h.handle({ type: 'load', source, file: 'loop.s', config });
      for (let i = 0; i < 200 && !events.slice(from).some((e) => e.type === 'frame' && e.stop); i++) h.handle({ type: 'stepExit' });
      const loaded = events.slice(from).find((e) => e.type === 'loaded');
      const end = [...events].reverse().find((e) => e.type === 'frame');
      if (loaded?.type !== 'loaded' || !loaded.ok || end?.type !== 'frame') throw new Error('no run');
      return { loaded: { lineMap: loaded.lineMap, exitLines: loaded.exitLines, unemulable: loaded.unemulable }, figures: figures(end.counters), view: end.view };
    };
    try {
      const first = loadAndFinish(LOOP);
      expect(first.figures.exits).toBe(61);
      expect(loadAndFinish(LOOP)).toEqual(first);
      const edited = loadAndFinish(LOOP.replace('mov ecx, 30', 'mov ecx, 20'));
      expect(edited.figures.exits).toBe(41);
      expect(edited.loaded).toEqual(first.loaded);
      expect(loadAndFinish(LOOP)).toEqual(first);
      expect(events.some((e) => e.type === 'error')).toBe(false);
    } finally {
      h.dispose();
    }
  });
});

describe('MachineHost while running', () => {
  const LONG = LOOP.replace('mov ecx, 30', 'mov ecx, 50000000');
  const config = { strategy: 'icache', preset: 'nehalem-2014', icacheSize: 1024, maxInsns: 1_000_000_000 } as const;
  const tasks = async (until: () => boolean) => { for (let i = 0; i < 2000 && !until(); i++) await new Promise((r) => setTimeout(r, 0)); };
  type Frame = Extract<WorkerEvent, { type: 'frame' }>;

  it("a running frame's exit rate is the Worker's own, since the previous frame or the run's start: a resume after a pause is not measured over the pause", async () => {
    const seen: { e: WorkerEvent; t: number }[] = [];
    let pauseAfter = 0;
    const h = new MachineHost((e) => {
      seen.push({ e, t: performance.now() });
      // A run at full speed leaves Node's timers no turn: pause from the task of a running frame.
      if (e.type === 'frame' && e.running && --pauseAfter === 0) queueMicrotask(() => h.handle({ type: 'pause' }));
    });
    const stopped = (from: number) => seen.slice(from).some(({ e }) => e.type === 'frame' && !e.running);
    try {
      h.handle({ type: 'load', source: LONG, file: 'loop.s', config });
      for (const idleMs of [0, 300]) {
        await new Promise((r) => setTimeout(r, idleMs));
        const from = seen.length;
        const before = exitsOf(seen);
        pauseAfter = 3;
        const runAt = performance.now();
        h.handle({ type: 'run' });
        await tasks(() => stopped(from));
        const running = seen.slice(from).filter(({ e }) => e.type === 'frame' && e.running) as { e: Frame; t: number }[];
        expect(running.length).toBe(3);
        for (const { e } of running) expect(e.exitsPerSec).toBeGreaterThan(0);
        // The first frame's interval lies within [run command, frame posted]: its rate is at least
        // the exits since the run over that span (a rate over the pause before would be far lower).
        const [first] = running;
        expect(first.e.exitsPerSec).toBeGreaterThanOrEqual(((first.e.counters.exits.total - before) * 1000) / (first.t - runAt));
        const stop = seen.slice(from).find(({ e }) => e.type === 'frame' && !e.running)!.e as Frame;
        expect(stop.exitsPerSec).toBeUndefined();
      }
    } finally {
      h.dispose();
    }
  });

  it('going back while a run goes (the shortcuts work then) lists or counts as not listed every exit the run took', async () => {
    for (const back of ['stepBack', 'backExit'] as const) {
      const events: WorkerEvent[] = [];
      let frames = 0;
      const h = new MachineHost((e) => {
        events.push(e);
        if (e.type === 'frame' && e.running && ++frames === 2) queueMicrotask(() => h.handle({ type: back }));
      });
      try {
        h.handle({ type: 'load', source: LONG, file: 'loop.s', config });
        h.handle({ type: 'run' });
        await tasks(() => events.some((e) => e.type === 'timeTravel'));
        const sent = events.filter((e): e is Frame => e.type === 'frame');
        const stop = sent[sent.length - 1];
        expect(stop.running, back).toBe(false);
        // Listed plus not listed, frame by frame, add up to the exits the run took before going back.
        expect(sent.reduce((n, f) => n + f.exits.length + f.droppedExits, 0), back).toBe(stop.counters.exits.total);
        expect(events.indexOf(stop), back).toBeLessThan(events.findIndex((e) => e.type === 'timeTravel'));
      } finally {
        h.dispose();
      }
    }
  });

  it('a Next exit that finds none says so once: the next step, seek or back carries no banner', () => {
    const events: WorkerEvent[] = [];
    const h = new MachineHost((e) => events.push(e), 10_000);
    const banner = () => [...events].reverse().find((e) => e.type === 'frame' || e.type === 'timeTravel');
    try {
      h.handle({ type: 'load', source: '_start:\n  mov ecx, 100000000\n.l:\n  dec ecx\n  jnz .l\n  hlt\n', file: 'spin.s', config });
      h.handle({ type: 'stepExit' });
      expect((banner() as Frame).banner).toBe('no exit in the next 10,000 instructions; paused');
      h.handle({ type: 'step' });
      expect((banner() as Frame).banner).toBeUndefined();
      h.handle({ type: 'stepExit' });
      h.handle({ type: 'stepBack' });
      h.handle({ type: 'step' });
      expect((banner() as Frame).banner).toBeUndefined();
    } finally {
      h.dispose();
    }
  });
});

/** The exits of the last frame (or the load) seen. */
function exitsOf(seen: { e: WorkerEvent }[]): number {
  const e = [...seen].reverse().find(({ e }) => e.type === 'frame' || e.type === 'loaded')?.e;
  return e?.type === 'frame' ? e.counters.exits.total : e?.type === 'loaded' ? e.start?.counters.exits.total ?? 0 : 0;
}
