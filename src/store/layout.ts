/**
 * What the machine side of the page shows, as plain data: which panels, in which columns, how
 * big, which start collapsed, and which are in the spotlight. The named presets (All, Exit,
 * Cache, Numbers) are such specs; another feature (a guided lesson) can build its own and apply
 * it with `useUiStore.getState().applyLayout(spec)`.
 */

/** The preset a first visit shows (ui/layoutPresets.ts has them all). */
export const DEFAULT_LAYOUT_ID = 'all';

/** One panel in a column. */
export interface PanelPlacement {
  /** A panel id from the panel registry ('pipeline', 'walk', 'icache', 'bench-table', ...). */
  id: string;
  /** Share of the column's height, in percent, among the column's open panels (weights: they are rescaled). */
  size: number;
  /** Shown as its title bar only; one click (or Enter on it) opens it. */
  collapsed?: boolean;
}

export interface LayoutColumn {
  /** Share of the machine area's width, in percent. */
  size: number;
  panels: readonly PanelPlacement[];
}

export interface LayoutSpec {
  /** Names the spec (a preset's id, or the lesson's); saved pane sizes are kept per id. Lowercase letters, digits, '-'. */
  id: string;
  /** Shown in the layout menu (one short word). */
  title: string;
  /** What the layout is for, in the menu's tooltip. */
  blurb?: string;
  /** The editor's share of the page width, in percent. */
  editor: number;
  /** Columns of the machine area, left to right (in A/B mode each side shows them as one column). */
  columns: readonly LayoutColumn[];
  /** When set, every panel not listed is dimmed: the spotlit ones are what to look at. */
  spotlight?: readonly string[];
}

/** Every placement, column by column, top to bottom. */
export function placements(spec: LayoutSpec): PanelPlacement[] {
  return spec.columns.flatMap((c) => c.panels);
}

/** Whether `id` is dimmed under the spec's spotlight. */
export function isDimmed(spec: LayoutSpec, id: string): boolean {
  return !!spec.spotlight && !spec.spotlight.includes(id);
}

/**
 * The percent sizes of one column's panels, given its height in pixels: a collapsed panel takes
 * its title bar (`headerPx`), open panels share the rest by their `size` weights.
 */
export function columnSizes(panels: readonly PanelPlacement[], heightPx: number, headerPx: number): number[] {
  if (panels.length === 0) return [];
  const h = Math.max(heightPx, headerPx * panels.length + 1);
  const collapsedPct = (100 * headerPx) / h;
  const open = panels.filter((p) => !p.collapsed);
  const weight = open.reduce((a, p) => a + Math.max(0, p.size), 0);
  const rest = 100 - collapsedPct * (panels.length - open.length);
  return panels.map((p) => {
    if (p.collapsed) return collapsedPct;
    return weight > 0 ? (rest * Math.max(0, p.size)) / weight : rest / open.length;
  });
}
