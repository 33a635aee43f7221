/**
 * Time travel against the built app and the real machine Worker: scrub to an exit, back one
 * exit and one instruction, and run on from a past point to the same end. Screenshots go to
 * e2e/artifacts/.
 */
import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { DEFAULT_COST_PRESET } from '../src/core/cost';
import { encodeShare } from '../src/ui/share';
import { compact } from '../src/ui/panels/lib/format';

const ART = 'e2e/artifacts';

async function stat(page: Page, id: string): Promise<number> {
  return Number(((await page.getByTestId(id).textContent()) ?? '').replace(/[,%\s]/g, ''));
}

/** Sequence numbers of the exit log's rows in its view (not scrolled out of it). */
function seqsInView(page: Page): Promise<number[]> {
  return page.getByTestId('event-log').locator('[data-testid="exit-row"]').evaluateAll((rows) => rows
    .filter((r) => {
      // A row React is taking out may no longer sit in the list (seen once).
      const group = r.closest('[role="rowgroup"]');
      if (!group) return false;
      const b = r.getBoundingClientRect();
      const c = group.getBoundingClientRect();
      return b.bottom > c.top + 1 && b.top < c.bottom - 1;
    })
    .map((r) => Number((r as HTMLElement).dataset.seq)));
}

async function openExample(page: Page, example: string) {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto(`/?example=${example}`);
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 20_000 });
}

async function openAndRunToEnd(page: Page, example: string) {
  await openExample(page, example);
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });
}

test('the page rehearses a first seek unseen while idle: two seeks on a machine of its own, nothing of it in the document, and the page\'s machine untouched', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await openExample(page, 'smc-mmio');
  // seekRehearsal's REHEARSAL_MEASURE (that module renders panels: not for Node to import).
  const rehearsed = () => page.evaluate(() => performance.getEntriesByName('exitscope: first seek rehearsed').map((e) => (e as PerformanceMeasure).detail as { seeks: number }));
  await expect.poll(rehearsed, { timeout: 20_000 }).toHaveLength(1);
  expect(await rehearsed()).toEqual([{ seeks: 2 }]);
  // The rehearsal's panels were never in the document: every pane once, the page's program at its start.
  for (const id of ['exit-pipeline', 'event-log', 'walk-grid', 'stat-exits', 'timeline']) await expect(page.getByTestId(id)).toHaveCount(1);
  await expect(page.getByTestId('stop-reason')).toHaveText('paused');
  expect(await stat(page, 'stat-exits')).toBe(0);
  await expect(page.getByTestId('exit-row')).toHaveCount(0);
  // And the page's own machine runs and seeks as ever after it.
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });
  expect(await stat(page, 'stat-exits')).toBeGreaterThan(3);
  expect(errors).toEqual([]);
});

