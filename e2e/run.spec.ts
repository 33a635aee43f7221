/**
 * Running programs through the whole app: the real Worker, the controls, the counters, A/B
 * mode, editor decorations, and what happens with runaway and malformed programs.
 */
import { test, expect, type Page } from '@playwright/test';

const ART = 'e2e/artifacts';

async function num(page: Page, testid: string): Promise<number> {
  return Number((await page.getByTestId(testid).innerText()).replace(/[^0-9.]/g, ''));
}

async function setSource(page: Page, source: string) {
  await expect(page.locator('[data-testid="editor"] .monaco-editor')).toBeVisible({ timeout: 20_000 });
  await page.evaluate((s) => (window as unknown as { __exitscopeEditor: { setValue(v: string): void } }).__exitscopeEditor.setValue(s), source);
}

test.beforeEach(async ({ page }) => {
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
});

test('the microbenchmark runs with icache: exits, a hit rate above 0, decorated lines; none has no hits', async ({ page }) => {
  await page.goto('/?example=lapic-microbench');
  await expect(page.getByTestId('strategy-select')).toHaveValue('icache');
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 30_000 });
  expect(await num(page, 'stat-exits')).toBeGreaterThan(1000);
  expect(await num(page, 'stat-hit-rate')).toBeGreaterThan(90);
  // The rate is its tooltip's hits / lookups: the run's four misses keep it short of 100%
  // (19,999 / 20,003 read "100.0%").
  const [, hits, lookups] = (/([\d,]+) \/ ([\d,]+)/.exec(await page.locator('.stat', { has: page.getByTestId('stat-hit-rate') }).getAttribute('title') ?? '') ?? []).map((x) => Number(x?.replace(/,/g, '')));
  expect(lookups - hits).toBe(4);
  await expect(page.getByTestId('stat-hit-rate')).toHaveText(`${((100 * hits) / lookups).toFixed(2)}%`);
  expect(await num(page, 'stat-retired')).toBeGreaterThan(1000);
  // Exit-causing lines carry their exit count (and hits, where the editor has room after the
  // code), and the line's hover has both: LAPIC_ID's line exits once per round.
  await expect(page.locator('.line-stat').first()).toBeVisible();
  await expect(page.locator('.line-stat').first()).toHaveText(/^[0-9,]+ exits?( · [0-9,]+ hits?)?$/);
  const token = page.locator('[data-testid="editor"] .view-lines span', { hasText: /^LAPIC_ID$/ }).first();
  const box = (await token.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await expect(page.locator('.monaco-hover-content').filter({ hasText: 'This run:' }).first()).toContainText('This run: 5,000 exits on this line, 4,999 cache hits in 5,000 lookups (99.98%).', { timeout: 5000 });
  // At exit 1,000 the counts are those of exits #0..#999: 250 rounds, the first a miss.
  await page.mouse.move(0, 0);
  await page.getByTestId('timeline').fill('1000');
  await expect(page.getByTestId('stat-exits')).toHaveText('1,000');
  const at = (await token.boundingBox())!;
  await page.mouse.move(at.x + at.width / 2, at.y + at.height / 2);
  await expect(page.locator('.monaco-hover-content').filter({ hasText: 'As exit #' }).first()).toContainText('As exit #1,000 is taken: 250 exits on this line, 249 cache hits in 250 lookups (99.6%).', { timeout: 5000 });
  await page.getByTestId('btn-present').click();
  await expect(page.getByTestId('stat-exits')).toHaveText('20,003');
  await page.screenshot({ path: `${ART}/run-icache-halted.png` });
  const icacheCyclesPerExit = await num(page, 'stat-run-cycles-per-exit');

  await page.getByTestId('strategy-select').selectOption('none');
  await expect(page.getByTestId('stat-exits')).toHaveText('0'); // the machine started over
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 30_000 });
  await expect(page.getByTestId('stat-hit-rate')).toHaveText('–'); // none looks nothing up
  const noneCyclesPerExit = await num(page, 'stat-run-cycles-per-exit');
  expect(noneCyclesPerExit).toBeGreaterThan(icacheCyclesPerExit);
});

