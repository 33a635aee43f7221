/**
 * UI bench (`npm run bench:ui`, after a production build) in Chromium against `vite preview`:
 * - exit throughput in the browser: a 200 k-exit LAPIC loop (lapic-microbench, 50,000
 *   iterations) at speed "max" under `icache` (the cache-hit path) and `none` (the miss path),
 *   in the page with the default panels open (from the Run click, which reloads the finished
 *   program and runs it, to 'halted' on screen) and in the machine Worker alone (from posting
 *   the same load and run commands to the frame that says it stopped): both span the same
 *   work, the page adds its main thread. Best of 3 after a warm-up run, each run after the same
 *   idle pause (RUN_PAUSE_MS: the previous machine's garbage is collected outside the timed
 *   span in both). Next to them the same program in Node (bench/exits.ts, bundled): the bare
 *   Machine, and the Worker's own MachineHost driven in Node (timeline, exit ring, frames);
 * - frame figures while those runs go and while one 2 M-exit run goes (frames and long tasks
 *   that end between a Run click and 'halted' on screen: p50/p95 frame, frames over 20 ms,
 *   long tasks over 100 ms), with every panel open: the 'All' layout preset, which places all nine panels and
 *   collapses none (checked before the runs; the first visit's welcome banner is closed so the
 *   panels get the height a returning visitor sees, not less), the pointer resting on Run;
 * - time travel: 50 seeks to random exits of a 100 k-exit run through the timeline, from the
 *   input event to the panels painted with the exit (SEEK_PROBE says which and how; the
 *   older measure, two animation frames after the counter and pipeline show it, beside it).
 *   A seek is a mouse click on the track where exit k's thumb would be (`--seek-by=value`:
 *   the value set and an input event, as a touch drag, assistive tech or Playwright's fill
 *   does, the only way before the timeline took the mouse itself);
 *   then 20 more after a new run at 1280x720 (a classroom projector), the first seek apart,
 *   and at each size the first seek of FIRST_PAGES pages in all (the median and each, and how
 *   many of those pages had rehearsed a first seek unseen before the run: seekRehearsal.tsx);
 *   `--seek-only` measures only this; `--trace-first` traces each page's first seek and splits it
 *   into its parts (seekPhases.ts: the click, the Worker's answer, its render, the frame's layout
 *   and paint, main-thread CPU time), each field's median printed, and beside them the same for
 *   three later seeks of each size's first round (LATER_TRACED; those three are not timed);
 * - the gzip size of the initial JS;
 * - how much work waited for the CPU meanwhile, and in the minute before it began (hostLoad.ts:
 *   timings on a shared machine move with it).
 * A table, then one JSON line. It takes a free port and stops the server it starts.
 */
import { chromium, type Browser, type Page } from '@playwright/test';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { freePort } from '../scripts/freePort.mjs';
import { gzipSync } from 'node:zlib';
import { shareUrl } from '../src/ui/share';
import { onThumb, thumbX } from '../src/ui/timelineInput';
import { DEFAULT_COST_PRESET } from '../src/core/cost';
import { watchHostLoad } from './hostLoad';
import { median } from './median';
import { seekPhases, type SeekPhases, type TraceEvent } from './seekPhases';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SEEKS = Number(process.env.BENCH_SEEKS ?? 50);
/** Seeks of the second, 1280x720 round (its first seek is the figure that differs). */
const SEEKS_720 = Math.min(SEEKS, 20);
/**
 * Pages whose first seek is timed, at each size: one sample per page is all a first seek gives,
 * and on a shared machine one sample of it spread over 40-100 ms (the other pages seek once).
 */
const FIRST_PAGES = Math.max(1, Number(process.env.BENCH_FIRST_PAGES ?? 3));
/** `--seek-only`: only the time-travel part (quicker, for work on seeking). */
const SEEK_ONLY = process.argv.includes('--seek-only');
/**
 * `--trace-first`: the first seek of each page is traced (Chrome's timeline) and split into its
 * parts (seekPhases.ts); its time is then a traced one, slower than untraced.
 */
const TRACE_FIRST = process.argv.includes('--trace-first');
const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.frame', 'toplevel', 'blink', 'cc', 'v8.execute'];
/** How a seek is made: a mouse click on the track (a user's way), or the input's value set. */
const SEEK_BY: 'click' | 'value' = process.argv.includes('--seek-by=value') ? 'value' : 'click';
const THROUGHPUT_ITERATIONS = 50_000; // 4 exits each: 200 k exits
const SEEK_ITERATIONS = 25_000; // 100 k exits
const FRAME_ITERATIONS = 500_000; // 2 M exits: a run of seconds, for the frames
/** Idle time before each timed run, in the page and in the Worker alone alike. */
const RUN_PAUSE_MS = 500;

function initialJsGzip(): { files: string[]; bytes: number } {
  const html = readFileSync('dist/index.html', 'utf8');
  const files = [...html.matchAll(/<script[^>]*src="([^"]+\.js)"|<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g)]
    .map((m) => m[1] ?? m[2]);
  const bytes = files.reduce((n, f) => n + gzipSync(readFileSync(`dist${f}`)).length, 0);
  return { files, bytes };
}

/** vite preview as one process of its own group (vite's own bin under this node, no npx in between). */
function startPreview(port: number): ChildProcess {
  return spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
    stdio: 'ignore',
    detached: true,
  });
}

