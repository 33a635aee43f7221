/**
 * The app shell: layout, themes, share links, drafts, diagnostics markers, layout persistence.
 * Screenshots go to e2e/artifacts/.
 */
import { test, expect, type Page } from '@playwright/test';
import { encodeShare, type SharePayload } from '../src/ui/share';

const ART = 'e2e/artifacts';

async function editorText(page: Page): Promise<string> {
  await expect(page.locator('[data-testid="editor"] .monaco-editor')).toBeVisible({ timeout: 20_000 });
  return page.evaluate(() => (window as unknown as { __exitscopeEditor?: { getValue(): string } }).__exitscopeEditor?.getValue() ?? '');
}

async function fresh(page: Page, path = '/') {
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto(path);
}

test('the app shell shows the editor, the controls, the counters and the panels', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await fresh(page);
  for (const id of ['editor', 'btn-run', 'btn-pause', 'btn-step', 'btn-step-exit', 'btn-reset', 'strategy-select',
    'stat-retired', 'stat-exits', 'stat-hit-rate', 'stop-reason']) {
    await expect(page.getByTestId(id)).toBeVisible();
  }
  await expect(page.getByTestId('btn-run')).toHaveAttribute('title', /F5/);
  await expect(page.getByTestId('btn-step-exit')).toHaveAttribute('title', /Shift\+F10/);
  expect(await editorText(page)).toContain('LAPIC_BASE');
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${ART}/app-1280x720-dark.png` });
  await page.getByTestId('btn-theme').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${ART}/app-1280x720-light.png` });
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${ART}/app-1920x1080-light.png` });
});

test('a share link round-trips the program and its configuration', async ({ page }) => {
  const payload: SharePayload = {
    v: 1,
    source: '; shared by a test\n_start:\n    mov eax, [LAPIC_BASE + LAPIC_TPR]\n    hlt\n',
    config: { strategy: 'decode-assist', preset: 'skylake-2020', icacheSize: 64 },
  };
  await fresh(page, `/#s=${encodeShare(payload)}`);
  // From '/' to '/#s=…' is a hash change in the same document: goto returns as the URL changes,
  // the page opens the link in its hashchange handler after that.
  await expect.poll(() => editorText(page)).toBe(payload.source);
  await expect(page.getByTestId('strategy-select')).toHaveValue('decode-assist');
  await expect(page.getByTestId('preset-select')).toHaveValue('skylake-2020');
  await expect(page.getByTestId('cache-size-select')).toHaveValue('64');
  // The link was consumed: the address bar no longer carries it.
  expect(new URL(page.url()).hash).toBe('');
  await page.getByTestId('btn-share').click();
  const link = await page.getByTestId('share-link').inputValue();
  expect(link).toContain('#s=');
  // Open the copied link in a fresh page: same program, same configuration.
  const other = await page.context().newPage();
  await other.goto(link);
  expect(await editorText(other)).toBe(payload.source);
  await expect(other.getByTestId('strategy-select')).toHaveValue('decode-assist');
  await other.close();
});

test('a program opened while the editor starts is the text the editor shows', async ({ page }) => {
  // The moment: the editor component has rendered (the Monaco wrapper shows the source preview)
  // but Monaco has not mounted yet. A share link opened then must reach the editor, not only the machine.
  const payload: SharePayload = { v: 1, source: '; opened while the editor started\n_start:\n    hlt\n', config: { strategy: 'icache', preset: 'nehalem-2014', icacheSize: 256 } };
  await page.addInitScript((hash) => {
    const mo = new MutationObserver(() => {
      if (!document.querySelector('[data-testid="editor"] section [data-testid="editor-preview"]')) return;
      mo.disconnect();
      location.hash = hash;
    });
    mo.observe(document, { childList: true, subtree: true });
  }, `#s=${encodeShare(payload)}`);
  await fresh(page);
  await expect(page.getByTestId('notice')).toContainText('Opened a shared program');
  await expect.poll(() => editorText(page)).toBe(payload.source);
  // The machine runs the same text: its RIP line is shown in the editor after a step.
  await page.getByTestId('btn-step').click();
  await expect(page.locator('[data-testid="editor"] .rip-glyph')).toBeVisible();
});

