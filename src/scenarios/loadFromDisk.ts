/** The scenarios read from disk, for Node scripts run with tsx (CLI, bench). */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScenario, sortScenarios, type Scenario } from './catalog';

export const SCENARIO_DIR = dirname(fileURLToPath(import.meta.url));

export function loadScenarios(): Scenario[] {
  return sortScenarios(
    readdirSync(SCENARIO_DIR)
      .filter((f) => f.endsWith('.s'))
      .map((f) => parseScenario(f.slice(0, -2), readFileSync(join(SCENARIO_DIR, f), 'utf8'))),
  );
}