function stopPreview(server: ChildProcess): void {
  if (server.exitCode !== null || server.pid === undefined) return;
  try {
    process.kill(-server.pid, 'SIGTERM'); // the whole group: vite and anything it started
  } catch {
    server.kill('SIGTERM');
  }
}

async function waitForServer(base: string, server: ChildProcess): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (server.exitCode !== null) throw new Error(`vite preview exited with ${server.exitCode}`);
    try {
      if ((await fetch(base)).ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('vite preview did not start');
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : 0;
};

function lapicLoop(iterations: number): string {
  const src = readFileSync('src/scenarios/lapic-microbench.s', 'utf8');
  return src.replace(/^ITERATIONS equ \d+/m, `ITERATIONS equ ${iterations}`);
}

/** exits/s of the same loop in Node (bundled, as bench:exits measures it): the bare Machine, and as the Worker runs it. */
function nodeThroughput(): Record<'icache' | 'none', { bare: number; worker: number }> {
  const out = execFileSync(process.execPath, ['scripts/run-bundled.mjs', 'bench/exits.ts', '--iterations', String(THROUGHPUT_ITERATIONS), '--mode', 'bare,worker', 'icache', 'none'], { encoding: 'utf8' });
  const rate = (s: string, mode: string) => Number(new RegExp(`^${s}\\s+${mode}\\s.*?\\s([\\d,]+) exits/s`, 'm').exec(out)?.[1].replace(/,/g, '') ?? NaN);
  return { icache: { bare: rate('icache', 'bare'), worker: rate('icache', 'worker') }, none: { bare: rate('none', 'bare'), worker: rate('none', 'worker') } };
}

async function openProgram(page: Page, base: string, source: string, strategy: 'icache' | 'none'): Promise<void> {
  await page.goto(`${base}/`);
  await page.evaluate(() => localStorage.clear());
  await page.goto(shareUrl(`${base}/`, { v: 1, source, config: { strategy, preset: DEFAULT_COST_PRESET, icacheSize: 1024 } }));
  await page.getByTestId('btn-run').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="stop-reason"]')?.textContent === 'paused', null, { timeout: 60_000 });
  await page.waitForTimeout(1000); // panels and charts loaded
}

/** Resolves in a task posted from the next animation frame: right after that frame's paint. */
const AFTER_NEXT_PAINT = 'new Promise((resolve) => requestAnimationFrame(() => { const ch = new MessageChannel(); ch.port1.onmessage = () => resolve(null); ch.port2.postMessage(null); }))';

/** Run to the end; ms from the click to 'halted' on screen, and the exits shown. */
async function timedRun(page: Page): Promise<{ ms: number; exits: number }> {
  // A string, not a function: tsx would wrap named functions in a helper the page lacks.
  const ms = (await page.evaluate(`new Promise((resolve) => {
    const reason = document.querySelector('[data-testid="stop-reason"]');
    const t0 = performance.now();
    const mo = new MutationObserver(() => {
      if (reason.textContent !== 'halted') return;
      mo.disconnect();
      const t1 = performance.now();
      // The frame that paints 'halted' still belongs to the run.
      requestAnimationFrame(() => window.__bench?.runs.push([t0, performance.now()]));
      resolve(t1 - t0);
    });
    mo.observe(reason, { childList: true, characterData: true, subtree: true });
    document.querySelector('[data-testid="btn-run"]').click();
  })`)) as number;
  const exits = Number((await page.getByTestId('stat-exits').innerText()).replace(/[^0-9]/g, ''));
  return { ms, exits };
}

/**
 * Frames and long tasks, each with the time it ended, and the spans of the timed runs (from the
 * Run click to 'halted' on screen): only what falls inside a run counts (the idle pauses between
 * runs would add idle frames).
 */
const FRAME_PROBE = `(() => {
  const b = window.__bench = { frames: [], longTasks: [], runs: [] };
  new PerformanceObserver((l) => { for (const e of l.getEntries()) b.longTasks.push([e.startTime + e.duration, e.duration]); }).observe({ type: 'longtask' });
  let last = performance.now();
  const tick = (t) => { b.frames.push([t, t - last]); last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})()`;

interface FrameProbe { frames: [number, number][]; longTasks: [number, number][]; runs: [number, number][] }

/**
 * The durations of the frames and long tasks that ended inside a timed run, and where each long
 * task over 100 ms began: which run (`label`, then its index) and how long after its Run click.
 */
async function duringRuns(page: Page, label: string): Promise<{ frames: number[]; longTasks: number[]; over100At: string[] }> {
  const probe = (await page.evaluate('window.__bench')) as FrameProbe;
  const runOf = (t: number) => probe.runs.findIndex(([a, b]) => t > a && t <= b);
  const inRun = ([t]: [number, number]) => runOf(t) >= 0;
  const over100At = probe.longTasks.filter(([t, d]) => d > 100 && runOf(t) >= 0).map(([t, d]) => {
    const i = runOf(t);
    return `${label} run ${i}: ${Math.round(d)} ms from +${Math.round(t - d - probe.runs[i][0])} ms`;
  });
  return { frames: probe.frames.filter(inRun).map(([, d]) => d), longTasks: probe.longTasks.filter(inRun).map(([, d]) => d), over100At };
}

interface PathResult {
  exitsPerSec: number; frames: number[]; longTasks: number[]; over100At: string[];
  /** The page's main thread busy (CDP TaskDuration) as a share of the best run's time: what it takes from the Worker on 2 cores. */
  mainThreadBusyPct: number;
}

