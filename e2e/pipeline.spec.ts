import { test, expect } from '@playwright/test';

test('the Worker loads iced-x86 and decodes in the browser', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('decoded')).toContainText('mov rax,rbx');
});
