// npm test: type-check, lint, unit tests (vitest), build, e2e (Playwright); then one plain line
// "N passed, N failed" summing both test runners. Exits non-zero if anything failed.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { freePort } from './freePort.mjs';
import { tally } from './testTally.mjs';

const out = '.test-results';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}
function readJson(file) {
  try { return JSON.parse(readFileSync(file, 'utf8')); } catch { return null; }
}
/** Adds a runner's tally to the totals; says why when it counts a failure no test reported. */
function add(name, status, counts) {
  const t = tally(name, status, counts);
  passed += t.passed;
  failed += t.failed;
  if (t.problem) console.log(t.problem);
}

let passed = 0;
let failed = 0;
let broken = false;

for (const [name, cmd, args] of [
  ['typecheck', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']],
  ['lint', 'npx', ['eslint', '--max-warnings=0', '--no-error-on-unmatched-pattern', '.']],
]) {
  console.log(`\n== ${name}`);
  if (run(cmd, args) !== 0) { console.log(`${name} failed`); broken = true; }
}

console.log('\n== unit tests (vitest)');
const vitestStatus = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}/vitest.json`]);
const v = readJson(`${out}/vitest.json`);
add('vitest', vitestStatus, v && { passed: v.numPassedTests, failed: v.numFailedTests });

if (!process.env.SKIP_E2E) {
  console.log('\n== build');
  if (run('npx', ['vite', 'build']) !== 0) { broken = true; console.log('build failed'); }
  else {
    console.log('\n== e2e tests (playwright)');
    // The app's preview server on a free port unless one is given: a port another checkout's
    // server (or one left over) holds stopped the whole e2e run before its first test.
    const port = process.env.E2E_PORT ?? String(await freePort());
    const status = run('npx', ['playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: `${out}/playwright.json`, E2E_PORT: port });
    const p = readJson(`${out}/playwright.json`);
    add('playwright', status, p?.stats ? { passed: p.stats.expected + (p.stats.flaky ?? 0), failed: p.stats.unexpected } : null);
  }
}

if (broken && failed === 0) failed = 1; // a failed type-check, lint or build counts as a failure
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