/**
 * The machine Worker alone (the built worker chunk, no page around it): post load and Run at
 * full speed together, as the page's Run after a finished run does, until the frame that says
 * it stopped; exits/s over that span, best of RUNS after a warm-up. What the Worker itself
 * sustains, recording and streaming included, with an idle main thread.
 */
async function workerAlone(page: Page, base: string, strategy: 'icache' | 'none'): Promise<number> {
  const chunk = readdirSync('dist/assets').find((f) => /^worker-.*\.js$/.test(f));
  if (!chunk) throw new Error('no worker chunk in dist/assets');
  // A document of the app's origin, no app in it. Chromium asks such a document's origin for
  // /favicon.ico, which the app does not have (its pages name favicon.svg): not a page error.
  await page.route('**/favicon.ico', (r) => r.fulfill({ status: 204 }));
  await page.goto(`${base}/assets/${chunk}`);
  const source = JSON.stringify(lapicLoop(THROUGHPUT_ITERATIONS));
  const rates = (await page.evaluate(`new Promise((resolve, reject) => {
    const w = new Worker('/assets/${chunk}', { type: 'module' });
    const rates = [];
    let t0 = 0;
    const start = () => setTimeout(() => {
      t0 = performance.now();
      w.postMessage({ type: 'load', source: ${source}, file: 'bench.s', config: { strategy: '${strategy}', preset: '${DEFAULT_COST_PRESET}', icacheSize: 1024, maxInsns: 200000000 } });
      w.postMessage({ type: 'run' });
    }, ${RUN_PAUSE_MS});
    w.onerror = (e) => reject(new Error(e.message));
    w.onmessage = (m) => {
      const e = m.data;
      if (e.type === 'ready') start();
      else if (e.type === 'error') reject(new Error(e.message));
      else if (e.type === 'frame' && e.stop && t0 > 0) {
        rates.push(e.counters.exits.total / ((performance.now() - t0) / 1000));
        t0 = 0;
        if (rates.length > ${RUNS}) { w.terminate(); resolve(rates); } else start();
      }
    };
  })`)) as number[];
  return Math.max(...rates.slice(1));
}

/** The frames are measured with every panel on screen: the All preset, nothing collapsed. */
async function everyPanelOpen(page: Page): Promise<void> {
  const close = page.getByTestId('welcome-close');
  if (await close.count()) await close.click();
  await page.getByTestId('layout-select').selectOption('all');
  await page.waitForTimeout(500);
  const panes = await page.locator('.machine [data-pane]').evaluateAll((els) => els.map((e) => ({ id: e.getAttribute('data-pane'), open: !e.classList.contains('collapsed') && e.getBoundingClientRect().height > 60 })));
  const closed = panes.filter((p) => !p.open).map((p) => p.id);
  if (panes.length < 9 || closed.length) throw new Error(`not every panel is open: ${panes.length} panes, closed ${closed.join(', ') || 'none'}`);
  // The pointer where a user's is when a run starts: on Run. Left where the banner's close
  // button was, it sat over the panels, and every re-render under it re-ran hover and hit
  // testing (36 synthetic mouse moves, up to 77 ms each, in one trace).
  await page.getByTestId('btn-run').hover();
}

async function throughput(page: Page, base: string, strategy: 'icache' | 'none'): Promise<PathResult> {
  await openProgram(page, base, lapicLoop(THROUGHPUT_ITERATIONS), strategy);
  await everyPanelOpen(page);
  await page.evaluate(FRAME_PROBE);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const busySec = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN;
  let best = 0;
  let busyPct = NaN;
  for (let r = 0; r <= RUNS; r++) {
    await page.waitForTimeout(RUN_PAUSE_MS);
    const busy0 = await busySec();
    const { ms, exits } = await timedRun(page); // Run after the end starts over
    const busy = (await busySec()) - busy0; // includes the few ms the bench's own calls take
    const rate = exits / (ms / 1000);
    if (r > 0 && rate > best) { best = rate; busyPct = (100 * busy * 1000) / ms; } // the first warms the Worker's JIT
  }
  await cdp.detach();
  await page.waitForTimeout(100);
  const short = await duringRuns(page, `${strategy} 200 k`);
  // Then one long run (FRAME_ITERATIONS), for frames while a run goes on, not only its start and end.
  await openProgram(page, base, lapicLoop(FRAME_ITERATIONS), strategy);
  await everyPanelOpen(page);
  await page.evaluate(FRAME_PROBE);
  await page.waitForTimeout(RUN_PAUSE_MS);
  await timedRun(page);
  await page.waitForTimeout(100);
  const long = await duringRuns(page, `${strategy} 2 M`);
  return { exitsPerSec: best, frames: [...short.frames, ...long.frames], longTasks: [...short.longTasks, ...long.longTasks], over100At: [...short.over100At, ...long.over100At], mainThreadBusyPct: busyPct };
}

