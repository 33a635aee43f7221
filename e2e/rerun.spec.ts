/**
 * Run again after a halted run, and Reset, against the built app and the real machine Worker:
 * both reload the program (the Worker builds a new machine). From the click until the new run's
 * first state the panels show the previous run, marked as such (aria-busy), never their empty
 * placeholders, and keep their elements; then they show the new run: Run, its first frame;
 * Reset, its exit 0. A MutationObserver records the page after every DOM update (every React
 * commit), and a requestAnimationFrame loop what each frame shows.
 */
import { test, expect, type Page } from '@playwright/test';

/** What one DOM update (or one animation frame) showed. */
interface Seen {
  exits: string;
  state: string;
  /** A side's machine area says it shows the previous run (a reload is on its way). */
  busy: boolean;
  /** The empty-state notes shown, as "pane: text". */
  empties: string[];
  /** The registers panel is the element it was at the click, and in the page. */
  sameRegisters: boolean;
  /** The "N instructions retired" line of the registers panel. */
  regsRetired: string;
  logRows: number;
  icacheRows: number;
  /** The timeline's end (its range's max). */
  timelineEnd: string;
  ripLines: number;
}

interface Record {
  commits: Seen[];
  frames: Seen[];
  /** DOM nodes added and removed in the machine area (all panels and the stats strip) until the new run shows. */
  added: number;
  removed: number;
  addedByPane: { [pane: string]: number };
  removedByPane: { [pane: string]: number };
  /** The new run shows: its state is not 'restarting' and not the halted state the recording started in. */
  sawNewRun: boolean;
}

const recorded = (page: Page) => page.evaluate(() => (window as unknown as { __rerun: Record }).__rerun);

async function stat(page: Page, id: string): Promise<number> {
  return Number(((await page.getByTestId(id).textContent()) ?? '').replace(/[,%\s]/g, ''));
}

