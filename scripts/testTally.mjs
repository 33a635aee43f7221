// What one test runner adds to npm test's last line, "N passed, N failed" (scripts/test-all.mjs).

/**
 * `status`: the runner's exit status; `counts`: its tests passed and failed, from its JSON
 * report (null: it wrote none). A runner that exited non-zero with no failed test counted failed
 * outside every test (a test file that did not load, a web server that did not start: an e2e
 * run once counted 0 tests and 0 failures with its server's port taken), and that is a failure
 * too; so is a runner with no report.
 * @param {string} name
 * @param {number} status
 * @param {{ passed: number, failed: number } | null} counts
 * @returns {{ passed: number, failed: number, problem: string | null }}
 */
export function tally(name, status, counts) {
  if (!counts) return { passed: 0, failed: 1, problem: `${name} produced no report` };
  if (status !== 0 && counts.failed === 0) {
    return { passed: counts.passed, failed: 1, problem: `${name} exited with status ${status} but counted no failed test: it failed outside the tests (see its output above)` };
  }
  return { passed: counts.passed, failed: counts.failed, problem: null };
}