test('step to the next exit, with the keyboard, shows the RIP line and a 24-reference walk', async ({ page }) => {
  await page.goto('/?example=lapic-microbench');
  await page.getByTestId('strategy-select').selectOption('none');
  await expect(page.locator('[data-testid="editor"] .monaco-editor')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('btn-step-exit')).toBeEnabled();
  await page.keyboard.press('Shift+F10');
  await expect.poll(() => num(page, 'stat-exits')).toBe(1);
  await expect(page.getByTestId('walk-ref')).toHaveCount(24);
  await expect(page.locator('.rip-line')).toHaveCount(1);
  await page.keyboard.press('F10');
  await expect.poll(() => num(page, 'stat-retired')).toBeGreaterThan(0);
  await page.screenshot({ path: `${ART}/step-exit-walk.png` });
});

test('Run, Pause and Reset; F5 and Esc', async ({ page }) => {
  await setSource(page, '_start:\n    mov rbx, LAPIC_BASE\n.l:\n    mov eax, [rbx + LAPIC_ID]\n    jmp .l\n');
  await page.getByTestId('speed-select').selectOption('max');
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('running');
  await page.getByTestId('btn-pause').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('paused');
  const exits = await num(page, 'stat-exits');
  expect(exits).toBeGreaterThan(0);
  await page.keyboard.press('F5');
  await expect(page.getByTestId('stop-reason')).toHaveText('running');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('stop-reason')).toHaveText('paused');
  await page.getByTestId('btn-reset').click();
  await expect(page.getByTestId('stat-exits')).toHaveText('0');
});

test('A/B mode runs the same program under two strategies', async ({ page }) => {
  await page.goto('/?example=lapic-microbench');
  await page.getByTestId('ab-toggle').check();
  await page.getByTestId('strategy-select').selectOption('icache');
  await page.getByTestId('strategy-select-b').selectOption('none');
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 30_000 });
  await expect(page.getByTestId('stop-reason-b')).toHaveText('halted', { timeout: 30_000 });
  expect(await num(page, 'stat-exits')).toBe(await num(page, 'stat-exits-b'));
  expect(await num(page, 'stat-hit-rate')).toBeGreaterThan(90);
  await expect(page.getByTestId('stat-hit-rate-b')).toHaveText('–');
  await page.waitForTimeout(600);
  await page.screenshot({ path: `${ART}/ab-run.png` });
  // Both sides' figures show whole, here and on a 1280x720 projector: none cut off or clipped away.
  for (const size of [null, { width: 1280, height: 720 }]) {
    if (size) await page.setViewportSize(size);
    const bad = await page.locator('.stats .stat').evaluateAll((stats) => stats.flatMap((st) => {
      const box = st.getBoundingClientRect();
      const strip = (st.closest('.stats') as HTMLElement).getBoundingClientRect();
      const cut = [...st.querySelectorAll('.stat-label, .stat-value')].filter((el) => el.scrollWidth > el.clientWidth + 1);
      const clipped = box.right > strip.right + 1 || box.bottom > strip.bottom + 1;
      return clipped || cut.length ? [st.textContent ?? ''] : [];
    }));
    expect(bad, `stats cut off or clipped at ${size ? '1280x720' : 'the default size'}`).toEqual([]);
  }
  // At 1280x720 every label reads on one or two lines ("run cycles ÷ exits" took three, a word
  // each) and each side's strip keeps to two rows (its height was 107 px; truth 7 needs the room).
  const strips = await page.locator('.stats').evaluateAll((all) => all.map((strip) => {
    const shown = [...strip.querySelectorAll<HTMLElement>('.stat')].filter((st) => st.offsetWidth > 0);
    return {
      height: strip.getBoundingClientRect().height,
      rows: new Set(shown.map((st) => Math.round(st.getBoundingClientRect().top))).size,
      labels: shown.map((st) => {
        const label = st.querySelector<HTMLElement>('.stat-label')!;
        return `${label.textContent}: ${Math.round(label.getBoundingClientRect().height / parseFloat(getComputedStyle(label).lineHeight))}`;
      }),
    };
  }));
  console.log(`A/B strips at 1280x720: ${JSON.stringify(strips)}`);
  for (const strip of strips) {
    expect(strip.labels.filter((l) => !/: [12]$/.test(l)), JSON.stringify(strip)).toEqual([]);
    expect(strip.rows, JSON.stringify(strip)).toBeLessThanOrEqual(2);
    expect(strip.height, JSON.stringify(strip)).toBeLessThan(107);
  }
  await page.screenshot({ path: `${ART}/ab-run-1280x720.png` });
  // The editor's counts are side A's, and its line hover says so (B's none hit nothing).
  const token = page.locator('[data-testid="editor"] .view-lines span', { hasText: /^LAPIC_ID$/ }).first();
  const box = (await token.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await expect(page.locator('.monaco-hover-content').filter({ hasText: 'Side A' }).first()).toContainText('Side A (icache), this run: 5,000 exits on this line, 4,999 cache hits in 5,000 lookups (99.98%).', { timeout: 5000 });
});