test('scrubbing to exit k shows the machine at k: counters, registers, the selected log row scrolled into view; back one exit, back one instruction', async ({ page }) => {
  await openAndRunToEnd(page, 'smc-mmio');
  const n = await stat(page, 'stat-exits');
  const timeline = page.getByTestId('timeline');
  await expect(timeline).toHaveAttribute('aria-valuenow', String(n));
  // The count says how it meets the pipeline's "exit #": from #0, and at a past exit the exits before it.
  const exitsStat = page.locator('.stat', { has: page.getByTestId('stat-exits') });
  await expect(exitsStat).toHaveAttribute('title', `VM exits taken: #0 to #${n - 1} (exits are numbered from #0)`);
  const endRegs = await page.getByTestId('registers').innerText();
  const trackInPresent = await timeline.boundingBox();
  const logList = page.getByTestId('event-log').locator('[role="rowgroup"]');
  const listInPresent = await logList.boundingBox();
  const rowsInPresent = await page.getByTestId('exit-row').count();
  const chartXs = () => page.locator('[data-pane="charts"] .xs-chart').evaluateAll((cs) => cs.map((c) => `${c.getAttribute('data-testid')} ${c.getAttribute('data-x-range')}`));
  const xsInPresent = await chartXs();
  await expect(page.getByTestId('btn-run-from-here')).toBeHidden();
  // An exit the log lists, in the middle of the run.
  const k = Math.floor(n / 2);
  await timeline.fill(String(k));
  await expect(page.getByTestId('stat-exits')).toHaveText(k.toLocaleString('en-US'), { timeout: 10_000 });
  await expect(exitsStat).toHaveAttribute('title', `VM exits handled before exit #${k}, the exit shown as it is taken, before the VMM handles it (exits are numbered from #0)`);
  await expect(page.getByTestId('exit-pipeline')).toContainText(`exit #${k} `);
  await expect(timeline).toHaveAttribute('aria-valuenow', String(k));
  await expect(page.getByTestId('timeline-where')).toContainText(`exit ${k.toLocaleString('en-US')} of`);
  // "exit k of n" says what k counts: exits are numbered from #0, k of them were handled before #k.
  await expect(page.getByTestId('timeline-where')).toHaveAttribute('title', `Exit #${k} as it is taken: ${k.toLocaleString('en-US')} exits handled before it (exits are numbered from #0); the run took ${n.toLocaleString('en-US')}`);
  // Leaving the present shows the past's controls in room kept for them: the track under the pointer stays put.
  await expect(page.getByTestId('btn-run-from-here')).toBeVisible();
  expect(await timeline.boundingBox()).toEqual(trackInPresent);
  // Nor does the log's list move: its filter chips are the reasons it lists, whichever exit is shown.
  expect(await logList.boundingBox()).toEqual(listInPresent);
  // The chips count exits handled before #k, as the strip does (k of them), and say so: the
  // rows listed to #k include #k itself.
  const chips = page.getByTestId('event-log').locator('.xs-chips [data-testid^="filter-"]');
  const chipCounts = (await chips.allInnerTexts()).map((t) => t.trim().split(/\s+/).at(-1) ?? '');
  expect(chipCounts.every((c) => /^[\d,]+$/.test(c))).toBe(true); // exact under 10,000 (compact)
  expect(chipCounts.reduce((a, c) => a + Number(c.replace(/,/g, '')), 0)).toBe(k);
  await expect(chips.first()).toHaveAttribute('title', new RegExp(`handled before exit #${k}, as the strip counts`));
  // It holds as many rows in the middle as at its end (the same row elements, updated in place).
  await expect(page.getByTestId('exit-row')).toHaveCount(rowsInPresent);
  // The run halted and has its bench row: at its past exits the bench does not say it will add one.
  await expect(page.getByTestId('bench-row')).toHaveCount(1);
  await expect(page.getByTestId('bench-table')).not.toContainText('adds its row when it halts');
  const row = page.getByTestId('event-log').locator(`[data-testid="exit-row"][data-seq="${k}"]`);
  await expect(row).toHaveAttribute('aria-selected', 'true');
  // The log scrolled to it (it was following its end).
  await expect.poll(() => seqsInView(page)).toContain(k);
  // The rows after k are the recorded future, and look it; k and the rows before it do not.
  const futures = await page.getByTestId('event-log').locator('[data-testid="exit-row"]').evaluateAll((rows) => rows.map((r) => [Number((r as HTMLElement).dataset.seq), r.classList.contains('xs-future')] as const));
  expect(futures.some(([seq]) => seq > k), 'the log lists exits after k').toBe(true);
  for (const [seq, future] of futures) expect(future, `row ${seq} at exit ${k}`).toBe(seq > k);
  await expect(page.getByTestId('event-log').locator(`[data-testid="exit-row"][data-seq="${k + 1}"]`)).toHaveAttribute('title', /^after the exit shown \(the recorded future\)/);
  await expect(page.getByTestId('exit-pipeline')).toContainText(`exit #${k}`);
  await expect(page.getByTestId('regs-moment')).toHaveText(`as exit #${k} is taken, before the VMM handles it`);
  const regsAtK = await page.getByTestId('registers').innerText();
  expect(regsAtK).not.toBe(endRegs);
  // The charts end at k: a sample after each of exits 1..k (the Worker samples every exit of a short run).
  const charts = page.locator('[data-pane="charts"]');
  await expect(charts).toContainText(`${k} samples · x: guest instructions retired`);
  await expect(charts.getByTestId('chart-hitrate')).toHaveAttribute('data-points', String(k));
  // On the whole run's axes: the plot ends at k, the frame does not rescale as the timeline moves.
  expect(await chartXs()).toEqual(xsInPresent);
  // How often it exits, as the strip shows the machine at k: its exits over its instructions retired.
  const perThousand = Math.round((1000 * k) / await stat(page, 'stat-retired'));
  expect(perThousand).toBeGreaterThanOrEqual(100);
  await expect(charts.getByTestId('chart-exits').locator('.xs-chart-name')).toHaveText(`${perThousand} exits per 1,000 instructions · so far, by reason`);
  await page.waitForTimeout(600);
  await page.screenshot({ path: `${ART}/timetravel-at-exit.png` });

  await page.getByTestId('btn-back-exit').click();
  await expect(page.getByTestId('stat-exits')).toHaveText((k - 1).toLocaleString('en-US'));
  await expect(timeline).toHaveAttribute('aria-valuenow', String(k - 1));

  const retired = await stat(page, 'stat-retired');
  await page.getByTestId('btn-step-back').click();
  await expect.poll(() => stat(page, 'stat-retired')).toBe(retired - 1);
  // Between exits now: exit #k-1 is not taken here, so nothing shows it as taken.
  await expect(page.getByTestId('timeline-where')).toHaveAttribute('title', new RegExp(`^Between exits: ${(k - 1).toLocaleString('en-US')} exits handled, the next is #${k - 1}; `));
  await expect(page.getByTestId('exit-pipeline')).not.toContainText(`exit #${k - 1} `);
  await expect(page.getByTestId('event-log').locator('[aria-selected="true"]')).toHaveCount(0);
  await expect(page.getByTestId('event-log').locator('.xs-chips [data-testid^="filter-"]').first()).toHaveAttribute('title', new RegExp(`handled before this point, as the strip counts \\(the next exit is #${k - 1}\\)`));
  expect(await page.getByTestId('btn-step-back').getAttribute('title')).toMatch(/Ctrl\+F10/);
  expect(await page.getByTestId('btn-back-exit').getAttribute('title')).toMatch(/Ctrl\+Shift\+F10/);

  // Each register row shows its value at the exit shown (rows render again only when their own
  // value changed): RIP is the exiting instruction's, as the log's row says, and the retired
  // count is the counters'. At k, back one exit, at k again, then at the present.
  for (const at of [k, k - 1, k]) {
    await timeline.fill(String(at));
    await expect(page.getByTestId('stat-exits')).toHaveText(at.toLocaleString('en-US'));
    await expect.poll(() => registersAgree(page, at)).toBe(true);
  }
  await expect.poll(() => page.getByTestId('registers').innerText()).toBe(regsAtK);
  await page.getByTestId('btn-present').click();
  await expect(page.getByTestId('stat-exits')).toHaveText(n.toLocaleString('en-US'));
  await expect.poll(() => page.getByTestId('registers').innerText()).toBe(endRegs);
  await expect(page.getByTestId('regs-moment')).toHaveCount(0);
});

