/**
 * Glossary terms where they appear: the LAPIC table's TPR/EOI/ICR, the registers' CR3, the exit
 * reasons in the event log and the terms a lesson's text marks show their definition on hover
 * and on keyboard focus.
 */
import { test, expect } from '@playwright/test';
import { GLOSSARY } from '../src/ui/glossary/terms';

test.use({ viewport: { width: 1280, height: 720 } });

const definition = (term: string) => GLOSSARY.find((t) => t.term === term)!.definition.slice(0, 40);

test('TPR, CR3 and the exit reasons show their definition on hover and on keyboard focus', async ({ page }) => {
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto('/?example=ipi-pingpong');
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 30_000 });
  const tip = page.getByTestId('glossary-tip');
  const registers = page.getByTestId('registers');

  // Hover: TPR in the LAPIC table.
  await registers.locator('[data-term="TPR"]').hover();
  await expect(tip).toContainText(definition('TPR'));
  await page.mouse.move(1270, 715);
  await expect(tip).toBeHidden();

  // Keyboard: CR3 takes the focus and shows its tip; Tab moves on to the LAPIC table's terms.
  await registers.locator('[data-term="CR3"]').focus();
  await expect(tip).toContainText(definition('CR3'));
  await expect(registers.locator('[data-term="CR3"]')).toHaveAttribute('aria-describedby', 'glossary-tip');
  await page.keyboard.press('Tab');
  await expect(tip).toContainText(definition('TPR'));
  await page.keyboard.press('Tab');
  await expect(tip).toContainText(definition('EOI'));
  await page.keyboard.press('Tab');
  await expect(tip).toContainText(definition('ICR'));
  await page.keyboard.press('Escape');
  await expect(tip).toBeHidden();

  // The event log: an exit reason in a row (hover) and a filter chip (keyboard focus).
  const log = page.getByTestId('event-log');
  // Listing only the MMIO exits keeps one in view (the log follows its end; the first MMIO
  // exit of the run may lie far above the short log of the All preset).
  await page.getByTestId('filter-mmio').click();
  await log.locator('[data-testid="exit-row"][data-reason="mmio"] [data-term]').last().hover();
  await expect(tip).toContainText(definition('MMIO exit'));
  await page.mouse.move(1270, 715);
  await page.getByTestId('filter-mmio').blur(); // the click above left the focus on it
  await page.getByTestId('filter-mmio').focus();
  await expect(tip).toContainText(definition('MMIO exit'));
  await page.screenshot({ path: 'e2e/artifacts/glossary-tip-event-log-1280x720.png' });
});

test('a lesson\'s text marks its glossary terms: a tip on hover and on keyboard focus', async ({ page }) => {
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto('/?lesson=5');
  const term = page.getByTestId('lesson-panel').locator('.lesson-term[data-term="write-protect fault"]');
  await expect(term).toHaveText('EPT violation');
  await term.hover();
  await expect(page.getByTestId('glossary-tip')).toContainText(definition('write-protect fault'));
  await page.mouse.move(640, 715);
  await page.getByTestId('lesson-panel').locator('.lesson-term[data-term="CR3"]').focus();
  await expect(page.getByTestId('glossary-tip')).toContainText(definition('CR3'));
});