/** Installs the recorder; it starts with the state the page shows now. */
function record(page: Page): Promise<void> {
  return page.evaluate(() => {
    const machine = document.querySelector('.machine') as HTMLElement;
    const registers = document.querySelector('[data-testid="registers"]');
    const seen = (): Seen => ({
      exits: document.querySelector('[data-testid="stat-exits"]')?.textContent ?? '',
      state: document.querySelector('[data-testid="stop-reason"]')?.textContent ?? '',
      busy: document.querySelector('.machine[aria-busy="true"]') !== null,
      empties: [...machine.querySelectorAll('.xs-empty, .pane-empty')].map((e) => `${(e.closest('[data-pane]') as HTMLElement | null)?.dataset.pane}: ${e.textContent}`),
      sameRegisters: registers !== null && registers.isConnected && document.querySelector('[data-testid="registers"]') === registers,
      regsRetired: document.querySelector('[data-testid="registers"] .xs-regs > .xs-note')?.textContent ?? '',
      logRows: document.querySelectorAll('[data-testid="exit-row"]').length,
      icacheRows: document.querySelectorAll('[data-testid="icache-row"]').length,
      timelineEnd: document.querySelector('[data-testid="timeline"]')?.getAttribute('max') ?? '',
      ripLines: document.querySelectorAll('.rip-line').length,
    });
    const rec: Record = { commits: [seen()], frames: [], added: 0, removed: 0, addedByPane: {}, removedByPane: {}, sawNewRun: false };
    const before = JSON.stringify(rec.commits[0]);
    (window as unknown as { __rerun: Record }).__rerun = rec;
    const count = (n: Node) => {
      let k = 0;
      const w = document.createTreeWalker(n);
      for (let c: Node | null = w.currentNode; c; c = w.nextNode()) k++;
      return k;
    };
    const paneOf = (n: Node) => ((n instanceof Element ? n : n.parentElement)?.closest('[data-pane]') as HTMLElement | null)?.dataset.pane ?? 'strip';
    new MutationObserver((list) => {
      if (!rec.sawNewRun) {
        for (const m of list) {
          if (!machine.contains(m.target)) continue;
          const pane = paneOf(m.target);
          for (const n of m.addedNodes) { const k = count(n); rec.added += k; rec.addedByPane[pane] = (rec.addedByPane[pane] ?? 0) + k; }
          for (const n of m.removedNodes) { const k = count(n); rec.removed += k; rec.removedByPane[pane] = (rec.removedByPane[pane] ?? 0) + k; }
        }
      }
      const s = seen();
      if (!s.busy && s.state !== 'restarting' && JSON.stringify(s) !== before) rec.sawNewRun = true;
      const last = rec.commits[rec.commits.length - 1];
      if (JSON.stringify(s) !== JSON.stringify(last)) rec.commits.push(s);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['aria-busy', 'max', 'class'] });
    const frame = () => {
      rec.frames.push(seen());
      if (rec.frames.length < 2000) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
}

async function runToEnd(page: Page): Promise<number> {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto('/?example=lapic-microbench');
  await expect(page.getByTestId('stop-reason')).toHaveText('paused', { timeout: 20_000 });
  await expect(page.locator('[data-testid="editor"] .monaco-editor')).toBeVisible({ timeout: 20_000 });
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });
  const n = await stat(page, 'stat-exits');
  expect(n).toBeGreaterThan(1000);
  return n;
}

/** The empty-state notes `s` shows that the halted page did not. */
const newEmpties = (rec: Record, s: Seen) => s.empties.filter((e) => !rec.commits[0].empties.includes(e));

/**
 * Checks the restart: the registers panel is never replaced or emptied and the memory map never
 * empty; from the click to the new run, the previous run's figures, marked, and no empty state
 * the halted page did not show. Returns the first update that shows the new run.
 */
function checkRestart(rec: Record, n: number, label: string): Seen {
  for (const c of rec.commits) {
    expect(c.sameRegisters, JSON.stringify(c)).toBe(true);
    expect(c.empties.filter((e) => /^(registers|memory):/.test(e)), JSON.stringify(c)).toEqual([]);
  }
  const firstNew = rec.commits.findIndex((c, i) => i > 0 && !c.busy);
  expect(firstNew, JSON.stringify(rec.commits.slice(0, 4))).toBeGreaterThan(1);
  for (const c of rec.commits.slice(1, firstNew)) {
    expect(c, JSON.stringify(c)).toMatchObject({ busy: true, state: 'restarting', exits: n.toLocaleString('en-US') });
    expect(newEmpties(rec, c), JSON.stringify(c)).toEqual([]);
  }
  // Once the new run shows, nothing says "previous run" again.
  for (const c of rec.commits.slice(firstNew)) expect(c.busy).toBe(false);
  const frames = rec.frames.slice(0, rec.frames.findIndex((f) => !f.busy && f.state !== 'restarting' && f.state !== 'halted'));
  const placeholderFrames = frames.filter((f) => newEmpties(rec, f).length > 0 || !f.sameRegisters).length;
  console.log(`${label}: ${rec.added} DOM nodes added, ${rec.removed} removed in the machine area until the new run showed `
    + `(added ${JSON.stringify(rec.addedByPane)}, removed ${JSON.stringify(rec.removedByPane)}); `
    + `${placeholderFrames} of ${frames.length} animation frames before it with an empty state or a new registers panel; `
    + `${firstNew - 1} DOM updates marked previous`);
  expect(placeholderFrames).toBe(0);
  return rec.commits[firstNew];
}

test('Run after a halted run: the previous run, marked, until the new run\'s first frame, never an empty state; the end is the new run\'s', async ({ page }) => {
  const n = await runToEnd(page);
  const retiredEnd = await page.getByTestId('registers').locator('.xs-regs > .xs-note').innerText();

  await record(page);
  await page.getByTestId('btn-run').click();
  await expect.poll(async () => (await recorded(page)).sawNewRun, { timeout: 45_000 }).toBe(true);
  await expect(page.getByTestId('stop-reason')).toHaveText('halted', { timeout: 45_000 });
  const rec = await recorded(page);
  const first = checkRestart(rec, n, 'Run after halt');
  // The new run's first frame (running, or the end of a run shorter than a frame), its exit 0
  // when that frame came late, or 'starting' beside exit 0 until the figures show the running run.
  expect(['running', 'starting', 'halted', 'paused']).toContain(first.state);
  if (first.state === 'paused') expect(first).toMatchObject({ exits: '0', logRows: 0 });
  if (first.state === 'starting') expect(first).toMatchObject({ exits: '0' });
  // The end is the new run's: the Worker ran it again (deterministic: the first run's figures).
  await expect(page.getByTestId('stat-exits')).toHaveText(n.toLocaleString('en-US'));
  await expect(page.getByTestId('timeline')).toHaveAttribute('max', String(n));
  await expect(page.getByTestId('registers').locator('.xs-regs > .xs-note')).toHaveText(retiredEnd);
  await expect(page.locator('[data-testid="exit-row"]').last()).toHaveAttribute('data-seq', String(n - 1));
});

test('Reset after a halted run: the previous run, marked, then the new machine at exit 0 with no exit of the old run anywhere', async ({ page }) => {
  const n = await runToEnd(page);
  await record(page);
  await page.getByTestId('btn-reset').click();
  await expect.poll(async () => (await recorded(page)).sawNewRun, { timeout: 45_000 }).toBe(true);
  await expect(page.getByTestId('stop-reason')).toHaveText('paused');
  const rec = await recorded(page);
  const zero = checkRestart(rec, n, 'Reset after halt');
  expect(zero, JSON.stringify(rec.commits)).toMatchObject({ state: 'paused', exits: '0', logRows: 0, icacheRows: 0, timelineEnd: '0' });
  expect(zero.regsRetired).toMatch(/^not halted · 0 instructions retired/);
  // What the new machine at exit 0 has not done yet, the panels say so (no figure of the old run).
  await expect(page.getByTestId('event-log')).toContainText('No exits yet.');
  await expect(page.locator('[data-pane="charts"]')).toContainText('Charts fill in while the machine runs.');
  await expect(page.getByTestId('stat-hit-rate')).toHaveText('–');
});
