/**
 * Issue 8, points 4, 5, 6 and 10: what an exit shows must be what the VMM did. The cache's
 * cost in its three parts, write-protect faults with their cause, an instruction the VMM
 * cannot emulate, and the editor's first seconds. Real Worker, real Chromium, the built app,
 * 1280x720 (a projector). Screenshots go to e2e/artifacts/.
 */
import { test, expect, type Locator, type Page } from '@playwright/test';
import { COST_PRESETS, DEFAULT_COST_PRESET } from '../src/core/cost';

const ART = 'e2e/artifacts';

async function editorReady(page: Page): Promise<void> {
  await expect(page.locator('[data-testid="editor"] .monaco-editor')).toBeVisible({ timeout: 30_000 });
}

/** The page with `src` in the editor, loaded: the edit reloads the program 250 ms after the last keystroke. */
async function openSource(page: Page, src: string): Promise<void> {
  await page.goto('/');
  await editorReady(page);
  await page.evaluate((s) => (window as unknown as { __exitscopeEditor: { setValue(v: string): void } }).__exitscopeEditor.setValue(s), src);
  await expect(page.getByTestId('btn-run')).toBeEnabled({ timeout: 30_000 });
  await page.waitForTimeout(600);
}

/** Run a program that stops (`stop`) at its first exit: the counter says 1 and the log lists it, of `reason`. */
async function runToItsOnlyExit(page: Page, stop: string, reason: string): Promise<Locator> {
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText(stop, { timeout: 30_000 });
  await expect(page.getByTestId('stat-exits')).toHaveText('1');
  const row = page.getByTestId('event-log').getByTestId('exit-row');
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute('data-reason', reason);
  return row;
}

/** Cycles a pipeline card shows ("7,500 cyc" -> 7500). */
async function cardCycles(page: Page, stage: string): Promise<number> {
  const text = await page.getByTestId('exit-pipeline').locator(`[data-stage="${stage}"] .xs-pipe-cycles`).innerText();
  return Number(text.replace(/[^0-9]/g, ''));
}

/** Elements among `selector` whose text is cut off (wider than their box). */
async function truncated(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluateAll((els) =>
    els.filter((e) => e.scrollWidth > e.clientWidth).map((e) => `${e.textContent ?? ''} (${e.scrollWidth} > ${e.clientWidth})`));
}

test.beforeEach(async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
});

test('4: a miss shows lookup, insert and write-protect, summing to the old single cache stage; no stage name is cut off', async ({ page }) => {
  await page.goto('/?example=lapic-microbench');
  await editorReady(page);
  await expect(page.getByTestId('strategy-select')).toHaveValue('icache');
  await page.getByTestId('btn-step-exit').click();
  const pipe = page.getByTestId('exit-pipeline');
  await expect(pipe).toContainText('exit #0');
  await expect(pipe.locator('[data-stage="icache"]')).toContainText('miss');
  for (const s of ['icache', 'insert', 'protect']) await expect(pipe.locator(`[data-stage="${s}"]`)).toBeVisible();
  await expect(pipe.locator('[data-stage="icache"] .xs-pipe-label')).toContainText('lookup');
  await expect(pipe.locator('[data-stage="insert"] .xs-pipe-label')).toContainText('insert');
  await expect(pipe.locator('[data-stage="protect"] .xs-pipe-label')).toContainText('write-protect');
  const pages = Number(/(\d+) pages?/.exec((await pipe.locator('[data-stage="protect"]').getAttribute('title')) ?? '')?.[1]);
  expect(pages).toBeGreaterThan(0);
  // The old single stage charged lookup + insert + the protection of each page + one INVEPT.
  const m = COST_PRESETS[DEFAULT_COST_PRESET];
  expect(await cardCycles(page, 'icache')).toBe(m.icacheLookup);
  expect(await cardCycles(page, 'insert')).toBe(m.icacheInsert);
  expect(await cardCycles(page, 'protect')).toBe(pages * m.eptProtectPage + m.invept);
  const sum = (await cardCycles(page, 'icache')) + (await cardCycles(page, 'insert')) + (await cardCycles(page, 'protect'));
  expect(sum).toBe(m.icacheLookup + m.icacheInsert + pages * m.eptProtectPage + m.invept);
  await page.waitForTimeout(2000); // the stages light up one after another
  expect(await truncated(page, '[data-testid="exit-pipeline"] .xs-pipe-label')).toEqual([]);
  await pipe.screenshot({ path: `${ART}/exit-truth-4-pipeline-1280.png` });
  await page.setViewportSize({ width: 1920, height: 1080 });
  expect(await truncated(page, '[data-testid="exit-pipeline"] .xs-pipe-label')).toEqual([]);
});