test('a huge malformed program gets diagnostics, and the page stays responsive', async ({ page }) => {
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) lines.push(i % 3 ? `    mov eax, ${i}` : `    bogus${i} [[[ ,,`);
  await setSource(page, lines.join('\n'));
  await expect(page.getByTestId('diag-count')).toContainText('error', { timeout: 30_000 });
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('assembly errors', { timeout: 30_000 });
  await expect(page.getByTestId('worker-crash')).toHaveCount(0);
  // The UI thread still answers.
  await page.getByTestId('btn-theme').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
});

test('a guest that runs away is paused with a banner', async ({ page }) => {
  test.setTimeout(120_000);
  await setSource(page, '_start:\n    jmp _start\n');
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('running');
  await expect(page.getByTestId('runaway-banner')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('stop-reason')).toHaveText('paused');
  await expect(page.getByTestId('worker-crash')).toHaveCount(0);
  await page.screenshot({ path: `${ART}/runaway-banner.png` });
});

test('a breakpoint set in the gutter pauses the run on its line', async ({ page }) => {
  const source = '_start:\n    mov rbx, LAPIC_BASE\n    mov ecx, 50\n.loop:\n    mov eax, [rbx + LAPIC_ID]\n    dec ecx\n    jnz .loop\n    hlt\n';
  await setSource(page, source);
  await expect(page.getByTestId('btn-run')).toBeEnabled();
  const line = 6; // dec ecx
  const at = await page.evaluate((ln) => {
    const ed = (window as unknown as { __exitscopeEditor: { getScrolledVisiblePosition(p: { lineNumber: number; column: number }): { top: number; height: number }; getDomNode(): HTMLElement } }).__exitscopeEditor;
    const p = ed.getScrolledVisiblePosition({ lineNumber: ln, column: 1 });
    const r = ed.getDomNode().getBoundingClientRect();
    return { x: r.left + 8, y: r.top + p.top + p.height / 2 };
  }, line);
  await page.mouse.click(at.x, at.y);
  await expect(page.locator('.bp-glyph')).toHaveCount(1);
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 15_000 });
  // The RIP highlight follows the next view the worker sends: wait for it to reach the line.
  const ripOffset = async () => {
    const box = await page.locator('.rip-line').first().boundingBox();
    return box ? Math.abs(box.y + box.height / 2 - at.y) : Infinity;
  };
  await expect.poll(ripOffset, { timeout: 5000 }).toBeLessThan(6);
  await page.screenshot({ path: `${ART}/breakpoint.png` });
  // Run from the breakpoint continues: one more trip round the loop, paused on it again.
  const retired = async () => Number((await page.getByTestId('stat-retired').innerText()).replace(/[^0-9]/g, ''));
  const first = await retired();
  await page.getByTestId('btn-run').click();
  await expect.poll(retired, { timeout: 15_000 }).toBeGreaterThan(first);
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 15_000 });
  // Clicking again removes it; from the start, the run then goes to the end.
  await page.mouse.click(at.x, at.y);
  await expect(page.locator('.bp-glyph')).toHaveCount(0);
  await page.getByTestId('btn-reset').click();
  await expect(page.getByTestId('stat-retired')).toHaveText('0');
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 15_000 });
});