/** The registers panel at exit k: RIP equals log row k's RIP, and its retired count the counters'. */
async function registersAgree(page: Page, k: number): Promise<boolean> {
  const regs = page.getByTestId('registers');
  const rip = BigInt((await regs.locator('[data-reg="rip"] code').innerText()).replace(/_/g, ''));
  const row = page.getByTestId('event-log').locator(`[data-testid="exit-row"][data-seq="${k}"] [role="cell"]`).nth(3);
  const logRip = BigInt(await row.innerText());
  const retired = /([\d,]+) instructions retired/.exec(await regs.innerText())?.[1].replace(/,/g, '');
  return rip === logRip && Number(retired) === await stat(page, 'stat-retired');
}

test('running on from a past point ends exactly where the original run ended', async ({ page }) => {
  await openAndRunToEnd(page, 'lapic-microbench');
  const n = await stat(page, 'stat-exits');
  const retired = await stat(page, 'stat-retired');
  const regs = await page.getByTestId('registers').innerText();
  const k = Math.floor(n / 3);
  await page.getByTestId('timeline').fill(String(k));
  await expect(page.getByTestId('stat-exits')).toHaveText(k.toLocaleString('en-US'), { timeout: 10_000 });
  const runFromHere = page.getByTestId('btn-run-from-here');
  // Exit #k is shown as it is taken: running on handles it again, so #k is among those dropped.
  await expect(runFromHere).toHaveAttribute('title', `Run on from exit #${k}: the recorded exits #${k} to #${n - 1} (${(n - k).toLocaleString('en-US')}) are dropped and run again`);
  // Run, Step and Next exit drop that future too, and say so (Step and Next exit had said nothing).
  const drop = `the recorded exits #${k} to #${n - 1} (${(n - k).toLocaleString('en-US')}) are dropped, and the machine goes on from here`;
  await expect(page.getByTestId('btn-run')).toHaveAttribute('title', `Run on from here (F5): ${drop}`);
  await expect(page.getByTestId('btn-step')).toHaveAttribute('title', `Step one instruction (F10); at this past point ${drop}`);
  await expect(page.getByTestId('btn-step-exit')).toHaveAttribute('title', `Step to the next VM exit (Shift+F10); at this past point ${drop}`);
  await runFromHere.click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });
  await expect(page.getByTestId('btn-step')).toHaveAttribute('title', 'Step one instruction (F10)');
  expect(await stat(page, 'stat-exits')).toBe(n);
  expect(await stat(page, 'stat-retired')).toBe(retired);
  await expect.poll(() => page.getByTestId('registers').innerText()).toBe(regs);
  await expect(page.getByTestId('timeline')).toHaveAttribute('aria-valuenow', String(n));
  // The log's listed and not listed add up to the run's exits again: the dropped future's unlisted
  // exits, run again, are not counted twice.
  const [listed, of] = ((await page.getByTestId('event-log').locator('.xs-log-count').innerText()).match(/[\d,]+/g) ?? []).map((x) => Number(x.replace(/,/g, '')));
  expect(of).toBe(n);
  expect(listed).toBeLessThan(n);
});

/** Animations (running, or finished and held at their end) under a panel. */
function animationsIn(page: Page, testId: string): Promise<number> {
  return page.getByTestId(testId).evaluate((el) => el.getAnimations({ subtree: true }).length);
}

