/**
 * The named layouts a teacher switches between (the layout menu, Alt+1..4). Each is a
 * LayoutSpec (src/store/layout.ts): data, not code, so a lesson can build its own the same way.
 * Sized for a 1280x720 projector: what a preset is about gets the room, the rest stays one
 * click away as a title bar.
 */
import { DEFAULT_LAYOUT_ID, type LayoutSpec } from '../store/layout';

export { DEFAULT_LAYOUT_ID };

export const LAYOUT_PRESETS: readonly LayoutSpec[] = [
  {
    id: 'all',
    title: 'All',
    blurb: 'every panel open',
    // As in Cache: at 1280 px a wider editor left the stats strip too narrow for one row.
    editor: 30,
    columns: [
      { size: 50, panels: [
        { id: 'pipeline', size: 30 }, { id: 'walk', size: 36 }, { id: 'registers', size: 20 }, { id: 'console', size: 14 },
      ] },
      { size: 50, panels: [
        { id: 'icache', size: 22 }, { id: 'memory', size: 14 }, { id: 'log', size: 24 }, { id: 'charts', size: 22 }, { id: 'bench-table', size: 18 },
      ] },
    ],
    // What compares the strategies, sharing equally: with five panes open, at 1280x720 each showed
    // its toolbar and nothing under it; at 30:22 the charts (93 px) showed 20 px of the comparison.
    ab: { pipeline: 26, charts: 26 },
  },
  {
    id: 'exit',
    title: 'Exit',
    blurb: 'one exit, large: the pipeline stage by stage and its 2D page walk',
    editor: 28,
    columns: [
      // At 1280x720 an icache miss's ten stages take three rows: at 47:53 they and the exit's
      // cost sentence fit, and so do the walk's 24 references (at 39:61 the third row was cut).
      { size: 64, panels: [{ id: 'pipeline', size: 47 }, { id: 'walk', size: 53 }] },
      { size: 36, panels: [
        { id: 'log', size: 60 }, { id: 'registers', size: 40 },
        { id: 'icache', size: 30, collapsed: true }, { id: 'memory', size: 20, collapsed: true },
        { id: 'charts', size: 30, collapsed: true }, { id: 'bench-table', size: 20, collapsed: true }, { id: 'console', size: 20, collapsed: true },
      ] },
    ],
    // At 1280x720: two rows of stages with their cycles, and the walk's count of references.
    ab: { pipeline: 70, walk: 30 },
  },
  {
    id: 'cache',
    title: 'Cache',
    blurb: 'the instruction cache, the pages it write-protects, the exits that hit or fault',
    editor: 30,
    columns: [
      { size: 52, panels: [{ id: 'icache', size: 62 }, { id: 'memory', size: 38 }] },
      { size: 48, panels: [
        { id: 'log', size: 55 }, { id: 'pipeline', size: 45 },
        { id: 'walk', size: 40, collapsed: true }, { id: 'registers', size: 20, collapsed: true },
        { id: 'charts', size: 30, collapsed: true }, { id: 'bench-table', size: 20, collapsed: true }, { id: 'console', size: 20, collapsed: true },
      ] },
    ],
    // As the cache's own column: its header and entries, the map's rows whole.
    ab: { icache: 62, memory: 38 },
  },
  {
    id: 'numbers',
    title: 'Numbers',
    blurb: 'charts and the bench table: what each strategy costs',
    editor: 26,
    columns: [
      { size: 60, panels: [{ id: 'charts', size: 68 }, { id: 'bench-table', size: 32 }] },
      { size: 40, panels: [
        { id: 'pipeline', size: 45 }, { id: 'log', size: 55 },
        { id: 'walk', size: 40, collapsed: true }, { id: 'icache', size: 30, collapsed: true }, { id: 'memory', size: 20, collapsed: true },
        { id: 'registers', size: 20, collapsed: true }, { id: 'console', size: 20, collapsed: true },
      ] },
    ],
    // At 1280x720: 40 px of the comparison's plot, the table's header and its first row's figures.
    ab: { charts: 56, 'bench-table': 44 },
  },
];

export function isLayoutPresetId(x: unknown): x is string {
  return typeof x === 'string' && LAYOUT_PRESETS.some((p) => p.id === x);
}

/** The preset with this id, or the default one. */
export function layoutPreset(id: string): LayoutSpec {
  return LAYOUT_PRESETS.find((p) => p.id === id) ?? LAYOUT_PRESETS[0];
}
