/**
 * A lesson's focus layout, built as data like the named presets (src/store/layout.ts): the
 * panels the lesson names get the room and the spotlight, everything else stays one click away
 * as a dimmed title bar. Sized for 1280x720 with the lesson panel beside it.
 */
import type { Lesson } from '../../lessons/lesson';
import { placements, type LayoutSpec, type PanelPlacement } from '../../store/layout';
import { LAYOUT_PRESETS } from '../layoutPresets';

export function lessonLayout(lesson: Lesson, index: number): LayoutSpec {
  const every = placements(LAYOUT_PRESETS[0]).map((p) => p.id);
  const spot = lesson.panels.filter((p) => every.includes(p));
  const rest = every.filter((p) => !spot.includes(p));
  // Two spotlit panels on the left, a third (if any) on top of the right column.
  const left = spot.slice(0, 2);
  const right = spot.slice(2);
  const open = (id: string, size: number): PanelPlacement => ({ id, size });
  return {
    id: `lesson-${index + 1}`,
    title: `Lesson ${index + 1}`,
    blurb: `the panels lesson ${index + 1} is about`,
    editor: 24,
    columns: [
      { size: 56, panels: left.map((id, i) => open(id, left.length === 2 ? (i === 0 ? 45 : 55) : 100)) },
      { size: 44, panels: [...right.map((id) => open(id, 60)), ...rest.map((id) => ({ id, size: 20, collapsed: true }))] },
    ],
    spotlight: spot,
  };
}
