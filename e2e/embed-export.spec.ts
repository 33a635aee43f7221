/**
 * The embeddable view, the Share dialog's Embed tab, and the exit log's trace/CSV export,
 * against the built app and the real machine Worker. Screenshots go to e2e/artifacts/.
 */
import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { DEFAULT_COST_PRESET } from '../src/core/cost';
import { decodeShare, encodeShare, shareParam } from '../src/ui/share';

const ART = 'e2e/artifacts';

async function stat(page: Page, id: string): Promise<number> {
  return Number(((await page.getByTestId(id).textContent()) ?? '').replace(/[,%\s]/g, ''));
}

test('an embed URL shows only the named panels, runs them, and links to the full page', async ({ page }) => {
  await page.setViewportSize({ width: 900, height: 560 });
  await page.goto('/?embed=1&example=lapic-microbench&panels=walk-grid,exit-pipeline&strategy=none');
  await expect(page.getByTestId('embed-view')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 20_000 });
  // Only the two panels, in the order named; no editor, no toolbar configuration, no other panel.
  await expect(page.locator('[data-embed-panel]')).toHaveCount(2);
  await expect(page.locator('[data-embed-panel]').first()).toHaveAttribute('data-embed-panel', 'walk-grid');
  for (const absent of ['editor', 'event-log', 'registers', 'strategy-select', 'memory-map']) {
    await expect(page.getByTestId(absent)).toHaveCount(0);
  }
  await page.getByTestId('btn-step-exit').click();
  // strategy=none: the first LAPIC read walks all 24 references.
  await expect(page.getByTestId('walk-grid').getByTestId('walk-ref')).toHaveCount(24, { timeout: 15_000 });
  await expect(page.getByTestId('exit-pipeline')).toContainText('mmio');
  // No editor to show it in: the exit's source line is a plain number, not a button.
  await expect(page.getByTestId('pipeline-line')).toHaveText('13');
  await expect(page.getByRole('button', { name: /Show line/ })).toHaveCount(0);
  expect(await stat(page, 'stat-exits')).toBe(1);
  const open = page.getByTestId('embed-open');
  await expect(open).toHaveText(/Open in exitscope/);
  // A share link of the program under the embed's strategy (the full page reads none from a query).
  const href = new URL((await open.getAttribute('href')) ?? '', page.url());
  expect(href.search).toBe('');
  const opened = decodeShare(shareParam(href.hash) ?? '');
  expect(opened.ok && opened.payload.config.strategy).toBe('none');
  await page.waitForTimeout(24 * 70 + 300);
  await page.screenshot({ path: `${ART}/embed-walk-pipeline.png` });
});

test('autorun=1 runs the example on load; the editor shows only when named', async ({ page }) => {
  await page.goto('/?embed=1&example=lapic-microbench&panels=editor,registers&autorun=1');
  await expect(page.getByTestId('embed-view')).toBeVisible({ timeout: 20_000 });
  await expect.poll(() => stat(page, 'stat-exits'), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId('editor')).toBeVisible();
  await expect(page.getByTestId('registers')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('walk-grid')).toHaveCount(0);
});

test('an embed that names no strategy says so, and which strategy it runs under', async ({ page }) => {
  await page.goto('/?embed=1&example=smc-mmio&panels=exit-pipeline&strategy=fastest');
  await expect(page.getByTestId('embed-view')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('embed-unknown-strategy')).toHaveText('Not a strategy: fastest (known: none, icache, decode-assist, apicv); it runs under icache.');
});

// The audit's figure: run cycles ÷ exits of the LAPIC loop, which depends on the cost preset.
const FIGURE_URL = '/?embed=1&example=lapic-microbench&panels=exit-pipeline,charts&strategy=none&autorun=1';
const SKYLAKE_SAVED = JSON.stringify({ strategy: 'apicv', preset: 'skylake-2020', icacheSize: 8, theme: 'light' });

async function runFigure(page: Page, url: string): Promise<number> {
  await page.goto(url);
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });
  return stat(page, 'stat-run-cycles-per-exit');
}

