/**
 * The built page's Content-Security-Policy (build/csp.ts): in force in the page (eval is
 * refused there, and the refusal is reported), naming no remote origin, and a whole run
 * (editor, Worker compiling guest code, charts) raises no violation in the page or the Worker.
 */
import { test, expect, type Page } from '@playwright/test';

interface Violation { directive: string; blocked: string; source: string }

/** Collect CSP violations: `securitypolicyviolation` events in the page, CSP console errors in page and Workers. */
async function watchCsp(page: Page): Promise<{ console: string[]; events: () => Promise<Violation[]> }> {
  await page.addInitScript(() => {
    const w = window as unknown as { __cspViolations: Violation[] };
    w.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      w.__cspViolations.push({ directive: e.violatedDirective, blocked: e.blockedURI, source: `${e.sourceFile}:${e.lineNumber}` });
    });
  });
  const consoleErrors: string[] = [];
  const isCsp = (text: string) => /Content Security Policy|Refused to (load|execute|evaluate|compile|apply|create|connect)/i.test(text);
  page.on('console', (m) => { if (isCsp(m.text())) consoleErrors.push(`page: ${m.text()}`); });
  page.on('worker', (w) => w.on('console', (m) => { if (isCsp(m.text())) consoleErrors.push(`worker ${w.url()}: ${m.text()}`); }));
  return {
    console: consoleErrors,
    events: () => page.evaluate(() => (window as unknown as { __cspViolations: Violation[] }).__cspViolations),
  };
}

test('the page runs under its policy: eval is refused and reported, no directive names a remote origin', async ({ page }) => {
  const csp = await watchCsp(page);
  await page.goto('/');
  const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(policy).toBeTruthy();
  const directives = new Map(policy!.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
  expect(directives.get('script-src')).toEqual(["'self'"]);
  expect(directives.get('default-src')).toEqual(["'self'"]);
  expect(directives.get('object-src')).toEqual(["'none'"]);
  for (const [name, values] of directives) {
    for (const v of values) expect(["'self'", "'none'", "'unsafe-inline'", 'data:', 'blob:'], `${name} ${v}`).toContain(v);
    if (values.includes("'unsafe-inline'")) expect(name).toBe('style-src');
  }
  // The policy is in force, and the watch sees it: an inline script does not run, nor does a
  // string the page would compile (setTimeout with a string is eval); both are reported.
  // (page.evaluate itself is exempt: DevTools' own evaluation bypasses the page's policy.)
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.head.appendChild(s);
    (setTimeout as unknown as (code: string, ms: number) => void)('window.__evalRan = true', 0);
  });
  // The inline script breaks both policies (the <meta> and preview's header), eval only the <meta>.
  await expect.poll(async () => (await csp.events()).map((v) => `${v.directive} ${v.blocked}`).sort())
    .toEqual(['script-src eval', 'script-src-elem inline', 'script-src-elem inline']);
  expect(csp.console.some((m) => m.includes("'unsafe-eval' is not an allowed source of script"))).toBe(true);
  expect(await page.evaluate(() => [(window as unknown as Record<string, unknown>).__inlineRan, (window as unknown as Record<string, unknown>).__evalRan])).toEqual([undefined, undefined]);
});

test('a run raises no CSP violation: editor, Worker (generated blocks, wasm), charts', async ({ page }) => {
  const csp = await watchCsp(page);
  await page.goto('/?example=lapic-microbench');
  await expect(page.locator('[data-testid="editor"] .monaco-editor')).toBeVisible({ timeout: 20_000 });
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 30_000 });
  expect(Number((await page.getByTestId('stat-retired').innerText()).replace(/[^0-9]/g, ''))).toBeGreaterThan(1000);
  // A second strategy: a new Worker-side machine, the charts compare both.
  await page.getByTestId('strategy-select').selectOption('none');
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 30_000 });
  expect(await csp.events()).toEqual([]);
  expect(csp.console).toEqual([]);
});
