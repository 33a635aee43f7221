// npm test: type-check, lint, unit tests (vitest), build, e2e (Playwright); then one plain line
// "N passed, N failed" summing both test runners. Exits non-zero if anything failed.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, rmSync } from 'node:fs';

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
run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}/vitest.json`]);
const v = readJson(`${out}/vitest.json`);
if (v) { passed += v.numPassedTests; failed += v.numFailedTests; } else { broken = true; console.log('vitest produced no report'); }

if (!process.env.SKIP_E2E) {
  console.log('\n== build');
  if (run('npx', ['vite', 'build']) !== 0) { broken = true; console.log('build failed'); }
  else {
    console.log('\n== e2e tests (playwright)');
    run('npx', ['playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: `${out}/playwright.json` });
    const p = readJson(`${out}/playwright.json`);
    if (p?.stats) { passed += p.stats.expected + (p.stats.flaky ?? 0); failed += p.stats.unexpected; }
    else { broken = true; console.log('playwright produced no report'); }
  }
}

if (broken && failed === 0) failed = 1; // a failed type-check, lint or build counts as a failure
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