test('each seek shows its exit at once: the log row in view and selected, the pipeline and walk without their stage-by-stage animation (replay plays it); Now brings the log back to its end', async ({ page }) => {
  await openAndRunToEnd(page, 'smc-mmio');
  const n = await stat(page, 'stat-exits');
  const timeline = page.getByTestId('timeline');
  const log = page.getByTestId('event-log');
  const lastSeq = Math.max(...await log.locator('[data-testid="exit-row"]').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.seq))));
  // Back and forth: each seek centres the log on its own exit.
  for (const k of [Math.floor(n / 4), Math.floor((3 * n) / 4), Math.floor(n / 2)]) {
    await timeline.fill(String(k));
    await expect(page.getByTestId('stat-exits')).toHaveText(k.toLocaleString('en-US'), { timeout: 10_000 });
    await expect(page.getByTestId('exit-pipeline')).toContainText(`exit #${k} `);
    await expect(log.locator(`[data-testid="exit-row"][data-seq="${k}"]`)).toHaveAttribute('aria-selected', 'true');
    await expect.poll(() => seqsInView(page)).toContain(k);
    // Shown whole at once: no animation was started (a played one stays held at its end).
    expect(await animationsIn(page, 'exit-pipeline')).toBe(0);
    expect(await animationsIn(page, 'walk-grid')).toBe(0);
    await expect(page.locator('[data-testid="exit-pipeline"] .xs-pipe-node').first()).toHaveCSS('opacity', '1');
  }
  await page.getByTestId('exit-pipeline').getByRole('button', { name: 'replay' }).click();
  expect(await animationsIn(page, 'exit-pipeline')).toBeGreaterThan(0);
  // A seek to an exit that walked (a cache miss), its walk replayed, then a seek to the next: a replay
  // belongs to its exit, and each panel shows the next exit at once again.
  const missed = await log.locator('[data-testid="exit-row"]').evaluateAll((rows) => rows
    .filter((r) => r.querySelector('.xs-ic-miss')).map((r) => Number((r as HTMLElement).dataset.seq)));
  const miss = missed.find((s) => s > 0 && s < n - 1) ?? NaN;
  expect(miss).not.toBeNaN();
  await timeline.fill(String(miss));
  await expect(page.getByTestId('exit-pipeline')).toContainText(`exit #${miss} `);
  await expect(page.getByTestId('walk-grid').locator('.xs-walk-cell').first()).toBeVisible();
  await page.getByTestId('walk-grid').getByRole('button', { name: 'replay' }).click();
  expect(await animationsIn(page, 'walk-grid')).toBeGreaterThan(0);
  const next = missed.find((s) => s > miss && s < n) ?? NaN;
  await timeline.fill(String(next));
  await expect(page.getByTestId('walk-grid').locator('.xs-walk-cell').first()).toBeVisible();
  await expect(page.getByTestId('exit-pipeline')).toContainText(`exit #${next} `);
  expect(await animationsIn(page, 'exit-pipeline')).toBe(0);
  expect(await animationsIn(page, 'walk-grid')).toBe(0);

  await page.getByTestId('btn-present').click();
  await expect(timeline).toHaveAttribute('aria-valuenow', String(n));
  await expect.poll(() => seqsInView(page)).toContain(lastSeq);
});

test('an exit whose stages have played is drawn still, as a travelled one is: no animation is left held at its end for the next seek to drop', async ({ page }) => {
  await openExample(page, 'smc-mmio');
  await page.getByTestId('btn-step-exit').click();
  const pipeline = page.getByTestId('exit-pipeline');
  await expect(pipeline).toContainText('exit #0 ');
  await expect(page.getByTestId('walk-grid').locator('.xs-walk-cell').first()).toBeVisible();
  // The stages light up one after another, and the walk's references one by one...
  expect(await animationsIn(page, 'exit-pipeline')).toBeGreaterThan(0);
  expect(await animationsIn(page, 'walk-grid')).toBeGreaterThan(0);
  // ...then none is left, running or held, and each shows as its animation ended.
  await expect.poll(() => animationsIn(page, 'exit-pipeline'), { timeout: 10_000 }).toBe(0);
  await expect.poll(() => animationsIn(page, 'walk-grid'), { timeout: 10_000 }).toBe(0);
  for (const el of [...await pipeline.locator('.xs-pipe-node, .xs-pipe-arrow, .xs-pipe-total').all(), ...await page.getByTestId('walk-grid').locator('.xs-walk-cell').all()]) {
    await expect(el).toHaveCSS('opacity', '1');
    await expect(el).toHaveCSS('transform', 'none');
  }
  // Replay plays it again, and it is drawn still again once played.
  await pipeline.getByRole('button', { name: 'replay' }).click();
  expect(await animationsIn(page, 'exit-pipeline')).toBeGreaterThan(0);
  await expect.poll(() => animationsIn(page, 'exit-pipeline'), { timeout: 10_000 }).toBe(0);
});

test('a run shown as rates ends on its last exit drawn whole, as it drew none of its exits stage by stage (a seek made right away drops no animation)', async ({ page }) => {
  await openAndRunToEnd(page, 'lapic-microbench');
  const n = await stat(page, 'stat-exits');
  await expect(page.getByTestId('exit-pipeline')).toContainText(`exit #${n - 1} `);
  expect(await animationsIn(page, 'exit-pipeline')).toBe(0);
  await expect(page.locator('[data-testid="exit-pipeline"] .xs-pipe-node').first()).toHaveCSS('opacity', '1');
});