type EditorApi = {
  getModel(): { getLineContent(n: number): string };
};

/** The run marks the editor shows after each line ("  1 exit · …"), by line text. */
async function lineMarks(page: Page): Promise<{ text: string; mark: string; cut: boolean }[]> {
  return page.evaluate(() => {
    const m = (window as unknown as { __exitscopeEditor: EditorApi }).__exitscopeEditor.getModel();
    // The counts after each exiting line (content widgets of the editor, one per line).
    return [...document.querySelectorAll<HTMLElement>('[data-testid="editor"] .line-stat[data-line]')]
      .map((n) => ({ text: m.getLineContent(Number(n.dataset.line)).trim(), mark: (n.textContent ?? '').trim(), cut: n.classList.contains('line-stat-cut') }));
  });
}

async function runToEnd(page: Page): Promise<void> {
  await expect(page.getByTestId('btn-run')).toBeEnabled({ timeout: 30_000 });
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });
}

test('5: the SMC example says why each write-protect fault happened, what wrote and what it invalidated', async ({ page }) => {
  await page.goto('/?example=smc-mmio');
  await editorReady(page);
  await expect(page.getByTestId('strategy-select')).toHaveValue('icache');
  await page.getByTestId('layout-select').selectOption('cache');
  // Exit by exit: no icache row, the struck-through ones an invalidation just removed
  // included, ever shows a negative age.
  let seen = 0;
  for (let i = 1; i <= 30 && (await page.getByTestId('stop-reason').innerText()) !== 'halted'; i++) {
    await page.getByTestId('btn-step-exit').click();
    await expect(page.getByTestId('btn-step-exit')).toBeEnabled({ timeout: 10_000 });
    await page.waitForTimeout(150); // the table refreshes at most every 100 ms
    const ages = await page.getByTestId('icache-row').evaluateAll((rows) => rows.map((r) => r.lastElementChild?.textContent ?? ''));
    seen += ages.length;
    for (const a of ages) expect(a).toMatch(/^\d+$/);
  }
  expect(seen).toBeGreaterThan(0);
  await expect(page.getByTestId('stop-reason')).toHaveText('halted');
  const log = page.getByTestId('event-log');
  await log.getByTestId('filter-ept-violation').click();
  const rows = log.getByTestId('exit-row');
  await expect(rows.first()).toHaveAttribute('data-reason', 'ept-violation');
  // The first faults are the CPU setting A/D bits on a page-table page; later ones the guest's
  // own stores to the code page. Every row says which, and what it invalidated.
  await expect(rows.first()).toContainText("the CPU's A/D-bit update of page-table page");
  await expect(rows.first()).toContainText('invalidated 1 cache entry');
  const store = rows.filter({ hasText: 'guest store to a code page 0x100000' }).first();
  await expect(store).toBeVisible();
  await expect(store).toContainText('mov byte ptr');
  await store.click();
  const detail = page.getByTestId('exit-pipeline').getByTestId('wp-detail');
  await expect(detail).toHaveAttribute('data-cause', 'code-store');
  await expect(detail).toContainText('Cause: guest store to a code page 0x100000');
  await expect(detail).toContainText(/Instruction: mov byte ptr \[100049h\],[23]0h at 0x[0-9a-f]+ \(line \d+\)/);
  await expect(detail).toContainText(/Invalidated: 1 cache entry \(0x[0-9a-f]+ mov eax, \[rbx\+0x[23]0\]\)/);
  await page.screenshot({ path: `${ART}/exit-truth-5-smc.png` });
});

