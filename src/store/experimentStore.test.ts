import { describe, expect, it } from 'vitest';
import { COST_PRESETS } from '../core/cost';
import { STRATEGIES } from '../core/events';
import { runWorkload } from '../core/experimentRun';
import { SCENARIOS } from '../scenarios';
import { runExperimentJob } from '../worker/experimentJob';
import { experimentCsv, experimentMarkdown, experimentRows, speedupAttr } from './experimentModel';
import { createExperimentStore, type ExperimentRunner, type ExperimentStore } from './experimentStore';

// The real job loop and the real core, in-process (the page runs the same loop in a Worker).
const inProcess: ExperimentRunner = (job, onEvent) => runExperimentJob(job, SCENARIOS, onEvent);

function until(store: ExperimentStore, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (done()) return resolve();
    const off = store.subscribe(() => { if (done()) { off(); resolve(); } });
  });
}

const source = (name: string) => SCENARIOS.find((s) => s.name === name)!.source;

describe('experiment store', () => {
  it('runs every workload under every strategy and shows the runs\' own figures', async () => {
    const store = createExperimentStore({ runner: inProcess, workloads: ['lapic-microbench', 'syscall-loop'] });
    store.getState().run();
    expect(store.getState().status).toBe('running');
    await until(store, () => store.getState().status === 'done');
    const rows = experimentRows(store.getState());
    const micro = rows[0].cells;
    for (const strategy of STRATEGIES) {
      const r = runWorkload('lapic-microbench', source('lapic-microbench'), strategy, { preset: 'nehalem-2014' });
      expect(micro[strategy]?.cycles).toBe(r.cycles.total);
      expect(micro[strategy]?.source).toBe('run');
    }
    expect(speedupAttr(micro.icache!.speedup)).toBe('1.084');
    expect(micro.icache!.timeSaved).toBeCloseTo(micro.icache!.speedup / (1 + micro.icache!.speedup), 12);
    expect(experimentCsv(rows, 'nehalem-2014').split('\n')[2]).toMatch(/^lapic-microbench,icache,nehalem-2014,47065508,1\.084,0\.520,run,/);
    expect(experimentMarkdown(rows, 'nehalem-2014')).toContain('| lapic-microbench | 98,096,358 | +108.4% (−52.0%)');
    // The syscall loop's 0.011 exits per 1,000 instructions, as the table shows it (it had read 0.0).
    expect(experimentMarkdown(rows, 'nehalem-2014')).toMatch(/^\| syscall-loop \|.*\| 0\.011 \| [^|]+ \|$/m);
  }, 60_000);

  it('a slider recomputes timer-free cells exactly at once; a timer-driven cell is an estimate until its re-run replaces it', async () => {
    const store = createExperimentStore({ runner: inProcess, workloads: ['lapic-microbench', 'cpu-bound-timer'], rerunDelayMs: 0 });
    store.getState().run();
    await until(store, () => store.getState().status === 'done');
    const model = { ...COST_PRESETS['nehalem-2014'], guestInsn: 2, exit: 3000 };
    store.getState().setConstant('guestInsn', 2);
    store.getState().setConstant('exit', 3000);
    // At once: the microbenchmark exactly, the timer-driven loop as an estimate.
    let rows = experimentRows(store.getState());
    for (const strategy of STRATEGIES) {
      const micro = rows[0].cells[strategy]!;
      expect(micro.source).toBe('exact');
      expect(micro.cycles).toBe(runWorkload('lapic-microbench', source('lapic-microbench'), strategy, { preset: 'nehalem-2014', costModel: model }).cycles.total);
      expect(rows[1].cells[strategy]!.estimate).toBe(true);
    }
    expect(store.getState().rerunning).toBe(true);
    // Then the re-run: the view ends on its numbers.
    await until(store, () => !store.getState().rerunning);
    rows = experimentRows(store.getState());
    for (const strategy of STRATEGIES) {
      const timer = rows[1].cells[strategy]!;
      const again = runWorkload('cpu-bound-timer', source('cpu-bound-timer'), strategy, { preset: 'nehalem-2014', costModel: model });
      expect(timer.source).toBe('rerun');
      expect(timer.estimate).toBe(false);
      expect(timer.cycles).toBe(again.cycles.total);
      expect(timer.record.exits).toBe(again.exits);
    }
    // Back to the preset: the original runs again, no re-run needed.
    store.getState().setPreset('nehalem-2014');
    rows = experimentRows(store.getState());
    expect(rows[1].cells.icache!.source).toBe('run');
    expect(store.getState().rerunning).toBe(false);
  }, 120_000);

  it('cancel stops the run and says so', async () => {
    const store = createExperimentStore({ runner: inProcess, workloads: ['syscall-loop', 'memory-copy'] });
    store.getState().run();
    await until(store, () => Object.keys(store.getState().runs).length >= 1);
    store.getState().cancel();
    const n = Object.keys(store.getState().runs).length;
    expect(store.getState().status).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 50));
    expect(Object.keys(store.getState().runs).length).toBe(n);
  });
});