test('a bad share link shows a message and keeps the draft', async ({ page }) => {
  await fresh(page);
  const draft = '; my precious draft\n    hlt\n';
  await page.evaluate((d) => localStorage.setItem('exitscope.draft.v1', d), draft);
  // Opened in a new page load...
  await page.goto('about:blank');
  await page.goto('/#s=this-is-not-a-share-link');
  await expect(page.getByTestId('notice-error')).toContainText('could not be opened');
  await expect(page.getByTestId('notice-error')).toContainText('draft is unchanged');
  expect(await editorText(page)).toBe(draft);
  // ...or pasted into the open page's address bar.
  await page.getByTestId('notice-error').getByRole('button', { name: 'Dismiss' }).click();
  await page.goto('/#s=N4IgLg%20also%20broken');
  await expect(page.getByTestId('notice-error')).toContainText('could not be opened');
  expect(await editorText(page)).toBe(draft);
  await page.screenshot({ path: `${ART}/bad-share-link.png` });
  // A good link replaces the text but sets the draft aside, and it can be restored.
  const payload: SharePayload = { v: 1, source: 'hlt\n', config: { strategy: 'none', preset: 'nehalem-2014', icacheSize: 256 } };
  await page.goto(`/#s=${encodeShare(payload)}`);
  await expect.poll(() => editorText(page)).toBe('hlt\n');
  await page.getByTestId('restore-draft').click();
  await expect.poll(() => editorText(page)).toBe(draft);
});

test('an oversized share link is refused with a message', async ({ page }) => {
  await fresh(page);
  await page.goto(`/#s=${'A'.repeat(300 * 1024)}`);
  await expect(page.getByTestId('notice-error')).toContainText('too long');
});

test('an unknown ?example= says so and keeps the draft', async ({ page }) => {
  await fresh(page);
  const before = await editorText(page);
  await page.goto('/?example=no-such-example');
  await expect(page.getByTestId('notice-error')).toContainText('no example named');
  expect(await editorText(page)).toBe(before);
});

test('an unknown ?lesson= says so and opens no lesson', async ({ page }) => {
  await fresh(page);
  await page.goto('/?lesson=99');
  await expect(page.getByTestId('notice-error')).toHaveText(/There is no lesson "99": the lessons are 1 to \d+\./);
  await expect(page.getByTestId('lesson-panel')).toHaveCount(0);
});

test('?example= opens a gallery example, and the gallery lists them', async ({ page }) => {
  await fresh(page, '/?example=lapic-microbench');
  expect(await editorText(page)).toContain('title: LAPIC microbenchmark');
  await page.getByTestId('btn-examples').click();
  await expect(page.getByTestId('gallery')).toBeVisible();
  await expect(page.getByTestId('example-smc-mmio')).toBeVisible();
  await page.screenshot({ path: `${ART}/gallery.png` });
  await page.getByTestId('example-smc-mmio').click();
  await expect(page.getByTestId('gallery')).toBeHidden();
  expect(await editorText(page)).toContain('self-modifying');
});

test('the layout persists across a reload', async ({ page }) => {
  await fresh(page);
  const consolePane = page.locator('[data-pane="console"]');
  await expect(consolePane).toBeVisible();
  await expect(consolePane).not.toHaveClass(/collapsed/);
  await page.getByTestId('pane-toggle-console').click();
  await expect(consolePane).toHaveClass(/collapsed/);
  // Drag the editor/machine separator to the left.
  const editor = page.locator('.editor-panel').first();
  const before = (await editor.boundingBox())!.width;
  const sep = page.locator('.workspace > .sep').first();
  const box = (await sep.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x - 120, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  const after = (await editor.boundingBox())!.width;
  expect(after).toBeLessThan(before - 60);
  await page.waitForTimeout(300);
  await page.reload();
  await expect(page.locator('[data-pane="console"]')).toHaveClass(/collapsed/);
  const reloaded = (await page.locator('.editor-panel').first().boundingBox())!.width;
  expect(Math.abs(reloaded - after)).toBeLessThan(12);
});

test('the editor is autosaved and survives a reload', async ({ page }) => {
  await fresh(page);
  await editorText(page);
  await page.locator('[data-testid="editor"] .monaco-editor .view-lines').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n; autosaved line');
  await page.waitForTimeout(700);
  await page.reload();
  expect(await editorText(page)).toContain('; autosaved line');
});

test('dropping a .s file on the editor opens it', async ({ page }) => {
  await fresh(page);
  await editorText(page);
  const dt = await page.evaluateHandle(() => {
    const d = new DataTransfer();
    d.items.add(new File(['; dropped file\n    hlt\n'], 'dropped.s', { type: 'text/plain' }));
    return d;
  });
  const target = page.getByTestId('editor');
  await target.dispatchEvent('dragenter', { dataTransfer: dt });
  await target.dispatchEvent('dragover', { dataTransfer: dt });
  await target.dispatchEvent('drop', { dataTransfer: dt });
  await expect.poll(() => editorText(page)).toBe('; dropped file\n    hlt\n');
  await expect(page.locator('.file-name')).toHaveText('dropped.s');
});

test('A/B mode shows two machines side by side', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await fresh(page);
  await page.getByTestId('ab-toggle').check();
  await expect(page.locator('.machine[data-side="b"]')).toBeVisible();
  await expect(page.getByTestId('strategy-select-b')).toBeVisible();
  await expect(page.getByTestId('stat-exits-b')).toBeVisible();
  await page.waitForTimeout(400);
  await page.screenshot({ path: `${ART}/ab-mode.png` });
  await page.getByTestId('ab-toggle').uncheck();
  await expect(page.locator('.machine[data-side="b"]')).toHaveCount(0);
});

