import { describe, expect, it } from 'vitest';
import { LESSONS } from '../../lessons';
import { isDimmed, placements } from '../../store/layout';
import { LAYOUT_PRESETS } from '../layoutPresets';
import { lessonLayout } from './lessonLayout';

describe('a lesson\'s focus layout', () => {
  it('opens and spotlights the lesson\'s panels, keeps every other panel as a dimmed title bar', () => {
    const every = placements(LAYOUT_PRESETS[0]).map((p) => p.id).sort();
    LESSONS.forEach((l, i) => {
      const spec = lessonLayout(l, i);
      expect(placements(spec).map((p) => p.id).sort(), l.name).toEqual(every);
      for (const p of placements(spec)) {
        const named = l.panels.includes(p.id);
        expect(!!p.collapsed, `${l.name} ${p.id}`).toBe(!named);
        expect(isDimmed(spec, p.id), `${l.name} ${p.id}`).toBe(!named);
      }
      expect(spec.id).toMatch(/^[a-z0-9-]+$/);
    });
  });
});