test("5: in the CPU-bound loop, a loop line's exit is the timer interrupt's A/D update, and the editor says so", async ({ page }) => {
  await page.goto('/?example=cpu-bound-timer');
  await editorReady(page);
  await expect(page.getByTestId('strategy-select')).toHaveValue('icache');
  await runToEnd(page);
  const marks = await lineMarks(page);
  // The tick lands on whichever loop instruction the modeled clock reaches it at (imul, as the
  // clock is now; xor before the emulated instructions' own cycles went on it).
  const loop = ['add rax, rcx', 'imul rax, rax, 3', 'xor rax, rcx', 'dec ecx', 'jnz .work'];
  const onLoop = marks.filter((m) => loop.some((l) => m.text.startsWith(l)));
  expect(onLoop).toHaveLength(1);
  const xor = onLoop[0];
  // Whole, or shorter where the editor leaves too little room after the code (its hover says it
  // all); shown, not cut (the page counted a cut mark's hidden text).
  expect(xor?.mark).toMatch(/^1 exit \((event delivery's A\/D-bit update, not this instruction's own access|by event delivery)\)$|^1× \(delivery\)$/);
  expect(xor?.cut).toBe(false);
  const log = page.getByTestId('event-log');
  await log.getByTestId('filter-ept-violation').click();
  const delivery = log.getByTestId('exit-row').filter({ hasText: 'while delivering interrupt 32' });
  await expect(delivery).toHaveCount(1);
  await delivery.click();
  const detail = page.getByTestId('exit-pipeline').getByTestId('wp-detail');
  await expect(detail).toHaveAttribute('data-cause', 'ad-update');
  await expect(detail).toContainText("not the instruction's own write");
  // Tick vector 32's gate: the firmware's IDT at 0x1000, 16 bytes a gate.
  await expect(detail).toContainText('the interrupt came first, and delivering it walked the page tables to read its gate in the IDT (0x1200)');
  await expect(detail).toContainText('Invalidated: 4 cache entries');
  // A fault's cycles have 5 digits ("10,010"): the log's cycles column shows them whole at 1280x720.
  const cycles = log.getByTestId('exit-row').locator('[role="cell"]:last-child');
  expect(await cycles.count()).toBeGreaterThan(0);
  for (const c of await cycles.all()) {
    const fit = await c.evaluate((el) => ({ text: el.textContent ?? '', cut: el.scrollWidth > el.clientWidth }));
    expect(fit.text, 'a cycles cell').toMatch(/^\d{1,3}(,\d{3})+$|^\d+$/);
    expect(fit.cut, `cycles ${fit.text} is cut off`).toBe(false);
  }
  // So are the other cells but the instruction: "ept-viol." (short in a narrow pane), not "ept-viola…".
  const reasons = await log.getByTestId('exit-row').locator('[role="cell"]:nth-child(3)').evaluateAll((els) =>
    els.map((el) => ({ text: (el as HTMLElement).innerText, cut: el.scrollWidth > el.clientWidth })));
  expect(reasons.length).toBeGreaterThan(0);
  for (const r of reasons) {
    expect(r.text).toMatch(/^(ept-violation|ept-viol\.)$/);
    expect(r.cut, `reason ${r.text} is cut off`).toBe(false);
  }
  await page.screenshot({ path: `${ART}/exit-truth-5-cpu-bound.png` });
});

test('5: in the CPU-bound loop each tick kicks the vCPU out: an external-interrupt exit, VM exit and resume only, said why, on no line\'s count', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?example=cpu-bound-timer');
  await editorReady(page);
  await runToEnd(page);
  const log = page.getByTestId('event-log');
  await log.getByTestId('filter-external-interrupt').click();
  const kicks = log.getByTestId('exit-row').and(page.locator('[data-reason="external-interrupt"]'));
  // The filter has been applied: the log lists kicks only (a click before that could meet another row).
  await expect(log.getByTestId('exit-row').and(page.locator(':not([data-reason="external-interrupt"])'))).toHaveCount(0);
  expect(await kicks.count()).toBeGreaterThan(10);
  await kicks.first().click();
  const pipeline = page.getByTestId('exit-pipeline');
  await expect(pipeline).toContainText('external-interrupt');
  await expect(pipeline).toContainText('The LAPIC timer fired while the guest computed');
  await expect(pipeline.locator('.xs-pipe-node')).toHaveCount(2); // VM exit, resume
  await expect(pipeline).toContainText('This exit cost 1,850 modeled cycles');
  // The kick names where the guest was, but no loop line counts it as its exit (test 5 above: one mark, the delivery's).
  await expect(pipeline.getByTestId('pipeline-line')).toBeVisible();
  // In the Exit layout the note that says why is on screen at 1280x720, under the two cards.
  await page.getByTestId('layout-select').selectOption('exit');
  await expect(pipeline.getByText('The LAPIC timer fired while the guest computed')).toBeInViewport({ ratio: 1 });
  await expect(pipeline.getByText(/This exit cost/)).toBeInViewport({ ratio: 1 });
  await expect(pipeline.locator('.xs-pipe-total')).toHaveCSS('opacity', '1'); // the cards have lit up
  await page.screenshot({ path: `${ART}/exit-truth-5-kick.png` });
});