/** Lines of the seek program's loop that exit, in the order its exits come (4 per iteration). */
function loopExitLines(source: string): number[] {
  return source.split('\n').flatMap((l, i) => (/\[rbx \+ LAPIC_/.test(l) ? [i + 1] : []));
}

/**
 * One seek: ms from the input (the press of a click, or the value set and input fired: `by`)
 * until the panels are painted with exit k (`lineOf(k)` its line in the editor). The panels that
 * must show k: the exit counter, the pipeline's exit, the registers (their retired count is the
 * counter strip's), the editor's RIP glyph on exit k's line, the event log scrolled to the
 * row at or before k (its first row when k is older), and the cache table's hits (as of k, they
 * add up to the strip's). `painted` is taken in a task posted from the first animation frame after
 * which all of them hold: it runs right after that frame's paint (what "until painted" means in
 * the usual rAF + MessageChannel probe). `twoFrames` is the measure this bench took before: the
 * text panels showing k, then two animation frames (a whole vsync past the frame that paints);
 * kept for comparison.
 */
/** A seek whose panels do not all show its exit within this long counts as not shown. */
const GIVE_UP_MS = 5000;

const SEEK_PROBE = `(k, lineOf, by) => new Promise((resolve) => {
  const q = (id) => document.querySelector('[data-testid="' + id + '"]');
  const input = q('timeline');
  let want = k.toLocaleString('en-US');
  let line = lineOf(k);
  const textShown = () => {
    if (q('stat-exits')?.textContent !== want) return false;
    const pipeline = q('exit-pipeline');
    if (pipeline && !pipeline.textContent.includes('exit #' + k + ' ')) return false;
    const regs = q('registers');
    return !regs || regs.textContent.includes(q('stat-retired').textContent + ' instructions retired');
  };
  // Layout reads: only after a paint, when layout is clean (they cost nothing then).
  const editorAtLine = () => {
    const g = document.querySelector('.rip-glyph');
    if (!document.querySelector('.monaco-editor')) return true;
    if (!g || line === 0) return line === 0;
    const top = g.getBoundingClientRect().top;
    const row = [...document.querySelectorAll('.line-numbers')].find((n) => Math.abs(n.getBoundingClientRect().top - top) < 1);
    return row?.textContent === String(line);
  };
  // What the editor shows when it never showed the line: the RIP band's line and the line numbers in view.
  const editorSays = () => {
    const band = document.querySelector('.rip-line');
    const nums = [...document.querySelectorAll('.line-numbers')].map((n) => Number(n.textContent)).sort((a, b) => a - b);
    return 'want line ' + line + ', band ' + (band ? 'on line ' + band.getAttribute('data-line') : 'none') + ', glyph ' + (document.querySelector('.rip-glyph') ? 'shown' : 'none') + ', lines ' + nums[0] + '-' + nums[nums.length - 1] + ' in view';
  };
  // The cache table as of k: in this program no entry leaves the cache, so the hits of its rows
  // add up to the run's (the stats strip's tooltip). It renders in the seek's pass, not after it.
  const icacheAtK = () => {
    if (!q('icache-table')) return true;
    const hits = /([\\d,]+) \\//.exec(q('stat-hit-rate')?.closest('.stat')?.getAttribute('title') ?? '');
    const rows = [...document.querySelectorAll('[data-testid="icache-row"]')].filter((r) => r.dataset.state !== 'evicted' && r.dataset.state !== 'invalidated');
    // The hits carry separators ("4,999").
    return !!hits && rows.reduce((n, r) => n + Number((r.children[7]?.textContent ?? '').replace(/,/g, '')), 0) === Number(hits[1].replace(/,/g, ''));
  };
  const logAtK = () => {
    const log = q('event-log');
    if (!log) return true;
    const rows = [...log.querySelectorAll('[data-testid="exit-row"]')];
    const group = rows[0]?.closest('[role="rowgroup"]');
    if (!group) return true;
    const c = group.getBoundingClientRect();
    const inView = rows.filter((r) => { const b = r.getBoundingClientRect(); return b.bottom > c.top + 1 && b.top < c.bottom - 1; });
    const seqs = inView.map((r) => Number(r.dataset.seq));
    // k before the oldest row listed: the log shows its first row (the row at top 0).
    if (seqs.every((s) => s > k)) return inView.some((r) => r.style.top === '0px');
    return seqs.some((s) => s <= k) && (seqs.some((s) => s >= k) || !rows.some((r) => Number(r.dataset.seq) > k));
  };
  let t0 = performance.now();
  const out = { painted: 0, twoFrames: 0, missing: '' };
  const finish = () => { if (out.painted !== 0 && out.twoFrames) resolve(out); };
  const afterPaint = (f) => requestAnimationFrame(() => { const ch = new MessageChannel(); ch.port1.onmessage = f; ch.port2.postMessage(null); });
  // Given up after GIVE_UP_MS: painted is NaN and 'missing' names the panels that never showed k.
  // The time is taken as the task starts, before the checks: their own queries (every line
  // number's and visible row's box) took 0.4 to 8 ms per seek, and the page had painted already.
  const untilPainted = () => afterPaint(() => {
    const paintedAt = performance.now();
    const missing = [textShown() ? '' : 'text', editorAtLine() ? '' : 'editor', logAtK() ? '' : 'log', icacheAtK() ? '' : 'icache'].filter(Boolean);
    if (missing.length === 0) { out.painted = paintedAt - t0; finish(); }
    else if (performance.now() - t0 > ${GIVE_UP_MS}) { out.painted = NaN; out.missing = missing.map((m) => m === 'editor' ? 'editor (' + editorSays() + ')' : m).join('+'); finish(); }
    else untilPainted();
  });
  const mo = new MutationObserver(() => {
    if (!textShown()) return;
    mo.disconnect();
    requestAnimationFrame(() => requestAnimationFrame(() => { out.twoFrames = performance.now() - t0; finish(); }));
    untilPainted();
  });
  const watch = () => mo.observe(document.body, { childList: true, characterData: true, subtree: true });
  // The counter never showing k (a click that landed elsewhere) gives up too.
  setTimeout(() => { if (out.painted === 0) resolve({ painted: NaN, twoFrames: NaN, missing: 'text (exits shown: ' + q('stat-exits')?.textContent + ')' }); }, ${GIVE_UP_MS});
  if (by === 'click') {
    // The clock starts at the press (its timeStamp: when the browser took the input); the bench
    // clicks once this promise is set up (window.__seek holds it) where seekAt says.
    addEventListener('pointerdown', (e) => { t0 = e.timeStamp; watch(); }, { capture: true, once: true });
    // A native slider (the build before the timeline took the mouse) sets its value as it is
    // pressed and rounds its own way: the exit is then the one it set (within ~2 of k).
    const chosen = () => { k = Number(input.value); want = k.toLocaleString('en-US'); line = lineOf(k); };
    input.addEventListener('input', chosen, { once: true });
    addEventListener('pointerup', () => input.removeEventListener('input', chosen), { capture: true, once: true });
    return;
  }
  watch();
  // React tracks the input's value: set it through the prototype's setter, then fire input.
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, String(k));
  input.dispatchEvent(new Event('input', { bubbles: true }));
})`;

/**
 * Where a click on the timeline shows exit k: the centre of its thumb (the timeline's own mapping),
 * at the input's mid-height; null when that is on the thumb now (a press there grabs it and shows
 * nothing new).
 */
async function seekAt(page: Page, k: number): Promise<{ x: number; y: number } | null> {
  const input = page.getByTestId('timeline');
  const r = (await input.boundingBox())!;
  const [min, max, now] = (await input.evaluate((el: HTMLInputElement) => [el.min, el.max, el.value])).map(Number);
  const span = { min, max };
  const x = thumbX(k, r.width, span);
  return onThumb(x, now, r.width, span) ? null : { x: r.x + x, y: r.y + r.height / 2 };
}

type SeekResult = { painted: number | null; twoFrames: number; missing: string };

/**
 * One seek to exit k the bench's way (SEEK_BY); null when a click there would grab the thumb.
 * `lineOf` (page-side source) gives an exit's line in the editor, 0 for none.
 */
async function seekOnce(page: Page, k: number, lineOf: string): Promise<SeekResult | null> {
  if (SEEK_BY === 'value') return (await page.evaluate(`(${SEEK_PROBE})(${k}, ${lineOf}, 'value')`)) as SeekResult;
  const at = await seekAt(page, k);
  if (!at) return null;
  await page.evaluate(`void (window.__seek = (${SEEK_PROBE})(${k}, ${lineOf}, 'click'))`);
  await page.mouse.click(at.x, at.y);
  return (await page.evaluate('window.__seek')) as SeekResult;
}

interface SeekTimes { painted: number[]; twoFrames: number[]; notShown: string[]; editorState?: string; first: number; firstPhases?: SeekPhases; laterPhases: SeekPhases[]; rehearsed: boolean }

/** `--trace-first`: the seeks of a round traced besides its first, to set a first seek's parts beside later ones'. */
const LATER_TRACED: ReadonlySet<number> = new Set([5, 10, 15]);

/** What the editor holds, for seeks that never showed their line: its parts and its text. */
function editorState(page: Page, source: string): Promise<string> {
  return page.evaluate((src) => {
    const ed = (window as unknown as { __exitscopeEditor?: { getDomNode(): HTMLElement | null; getModel(): { getValue(): string } | null } }).__exitscopeEditor;
    const text = ed?.getModel()?.getValue();
    return `${document.querySelectorAll('.monaco-editor').length} editor(s), ${document.querySelectorAll('.rip-line').length} RIP band(s), `
      + (ed ? `the last mounted ${ed.getDomNode()?.isConnected ? 'in the page' : 'detached'}, its text ${text === src ? 'the program' : `not the program (${/ITERATIONS equ \d+/.exec(text ?? '')?.[0] ?? (text ?? '').slice(0, 40)})`}` : 'none mounted');
  }, source);
}

/** The first seek after a run in each of `pages` new pages of this size (each page's code cold). */
async function firstSeeksInNewPages(browser: Browser, base: string, viewport: { width: number; height: number }, pages: number, errors: string[]): Promise<{ firsts: number[]; notShown: string[]; phases: SeekPhases[]; rehearsed: number }> {
  const out = { firsts: [] as number[], notShown: [] as string[], phases: [] as SeekPhases[], rehearsed: 0 };
  for (let i = 0; i < pages; i++) {
    const page = await browser.newPage({ viewport });
    const which = `${viewport.width}x${viewport.height} page ${i + 2} `;
    collectErrors(page, which, errors);
    const t = await seekLatency(page, base, 1);
    out.firsts.push(t.first);
    if (t.rehearsed) out.rehearsed++;
    if (t.firstPhases) out.phases.push(t.firstPhases);
    out.notShown.push(...t.notShown.map((x) => which + x));
    await page.close();
  }
  return out;
}

/** Each field's median over `list`; null for none (no `--trace-first`, or no trace read). */
function phasesMedian(list: readonly SeekPhases[]): SeekPhases | null {
  if (list.length === 0) return null;
  const keys = Object.keys(list[0]) as (keyof SeekPhases)[];
  return Object.fromEntries(keys.map((k) => [k, Number(median(list.map((p) => p[k])).toFixed(1))])) as unknown as SeekPhases;
}

/** A traced seek's parts on one line (ms). */
function phasesText(p: SeekPhases): string {
  return `${p.wall} traced, main CPU ${p.mainCpu}: click ${p.input}, frames before the answer ${p.framesBefore}, answer at ${p.answerAt} `
    + `(Worker ${p.workerCpu} CPU in ${p.workerWall}), its render ${p.answer}, the frame ${p.frame} (layout ${p.layout}, paint ${p.paint})`;
}

/** The slowest seek after the first (all of them when the first never showed its exit). */
function maxOfRest(t: Pick<SeekTimes, 'painted' | 'first'>): number {
  return Math.max(0, ...(Number.isNaN(t.first) ? t.painted : t.painted.slice(1)));
}

/** Uncaught exceptions and console errors of `page`, into `out` (prefixed with which page). */
function collectErrors(page: Page, prefix: string, out: string[]): void {
  page.on('pageerror', (e) => out.push(`${prefix}uncaught: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') out.push(`${prefix}console.error: ${m.text()} (${m.location().url})`); });
}

/** Seek latency through the timeline: input event to the exit painted (SEEK_PROBE). */
async function seekLatency(page: Page, base: string, seeks = SEEKS): Promise<SeekTimes> {
  const source = lapicLoop(SEEK_ITERATIONS);
  const lines = loopExitLines(source);
  // The loop's exits come 4 per iteration; the last few (the final OUTs and HLT) are not checked in the editor.
  const lineOf = `(k) => k < ${SEEK_ITERATIONS * lines.length} ? ${JSON.stringify(lines)}[k % ${lines.length}] : 0`;
  await openProgram(page, base, source, 'icache');
  // The page rehearses a first seek once idle (src/ui/seekRehearsal.tsx): whether it had before the run.
  const rehearsed = await page.evaluate(() => performance.getEntriesByName('exitscope: first seek rehearsed').length > 0);
  const { exits } = await timedRun(page);
  // Nobody clicks on a result before it is on screen: the first seek waits for the frame that
  // paints 'halted' (the run's, as timedRun counts it). Clicked as the text changed, it waited
  // behind that frame (60-120 ms on a first run after a load: the stop's layout and paint).
  await page.evaluate(AFTER_NEXT_PAINT);
  await page.getByTestId('timeline').hover(); // where a user's pointer is when they scrub
  const out: SeekTimes = { painted: [], twoFrames: [], notShown: [], first: NaN, laterPhases: [], rehearsed };
  let x = 0x2545f491;
  for (let i = 0; i < seeks; i++) {
    let k: number, ms: SeekResult | null;
    const browser = TRACE_FIRST && (i === 0 || LATER_TRACED.has(i)) ? page.context().browser() : null;
    do { // an exit whose click is not on the thumb
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      k = (x >>> 0) % exits;
      if (browser) {
        await browser.startTracing(page, { categories: TRACE_CATEGORIES });
        await page.waitForTimeout(200); // the frames a trace's start makes, before the click
      }
      ms = await seekOnce(page, k, lineOf);
      if (browser) {
        const trace = JSON.parse((await browser.stopTracing()).toString()) as { traceEvents: TraceEvent[] };
        const phases = ms ? seekPhases(trace.traceEvents) : null;
        if (phases && i === 0) out.firstPhases = phases;
        else if (phases) out.laterPhases.push(phases);
      }
    } while (!ms);
    if (ms.missing) out.notShown.push(`exit ${k}: ${ms.missing}`);
    // A later seek traced is one to split, not to time: a trace slows what it records.
    else if (!(browser && i > 0)) out.painted.push(ms.painted ?? NaN);
    if (i === 0) out.first = ms.missing ? NaN : ms.painted ?? NaN;
    if (!(browser && i > 0)) out.twoFrames.push(ms.twoFrames);
    await page.waitForTimeout(80); // past the timeline's 40 ms seek throttle
  }
  if (out.notShown.length) out.editorState = await editorState(page, source);
  return out;
}

async function main() {
  if (!existsSync('dist/index.html')) throw new Error('no dist/: run `vite build` first (npm run bench:ui does)');
  const js = initialJsGzip();
  const hostLoad = watchHostLoad();
  const inNode = SEEK_ONLY ? { icache: { bare: NaN, worker: NaN }, none: { bare: NaN, worker: NaN } } : nodeThroughput();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = startPreview(port);
  const stop = () => stopPreview(server);
  process.on('exit', stop);
  process.on('SIGINT', () => { stop(); process.exit(130); });
  process.on('SIGTERM', () => { stop(); process.exit(143); });
  try {
    await waitForServer(base, server);
    const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const pageErrors: string[] = [];
      collectErrors(page, '', pageErrors);
      const none: PathResult = { exitsPerSec: NaN, frames: [], longTasks: [], over100At: [], mainThreadBusyPct: NaN };
      const aloneHit = SEEK_ONLY ? NaN : await workerAlone(page, base, 'icache');
      const aloneMiss = SEEK_ONLY ? NaN : await workerAlone(page, base, 'none');
      const hit = SEEK_ONLY ? none : await throughput(page, base, 'icache');
      const miss = SEEK_ONLY ? none : await throughput(page, base, 'none');
      const seekRound = await seekLatency(page, base);
      const { painted: seeks, twoFrames, notShown, editorState: editorWhenNotShown, first: firstSeek, firstPhases, rehearsed } = seekRound;
      // The same at a classroom projector's 1280x720 (the same preset, less room), in a page of
      // its own: in this one the page's code is warm by now, and its first seek would not be a first.
      const page720 = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      collectErrors(page720, '1280x720 ', pageErrors);
      const small = await seekLatency(page720, base, SEEKS_720);
      await page720.close();
      // More first seeks, each in a fresh page (a page of its own is a cold one).
      const more = await firstSeeksInNewPages(browser, base, { width: 1440, height: 900 }, FIRST_PAGES - 1, pageErrors);
      const more720 = await firstSeeksInNewPages(browser, base, { width: 1280, height: 720 }, FIRST_PAGES - 1, pageErrors);
      const firsts = [firstSeek, ...more.firsts];
      const firsts720 = [small.first, ...more720.firsts];
      // --trace-first: each field's median over the first seeks traced at each size.
      const phases = phasesMedian([...(firstPhases ? [firstPhases] : []), ...more.phases]);
      const phases720 = phasesMedian([...(small.firstPhases ? [small.firstPhases] : []), ...more720.phases]);
      // The same for later seeks of the first round at each size (LATER_TRACED).
      const laterPhases = phasesMedian(seekRound.laterPhases);
      const laterPhases720 = phasesMedian(small.laterPhases);
      const notShownAll = [...notShown, ...small.notShown.map((x) => `1280x720 ${x}`), ...more.notShown, ...more720.notShown];
      const frames = [...hit.frames, ...miss.frames];
      const longTasks = [...hit.longTasks, ...miss.longTasks];
      const result = {
        hitPathExitsPerSecBrowser: Math.round(hit.exitsPerSec),
        hitPathExitsPerSecWorkerAlone: Math.round(aloneHit),
        hitPathExitsPerSecNode: Math.round(inNode.icache.bare),
        hitPathExitsPerSecNodeAsWorker: Math.round(inNode.icache.worker),
        missPathExitsPerSecBrowser: Math.round(miss.exitsPerSec),
        missPathExitsPerSecWorkerAlone: Math.round(aloneMiss),
        missPathExitsPerSecNode: Math.round(inNode.none.bare),
        missPathExitsPerSecNodeAsWorker: Math.round(inNode.none.worker),
        hitPathMainThreadBusyPct: Math.round(hit.mainThreadBusyPct),
        missPathMainThreadBusyPct: Math.round(miss.mainThreadBusyPct),
        frames: frames.length,
        p50FrameMs: Number(pct(frames, 50).toFixed(1)),
        p95FrameMs: Number(pct(frames, 95).toFixed(1)),
        // p95 moves in whole vsyncs (16.7, 33.3 ms): the share of slow frames shows progress between.
        framesOver20msPct: Number(((100 * frames.filter((f) => f > 20).length) / Math.max(1, frames.length)).toFixed(1)),
        longTasksOver100ms: longTasks.filter((d) => d > 100).length,
        longestTaskMs: Math.round(Math.max(0, ...longTasks)),
        // Where they were: "icache 200 k run 0: 121 ms from +340 ms" (run 0 is the first after the page loaded).
        longTasksOver100msAt: [...hit.over100At, ...miss.over100At],
        seekBy: SEEK_BY,
        seeks: seeks.length,
        seekMedianMs: Number(pct(seeks, 50).toFixed(1)),
        seekP95Ms: Number(pct(seeks, 95).toFixed(1)),
        seekMaxMs: Number(Math.max(0, ...seeks).toFixed(1)),
        // The first seek after the run (cold paths: the panels leave the present for the first time).
        seekFirstMs: Number(firstSeek.toFixed(1)),
        // The first seek of each page at this size (the one above first), and their median.
        seekFirstEachMs: firsts.map((ms) => Number(ms.toFixed(1))),
        seekFirstMedianMs: Number(median(firsts).toFixed(1)),
        // Of those pages, how many had rehearsed a first seek before the run (seekRehearsal.tsx).
        seekFirstRehearsedPages: Number(rehearsed) + more.rehearsed,
        seekMaxOfRestMs: Number(maxOfRest({ painted: seeks, first: firstSeek }).toFixed(1)),
        // The same seeks timed as before (text panels show k, then two animation frames).
        seekTwoFramesMedianMs: Number(pct(twoFrames, 50).toFixed(1)),
        seekTwoFramesP95Ms: Number(pct(twoFrames, 95).toFixed(1)),
        seekTwoFramesMaxMs: Number(Math.max(0, ...twoFrames).toFixed(1)),
        seek720Seeks: small.painted.length,
        seek720MedianMs: Number(pct(small.painted, 50).toFixed(1)),
        seek720P95Ms: Number(pct(small.painted, 95).toFixed(1)),
        seek720FirstMs: Number(small.first.toFixed(1)),
        seek720FirstEachMs: firsts720.map((ms) => Number(ms.toFixed(1))),
        seek720FirstMedianMs: Number(median(firsts720).toFixed(1)),
        seek720FirstRehearsedPages: Number(small.rehearsed) + more720.rehearsed,
        seek720MaxOfRestMs: Number(maxOfRest(small).toFixed(1)),
        // Seeks whose panels did not all show their exit within GIVE_UP_MS (left out of the figures above).
        // --trace-first: the first seeks' parts (seekPhases.ts), each field's median, ms.
        seekFirstPhasesMedian: phases,
        seek720FirstPhasesMedian: phases720,
        // --trace-first: later seeks' parts (LATER_TRACED of each size's first round), each field's median, ms.
        seekLaterPhasesMedian: laterPhases,
        seek720LaterPhasesMedian: laterPhases720,
        seeksNotShown: notShownAll,
        editorWhenNotShown,
        // Errors the page reported (uncaught exceptions, console.error) during the whole bench.
        pageErrors,
        // Other work waiting for the CPU while the bench ran (PSI "some avg10", %; null without PSI).
        hostCpuPressure: hostLoad.stop(),
        initialJsGzipKB: Number((js.bytes / 1024).toFixed(1)),
        initialJsFiles: js.files,
      };
      const n = (v: number) => v.toLocaleString('en-US');
      const row = (k: string, v: string, target = '') => console.log(`${k.padEnd(36)}${v.padEnd(76)}${target}`);
      row('metric', 'value', 'target');
      if (!SEEK_ONLY) {
        row('hit path exits/s (200 k, icache)', `page ${n(result.hitPathExitsPerSecBrowser)}, Worker ${n(result.hitPathExitsPerSecWorkerAlone)}, Node ${n(result.hitPathExitsPerSecNode)} (as the Worker ${n(result.hitPathExitsPerSecNodeAsWorker)})`, '>= 500,000 in the browser');
        row('miss path exits/s (200 k, none)', `page ${n(result.missPathExitsPerSecBrowser)}, Worker ${n(result.missPathExitsPerSecWorkerAlone)}, Node ${n(result.missPathExitsPerSecNode)} (as the Worker ${n(result.missPathExitsPerSecNodeAsWorker)})`);
        row('page main thread busy during run', `hit path ${result.hitPathMainThreadBusyPct} %, miss path ${result.missPathMainThreadBusyPct} %`);
        row('p50 frame while running', `${result.p50FrameMs} ms (${result.frames} frames during runs)`);
        row('p95 frame while running', `${result.p95FrameMs} ms`, '<= 20 ms');
        row('frames > 20 ms', `${result.framesOver20msPct} %`, '< 5 %');
        row('long tasks > 100 ms', `${result.longTasksOver100ms} (longest ${result.longestTaskMs} ms)`, '0');
        for (const at of result.longTasksOver100msAt) row('', `  ${at}`);
      }
      row(`timeline seek (${result.seeks}, 100 k exits)`, `by ${SEEK_BY === 'click' ? 'a mouse click on the track' : 'the value set (input event)'}`);
      row('', `median ${result.seekMedianMs} ms, p95 ${result.seekP95Ms}, max ${result.seekMaxMs} ms`, '<= 50 ms');
      row('  the first, then the rest', `first ${result.seekFirstMs} ms, max of the rest ${result.seekMaxOfRestMs} ms`);
      const traced = TRACE_FIRST ? ', traced' : '';
      row(`  first seek, ${firsts.length} pages`, `median ${result.seekFirstMedianMs} ms (${result.seekFirstEachMs.join(', ')})${traced}; ${result.seekFirstRehearsedPages} rehearsed`, '<= 50 ms');
      if (notShownAll.length) row('  panels never all at the exit', `${notShownAll.length}: ${notShownAll.join(', ')}`);
      if (editorWhenNotShown) row('  the editor then', editorWhenNotShown);
      row('  timed as before (+2 frames)', `median ${result.seekTwoFramesMedianMs} ms, p95 ${result.seekTwoFramesP95Ms}, max ${result.seekTwoFramesMaxMs} ms`);
      row(`  at 1280x720 (${result.seek720Seeks})`, `median ${result.seek720MedianMs} ms, p95 ${result.seek720P95Ms}; first ${result.seek720FirstMs}, max of the rest ${result.seek720MaxOfRestMs} ms`, '<= 50 ms');
      row(`  first seek, ${firsts720.length} pages at 1280x720`, `median ${result.seek720FirstMedianMs} ms (${result.seek720FirstEachMs.join(', ')})${traced}; ${result.seek720FirstRehearsedPages} rehearsed`, '<= 50 ms');
      if (phases) row('  their parts (medians)', phasesText(phases));
      if (phases720) row('  their parts at 1280x720', phasesText(phases720));
      if (laterPhases) row(`  ${seekRound.laterPhases.length} later seeks' parts`, phasesText(laterPhases));
      if (laterPhases720) row(`  ${small.laterPhases.length} later seeks', 1280x720`, phasesText(laterPhases720));
      row('page errors', pageErrors.length ? `${pageErrors.length}: ${pageErrors.slice(0, 5).join(' | ')}` : 'none', '0');
      const p = result.hostCpuPressure;
      row('host CPU pressure (PSI some avg10)', p ? `median ${p.medianPct} %, max ${p.maxPct} % (${p.samples} samples); the minute before: ${p.beforePct ?? '?'} %` : 'not available (no /proc/pressure/cpu)');
      if (!SEEK_ONLY) row('initial JS (gzip)', `${result.initialJsGzipKB} KB`, '<= 350 KB');
      console.log(JSON.stringify(result));
    } finally {
      await browser.close();
    }
  } finally {
    stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
