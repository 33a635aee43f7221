/**
 * Accessibility against the real app: axe-core finds no critical or serious violation (and no
 * moderate landmark or heading one) in either theme, before a run, after a run, at a past exit,
 * with the Examples dialog open and after a run under none.
 */
import AxeBuilder from '@axe-core/playwright';
import { test, expect, type Page } from '@playwright/test';

/** Rules axe rates moderate that the page must pass too. */
const ALSO_REQUIRED = new Set(['landmark-unique', 'page-has-heading-one', 'region']);

async function violations(page: Page, state: string): Promise<string[]> {
  // Let lazy panels, Monaco and the theme settle before axe reads colours.
  await page.waitForTimeout(600);
  const r = await new AxeBuilder({ page }).analyze();
  return r.violations
    .filter((v) => v.impact === 'critical' || v.impact === 'serious' || ALSO_REQUIRED.has(v.id))
    .map((v) => `${state}: ${v.id} (${v.impact}, ${v.nodes.length} nodes) e.g. ${v.nodes.slice(0, process.env.AXE_ALL ? 99 : 3).map((n) => `${n.target.join(' ')}${process.env.AXE_ALL ? ` ${n.failureSummary}` : ''}`).join(' | ')}`);
}

for (const theme of ['dark', 'light'] as const) {
  test(`no critical or serious accessibility violation in the ${theme} theme, before and after a run, at a past exit, with the gallery open and under none`, async ({ page }) => {
    test.setTimeout(300_000); // five axe passes over the whole page
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.goto('/');
    await page.evaluate((t) => {
      localStorage.clear();
      localStorage.setItem('exitscope.settings.v1', JSON.stringify({ theme: t }));
    }, theme);
    await page.goto('/?example=lapic-microbench');
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    await expect(page.getByTestId('stop-reason')).toHaveText(/^(ready|paused)$/, { timeout: 30_000 });
    await expect(page.locator('[data-testid="editor"] .monaco-editor')).toBeVisible({ timeout: 20_000 });
    const found = await violations(page, 'before a run');
    await page.getByTestId('btn-run').click();
    await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });
    await expect(page.getByTestId('event-log').getByTestId('exit-row').first()).toBeVisible();
    await expect(page.getByTestId('icache-table').getByTestId('icache-row').first()).toBeVisible();
    found.push(...await violations(page, 'after a run'));
    // At a past exit: the timeline's past controls, the log's rows after it (the recorded future).
    const timeline = page.getByTestId('timeline');
    const k = Math.floor(Number(await timeline.getAttribute('max')) / 2);
    await timeline.fill(String(k));
    await expect(page.getByTestId('stat-exits')).toHaveText(k.toLocaleString('en-US'), { timeout: 10_000 });
    await expect(page.getByTestId('event-log').locator('.xs-future').first()).toBeVisible();
    found.push(...await violations(page, 'at a past exit'));
    await page.getByTestId('btn-examples').click();
    await expect(page.getByTestId('gallery')).toBeVisible();
    found.push(...await violations(page, 'gallery open'));
    // Under none: the hit-rate chart says over its axes that nothing was looked up.
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('gallery')).toHaveCount(0);
    await page.getByTestId('strategy-select').selectOption('none');
    await page.getByTestId('btn-run').click();
    await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });
    await expect(page.getByTestId('chart-hitrate-note')).toBeVisible();
    found.push(...await violations(page, 'under none'));
    expect(found).toEqual([]);
  });
}