test('a typo gets a marker with its message', async ({ page }) => {
  await fresh(page);
  await editorText(page);
  await page.locator('[data-testid="editor"] .monaco-editor .view-lines').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n    movx eax, 1');
  await expect(page.getByTestId('diag-count')).toContainText('error', { timeout: 15_000 });
  const squiggle = page.locator('[data-testid="editor"] .squiggly-error').first();
  await expect(squiggle).toBeVisible();
  const box = (await squiggle.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const hover = page.locator('.monaco-hover-content').filter({ hasText: /movx/i }).first();
  await expect(hover).toBeVisible({ timeout: 5000 });
  await page.screenshot({ path: `${ART}/typo-marker.png` });
});

test('an emptied editor says there is nothing to run, instead of running zeros to a triple fault', async ({ page }) => {
  await fresh(page);
  await editorText(page);
  await page.evaluate(() => (window as unknown as { __exitscopeEditor: { setValue(v: string): void } }).__exitscopeEditor.setValue('; my program\n'));
  const count = page.getByTestId('diag-count');
  await expect(count).toHaveText('1 error', { timeout: 15_000 });
  // On a line with nothing to underline the message is in the count's tooltip.
  await expect(count).toHaveAttribute('title', '1:1: error: nothing to run: the program has no instructions (the guest starts at _start, or at the first instruction)');
  await expect(page.getByTestId('stop-reason')).toHaveText('assembly errors');
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('assembly errors');
  await expect(page.getByTestId('stat-retired')).toContainText('0');
});

test('hover docs explain LAPIC registers and what a line does to the VMM', async ({ page }) => {
  await fresh(page);
  await editorText(page);
  const token = page.locator('[data-testid="editor"] .view-lines span', { hasText: /^LAPIC_TPR$/ }).first();
  const box = (await token.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const hover = page.locator('.monaco-hover-content').first();
  await expect(hover).toContainText('Task Priority Register', { timeout: 5000 });
  await expect(hover).toContainText('exits: EPT violation → instruction emulation');
  await page.screenshot({ path: `${ART}/hover-docs.png` });
});

test('a worker that crashes shows a message, and Reset starts a new one', async ({ page }) => {
  await fresh(page);
  await expect(page.getByTestId('stop-reason')).not.toHaveText(/starting/, { timeout: 30_000 });
  // From now on the worker script throws as it loads; Reset's new worker gets the real one again.
  let broken = true;
  await page.route(/\/assets\/worker-[^/]*\.js$/, (route) => (broken
    ? route.fulfill({ contentType: 'text/javascript', body: 'throw new Error("simulated crash");' })
    : route.continue()));
  // Crash the live worker: reload gives a fresh page whose worker load fails.
  await page.reload();
  await expect(page.getByTestId('worker-crash')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('worker-crash')).toContainText('crashed');
  await expect(page.getByTestId('stop-reason')).toHaveText('crashed');
  await expect(page.getByTestId('btn-run')).toBeDisabled();
  await page.screenshot({ path: `${ART}/worker-crash.png` });
  broken = false;
  await page.getByTestId('btn-reset').click();
  await expect(page.getByTestId('worker-crash')).toHaveCount(0);
  await expect(page.getByTestId('stop-reason')).toHaveText(/paused|ready/, { timeout: 30_000 });
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 30_000 });
});
