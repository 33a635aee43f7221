import { test, expect } from '@playwright/test';

test('the Worker loads iced-x86 and the machine, runs an example and reports exits', async ({ page }) => {
  await page.goto('/?example=lapic-microbench');
  await expect(page.getByTestId('editor')).toBeVisible();
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toContainText(/halted/i, { timeout: 30_000 });
  const exits = Number((await page.getByTestId('stat-exits').innerText()).replace(/[^0-9]/g, ''));
  expect(exits).toBeGreaterThan(1000);
});
