/**
 * UI bench (`npm run bench:ui`, after a production build): runs lapic-microbench at full speed
 * with every panel open for 10 s in Chromium and prints p50/p95 frame time, long tasks over
 * 100 ms, the exits per second the page showed, and the gzip size of the initial JS (the entry
 * and what it preloads: Monaco, the panels and the wasm load later). A table, then one JSON line.
 */
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const PORT = 4188;
const URL_BASE = `http://127.0.0.1:${PORT}`;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

function initialJsGzip(): { files: string[]; bytes: number } {
  const html = readFileSync('dist/index.html', 'utf8');
  const files = [...html.matchAll(/<script[^>]*src="([^"]+\.js)"|<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g)]
    .map((m) => m[1] ?? m[2]);
  const bytes = files.reduce((n, f) => n + gzipSync(readFileSync(`dist${f}`)).length, 0);
  return { files, bytes };
}

async function waitForServer(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(URL_BASE)).ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('vite preview did not start');
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : 0;
};

async function main() {
  if (!existsSync('dist/index.html')) throw new Error('no dist/: run `vite build` first (npm run bench:ui does)');
  const js = initialJsGzip();
  const server = spawn('npx', ['vite', 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], { stdio: 'ignore' });
  try {
    await waitForServer();
    const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.addInitScript(() => localStorage.clear());
    await page.goto(`${URL_BASE}/?example=lapic-microbench`);
    await page.getByTestId('btn-run').waitFor();
    await page.waitForFunction(() => !(document.querySelector('[data-testid="btn-run"]') as HTMLButtonElement).disabled, null, { timeout: 30_000 });
    await page.waitForTimeout(1500); // panels and charts loaded
    // A string, not a function: tsx would wrap named functions in a helper the page lacks.
    await page.evaluate(`(() => {
      const b = window.__bench = { frames: [], longTasks: [] };
      new PerformanceObserver((l) => { for (const e of l.getEntries()) b.longTasks.push(e.duration); }).observe({ type: 'longtask' });
      let last = performance.now();
      const tick = (t) => { b.frames.push(t - last); last = t; requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    })()`);
    const readExits = async () => Number((await page.getByTestId('stat-exits').innerText()).replace(/[^0-9]/g, ''));
    let shownExits = 0;
    let runs = 0;
    const end = Date.now() + SECONDS * 1000;
    let lastExits = 0;
    while (Date.now() < end) {
      const state = await page.getByTestId('stop-reason').innerText();
      if (state !== 'running') {
        shownExits += lastExits;
        lastExits = 0;
        runs++;
        await page.getByTestId('btn-run').click(); // after the end, Run starts over
      }
      await page.waitForTimeout(100);
      lastExits = await readExits();
    }
    shownExits += lastExits;
    const r = (await page.evaluate('window.__bench')) as { frames: number[]; longTasks: number[] };
    await browser.close();
    const frames = r.frames.slice(5);
    const result = {
      seconds: SECONDS,
      runs,
      frames: frames.length,
      p50FrameMs: Number(pct(frames, 50).toFixed(1)),
      p95FrameMs: Number(pct(frames, 95).toFixed(1)),
      // p95 moves in whole vsyncs (16.7, 33.3 ms): the share of slow frames shows progress between.
      framesOver20msPct: Number(((100 * frames.filter((f) => f > 20).length) / Math.max(1, frames.length)).toFixed(1)),
      longTasksOver100ms: r.longTasks.filter((d) => d > 100).length,
      longestTaskMs: Math.round(Math.max(0, ...r.longTasks)),
      exitsPerSecShown: Math.round(shownExits / SECONDS),
      initialJsGzipKB: Number((js.bytes / 1024).toFixed(1)),
      initialJsFiles: js.files,
    };
    console.log('metric                     value      target');
    console.log(`p50 frame                  ${result.p50FrameMs} ms`);
    console.log(`p95 frame                  ${result.p95FrameMs} ms    <= 20 ms`);
    console.log(`frames > 20 ms             ${result.framesOver20msPct} %      < 5 %`);
    console.log(`long tasks > 100 ms        ${result.longTasksOver100ms}          0 (longest ${result.longestTaskMs} ms)`);
    console.log(`exits/s shown              ${result.exitsPerSecShown}`);
    console.log(`initial JS (gzip)          ${result.initialJsGzipKB} KB   <= 350 KB`);
    console.log(JSON.stringify(result));
  } finally {
    server.kill();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