test('at full speed the log lists only some exits: a seek to one it does not list lists the exits its re-run went through, up to that exit, selected', async ({ page }) => {
  await openAndRunToEnd(page, 'lapic-microbench');
  const n = await stat(page, 'stat-exits');
  const log = page.getByTestId('event-log');
  const listed = () => log.locator('[data-testid="exit-row"]').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.seq)));
  // The toolbar's count at the present: "251 of 20,003 listed", of the strip's count of exits.
  // NaN until it reads so (just after Now it may still say "… listed to #k"): a poll retries it.
  const listedCount = async () => {
    const [listedNow, of] = /^([\d,]+) of ([\d,]+) listed$/.exec(await log.locator('.xs-log-count').innerText())?.slice(1).map((x) => Number(x.replace(/,/g, ''))) ?? [];
    return of === n ? listedNow : NaN;
  };
  const k = Math.floor(n / 2) + 1;
  expect(await listed()).not.toContain(k);
  const before = await listedCount();
  expect(before, 'the count at the present: "N of <the strip\'s exits> listed"').toBeGreaterThan(0);
  await page.getByTestId('timeline').fill(String(k));
  await expect(page.getByTestId('stat-exits')).toHaveText(k.toLocaleString('en-US'), { timeout: 10_000 });
  await expect(log.locator(`[data-testid="exit-row"][data-seq="${k}"]`)).toHaveAttribute('aria-selected', 'true');
  // The exits just before it, in order, are listed with it, the one before in view (not rows from the end of the run).
  await expect.poll(async () => (await listed()).filter((s) => s <= k).slice(-4)).toEqual([k - 3, k - 2, k - 1, k]);
  await expect.poll(async () => (await seqsInView(page)).filter((s) => s <= k).slice(-2)).toEqual([k - 1, k]);
  // The row is the pipeline's exit: the same reason, address and instruction.
  const row = log.locator(`[data-testid="exit-row"][data-seq="${k}"]`);
  await expect(page.getByTestId('exit-pipeline')).toContainText(`exit #${k} `);
  const rip = ((await page.getByTestId('exit-pipeline').textContent()) ?? '').match(/rip (0x[0-9a-f]+)/)?.[1];
  await expect(row).toContainText(rip ?? 'no rip in the pipeline');
  // They count as listed now. At exit k the toolbar counts the rows of exits #0..#k (the strip
  // counts exits up to k too), the recorded future after them apart, and what it does not list.
  const to = await log.locator('.xs-toolbar > span').first().innerText();
  const [notListed, after] = await log.locator('.xs-toolbar .xs-counts > span').allInnerTexts();
  expect(to).toMatch(new RegExp(`^[\\d,]+ listed to #${k}$`));
  const listedTo = Number(to.split(' ')[0].replace(/,/g, ''));
  expect(listedTo).toBeGreaterThanOrEqual(4);
  expect(notListed).toBe(`${compact(k + 1 - listedTo)} not listed`);
  expect(after).toMatch(/^[1-9][\d.,]*k? after$/);
  expect(listedTo).toBeLessThanOrEqual(k + 1);
  // Back at the present, the whole list counts again, with the exits the seek listed.
  await page.getByTestId('btn-present').click();
  await expect.poll(listedCount).toBeGreaterThanOrEqual(before + 4);
  await page.getByTestId('timeline').fill(String(k));
  await expect(log.locator(`[data-testid="exit-row"][data-seq="${k}"]`)).toHaveAttribute('aria-selected', 'true');
  await page.screenshot({ path: `${ART}/timetravel-unlisted.png` });
});

