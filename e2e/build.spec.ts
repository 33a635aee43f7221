/**
 * What the build puts in the page's scripts (build/compileHintsPlugin.ts): V8's compile hint on
 * the page's own chunks (the entry with React and the store, the panels) and the machine
 * Worker's, none on Monaco's.
 */
import { test, expect } from '@playwright/test';

test("the page's own chunks and the machine Worker's carry V8's compile hint, Monaco's do not", async ({ page }) => {
  await page.goto('/?example=lapic-microbench');
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 30_000 });
  // The scripts a context loaded, each with its first line.
  const firstLines = async () => {
    const urls = performance.getEntriesByType('resource').map((e) => e.name).filter((u) => /\/assets\/[^/]+\.js$/.test(u));
    return Promise.all(urls.map(async (u) => ({ file: u.split('/').pop()!, first: (await (await fetch(u)).text()).split('\n', 1)[0] })));
  };
  const machine = page.workers().find((w) => /\/worker-[^/]+\.js$/.test(w.url()));
  expect(machine, page.workers().map((w) => w.url()).join(', ')).toBeTruthy();
  const scripts = [...await page.evaluate(firstLines), ...await machine!.evaluate(firstLines)];
  const hinted = (re: RegExp) => scripts.filter((s) => re.test(s.file)).map((s) => s.first === '//# allFunctionsCalledOnLoad');
  expect(hinted(/^index-/)).toEqual([true]);
  expect(hinted(/^(ExitPipeline|Registers|EventLog)-/)).toEqual([true, true, true]);
  expect(hinted(/^host-/)).toEqual([true]);
  expect(hinted(/^AsmEditor-/)).toEqual([false]);
});
