/**
 * Issue 8, points 4, 5, 6 and 10: what an exit shows must be what the VMM did. The cache's
 * cost in its three parts, write-protect faults with their cause, an instruction the VMM
 * cannot emulate, and the editor's first seconds. Real Worker, real Chromium, the built app,
 * 1280x720 (a projector). Screenshots go to e2e/artifacts/.
 */
import { test, expect, type Page } from '@playwright/test';
import { COST_PRESETS, DEFAULT_COST_PRESET } from '../src/core/cost';

const ART = 'e2e/artifacts';

async function editorReady(page: Page): Promise<void> {
  await expect(page.locator('[data-testid="editor"] .monaco-editor')).toBeVisible({ timeout: 30_000 });
}

/** Cycles a pipeline card shows ("7,500 cyc" -> 7500). */
async function cardCycles(page: Page, stage: string): Promise<number> {
  const text = await page.getByTestId('exit-pipeline').locator(`[data-stage="${stage}"] .xs-pipe-cycles`).innerText();
  return Number(text.replace(/[^0-9]/g, ''));
}

/** Elements among `selector` whose text is cut off (wider than their box). */
async function truncated(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluateAll((els) =>
    els.filter((e) => e.scrollWidth > e.clientWidth).map((e) => `${e.textContent ?? ''} (${e.scrollWidth} > ${e.clientWidth})`));
}

test.beforeEach(async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
});

test('4: a miss shows lookup, insert and write-protect, summing to the old single cache stage; no stage name is cut off', async ({ page }) => {
  await page.goto('/?example=lapic-microbench');
  await editorReady(page);
  await expect(page.getByTestId('strategy-select')).toHaveValue('icache');
  await page.getByTestId('btn-step-exit').click();
  const pipe = page.getByTestId('exit-pipeline');
  await expect(pipe).toContainText('exit #0');
  await expect(pipe.locator('[data-stage="icache"]')).toContainText('miss');
  for (const s of ['icache', 'insert', 'protect']) await expect(pipe.locator(`[data-stage="${s}"]`)).toBeVisible();
  await expect(pipe.locator('[data-stage="icache"] .xs-pipe-label')).toContainText('lookup');
  await expect(pipe.locator('[data-stage="insert"] .xs-pipe-label')).toContainText('insert');
  await expect(pipe.locator('[data-stage="protect"] .xs-pipe-label')).toContainText('write-protect');
  const pages = Number(/(\d+) pages?/.exec((await pipe.locator('[data-stage="protect"]').getAttribute('title')) ?? '')?.[1]);
  expect(pages).toBeGreaterThan(0);
  // The old single stage charged lookup + insert + the protection of each page + one INVEPT.
  const m = COST_PRESETS[DEFAULT_COST_PRESET];
  expect(await cardCycles(page, 'icache')).toBe(m.icacheLookup);
  expect(await cardCycles(page, 'insert')).toBe(m.icacheInsert);
  expect(await cardCycles(page, 'protect')).toBe(pages * m.eptProtectPage + m.invept);
  const sum = (await cardCycles(page, 'icache')) + (await cardCycles(page, 'insert')) + (await cardCycles(page, 'protect'));
  expect(sum).toBe(m.icacheLookup + m.icacheInsert + pages * m.eptProtectPage + m.invept);
  await page.waitForTimeout(2000); // the stages light up one after another
  expect(await truncated(page, '[data-testid="exit-pipeline"] .xs-pipe-label')).toEqual([]);
  await pipe.screenshot({ path: `${ART}/exit-truth-4-pipeline-1280.png` });
  await page.setViewportSize({ width: 1920, height: 1080 });
  expect(await truncated(page, '[data-testid="exit-pipeline"] .xs-pipe-label')).toEqual([]);
});