test("4: a push and a movs against the APIC: emulate holds their operand's walk and copy, the cost line says how much, and a hit's walk panel says the operand was walked", async ({ page }) => {
  await openSource(page, [
    '_start:',
    '  mov rbx, LAPIC_BASE',
    '  mov ecx, 2',
    'again:',
    '  push qword [rbx + LAPIC_ID]',
    '  pop qword [rbx + LAPIC_TPR]',
    '  lea rsi, [value]',
    '  lea rdi, [rbx + LAPIC_TPR]',
    '  movsd',
    '  dec ecx',
    '  jnz again',
    '  hlt',
    'section .data',
    'value: dd 0x20',
  ].join('\n'));
  await expect(page.getByTestId('strategy-select')).toHaveValue('icache');
  await page.getByTestId('layout-select').selectOption('exit');
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 30_000 });
  const m = COST_PRESETS[DEFAULT_COST_PRESET];
  // A full walk of the stack page (24 references, 5 pages held) and one 8-byte copy.
  const operand = 24 * (m.walkRefLatency + m.walkRefOverhead) + 5 * m.mapPage + m.copyBase + 8 * m.copyPerByte;
  await page.getByTestId('timeline').fill('0');
  const pipe = page.getByTestId('exit-pipeline');
  await expect(pipe).toContainText('exit #0');
  await expect(pipe).toContainText('push qword ptr [rbx+0x20]');
  expect(await cardCycles(page, 'emulate')).toBe(m.emulate + operand);
  await expect(pipe.locator('[data-stage="emulate"]')).toHaveAttribute('title', /operand walk: 24 refs, 5 pages held, operand copy: 8 bytes/);
  await expect(pipe).toContainText(`Walking and copying its memory operand took ${operand.toLocaleString('en-US')} of them, in emulate, which no cache saves.`);
  // Walking the stack set the dirty bit of its entry, in the page table the push's own entry protected.
  await expect(pipe.locator('[data-stage="invalidate"]')).toHaveAttribute('title', /1 entry, page 0x13000: the VMM's own write/);
  await expect(pipe).toContainText("The VMM's own write to a page the cache protects (its walk setting an accessed or dirty bit, or its copy) dropped the entries: no fault, but a fault's work, charged in invalidate.");
  // Exit #6, the second movsd, hits: no walk of RIP, but its source operand in RAM was walked.
  await page.getByTestId('timeline').fill('6');
  await expect(pipe).toContainText('exit #6');
  await expect(pipe.locator('[data-stage="icache"]')).toContainText('hit');
  await expect(pipe.locator('[data-stage="emulate"]')).toHaveAttribute('title', /operand walk: 24 refs, 5 pages held, operand copy: 4 bytes/);
  await expect(page.getByTestId('walk-grid')).toContainText("cache hit: no walk of RIP. The decoded instruction came from the cache, so the VMM skipped RIP's page walk, the fetch and the decode. Emulating it still walked its memory operand (24 references, 5 pages held: the pipeline's emulate stage), which this panel does not draw.");
  await page.screenshot({ path: `${ART}/exit-truth-4-operand-hit.png` });
});

