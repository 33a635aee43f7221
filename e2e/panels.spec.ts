/**
 * The machine panels against the real app and the real machine worker: the 2D walk of an MMIO
 * exit, a write-protect fault from self-modifying code, cache hits, and what switching strategy
 * does to the counters. Screenshots go to e2e/artifacts/.
 */
import { readFileSync } from 'node:fs';
import { test, expect, type Page } from '@playwright/test';

const ART = 'e2e/artifacts';

/** Opens an example with a clean profile and waits for the machine worker to answer. */
async function openExample(page: Page, name: string) {
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto(`/?example=${name}`);
  const status = page.getByTestId('stop-reason');
  await expect(status).toBeVisible({ timeout: 20_000 });
  // A Worker that does not answer leaves the page 'starting' (then 'unresponsive'): that fails.
  await expect(status).toHaveText(/^(ready|paused|running|halted)$/, { timeout: 20_000 });
}

/** A number shown by a stat (commas and % stripped). */
async function stat(page: Page, id: string): Promise<number> {
  const text = (await page.getByTestId(id).textContent()) ?? '';
  return Number(text.replace(/[,%\s]/g, ''));
}

async function runToEnd(page: Page) {
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText(/halted|limit/, { timeout: 45_000 });
}

async function chooseStrategy(page: Page, strategy: string) {
  await page.getByTestId('strategy-select').selectOption(strategy);
  await expect(page.getByTestId('strategy-select')).toHaveValue(strategy);
}

test('step to the next exit on a LAPIC read shows its 24-reference 2D walk', async ({ page }) => {
  await openExample(page, 'lapic-microbench');
  await chooseStrategy(page, 'none');
  await page.getByTestId('btn-step-exit').click();
  const grid = page.getByTestId('walk-grid');
  await expect(grid.getByTestId('walk-ref')).toHaveCount(24, { timeout: 15_000 });
  // The pipeline shows the exit it belongs to, every stage of the emulation path lit.
  await expect(page.getByTestId('exit-pipeline')).toContainText('mmio');
  await expect(page.getByTestId('exit-pipeline')).toContainText('EPT walks');
  // The access: the LAPIC ID read, identity-mapped, so its linear address is on hover only.
  const access = page.getByTestId('pipeline-access');
  await expect(access).toHaveText('gpa 0xfee00020');
  await expect(access).toHaveAttribute('title', /^The access: guest-linear 0xfee00020, .*verify_gla.*, at guest-physical 0xfee00020, where it exited$/);
  await page.waitForTimeout(24 * 70 + 400); // let the walk animation finish
  await grid.screenshot({ path: `${ART}/panels-walk-24.png` });
  await page.getByTestId('exit-pipeline').screenshot({ path: `${ART}/panels-pipeline-step.png` });
  await page.screenshot({ path: `${ART}/panels-step-exit.png` });
});

