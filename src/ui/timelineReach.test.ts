import { describe, expect, it } from 'vitest';
import { reachReadout } from './timelineReach';

const MiB = 1024 * 1024;

describe('the timeline readout of its recording', () => {
  it('says how far back it reaches and how much of the budget it holds', () => {
    expect(reachReadout({ first: 0, bytes: 0.46 * MiB, budget: 64 * MiB }).text).toBe('reaches back to the start · 0.5 of 64 MiB');
    expect(reachReadout({ first: 12_288, bytes: 57.6 * MiB, budget: 64 * MiB }).text).toBe('reaches back to exit 12,288 · 58 of 64 MiB');
  });

  it('past the budget (the newest snapshot alone), says it is over, with a decimal so that the excess shows', () => {
    const r = reachReadout({ first: 16_384, bytes: 64.2 * MiB, budget: 64 * MiB });
    expect(r.text).toBe('reaches back to exit 16,384 · 64.2 MiB, over the 64 MiB budget');
    expect(r.title).toMatch(/over the 64 MiB budget: one snapshot is left, and it holds a copy of every page of RAM this run has written/);
  });
});
