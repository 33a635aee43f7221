/**
 * The page from the keyboard alone: run a program, open an example from the gallery, reach
 * every panel, go into the editor and out again (Esc then Tab, or Ctrl+M), switch layouts.
 */
import { test, expect, type Page } from '@playwright/test';

/** What has the focus: its test id, the pane it sits in, whether it is inside the editor. */
async function focused(page: Page): Promise<{ testid: string | null; pane: string | null; editor: boolean; tag: string }> {
  return page.evaluate(() => {
    const el = document.activeElement;
    return {
      testid: el?.getAttribute('data-testid') ?? null,
      pane: el?.closest('[data-pane]')?.getAttribute('data-pane') ?? null,
      editor: !!el?.closest('[data-testid="editor"]'),
      tag: el?.tagName ?? '',
    };
  });
}

/** Presses Tab until `done` holds for the focused element (leaving the editor on the way); fails after `max` presses. */
async function tabUntil(page: Page, done: (f: Awaited<ReturnType<typeof focused>>) => boolean, what: string, max = 150, key = 'Tab') {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const f = await focused(page);
    if (done(f)) return;
    // Passing through the editor, leave it the way its title bar says: Esc, then Tab.
    if (f.editor) await page.keyboard.press('Escape');
  }
  throw new Error(`${what}: not reached with ${max} presses of ${key}`);
}

test('keyboard only: run, open an example, reach every panel, leave the editor', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto('/?example=lapic-microbench');
  await expect(page.getByTestId('stop-reason')).toHaveText(/^(ready|paused)$/, { timeout: 30_000 });

  // Run.
  await tabUntil(page, (f) => f.testid === 'btn-run', 'Run button');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });

  // The gallery takes the focus; arrows move between its cards; Enter opens one and closes it.
  await tabUntil(page, (f) => f.testid === 'btn-examples', 'Examples button');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('gallery')).toBeVisible();
  await expect.poll(async () => (await focused(page)).testid ?? '').toMatch(/^example-/);
  const first = (await focused(page)).testid;
  await page.keyboard.press('ArrowDown');
  const second = (await focused(page)).testid ?? '';
  expect(second).toMatch(/^example-/);
  expect(second).not.toBe(first);
  // Tab stays inside the dialog (the page behind it is inert).
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => !!document.activeElement?.closest('[data-testid="gallery"]'))).toBe(true);
  }
  await page.locator(`[data-testid="${second}"]`).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('gallery')).toBeHidden();
  await expect(page.locator('.file-name')).toHaveText(`${second.replace(/^example-/, '')}.s`);
  expect((await focused(page)).testid).toBe('btn-examples');

  // Every panel is reached by Tab (its collapse button, then the panel itself).
  const panes = await page.locator('[data-pane]').evaluateAll((els) => els.map((e) => e.getAttribute('data-pane') ?? ''));
  expect(panes.length).toBeGreaterThanOrEqual(9);
  const reached = new Set<string>();
  await tabUntil(page, (f) => {
    if (f.pane) reached.add(f.pane);
    return panes.every((p) => reached.has(p));
  }, `every panel (reached ${[...reached].join(', ')})`, 250);

  // Into the editor: Tab indents there, the title bar says how to leave, Esc then Tab leaves.
  await page.locator('[data-testid="btn-examples"]').focus();
  await tabUntil(page, (f) => f.editor, 'the editor', 250, 'Shift+Tab');
  await expect(page.getByTestId('tab-hint')).toBeVisible();
  await expect(page.getByTestId('tab-hint')).toContainText('Esc');
  await expect(page.getByTestId('tab-hint')).toContainText('Ctrl');
  await expect(page.getByTestId('tab-hint')).toHaveAttribute('title', /breakpoint[\s\S]*Ctrl\+Enter assembles and resets/);
  await page.keyboard.press('Tab');
  expect((await focused(page)).editor).toBe(true);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Tab');
  expect((await focused(page)).editor).toBe(false);
  await expect(page.getByTestId('tab-hint')).toBeHidden();
  // Ctrl+M (Monaco's own switch): Tab moves the focus out of the editor too.
  await page.locator('[data-testid="editor"] textarea').focus();
  await page.keyboard.press('Control+KeyM');
  await page.keyboard.press('Tab');
  expect((await focused(page)).editor).toBe(false);

  // Layouts from the keyboard: Alt+2 is Exit; a collapsed pane opens with Enter on its title.
  await page.keyboard.press('Alt+Digit2');
  await expect(page.locator('.machine')).toHaveAttribute('data-layout', 'exit');
  await expect(page.locator('[data-pane="icache"]')).toHaveClass(/collapsed/);
  await page.getByTestId('btn-examples').focus();
  await tabUntil(page, (f) => f.testid === 'pane-toggle-icache', 'the instruction cache title');
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-pane="icache"]')).not.toHaveClass(/collapsed/);
});

test('behind an open dialog no shortcut acts: Ctrl+Enter in the Share dialog leaves the run alone, Esc only closes it', async ({ page }) => {
  await page.goto('/?example=lapic-microbench');
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });
  const exits = await page.getByTestId('stat-exits').innerText();
  await page.getByTestId('btn-share').click();
  const dialog = page.getByTestId('share-dialog');
  await expect(dialog).toBeVisible();
  // Ctrl+Enter is "assemble and reset" on the page; here it had reset the program behind the dialog.
  await page.keyboard.press('Control+Enter');
  await page.keyboard.press('F10');
  await page.waitForTimeout(300);
  await expect(page.getByTestId('stat-exits')).toHaveText(exits);
  await expect(page.getByTestId('stop-reason')).toHaveText('halted');
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('stat-exits')).toHaveText(exits);
});

test('on the Experiment page the workspace shortcuts do nothing to the machine it hides', async ({ page }) => {
  await page.goto('/?example=lapic-microbench&view=experiment');
  await expect(page.getByTestId('experiment-view')).toBeVisible();
  await page.waitForTimeout(1500); // the machine behind it has booted
  for (const key of ['F10', 'Shift+F10', 'F10']) await page.keyboard.press(key);
  await page.waitForTimeout(300);
  await page.getByTestId('btn-workspace').click();
  await expect(page.getByTestId('editor')).toBeVisible();
  await expect(page.getByTestId('stat-retired')).toHaveText('0');
  await expect(page.getByTestId('stat-exits')).toHaveText('0');
});

test('while a run goes the step keys do what their disabled buttons do: nothing (F10 had stopped the run and stepped)', async ({ page }) => {
  await page.goto('/?example=lapic-microbench');
  await page.getByTestId('speed-select').selectOption('4'); // 4 steps a second: still running when the keys come
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('btn-pause')).toBeEnabled();
  await expect(page.getByTestId('btn-step')).toBeDisabled();
  for (const key of ['F10', 'Shift+F10', 'Control+F10', 'Control+Shift+F10']) await page.keyboard.press(key);
  await page.waitForTimeout(400);
  await expect(page.getByTestId('btn-pause')).toBeEnabled(); // still running
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('btn-pause')).toBeDisabled();
  await expect(page.getByTestId('stop-reason')).toHaveText('paused');
});