test('an embed shows every reader the same figures: its configuration is the URL\'s, never the reader\'s saved settings, and it saves none', async ({ page, browser }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  // This reader chose the skylake-2020 costs (and more) in the full page.
  await page.goto('/');
  await page.evaluate((saved) => { localStorage.clear(); localStorage.setItem('exitscope.settings.v1', saved); }, SKYLAKE_SAVED);
  const withSaved = await runFigure(page, FIGURE_URL);
  // A reader with nothing saved: the same figure (the saved skylake-2020 costs had made it
  // skylake's, not the link's nehalem-2014 figure), and still nothing saved.
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  try {
    const freshFigure = await runFigure(other, FIGURE_URL);
    expect(freshFigure).toBeGreaterThan(0);
    expect(withSaved).toBe(freshFigure);
    expect(await other.evaluate(() => localStorage.getItem('exitscope.settings.v1'))).toBeNull();
  } finally {
    await fresh.close();
  }
  expect(await page.evaluate(() => localStorage.getItem('exitscope.settings.v1'))).toBe(SKYLAKE_SAVED);
  // The bar says what the figures are for: the URL's strategy, the built-in costs.
  await expect(page.getByTestId('embed-strategy')).toHaveText('none');
  await expect(page.getByTestId('embed-preset')).toHaveText(DEFAULT_COST_PRESET);
  await expect(page.getByTestId('embed-icache')).toHaveCount(0); // no instruction cache under none
  await page.screenshot({ path: `${ART}/embed-config-bar.png` });
});

test('an embed runs under its preset= and icache=, says so in its bar, and names one it does not know', async ({ page }) => {
  const nehalem = await runFigure(page, `${FIGURE_URL}&preset=nehalem-2014`);
  expect(nehalem).toBe(await runFigure(page, FIGURE_URL)); // the built-in default, named or not
  const skylake = await runFigure(page, `${FIGURE_URL}&preset=skylake-2020`);
  await expect(page.getByTestId('embed-preset')).toHaveText('skylake-2020');
  expect(skylake).toBeGreaterThan(0);
  expect(skylake).not.toBe(nehalem);
  await page.goto('/?embed=1&example=lapic-microbench&panels=exit-pipeline&strategy=icache&icache=8');
  await expect(page.getByTestId('embed-icache')).toHaveText('8', { timeout: 20_000 });
  await expect(page.getByTestId('embed-strategy')).toHaveText('icache');
  await page.goto('/?embed=1&example=lapic-microbench&panels=exit-pipeline&preset=pentium4&icache=0');
  await expect(page.getByTestId('embed-view')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('embed-unknown-preset')).toHaveText(`Not a cost preset: pentium4 (known: nehalem-2014, skylake-2020, zen2); it runs under ${DEFAULT_COST_PRESET}.`);
  await expect(page.getByTestId('embed-unknown-icache')).toHaveText('Not a cache size: 0 (a whole number of entries from 1 to 65536); it runs with 256.');
  await expect(page.getByTestId('embed-preset')).toHaveText(DEFAULT_COST_PRESET);
  await expect(page.getByTestId('embed-icache')).toHaveText('256');
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 20_000 });
});

test('Open in exitscope opens the embed\'s program under the embed\'s configuration, not the reader\'s', async ({ page }) => {
  await page.goto('/');
  await page.evaluate((saved) => { localStorage.clear(); localStorage.setItem('exitscope.settings.v1', saved); }, SKYLAKE_SAVED);
  await page.goto('/?embed=1&example=lapic-microbench&panels=exit-pipeline&strategy=icache&preset=zen2&icache=64');
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 20_000 });
  const href = (await page.getByTestId('embed-open').getAttribute('href')) ?? '';
  const opened = decodeShare(shareParam(new URL(href, page.url()).hash) ?? '');
  expect(opened.ok && opened.payload.config).toMatchObject({ strategy: 'icache', preset: 'zen2', icacheSize: 64, abMode: false });
  expect(opened.ok && opened.payload.source).toContain('LAPIC');
  // The full page, opened from it, runs that configuration (the reader's saved apicv/skylake set aside).
  await page.goto(href);
  await expect(page.getByTestId('strategy-select')).toHaveValue('icache', { timeout: 20_000 });
  await expect(page.getByTestId('preset-select')).toHaveValue('zen2');
  await expect(page.getByTestId('cache-size-select')).toHaveValue('64');
  // Under the example's own name (it had opened as "shared.s", which titled its exports).
  expect(opened.ok && opened.payload.file).toBe('lapic-microbench.s');
  await expect(page.locator('.file-name')).toHaveText('lapic-microbench.s');
  await expect(page.getByTestId('notice')).toContainText('Opened the shared program “lapic-microbench.s”');
});

