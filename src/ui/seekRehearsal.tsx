/**
 * The page's first seek, rehearsed unseen once per page while it is idle after loading.
 *
 * A page's first seek after a run was its slowest by 10-20 ms: no one thing, but every piece of
 * code a seek runs for the first time there (React's render and commit of the panels at a past
 * exit, the store's ingest of a 'timeTravel', the panels' own code), while a run's first seek
 * after one seek in an earlier run was as fast as the rest (DESIGN.md, "The timeline"). So the
 * page does one such seek first, where nobody sees it: a second machine in the same Worker
 * (MachineClient.openSecondHost) runs a short LAPIC loop to its end and seeks into it, through a
 * machine store of its own, and every panel, the stats strip and the timeline render it in a
 * React root that is not in the document (no layout, no paint, no test id or landmark the page
 * shows twice). Then all of it goes. It changes nothing the page shows; a rehearsal that cannot
 * finish (the Worker failed, a step timed out) just ends.
 */
import { startTransition, Suspense, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { createMachineStore, MachineStoreContext, type MachineState, type MachineStore } from '../store/machineStore';
import { configFor } from './controller';
import { MachineClient, type WorkerLike } from './machineClient';
import { PANELS } from './panelRegistry';
import { StatsStrip } from './StatsStrip';
import { Timeline } from './Timeline';

/** The LAPIC microbenchmark example (4 MMIO exits an iteration), cut to 200 iterations. */
async function program(): Promise<string | null> {
  const { SCENARIOS } = await import('../scenarios/index');
  const source = SCENARIOS.find((s) => s.name === 'lapic-microbench')?.source;
  return source?.replace(/^ITERATIONS equ \d+/m, 'ITERATIONS equ 200') ?? null;
}

/** Well over the loop's ~1,800 instructions. */
const MAX_INSNS = 100_000;

/** The user-timing measure a rehearsal ends with; its detail `{ seeks }` counts the seeks it made (2 when whole). */
const REHEARSAL_MEASURE = 'exitscope: first seek rehearsed';

/** Longer than any step takes on a loaded machine; a rehearsal past it gives up. */
const STEP_MS = 10_000;

function until(store: MachineStore, ok: (s: MachineState) => boolean): Promise<boolean> {
  if (ok(store.getState())) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { stop(); resolve(false); }, STEP_MS);
    const stop = store.subscribe((s) => {
      if (!ok(s)) return;
      clearTimeout(timer);
      stop();
      resolve(true);
    });
  });
}

/** A task later: React has rendered and committed what the store's change asked for (a sync render). */
const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Calls `onCommit` once the tree it ends has been committed. */
function Committed({ onCommit }: { onCommit: () => void }) {
  useEffect(onCommit, [onCommit]);
  return null;
}

/** Rehearses a first seek on a second machine of `open`'s Worker (see above); resolves when done. */
export async function rehearseFirstSeek(open: () => WorkerLike | null): Promise<void> {
  const source = await program();
  const second = source === null ? null : open();
  if (!second || source === null) return;
  const store = createMachineStore();
  const client = new MachineClient(store, { createWorker: () => second });
  const root = createRoot(document.createElement('div'));
  const t0 = performance.now();
  let seeks = 0;
  try {
    client.setSpeed('max');
    // The page's strategy and costs; not its instruction limit, which could end the loop early.
    client.load(source, 'lapic-microbench.s', { ...configFor('a'), maxInsns: MAX_INSNS });
    if (!(await until(store, (s) => s.loaded && !s.awaitingLoad))) return;
    client.run();
    if (!(await until(store, (s) => !s.running && s.stop !== null && s.timeline !== null))) return;
    // The panels at the run's end, rendered in slices (a transition): one pass of every panel
    // had been a task of 50-73 ms, in which a click on the page would have waited.
    let rendered = () => {};
    const committed = new Promise<boolean>((resolve) => {
      rendered = () => resolve(true);
      setTimeout(() => resolve(false), STEP_MS);
    });
    startTransition(() => root.render(
      <MachineStoreContext.Provider value={store}>
        <Timeline />
        <StatsStrip />
        {PANELS.map(({ id, Component }) => Component && <Suspense key={id} fallback={null}><Component /></Suspense>)}
        <Committed onCommit={rendered} />
      </MachineStoreContext.Provider>,
    ));
    if (!(await committed)) return;
    // From the present to an exit in the middle (a first seek), then to another.
    const end = store.getState().timeline?.end ?? 0;
    for (const k of [end >> 1, (end >> 1) + 3]) {
      client.seekExit(k);
      if (!(await until(store, (s) => s.timeline?.at === k && s.selectedExit?.seq === k))) return;
      await settled();
      seeks++;
    }
  } finally {
    root.unmount();
    client.dispose();
    // For the devtools' performance panel and the e2e test: how far it got, and its span.
    performance.measure(REHEARSAL_MEASURE, { start: t0, detail: { seeks } });
  }
}
