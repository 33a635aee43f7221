/** The scenarios, bundled as raw text (Vite / vitest). Node scripts use ./loadFromDisk.ts. */
import { parseScenario, sortScenarios, type Scenario } from './catalog';

const files = import.meta.glob('./*.s', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

export const SCENARIOS: Scenario[] = sortScenarios(
  Object.entries(files).map(([path, source]) => parseScenario(path.replace(/^\.\/|\.s$/g, ''), source)),
);

export type { Scenario } from './catalog';