test("the registers (until a tab is picked) and the editor's RIP line are those of the vCPU whose exit is shown", async ({ page }) => {
  await openAndRunToEnd(page, 'two-vms');
  const n = await stat(page, 'stat-exits');
  const registers = page.getByTestId('registers');
  const exitVcpu = async () => {
    const m = ((await page.getByTestId('exit-pipeline').textContent()) ?? '').match(/vm(\d+)\/vcpu(\d+)/);
    return m ? `VM ${m[1]} vCPU ${m[2]}` : 'no exit shown';
  };
  const selectedTab = () => registers.getByRole('tab', { selected: true }).evaluate((t) => `${t.closest('.xs-tabgroup')?.querySelector('.xs-note')?.textContent ?? ''} ${t.textContent?.replace(/ \(hlt\)$/, '')}`);
  const seen = new Set<string>();
  for (const k of [Math.floor(n / 8), Math.floor((3 * n) / 8), Math.floor((5 * n) / 8), Math.floor((7 * n) / 8)]) {
    await page.getByTestId('timeline').fill(String(k));
    await expect(page.getByTestId('exit-pipeline')).toContainText(`exit #${k} `, { timeout: 10_000 });
    const want = await exitVcpu();
    seen.add(want);
    await expect.poll(selectedTab).toBe(want);
    // The values are the guest's as that exit is taken, and the panel says so.
    await expect(registers.getByTestId('regs-moment')).toHaveText(`as exit #${k} is taken, before the VMM handles it`);
    // The editor's RIP line is that vCPU's too: on the exit's line, named on hover.
    const line = (await page.getByTestId('pipeline-line').textContent()) ?? '';
    await expect(page.locator('[data-testid="editor"] .rip-line')).toHaveAttribute('data-line', line);
    await expect(page.locator('[data-testid="editor"] .rip-glyph')).toHaveAttribute('title', `RIP of ${want.replace(' vCPU', "'s vCPU")}: the next instruction it runs`);
  }
  expect(seen.size, [...seen].join(', ')).toBeGreaterThan(1); // the seeks went to more than one vCPU
  // Its retired count is that vCPU's, and says so (the strip's is all four's).
  await expect(registers).toContainText(/[\d,]+ instructions retired by this vCPU/);
  // A tab picked stays, whichever exit is shown.
  await registers.getByRole('tab').first().click();
  const picked = await selectedTab();
  await page.getByTestId('timeline').fill(String(Math.floor(n / 2)));
  await expect(page.getByTestId('exit-pipeline')).toContainText(`exit #${Math.floor(n / 2)} `, { timeout: 10_000 });
  expect(await selectedTab()).toBe(picked);
  // Each vCPU's values at that moment, and whose exit it is.
  const at = Math.floor(n / 2);
  const tabs = registers.getByRole('tab');
  for (let i = 0; i < await tabs.count(); i++) {
    await tabs.nth(i).click();
    const own = (await selectedTab()) === await exitVcpu();
    await expect(registers.getByTestId('regs-moment')).toHaveText(own ? `as exit #${at} is taken, before the VMM handles it` : `as another vCPU's exit #${at} is taken`);
  }
});

test('in A/B each pane compares the sides as they are shown: at a past exit of A, B (apicv, 3 exits) stays at its end and no pane compares the two', async ({ page }) => {
  await runBothSides(page, 'icache', 'apicv');
  const pane = (side: string) => page.locator(`.machine[data-side="${side}"] [data-testid="chart-ab"]`);
  const points = async (side: string) => ((await pane(side).getAttribute('data-points')) ?? '').split(',').map(Number);
  // Both at their ends, at the same instruction: each pane compares, with both figures.
  for (const side of ['a', 'b']) {
    await expect(pane(side).locator('.xs-chart-name')).toHaveText(/^cumulative modeled cycles · /);
    await expect(pane(side).locator('.xs-legend-value')).toHaveCount(2);
  }
  const [fullA] = await points('a');
  const n = await stat(page, 'stat-exits');
  const k = Math.floor(n / 2);
  await page.getByTestId('timeline').fill(String(k));
  await expect(page.getByTestId('stat-exits')).toHaveText(k.toLocaleString('en-US'), { timeout: 10_000 });
  await expect(page.getByTestId('stat-exits-b')).toHaveText('3');
  // A at exit k, B at its end: different points of the program, so neither pane compares.
  for (const side of ['a', 'b']) {
    await expect(pane(side).locator('.xs-chart-name'), `pane ${side}`).toHaveText('cumulative modeled cycles');
    await expect(pane(side).locator('.xs-legend-value'), `pane ${side}`).toHaveCount(0);
  }
  // Pane B draws A as pane A does, cut at exit k (it drew A's whole run: "B apicv 96% fewer than A icache").
  const [ownA] = await points('a');
  const [, aInB] = await points('b');
  expect(ownA).toBeLessThan(fullA);
  expect(aInB).toBe(ownA);
  await page.screenshot({ path: `${ART}/timetravel-ab-apicv.png` });
});

test('an exit picked in the log while a full-speed run goes stays picked when the run stops, and shows its walk', async ({ page }) => {
  // Two million exits under no cache: every exit walks, and a run at full speed keeps 1 walk in 64.
  const source = readFileSync('src/scenarios/lapic-microbench.s', 'utf8').replace(/^ITERATIONS equ \d+/m, 'ITERATIONS equ 500000');
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto(`/#s=${encodeShare({ v: 1, source, config: { strategy: 'none', preset: DEFAULT_COST_PRESET, icacheSize: 1024 } })}`);
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 20_000 });
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('running');
  const rows = page.getByTestId('event-log').locator('[data-testid="exit-row"]');
  await expect(rows.first()).toBeVisible();
  // The rows are updated in place as the run goes: click one and read which exit it was in one task.
  const picked = Number(await rows.first().evaluate((r) => { (r as HTMLElement).click(); return (r as HTMLElement).dataset.seq; }));
  // The run ends on its own: its last frame lists its last exits, the hlt the newest.
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });
  // The pick, not the run's last exit (the stop used to select that), with its references.
  await expect(page.getByTestId('exit-pipeline')).toContainText(`exit #${picked} `);
  expect(picked).toBeLessThan(await stat(page, 'stat-exits') - 1);
  await expect(page.getByTestId('walk-grid').getByTestId('walk-ref')).toHaveCount(24, { timeout: 10_000 });
  // Picked after the stop, an exit gets its walk the same way.
  await page.getByTestId('event-log').locator('[data-testid="exit-row"]').last().click();
  await expect(page.getByTestId('exit-pipeline')).toContainText('hlt');
  // The oldest row listed, clicked in view: the log scrolled to its top first (-scrollHeight: the
  // list scrolls from its end, column-reverse). The first row in the DOM was an overscan row out of
  // view, and scrolling it in re-rendered the rows (kept per slot) under the click: 2 lost clicks in 20 runs.
  const log = page.getByTestId('event-log');
  await log.locator('[role="rowgroup"]').evaluate((g) => { g.scrollTop = -g.scrollHeight; });
  const oldest = log.locator('[data-testid="exit-row"][style*="top: 0px"]');
  await expect(oldest).toBeInViewport();
  const oldestSeq = Number(await oldest.getAttribute('data-seq'));
  await oldest.click();
  await expect(page.getByTestId('exit-pipeline')).toContainText(`exit #${oldestSeq} `);
  await expect(page.getByTestId('walk-grid').getByTestId('walk-ref')).toHaveCount(24, { timeout: 10_000 });
});

