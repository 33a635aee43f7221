import { test, expect } from '@playwright/test';

test('the machine Worker starts in the browser (iced-x86 and its wasm load)', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  // 'starting' until the Worker's first message; 'crashed'/'unresponsive' if it fails.
  await expect(page.getByTestId('stop-reason')).not.toHaveText(/starting/, { timeout: 30_000 });
  await expect(page.getByTestId('stop-reason')).not.toHaveText(/crashed|unresponsive/);
  await expect(page.getByTestId('worker-crash')).toHaveCount(0);
  expect(errors).toEqual([]);
});