test('6: an instruction the VMM cannot emulate exits, shows up to the decode that refused it, with its full message, its line marked, a true hover and no bench row', async ({ page }) => {
  await openSource(page, '; xor is not in bhyve\'s opcode table\n_start:\n    mov rbx, LAPIC_BASE\n    mov eax, 1\n    xor dword [rbx + LAPIC_TPR], eax\n    hlt\n');
  // Before any run, the hover on the line tells the truth: bhyve's table has no xor.
  const line5 = page.locator('[data-testid="editor"] .view-line').filter({ hasText: 'xor dword' });
  await line5.locator('span', { hasText: 'xor' }).first().hover();
  const hover = page.locator('.monaco-hover').filter({ hasText: 'cannot emulate' });
  await expect(hover).toBeVisible({ timeout: 10_000 });
  await expect(hover).toContainText("opcode 31 (xor");
  await expect(hover).toContainText("is not in bhyve's opcode table");
  await expect(hover).not.toContainText('decodes and emulates');
  await page.mouse.move(0, 0);

  // The log lists the exit; the pipeline shows it up to the decode that refused it.
  const row = await runToItsOnlyExit(page, 'unsupported', 'mmio');
  await row.click();
  const pipe = page.getByTestId('exit-pipeline');
  await expect(pipe.locator('[data-stage="decode"]')).toHaveClass(/xs-pipe-refused/);
  await expect(pipe.locator('[data-stage="decode"]')).toContainText('refused');
  await expect(pipe.locator('[data-stage="stop"]')).toBeVisible();
  await expect(pipe.locator('[data-stage="emulate"]')).toHaveCount(0);
  // The whole message is readable: the same text the machine stopped with, not cut off.
  const msg = pipe.getByTestId('exit-stop-message');
  await expect(msg).toContainText("unsupported instruction at 0x");
  await expect(msg).toContainText("(bhyve's emulator cannot decode it)");
  expect(await msg.evaluate((e) => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight + 1)).toBe(true);
  // And above the workspace, in full, while the stop holds.
  const banner = page.getByTestId('stop-banner');
  await expect(banner).toBeVisible();
  expect((await banner.innerText()).replace(/^.*?: /, '')).toBe((await msg.innerText()).replace(/^.*?: /, ''));
  expect(await banner.locator('span').evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
  // The editor marks the line, and no bench row comes from a run that did not complete.
  const marks = await lineMarks(page);
  // "1×" where the default layout's editor leaves no room for "1 exit" after the code; shown.
  expect(marks.find((m) => m.text.startsWith('xor dword'))).toMatchObject({ mark: expect.stringMatching(/^1( exit|×)$/), cut: false });
  await expect(page.getByTestId('rip-outside')).toHaveCount(0); // RIP is on that line
  await expect(page.getByTestId('bench-row')).toHaveCount(0);
  await page.screenshot({ path: `${ART}/exit-truth-6-unsupported.png` });
});

test('6: code run from the LAPIC page exits, is counted and logged, and the pipeline says why the VMM refused it', async ({ page }) => {
  await openSource(page, '_start:\n    mov rbx, LAPIC_BASE\n    jmp rbx\n');
  // The fetch exited (an MMIO exit, as every LAPIC access is; the page is not mapped in the EPT): one exit, not 0.
  await runToItsOnlyExit(page, 'error', 'mmio');
  const pipe = page.getByTestId('exit-pipeline');
  await expect(pipe).toContainText('rip 0xfee00000');
  await expect(pipe.getByTestId('exit-stop-message')).toContainText('the instruction is on a device page (gpa 0xfee00000), and the VMM fetches bytes from guest memory only');
  await expect(pipe.locator('[data-stage="stop"]')).toBeVisible();
  await expect(pipe.locator('[data-stage="fetch"]')).toHaveCount(0);
  await expect(page.getByTestId('stop-banner')).toContainText('the instruction is on a device page');
  // The VMM's walk of RIP ends on the LAPIC page: the grid says where and why, in the cell's own words.
  await expect(page.getByTestId('walk-grid').locator('.xs-walk-faultmsg')).toHaveText('walk stopped at reference 24: not present: a device (MMIO) page');
  // The editor has no line for RIP's arrow: its bar says where the vCPU is.
  await expect(page.getByTestId('rip-outside')).toHaveText('➜ RIP 0xfee00000: on no line of the program');
  await page.screenshot({ path: `${ART}/exit-truth-6-fetch-from-device.png` });
});

test('6: a triple fault is an exit of its own: counted, logged, drawn with nothing refused, its message in full', async ({ page }) => {
  await openSource(page, '_start:\n    mov rax, 0x40000000\n    jmp rax\n');
  await runToItsOnlyExit(page, 'triple-fault', 'triple-fault');
  const pipe = page.getByTestId('exit-pipeline');
  await expect(pipe.locator('[data-stage="exit"]')).not.toHaveClass(/xs-pipe-refused/);
  await expect(pipe.locator('[data-stage="stop"]')).toBeVisible();
  await expect(page.getByTestId('stop-banner')).toContainText('triple fault: #GP while delivering #DF (after #PF, then #GP) at rip 0x40000000');
  await page.screenshot({ path: `${ART}/exit-truth-6-triple-fault.png` });
});

test('10: while Monaco loads, the editor pane shows the source read-only (never "Loading the editor…")', async ({ page }) => {
  // Hold Monaco's chunk back so the wait is visible, then let it through.
  let release: () => void = () => {};
  const held = new Promise<void>((r) => { release = r; });
  await page.route(/\/assets\/AsmEditor-[^/]*\.js$/, async (route) => { await held; await route.continue(); });
  await page.goto('/');
  const preview = page.getByTestId('editor-preview');
  await expect(preview).toBeVisible({ timeout: 20_000 });
  await expect(preview).toContainText('Welcome to exitscope');
  expect(await preview.evaluate((e) => e.tagName)).toBe('PRE'); // plain text: nothing to edit yet
  await expect(page.getByText('Loading the editor')).toHaveCount(0);
  release();
  await editorReady(page);
  await expect(preview).toHaveCount(0);
  // The editor holds the very text the preview showed.
  const text = await page.evaluate(() => (window as unknown as { __exitscopeEditor: { getValue(): string } }).__exitscopeEditor.getValue());
  expect(text).toContain('Welcome to exitscope');
});

test('10: the event log\'s column headers are readable at 1280x720 in every layout preset', async ({ page }) => {
  await page.goto('/?example=lapic-microbench');
  await editorReady(page);
  for (const preset of ['all', 'exit', 'cache', 'numbers']) {
    await page.getByTestId('layout-select').selectOption(preset);
    const heads = page.getByTestId('event-log').locator('[role="columnheader"]');
    await expect(heads.first()).toBeVisible();
    const cut = await heads.evaluateAll((els) => els.filter((e) => e.getClientRects().length > 0 && e.scrollWidth > e.clientWidth)
      .map((e) => `${e.textContent} (${e.scrollWidth} > ${e.clientWidth})`));
    expect(cut, `layout ${preset}`).toEqual([]);
    // ...and the header row fits its table: no column is pushed out of view.
    const right = await page.getByTestId('event-log').locator('[role="table"]').evaluate((t) => t.getBoundingClientRect().right);
    const past = await heads.evaluateAll((els, r) => els.filter((e) => e.getClientRects().length > 0 && e.getBoundingClientRect().right > r + 0.5)
      .map((e) => e.textContent), right);
    expect(past, `layout ${preset}`).toEqual([]);
    for (const h of await heads.all()) if (await h.isVisible()) expect(await h.innerText()).not.toContain('…');
  }
  await page.getByTestId('event-log').screenshot({ path: `${ART}/exit-truth-10-log-headers.png` });
});

test('10: every line that exits shows its count at 1280x720 in every layout preset, at the end and at a past exit, never over its code', async ({ page }) => {
  // lapic-microbench (lesson 4's program): the loop's four LAPIC lines exit 5,000 times each, the
  // two outs and the hlt once. In a preset's narrow editor the loop lines had shown no count
  // (the line beside the edge: "5,000 exits" had no room), read as "this line does not exit";
  // at exit 10,002 "2.5k×" fitted neither beside lines 15 and 18 nor in their indentation.
  await page.goto('/?example=lapic-microbench');
  await editorReady(page);
  await runToEnd(page);
  const loop = [13, 15, 16, 18];
  const atEnd = new Map<number, RegExp>([...loop.map((l) => [l, /^(5,000 exits( · 4,999 hits)?|5k×)$/] as const), [22, /^1( exit|×)$/], [24, /^1( exit|×)$/], [25, /^1( exit|×)$/]]);
  // Seen as exit #10,002 is taken: 2,500 or 2,501 passes of the loop, no out or hlt yet.
  const past = new Map<number, RegExp>(loop.map((l) => [l, /^(2,50[01] exits( · 2,\d{3} hits)?|2\.5k×)$/] as const));
  for (const [when, want] of [['end', atEnd], ['exit 10002', past], ['scrolled', past]] as const) {
    if (when === 'scrolled') {
      // A short window: the editor scrolls, and the counts before the code move with their lines.
      await page.setViewportSize({ width: 1280, height: 520 });
    } else if (when !== 'end') {
      await page.getByTestId('timeline').fill('10002');
      await expect(page.getByTestId('stat-exits')).toHaveText('10,002');
    }
    for (const preset of when === 'scrolled' ? ['all'] : ['all', 'exit', 'cache', 'numbers']) {
      await page.getByTestId('layout-select').selectOption(preset);
      await page.evaluate((top) => {
        const ed = (window as unknown as { __exitscopeEditor: { setScrollLeft(px: number): void; setScrollTop(px: number): void } }).__exitscopeEditor;
        ed.setScrollTop(top);
        ed.setScrollLeft(0);
      }, when === 'scrolled' ? 8 * 18 : 0);
      const shown = () => page.evaluate(() => {
        type Ed = {
          getModel(): { getLineContent(n: number): string };
          getScrolledVisiblePosition(p: { lineNumber: number; column: number }): { left: number } | null;
          getDomNode(): HTMLElement;
          getLayoutInfo(): { decorationsLeft: number };
        };
        const ed = (window as unknown as { __exitscopeEditor: Ed }).__exitscopeEditor;
        const host = document.querySelector('[data-testid="editor"]')!;
        const area = host.querySelector('.monaco-scrollable-element')!.getBoundingClientRect();
        const edLeft = ed.getDomNode().getBoundingClientRect().left;
        // A count before its code may reach into the gutter, not over the exit mark.
        const mark = [...host.querySelectorAll('.exit-line-mark')].map((m) => m.getBoundingClientRect().right);
        const from = mark.length > 0 ? Math.max(...mark) : area.left;
        return [...host.querySelectorAll<HTMLElement>('.line-stat[data-line]')]
          .filter((n) => n.style.visibility !== 'hidden' && getComputedStyle(n).opacity !== '0' && (n.textContent ?? '') !== '')
          .map((n) => {
            const line = Number(n.dataset.line);
            const content = ed.getModel().getLineContent(line);
            const code = content.replace(/;.*$/, '').trimEnd();
            const indent = /^\s*/.exec(content)![0].length;
            const x = (column: number) => edLeft + (ed.getScrolledVisiblePosition({ lineNumber: line, column })?.left ?? NaN);
            // The count's text, without its gap.
            const r = document.createRange();
            r.selectNodeContents(n);
            const t = r.getBoundingClientRect();
            const codeStart = x(indent + 1);
            const codeEnd = x(code.length + 1);
            const lineTop = ed.getDomNode().getBoundingClientRect().top + (ed.getScrolledVisiblePosition({ lineNumber: line, column: 1 }) as unknown as { top: number }).top;
            return {
              line, text: n.textContent ?? '',
              inside: t.left >= from - 0.5 && t.right <= area.right + 0.5,
              onLine: Math.abs(t.top - lineTop) < 6,
              // Beside the code (after its end, or before its start), or over code the edge cuts anyway.
              clear: t.left >= codeEnd - 0.5 || t.right <= codeStart + 0.5 || codeEnd > area.right,
            };
          });
      });
      await expect.poll(async () => (await shown()).map((c) => c.line).sort((a, b) => a - b), { message: `${when}, layout ${preset}: the lines showing a count` })
        .toEqual([...want.keys()]);
      for (const c of await shown()) {
        const what = `${when}, layout ${preset}, line ${c.line} "${c.text}"`;
        expect(c.text, what).toMatch(want.get(c.line)!);
        expect(c.inside, `${what} inside the editor, right of the exit mark`).toBe(true);
        expect(c.onLine, `${what} on its line`).toBe(true);
        expect(c.clear, `${what} clear of its code`).toBe(true);
      }
      await page.getByTestId('editor').screenshot({ path: `${ART}/exit-truth-10-line-counts-${when.replace(' ', '-')}-${preset}.png` });
    }
  }
});

test('10: on a fresh profile, opening an example does not claim a previous draft was kept', async ({ page }) => {
  // beforeEach cleared localStorage: the editor holds the starter program, nobody's draft.
  await page.goto('/');
  await editorReady(page);
  await page.getByTestId('btn-examples').click();
  await page.getByTestId('example-smc-mmio').click();
  const notice = page.getByTestId('notice');
  await expect(notice).toContainText('Opened the example');
  await expect(notice).not.toContainText('previous draft');
  await expect(page.getByTestId('restore-draft')).toHaveCount(0);
  // A draft the reader did write is still set aside, and offered back.
  await page.evaluate(() => (window as unknown as { __exitscopeEditor: { setValue(v: string): void } }).__exitscopeEditor.setValue('; mine\n_start:\n    hlt\n'));
  await page.getByTestId('btn-examples').click();
  await page.getByTestId('example-lapic-microbench').click();
  await expect(page.getByTestId('notice')).toContainText('Your previous draft is kept');
  await expect(page.getByTestId('restore-draft')).toBeVisible();
});