/**
 * Every DOM update from the Run click to 'halted', as "state · exits". `running` reaches the page
 * at once and the figures at the panels' pace (a React transition), so the run's first frame
 * rendered "running · 0" beside the figures of before the run, for 50-150 ms.
 */
function statesUntilHalted(page: Page): Promise<string[]> {
  return page.evaluate(() => new Promise<string[]>((resolve) => {
    const text = (id: string) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '';
    const seen: string[] = [];
    let left = false; // a 'halted' before the run left it is the last run's
    const note = () => {
      const s = `${text('stop-reason')} · ${text('stat-exits')}`;
      if (seen.at(-1) !== s) seen.push(s);
      if (text('stop-reason') !== 'halted') left = true;
      else if (left) { mo.disconnect(); resolve(seen); }
    };
    const mo = new MutationObserver(note);
    mo.observe(document.body, { subtree: true, childList: true, characterData: true });
    (document.querySelector('[data-testid="btn-run"]') as HTMLButtonElement).click();
  }));
}

test('the state never says "running" beside the figures of before the run: a first run, and Run again', async ({ page }) => {
  // 60,000 exits: longer than a frame, so the run shows running before it halts.
  await setSource(page, '_start:\n    mov rbx, LAPIC_BASE\n    mov ecx, 60000\n.l:\n    mov eax, [rbx + LAPIC_ID]\n    dec ecx\n    jnz .l\n    hlt\n');
  await page.waitForTimeout(400); // an edit loads 250 ms after the last keystroke
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 20_000 });
  for (const run of ['first run', 'Run again', 'Run again']) {
    const states = await statesUntilHalted(page);
    console.log(`${run}: ${states.join(' | ')}`);
    expect(states.filter((s) => s.startsWith('running · 0')), `${run}: ${states.join(' | ')}`).toEqual([]);
    expect(states.at(-1)).toBe('halted · 60,001');
  }
});

test('resuming after a pause says "running" beside the paused figures, not "starting"', async ({ page }) => {
  await setSource(page, '_start:\n    mov rbx, LAPIC_BASE\n    mov ecx, 1500000\n.l:\n    mov eax, [rbx + LAPIC_ID]\n    dec ecx\n    jnz .l\n    hlt\n');
  await page.waitForTimeout(400);
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 20_000 });
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('running');
  await page.getByTestId('btn-pause').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('paused');
  const pausedAt = await page.getByTestId('stat-exits').textContent();
  expect(pausedAt).not.toBe('1,500,001'); // paused mid-run
  const states = await statesUntilHalted(page);
  expect(states.filter((s) => s.startsWith('starting')), states.join(' | ')).toEqual([]);
  // A DOM update can land before the state leaves 'paused' (the click's own, or a panel's late
  // render): the first state after the paused one is what the resume shows.
  const paused = `paused · ${pausedAt}`;
  const resumed = states.slice(states.findIndex((s) => s !== paused));
  expect(resumed, states.join(' | ')).not.toContain(paused);
  expect(resumed[0], states.join(' | ')).toBe(`running · ${pausedAt}`);
  expect(states.at(-1)).toBe('halted · 1,500,001');
});
