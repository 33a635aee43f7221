/**
 * A page that shows every panel fed with synthetic frames, for developing the panels without
 * the machine: `npx vite` then open /src/ui/panels/preview/preview.html (?mode=live for full
 * speed, ?mode=wp for a write-protect fault). Not part of the app build.
 */
import { createRoot } from 'react-dom/client';
import { Suspense, lazy, type ComponentType } from 'react';
import { createMachineStore, defaultMachineStore, useMachineStore } from '../../../store/machineStore';
import { MachineSidesContext, type MachineSide } from '../useMachine';
import { makeExit, makeFrame } from './fixtures';

const panels: [string, ComponentType, boolean?][] = [
  ['Exit pipeline', lazy(() => import('../ExitPipeline')), true],
  ['2D page walk', lazy(() => import('../WalkGrid')), true],
  ['Instruction cache', lazy(() => import('../ICache'))],
  ['Memory map', lazy(() => import('../MemoryMap'))],
  ['Registers', lazy(() => import('../Registers'))],
  ['Console', lazy(() => import('../Console'))],
  ['Event log', lazy(() => import('../EventLog')), true],
  ['Charts', lazy(() => import('../Charts')), true],
  ['Bench', lazy(() => import('../BenchTable'))],
];

const store = useMachineStore.getState();
const storeB = createMachineStore();
storeB.getState().ingest({ type: 'loaded', ok: true, diagnostics: [], lineMap: [], exitLines: [] });
const sides: MachineSide[] = [{ label: 'A', strategy: 'icache', store: defaultMachineStore }, { label: 'B', strategy: 'none', store: storeB }];
store.ingest({ type: 'ready' });
store.ingest({ type: 'loaded', ok: true, diagnostics: [], lineMap: [], exitLines: [] });
const mode = new URLSearchParams(location.search).get('mode') ?? 'step';
let seq = 0;
let hits = 0;
// A backlog: 120,000 exits so the log's virtualization is exercised.
const backlog = [];
for (; seq < 120_000; seq++) {
  const hit = seq > 3 && seq % 10 !== 0;
  if (hit) hits++;
  backlog.push(makeExit(seq, hit, 'mmio', false));
}
store.ingest(makeFrame(backlog, seq, hits, false));
if (mode === 'live') {
  setInterval(() => {
    const ex = [];
    for (let i = 0; i < 40; i++, seq++) { const hit = seq % 10 !== 0; if (hit) hits++; ex.push(makeExit(seq, hit, 'mmio', false)); }
    store.ingest(makeFrame(ex, seq, hits, true));
  }, 16);
} else if (mode === 'wp') {
  store.ingest(makeFrame([makeExit(seq++, false)], seq, hits, false));
  setTimeout(() => store.ingest(makeFrame([makeExit(seq++, false, 'ept-violation')], seq, hits, false, true)), 6000);
} else if (mode === 'ab') {
  // Side B: the same program without the cache (every exit misses), fed alongside side A.
  let n = 0;
  const timer = setInterval(() => {
    const ex = [];
    const exB = [];
    for (let i = 0; i < 20; i++, seq++, n++) {
      const hit = seq % 10 !== 0;
      if (hit) hits++;
      ex.push(makeExit(seq, hit, 'mmio', false));
      exB.push({ ...makeExit(n, false, 'mmio', false), icache: 'bypass' as const });
    }
    store.ingest(makeFrame(ex, seq, hits, true));
    storeB.getState().ingest(makeFrame(exB, n, 0, true));
    if (n > 3000) clearInterval(timer);
  }, 50);
} else {
  store.ingest(makeFrame([makeExit(seq++, false)], seq, hits, false));
}

createRoot(document.getElementById('root')!).render(
  <MachineSidesContext.Provider value={mode === 'ab' ? sides : null}>
  <div className="grid">
    {panels.map(([title, P, wide]) => (
      <div key={title} className={`cell${wide ? ' wide' : ''}`}><h3>{title}</h3><Suspense fallback={null}><P /></Suspense></div>
    ))}
  </div>
  </MachineSidesContext.Provider>,
);