test('an embed whose program does not open, or does not assemble, says why in the embed, and runs nothing', async ({ page }) => {
  // The reason had gone to a notice the embed does not show: the state read "assembly errors" alone.
  await page.goto('/?embed=1&example=no-such-example&panels=exit-pipeline&autorun=1');
  await expect(page.getByTestId('embed-problem')).toContainText('There is no example named "no-such-example" (known: ');
  await expect(page.getByTestId('embed-problem')).toContainText('lapic-microbench');
  // No program: the state says so (not "assembly errors"), and there is nothing to run or step.
  await expect(page.getByTestId('stop-reason')).toHaveText('no program', { timeout: 20_000 });
  for (const id of ['btn-run', 'btn-step', 'btn-step-exit']) await expect(page.getByTestId(id)).toBeDisabled();
  expect(await stat(page, 'stat-exits')).toBe(0);
  // A shared program with errors, without the editor: its errors, file:line:col first.
  const share = encodeShare({ v: 1, source: '_start:\n  mvo eax, 1\n  mov al, 300\n  hlt\n', config: { strategy: 'icache', preset: DEFAULT_COST_PRESET, icacheSize: 256 } });
  await page.goto(`/?embed=1&panels=registers#s=${share}`);
  await expect(page.getByTestId('embed-asm-errors')).toContainText("The program does not assemble: shared.s:2:3: error: unknown instruction 'mvo'");
  await expect(page.getByTestId('embed-asm-errors')).toContainText('shared.s:3:');
  await expect(page.getByTestId('embed-problem')).toHaveCount(0);
  // With the editor named, the editor shows them.
  await page.goto(`/?embed=1&panels=editor#s=${share}`);
  await expect(page.getByTestId('editor')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('embed-asm-errors')).toHaveCount(0);
});

test('an embed shows the page\'s passing notices: a line asked of an editor whose text changed', async ({ page }) => {
  await page.goto('/?embed=1&example=lapic-microbench&panels=editor,exit-pipeline&autorun=1');
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 30_000 });
  // Edited, then the exit's line asked for before the edit reloads the program (a debounce later).
  await page.evaluate(() => {
    const ed = (window as unknown as { __exitscopeEditor: { getValue(): string; setValue(v: string): void } }).__exitscopeEditor;
    ed.setValue(`${ed.getValue()}\n; edited`);
    document.querySelector<HTMLElement>('[data-testid="exit-pipeline"] [data-testid="pipeline-line"]')!.click();
  });
  await expect(page.getByTestId('notice')).toContainText('The text changed since this run');
});

test('the Share dialog offers an Embed tab with the iframe snippet and a live preview', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto('/?example=smc-mmio');
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 20_000 });
  await page.getByTestId('btn-share').click();
  await expect(page.getByTestId('share-link')).toHaveValue(/#s=/);
  await page.getByTestId('share-tab-embed').click();
  await page.getByTestId('embed-panel-registers').check();
  const snippet = await page.getByTestId('embed-snippet').inputValue();
  expect(snippet).toMatch(/^<iframe src="[^"]*\?embed=1&amp;example=smc-mmio&amp;panels=exit-pipeline,walk-grid,registers&amp;strategy=icache&amp;preset=nehalem-2014&amp;icache=256"/);
  const preview = page.frameLocator('[data-testid="embed-preview"]');
  await expect(preview.getByTestId('embed-view')).toBeVisible({ timeout: 20_000 });
  await expect(preview.locator('[data-embed-panel]')).toHaveCount(3);
  await page.waitForTimeout(800);
  await page.screenshot({ path: `${ART}/share-embed-tab.png` });
});

interface Trace { otherData: Record<string, unknown>; traceEvents: { ph: string; cat?: string; name: string; args?: Record<string, unknown> }[] }

async function download(page: Page, button: ReturnType<Page['getByTestId']>): Promise<{ name: string; text: string }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return { name: dl.suggestedFilename(), text: readFileSync(await dl.path(), 'utf8') };
}