test('the self-modifying example shows a write-protect fault', async ({ page }) => {
  await openExample(page, 'smc-mmio');
  await chooseStrategy(page, 'icache');
  await runToEnd(page);
  const log = page.getByTestId('event-log');
  const chip = log.getByTestId('filter-ept-violation');
  await expect(chip).toBeVisible();
  await chip.click();
  const row = log.getByTestId('exit-row').first();
  await expect(row).toHaveAttribute('data-reason', 'ept-violation');
  await expect(row).toContainText(/(A\/D-bit update|guest store).*: invalidated /);
  await row.click();
  await expect(page.getByTestId('exit-pipeline')).toContainText('ept-violation');
  await expect(page.getByTestId('exit-pipeline').locator('[data-stage="invalidate"]')).toBeVisible();
  await expect(page.getByTestId('icache-table')).toBeVisible();
  await expect(page.getByTestId('memory-map')).toBeVisible();
  // The map's row labels (drawn off the page, then copied in) are on its canvas: the gutter
  // left of the first page cell has ink where "0x0000…" is written.
  const inkInGutter = await page.getByTestId('memory-map').locator('canvas').evaluate((c: HTMLCanvasElement) => {
    const dpr = window.devicePixelRatio || 1;
    const px = c.getContext('2d')!.getImageData(0, 0, Math.round(70 * dpr), Math.round(11 * dpr)).data;
    let ink = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 100) ink++;
    return ink;
  });
  expect(inkInGutter).toBeGreaterThan(20);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${ART}/panels-smc-wp-fault.png` });
});

test('with icache the exits come with a hit rate above 0 and live charts', async ({ page }) => {
  await openExample(page, 'lapic-microbench');
  await chooseStrategy(page, 'icache');
  await page.getByTestId('btn-run').click();
  await expect.poll(() => stat(page, 'stat-exits'), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect.poll(() => stat(page, 'stat-hit-rate'), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId('chart-exits').locator('canvas')).toBeVisible({ timeout: 10_000 });
  await expect(page.getByTestId('chart-cycles').locator('canvas')).toBeVisible();
  // Its title's tooltip says what its stages hold that their names do not.
  await expect(page.getByTestId('chart-cycles').locator('.xs-chart-name')).toHaveAttribute('title', /VM exit \+ entry includes the interrupts injected at VM entry/);
  // One machine: the cumulative chart's one series is named by its strategy.
  await expect(page.getByTestId('chart-ab').locator('.xs-chart-legend')).toHaveText('icache');
  await expect(page.getByTestId('icache-table').getByTestId('icache-row').first()).toBeVisible();
  await page.screenshot({ path: `${ART}/panels-icache-running.png` });
  await expect(page.getByTestId('stop-reason')).toHaveText(/halted|limit/, { timeout: 45_000 });
  await expect(page.getByTestId('event-log').getByTestId('exit-row').first()).toBeVisible();
  await page.screenshot({ path: `${ART}/panels-icache-done.png` });
  // How often the guest exits, the strip's exits over its instructions retired: 20,003 in 40,008.
  const perThousand = Math.round((1000 * await stat(page, 'stat-exits')) / await stat(page, 'stat-retired'));
  expect(perThousand).toBe(500);
  await expect(page.getByTestId('chart-exits').locator('.xs-chart-name')).toHaveText(`${perThousand} exits per 1,000 instructions · so far, by reason`);
  // The bucket heatmap (one canvas): the loop's four entries sit in four buckets, one of them 20
  // (the table's first row by bucket); hovering its cell names it.
  const heatmap = page.getByTestId('icache-heatmap');
  await expect(heatmap).toHaveAttribute('aria-label', /\b4 used · fullest holds 1 entry$/);
  await expect(page.getByTestId('icache-row').first().locator('span').first()).toHaveText('20');
  await heatmap.scrollIntoViewIfNeeded();
  await heatmap.hover({ position: { x: 1 + 20 * 11 + 5, y: 6 } }); // 32 columns of 11 px cells
  await expect(page.locator('.xs-heat .xs-tip')).toHaveText('bucket 20: 1 entry');
  // Export: the history as CSV, a chart as PNG (its SVG drawn on a canvas).
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const csvText = await (await csv.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString('utf8'));
  expect(csvText.split('\n')[0]).toMatch(/^side,t_ms,retired,exits,hit_rate,cycles_total/);
  expect(csvText.trim().split('\n').length).toBeGreaterThan(1);
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-cycles').getByRole('button', { name: 'PNG' }).click()]);
  expect(png.suggestedFilename()).toBe('exitscope-cycles.png');
  const pngBytes = await (await png.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks));
  expect(pngBytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(pngBytes.length).toBeGreaterThan(2000);
  await png.saveAs(`${ART}/panels-chart-cycles-export.png`);
  // Clicking an exit in the log selects it for the pipeline panel.
  // A row in the log's view: the list is virtual and keyed by slot, so clicking a row of its
  // overscan would scroll first and the slot would then show another exit.
  const log = page.getByTestId('event-log');
  const inView = await log.getByTestId('exit-row').evaluateAll((rows) => rows
    .filter((r) => {
      const b = r.getBoundingClientRect();
      const c = (r.closest('[role="rowgroup"]') as HTMLElement).getBoundingClientRect();
      return b.top >= c.top && b.bottom <= c.bottom;
    })
    .map((r) => (r as HTMLElement).dataset.seq ?? ''));
  expect(inView.length).toBeGreaterThan(0);
  const seq = inView[Math.floor(inView.length / 2)];
  await log.locator(`[data-testid="exit-row"][data-seq="${seq}"]`).click();
  await expect(page.getByTestId('event-log').locator('[data-testid="exit-row"][aria-selected="true"]')).toHaveAttribute('data-seq', seq);
  await expect(page.getByTestId('exit-pipeline')).toContainText(`exit #${seq}`);
  await page.getByTestId('btn-theme').click();
  await page.waitForTimeout(400);
  await page.screenshot({ path: `${ART}/panels-light.png` });
});