/**
 * Frames from now on, as [thumb's value, exits shown] per animation frame, to see what the first
 * frame after a click showed. The thumb's value is aria-valuenow, the input's own value.
 */
function recordFrames(page: Page): Promise<void> {
  return page.evaluate(() => {
    const w = window as unknown as { __frames: { t: number; thumb: string; exits: string }[] };
    w.__frames = [];
    const q = (id: string) => document.querySelector(`[data-testid="${id}"]`);
    const tick = (t: number) => {
      w.__frames.push({ t, thumb: q('timeline')?.getAttribute('aria-valuenow') ?? '', exits: (q('stat-exits')?.textContent ?? '').replace(/,/g, '') });
      if (w.__frames.length < 600) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

test('a click on the timeline shows the exit under the pointer, the thumb moving with the panels; a press on the thumb holds it, a drag follows the pointer; the arrows step one exit, Home and End go to the ends', async ({ page }) => {
  await openAndRunToEnd(page, 'smc-mmio');
  const n = await stat(page, 'stat-exits');
  const timeline = page.getByTestId('timeline');
  const box = (await timeline.boundingBox())!;
  const y = box.y + box.height / 2;
  // Where the slider draws the thumb of value v: its 16 px thumb's centre runs from 8 px in to 8 px from the end.
  const xOf = (v: number) => box.x + 8 + (v / n) * (box.width - 16);
  const shows = async (k: number) => {
    await expect(page.getByTestId('stat-exits')).toHaveText(k.toLocaleString('en-US'));
    await expect(timeline).toHaveAttribute('aria-valuenow', String(k));
    await expect(page.getByTestId('exit-pipeline')).toContainText(`exit #${k} `);
  };

  // A click on the track, away from the thumb (at the present, at the right end).
  const k = Math.round(n / 3);
  await recordFrames(page);
  const clickedAt = await page.evaluate(() => performance.now());
  await page.mouse.click(xOf(k), y);
  await shows(k);
  await expect(timeline).toBeFocused();
  // Focused by the mouse it draws no focus ring (a repaint the exit would wait behind); a key shows it (below).
  const outline = () => timeline.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(await outline()).toBe('none');
  await page.screenshot({ path: `${ART}/timetravel-click-1280x720.png` });
  // The first frame with the thumb moved shows the exit too, unless the exit took longer than the
  // thumb waits for it (100 ms, on a slow machine).
  const frames = await page.evaluate(() => (window as unknown as { __frames: { t: number; thumb: string; exits: string }[] }).__frames);
  const moved = frames.find((f) => f.thumb === String(k))!;
  expect(moved, 'a frame showed the thumb at k').toBeTruthy();
  if (moved.t - clickedAt < 100) expect(moved.exits, 'the thumb moved before the exit was shown').toBe(String(k));

  // A press on the thumb, a little off its centre, and let go: it stays where it is.
  await page.mouse.click(xOf(k) + 3, y);
  await page.waitForTimeout(300);
  await shows(k);

  // A drag, held off the thumb's centre: the thumb follows the pointer, keeping the offset.
  const to = Math.round((2 * n) / 3);
  await page.mouse.move(xOf(k) - 2, y);
  await page.mouse.down();
  await page.mouse.move(xOf((k + to) / 2) - 2, y, { steps: 4 });
  await page.mouse.move(xOf(to) - 2, y, { steps: 4 });
  await page.mouse.up();
  await shows(to);

  // The keys, from the exit shown.
  await page.keyboard.press('ArrowLeft');
  await shows(to - 1);
  expect(await outline(), 'a key shows the focus ring').toBe('solid');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await shows(to + 1);
  await page.keyboard.press('Home');
  await shows(0);
  await page.keyboard.press('End');
  await expect(page.getByTestId('stat-exits')).toHaveText(n.toLocaleString('en-US'));
  await expect(timeline).toHaveAttribute('aria-valuenow', String(n));
  await expect(page.getByTestId('btn-run-from-here')).toBeHidden();
});

test('in A/B, Now brings each side to its own present, though B took more exits than A', async ({ page }) => {
  // A under apicv takes 3 exits, B under icache 20,003: Now (A's end, exit 3) had left B at its exit 3.
  await runBothSides(page, 'apicv', 'icache');
  const nB = await stat(page, 'stat-exits-b');
  expect(nB).toBeGreaterThan(3);
  await page.getByTestId('timeline').fill('1');
  await expect(page.getByTestId('stat-exits')).toHaveText('1', { timeout: 10_000 });
  await expect(page.getByTestId('stat-exits-b')).toHaveText('1');
  await page.getByTestId('btn-present').click();
  await expect(page.getByTestId('stop-reason-b')).toHaveText('halted', { timeout: 10_000 });
  expect(await stat(page, 'stat-exits-b')).toBe(nB);
  await expect(page.getByTestId('stop-reason')).toHaveText('halted');
  expect(await stat(page, 'stat-exits')).toBe(3);
});

/** The LAPIC microbenchmark run to its end on both sides of A/B mode, A under `a`, B under `b`. */
async function runBothSides(page: Page, a: string, b: string): Promise<void> {
  await openExample(page, 'lapic-microbench');
  await page.getByTestId('ab-toggle').check();
  await page.getByTestId('strategy-select').selectOption(a);
  await page.getByTestId('strategy-select-b').selectOption(b);
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });
  await expect(page.getByTestId('stop-reason-b')).toHaveText('halted', { timeout: 45_000 });
}

test('a layout chosen at a past exit shows the log at that exit, not at the recorded future', async ({ page }) => {
  await openAndRunToEnd(page, 'lapic-microbench');
  const k = 5000;
  await page.getByTestId('timeline').fill(String(k));
  await expect(page.getByTestId('stat-exits')).toHaveText(k.toLocaleString('en-US'), { timeout: 10_000 });
  // The log mounts anew in each preset and measures its height after its first render: it had
  // centred on the height assumed before that and shown rows near #19,850.
  for (const preset of ['all', 'exit', 'numbers', 'all']) {
    await page.getByTestId('layout-select').selectOption(preset);
    await expect.poll(() => seqsInView(page), { message: preset }).toContain(k);
    await expect(page.getByTestId('event-log').locator(`[data-testid="exit-row"][data-seq="${k}"]`)).toHaveAttribute('aria-selected', 'true');
  }
});

test('stepped back within instructions no exit follows, Run, Step and Next exit say no exit is dropped (they had said "#0 to #-1")', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto(`/#s=${encodeShare({ v: 1, source: '_start:\n    mov eax, 1\n    mov ebx, 2\n    mov ecx, 3\n    hlt\n', config: { strategy: 'icache', preset: DEFAULT_COST_PRESET, icacheSize: 256 } })}`);
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 20_000 });
  for (let i = 0; i < 3; i++) await page.getByTestId('btn-step').click();
  await expect(page.getByTestId('stat-retired')).toHaveText('3');
  await page.getByTestId('btn-step-back').click();
  await expect(page.getByTestId('stat-retired')).toHaveText('2');
  const drop = 'the recorded instructions after this point are dropped, and the machine goes on from here';
  await expect(page.getByTestId('btn-run')).toHaveAttribute('title', `Run on from here (F5): ${drop}`);
  await expect(page.getByTestId('btn-step')).toHaveAttribute('title', `Step one instruction (F10); at this past point ${drop}`);
});