test('the exit log exports what it shows as a Chrome trace and as CSV: titled, the filter\'s exits, at a past exit those handled before it', async ({ page }) => {
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto('/?example=smc-mmio');
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 20_000 });
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText(/halted/, { timeout: 45_000 });
  const n = await stat(page, 'stat-exits');
  const log = page.getByTestId('event-log');
  const listed = Number(((await log.locator('.xs-toolbar b').first().textContent()) ?? '').replace(/,/g, ''));
  expect(listed).toBe(n);
  const traceBtn = log.getByTestId('export-trace');
  const csvBtn = log.getByTestId('export-log-csv');
  // Every exit: titled by program, strategy and preset, the strategy in the file's name, a hit-rate counter.
  await expect(traceBtn).toHaveAttribute('title', new RegExp(`^Save the ${n} exits of the run as Chrome trace-event JSON`));
  const whole = await download(page, traceBtn);
  expect(whole.name).toBe('exitscope-smc-mmio-icache-trace.json');
  const trace = JSON.parse(whole.text) as Trace;
  expect(trace.otherData.title).toBe(`smc-mmio.s (icache, ${DEFAULT_COST_PRESET})`);
  expect(trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'exit')).toHaveLength(n);
  expect(trace.traceEvents.filter((e) => e.ph === 'C').length).toBeGreaterThan(0);
  expect(trace.traceEvents.some((e) => e.cat === 'stage' && e.name === 'VM exit + entry')).toBe(true);
  const csv = await download(page, csvBtn);
  expect(csv.name).toBe('exitscope-smc-mmio-icache-exits.csv');
  expect(csv.text.trimEnd().split('\n')).toHaveLength(n + 1);

  // A filter chip on: the exits shown, said in the title and the names; no hit rate of a part.
  await log.getByTestId('filter-ept-violation').click();
  const shown = Number(/· ([\d,]+) shown/.exec(await log.locator('.xs-log-count').innerText())?.[1]);
  expect(shown).toBeGreaterThan(0);
  expect(shown).toBeLessThan(n);
  await expect(csvBtn).toHaveAttribute('title', new RegExp(`^Save the ${shown} ept-violation exits shown of the ${n} exits of the run as CSV`));
  const filtered = await download(page, csvBtn);
  expect(filtered.name).toBe(`exitscope-smc-mmio-icache-ept-violation-exits-${shown}-of-${n}.csv`);
  const rows = filtered.text.trimEnd().split('\n').slice(1);
  expect(rows).toHaveLength(shown);
  expect(rows.every((r) => r.split(',')[3] === 'ept-violation')).toBe(true);
  const ft = JSON.parse((await download(page, traceBtn)).text) as Trace;
  expect(ft.traceEvents.filter((e) => e.cat === 'exit')).toHaveLength(shown);
  expect(ft.traceEvents.filter((e) => e.ph === 'C')).toEqual([]);
  expect(ft.otherData.filter).toBe(`ept-violation: ${shown} shown of ${n} listed`);
  await log.getByTestId('filter-ept-violation').click();

  // At a past exit k: the exits handled before #k, not the recorded future.
  const k = Math.floor(n / 2);
  await page.getByTestId('timeline').fill(String(k));
  await expect(page.getByTestId('stat-exits')).toHaveText(k.toLocaleString('en-US'), { timeout: 10_000 });
  await expect(traceBtn).toHaveAttribute('title', new RegExp(`^Save the ${k} exits handled before #${k} as Chrome trace-event JSON.* The recorded exits from #${k} on are not saved\\.`));
  await expect(csvBtn).toHaveAttribute('title', new RegExp(`handled before #${k}`));
  const past = await download(page, traceBtn);
  expect(past.name).toBe(`exitscope-smc-mmio-icache-before-${k}-trace.json`);
  const pt = JSON.parse(past.text) as Trace;
  expect(pt.otherData.atExit).toBe(k);
  expect(pt.traceEvents.filter((e) => e.cat === 'exit').map((e) => e.args?.seq)).toEqual(Array.from({ length: k }, (_, i) => i));
  const pastCsv = await download(page, csvBtn);
  expect(pastCsv.text.trimEnd().split('\n')).toHaveLength(k + 1);
});

test('an export of a log that lists only some exits says so: the CSV\'s name and title, the trace\'s metadata, no hit rate', async ({ page }) => {
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto('/?example=lapic-microbench');
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 20_000 });
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText(/halted/, { timeout: 45_000 });
  const n = await stat(page, 'stat-exits');
  const log = page.getByTestId('event-log');
  const listed = Number(/^([\d,]+) of/.exec(await log.locator('.xs-log-count').innerText())?.[1].replace(/,/g, ''));
  expect(listed).toBeLessThan(n);
  const csvBtn = log.getByTestId('export-log-csv');
  await expect(csvBtn).toHaveAttribute('title', new RegExp(`^Save the ${listed.toLocaleString('en-US')} listed of the ${n.toLocaleString('en-US')} exits of the run as CSV`));
  const csv = await download(page, csvBtn);
  expect(csv.name).toBe(`exitscope-lapic-microbench-icache-exits-${listed}-of-${n}.csv`);
  expect(csv.text.trimEnd().split('\n')).toHaveLength(listed + 1);
  const trace = JSON.parse((await download(page, log.getByTestId('export-trace'))).text) as Trace;
  expect(trace.otherData.missingExits).toBe(n - listed);
  expect(trace.otherData.hitRateOmitted).toMatch(/not in this file/);
  expect(trace.traceEvents.filter((e) => e.ph === 'C')).toEqual([]);
});