test('a hit rate at an end reads the same in the strip and the bench: boot-cold-path\'s 0 hits', async ({ page }) => {
  // The strip said "0.0%" where the bench said "0%".
  await openExample(page, 'boot-cold-path');
  await chooseStrategy(page, 'icache');
  await runToEnd(page);
  await expect(page.getByTestId('stat-hit-rate')).toHaveText('0%');
  await expect(page.getByTestId('bench-row').filter({ hasText: 'boot-cold-path' }).locator('td').nth(4)).toHaveText('0%');
});

test('switching strategy changes the counters', async ({ page }) => {
  await openExample(page, 'lapic-microbench');
  await chooseStrategy(page, 'icache');
  await runToEnd(page);
  const icache = { exits: await stat(page, 'stat-exits'), hit: await stat(page, 'stat-hit-rate') };
  expect(icache.exits).toBeGreaterThan(0);
  expect(icache.hit).toBeGreaterThan(0);
  await chooseStrategy(page, 'none');
  await runToEnd(page);
  const none = { exits: await stat(page, 'stat-exits') };
  // No lookups under none: the hit rate is not 0 %, it does not exist.
  await expect(page.getByTestId('stat-hit-rate')).toHaveText('–');
  expect(none.exits).toBe(icache.exits);
  await chooseStrategy(page, 'apicv');
  await runToEnd(page);
  const apicv = await stat(page, 'stat-exits');
  expect(apicv).toBeLessThan(none.exits);
  await page.screenshot({ path: `${ART}/panels-strategies.png` });
});

test('the cache names each entry\'s source line: two-address-spaces\' two entries at one RIP are page_a\'s and page_b\'s code', async ({ page }) => {
  const source = readFileSync('src/scenarios/two-address-spaces.s', 'utf8').split('\n');
  const lineOf = (text: string) => source.findIndex((l) => l.trim().startsWith(text)) + 1;
  const [lineA, lineB] = [lineOf('mov eax, [rbx + LAPIC_ID]'), lineOf('mov eax, [rbx + LAPIC_TPR]')];
  for (const size of [{ width: 1440, height: 900 }, { width: 1280, height: 720 }]) {
    await page.setViewportSize(size);
    await openExample(page, 'two-address-spaces');
    await runToEnd(page);
    const rows = page.getByTestId('icache-row').filter({ hasText: '0x40000000' });
    await expect(rows).toHaveCount(2);
    // Sorted by bucket: which comes first depends on the hash; the set of lines does not.
    const lines = await rows.getByTestId('icache-line').allInnerTexts();
    expect(lines.map(Number).sort((a, b) => a - b), `${size.width}x${size.height}`).toEqual([lineA, lineB]);
    for (const cell of await rows.getByTestId('icache-line').all()) await expect(cell).toBeVisible();
    // The RIP and the line show whole, not "0x400000…".
    const cut = await rows.evaluateAll((els) => els.flatMap((r) => [...r.querySelectorAll('[role="cell"]')].slice(2, 4).filter((c) => c.scrollWidth > c.clientWidth).map((c) => c.textContent)));
    expect(cut, `${size.width}x${size.height}: cells cut`).toEqual([]);
    // The row's tooltip gives what a narrow pane leaves out: its VM and CR3.
    await expect(rows.first()).toHaveAttribute('title', /^line \d+ · vm 0 · cr3 0x[0-9a-f]+ · depends on pages /);
  }
  // As a class sees it at 1280x720: the welcome closed, the Cache layout; both rows in view.
  await page.getByTestId('welcome-close').click();
  await page.getByTestId('layout-select').selectOption('cache');
  const rows = page.getByTestId('icache-row').filter({ hasText: '0x40000000' });
  const list = await page.getByTestId('icache-table').locator('.xs-icache-scroll').boundingBox();
  for (const row of await rows.all()) {
    const box = await row.boundingBox();
    expect(box && list && box.y >= list.y && box.y + box.height <= list.y + list.height + 1, 'cache row in view').toBe(true);
  }
  await page.screenshot({ path: `${ART}/panels-icache-lines-1280x720.png` });
});

