/**
 * The seed's experiment page: reached by its button or by ?view=experiment.
 * Screenshots go to e2e/artifacts/.
 */
import { test, expect, type Page } from '@playwright/test';

async function fresh(page: Page, path = '/') {
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto(path);
}

test('?view=experiment opens the experiment page, and the button goes there and back', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await fresh(page, '/?view=experiment');
  await expect(page.getByTestId('experiment-view')).toBeVisible();
  await expect(page.getByTestId('editor')).toBeHidden();
  await page.getByTestId('btn-workspace').click();
  await expect(page.getByTestId('editor')).toBeVisible();
  expect(new URL(page.url()).searchParams.get('view')).toBeNull();
  await page.getByTestId('btn-experiment').click();
  await expect(page.getByTestId('experiment-view')).toBeVisible();
  expect(new URL(page.url()).searchParams.get('view')).toBe('experiment');
});
