import { describe, expect, it } from 'vitest';
import { parseScenario } from './catalog';
import { SCENARIOS } from './index';
import { loadScenarios } from './loadFromDisk';

describe('scenario catalog', () => {
  it('reads title, what to watch and the seed figure from header comments', () => {
    const s = parseScenario('x', '; title: T\n; watch: W\n; seed: 35%\n_start: hlt\n');
    expect(s).toMatchObject({ name: 'x', title: 'T', watch: 'W', seedFigure: '35%' });
  });

  it('bundles every scenario with a title and what to watch, the same in Vite and from disk', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(10);
    for (const s of SCENARIOS) {
      expect(s.title, s.name).not.toBe(s.name);
      expect(s.watch.length, s.name).toBeGreaterThan(20);
      expect(s.source, s.name).toMatch(/\bhlt\b/);
    }
    expect(loadScenarios().map((s) => s.name)).toEqual(SCENARIOS.map((s) => s.name));
  });
});