/** Each listed cache row as a reader sees it, from the cells shown (not display:none); `cut`: those cut (an ellipsis), the instruction's aside. */
function shownRows(page: Page) {
  return page.getByTestId('icache-row').evaluateAll((rows) => rows.map((r) => {
    const cells = [...r.querySelectorAll<HTMLElement>('[role="cell"]')].filter((c) => getComputedStyle(c).display !== 'none');
    // What tells one entry from another (its key and what it holds), not its bucket, hits or age.
    const which = cells.filter((c) => ['vm', 'rip', 'line', 'cr3', 'bytes', 'instruction'].includes(c.dataset.col ?? ''));
    return {
      text: which.map((c) => c.textContent).join(' | '),
      vm: cells.find((c) => c.dataset.col === 'vm')?.textContent ?? null,
      cut: cells.filter((c) => !c.classList.contains('xs-insn') && c.scrollWidth > c.clientWidth).map((c) => c.textContent),
      title: r.getAttribute('title') ?? '',
    };
  }));
}

test('entries of two VMs show their VM at 1280x720: two-vms in each layout that shows the cache, and lesson 8\'s narrow pane', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1280, height: 720 });
  await openExample(page, 'two-vms');
  await chooseStrategy(page, 'icache');
  await page.getByTestId('speed-select').selectOption('max');
  await runToEnd(page);
  await page.getByTestId('welcome-close').click();
  // The same three instructions cached once per VM: six rows, no two alike, each naming its VM.
  const check = async (where: string, count: number) => {
    const rows = await shownRows(page);
    expect(rows.length, where).toBe(count);
    expect(new Set(rows.map((r) => r.text)).size, `${where}: rows alike\n${rows.map((r) => r.text).join('\n')}`).toBe(count);
    expect(rows.map((r) => r.vm).sort(), where).toEqual([...Array(count / 2).fill('0'), ...Array(count / 2).fill('1')]);
    expect(rows.flatMap((r) => r.cut), `${where}: cells cut`).toEqual([]);
    for (const r of rows) expect(r.title, where).toMatch(/^line \d+ · vm [01] · cr3 0x[0-9a-f]+ · depends on pages /);
    // The header names the column whole ("v…" says nothing).
    const head = await page.getByTestId('icache-table').locator('[role="columnheader"]').evaluateAll((hs) => hs
      .filter((h) => getComputedStyle(h).display !== 'none' && h.scrollWidth > h.clientWidth).map((h) => h.textContent));
    expect(head, `${where}: headers cut`).toEqual([]);
  };
  for (const layout of ['cache', 'all']) {
    await page.getByTestId('layout-select').selectOption(layout);
    await check(`two-vms, ${layout} layout`, 6);
  }
  await page.screenshot({ path: `${ART}/panels-icache-two-vms-1280x720.png` });
  // At a past exit the rows are that exit's, their VMs shown as well (VM 0 runs first: by exit
  // 6,000 VM 1 has cached its three).
  await page.getByTestId('timeline').fill('6000');
  await expect(page.getByTestId('stat-exits')).toHaveText('6,000', { timeout: 10_000 });
  await expect(() => check('two-vms at exit 6,000', 6)).toPass({ timeout: 5_000 });
  // Lesson 8: both VMs run code at 0x40000000 under the same CR3 value; its pane is ~340 px.
  await page.goto('/?lesson=8');
  await expect(page.getByTestId('stop-reason')).toHaveText(/^(ready|paused)$/, { timeout: 20_000 });
  await page.getByTestId('speed-select').selectOption('max');
  await runToEnd(page);
  await check('lesson 8', 6);
  await page.screenshot({ path: `${ART}/panels-icache-lesson8-1280x720.png` });
});