test('a run that rewrites most of its RAM stays within the 64 MiB budget: the timeline reaches back to its newest snapshot and shows an exit there', async ({ page }) => {
  // 52 MiB rewritten 6 times over, an APIC read after each 16 KiB: every snapshot (one per
  // 4,096 exits) holds a copy of each page, so two of them are more than the budget.
  const source = `_start:
    cld
    mov r9d, 6
.pass:
    mov rdi, 0x800000
.chunk:
    mov ecx, 2048
    mov rax, r9
    rep stosq
    mov rbx, LAPIC_BASE
    mov eax, [rbx + 0x30]
    cmp rdi, 0x3c00000
    jb .chunk
    dec r9d
    jnz .pass
    hlt
`;
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(`/#s=${encodeShare({ v: 1, source, config: { strategy: 'icache', preset: DEFAULT_COST_PRESET, icacheSize: 256 } })}`);
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 20_000 });
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });
  const reach = page.getByTestId('timeline-reach');
  await expect(reach).toHaveText(/^reaches back to exit 16,384 · \d+ of 64 MiB$/);
  const mib = Number(/· (\d+) of/.exec((await reach.textContent()) ?? '')?.[1]);
  expect(mib).toBeGreaterThan(50);
  expect(mib).toBeLessThanOrEqual(64);
  const timeline = page.getByTestId('timeline');
  await expect(timeline).toHaveAttribute('min', '16384');
  await timeline.fill('17000');
  await expect(page.getByTestId('stat-exits')).toHaveText('17,000', { timeout: 10_000 });
  await expect(timeline).toHaveAttribute('aria-valuenow', '17000');
});