test('under a strategy without the instruction cache its panel says so, not "empty" over zeros', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await openExample(page, 'lapic-microbench');
  await chooseStrategy(page, 'none');
  await page.getByTestId('speed-select').selectOption('max');
  await page.getByTestId('welcome-close').click();
  await page.getByTestId('layout-select').selectOption('cache');
  await runToEnd(page);
  const pane = page.locator('[data-pane="icache"]');
  await expect(pane.getByTestId('icache-none')).toHaveText(/^No instruction cache under none\b.*\bicache\b/);
  await expect(pane).not.toContainText('empty');
  await expect(pane).not.toContainText('0 entries');
  await expect(pane.getByTestId('icache-table')).toHaveCount(0);
  await expect(pane.getByTestId('icache-heatmap')).toHaveCount(0);
  await page.screenshot({ path: `${ART}/panels-icache-none-1280x720.png` });
  // Under icache the same run fills it.
  await chooseStrategy(page, 'icache');
  await runToEnd(page);
  await expect(pane.getByTestId('icache-none')).toHaveCount(0);
  await expect(pane.getByTestId('icache-row')).toHaveCount(4);
});

/** The editor line marked by a panel's "show line" (the .reveal-line band), by its line number in the gutter; null when none is marked. */
function revealedLine(page: Page): Promise<number | null> {
  return page.evaluate(() => {
    const band = document.querySelector('.monaco-editor .reveal-line');
    if (!band) return null;
    const top = band.getBoundingClientRect().top;
    const num = [...document.querySelectorAll('.monaco-editor .line-numbers')].find((n) => Math.abs(n.getBoundingClientRect().top - top) < 1);
    return num ? Number(num.textContent) : null;
  });
}

test('a cache entry\'s line and an exit\'s line show their code in the editor at 1280x720', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  const source = readFileSync('src/scenarios/two-address-spaces.s', 'utf8').split('\n');
  await openExample(page, 'two-address-spaces');
  await runToEnd(page);
  await page.getByTestId('welcome-close').click();
  await page.getByTestId('layout-select').selectOption('cache');
  // Each entry at 0x40000000: its line number scrolls the editor to the instruction it cached.
  const rows = page.getByTestId('icache-row').filter({ hasText: '0x40000000' });
  await expect(rows).toHaveCount(2);
  for (const row of await rows.all()) {
    const link = row.getByTestId('icache-line');
    const line = Number(await link.innerText());
    await expect(link).toHaveAccessibleName(`Show line ${line} in the editor`);
    await link.click();
    await expect.poll(() => revealedLine(page), `cache row's line ${line}`).toBe(line);
    // The band lies on the instruction the row's RIP ran (a LAPIC read in page_a or page_b).
    expect(source[line - 1]).toMatch(/mov eax, \[rbx \+ LAPIC_(ID|TPR)\]/);
    // It fades: a moment later no line is marked.
    await expect.poll(() => revealedLine(page), { timeout: 5_000 }).toBeNull();
  }
  // An exit picked in the log: the pipeline names its line, and the line shows it.
  await page.getByTestId('layout-select').selectOption('exit');
  const log = page.getByTestId('event-log');
  // One in view: the first in the DOM is an overscan row above it, and scrolling it in re-renders
  // the rows (kept per slot) under the click, which can then land on none (a CI run).
  const mmio = log.getByTestId('exit-row').filter({ hasText: '0x40000000' }).last();
  await expect(mmio).toBeInViewport();
  await mmio.click();
  await expect(mmio).toHaveAttribute('aria-selected', 'true');
  const pipeLine = page.getByTestId('exit-pipeline').getByTestId('pipeline-line');
  const line = Number(await pipeLine.innerText());
  expect(source[line - 1]).toMatch(/mov eax, \[rbx \+ LAPIC_(ID|TPR)\]/);
  await pipeLine.click();
  await expect.poll(() => revealedLine(page), `pipeline's line ${line}`).toBe(line);
  await page.screenshot({ path: `${ART}/panels-show-line-1280x720.png` });
});
