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
  /**
   * In A/B mode, the panels open in each side's one column and their height weights; the rest
   * start folded (see abPlacements). Stacked with their own sizes, a preset's panels had no room
   * and the library folded the one it is named for.
   */
  ab?: Readonly<Record<string, number>>;
  /** When set, every panel not listed is dimmed: the spotlit ones are what to look at. */
  spotlight?: readonly string[];
}

/** Every placement, column by column, top to bottom. */
export function placements(spec: LayoutSpec): PanelPlacement[] {
  return spec.columns.flatMap((c) => c.panels);
}

/**
 * The placements of a side's one column in A/B mode: the columns' panels in order, open at the
 * spec's `ab` weights and folded otherwise; without `ab`, as the columns place them.
 */
export function abPlacements(spec: LayoutSpec): PanelPlacement[] {
  const open = spec.ab;
  const all = placements(spec);
  if (!open) return all;
  return all.map((p) => {
    const size = Object.hasOwn(open, p.id) ? open[p.id] : undefined;
    return size === undefined ? { ...p, collapsed: true } : { id: p.id, size };
  });
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

/**
 * The sizes that open the collapsed panel `id` of a column to `minSize`, when the resizing
 * library's own expand did not: it takes room from its neighbours down to their minimum and
 * folds one only when the room asked for reaches past half of that one's minimum, so a column
 * whose open panels had a little more than the minimum (a lone 122-146 px pipeline, or 121 px
 * beside a 90 px log, the charts asking for 60) opened nothing. Here the other open panels give what they have
 * above `minSize`, largest first; when that is not enough, the largest one folds to its title bar
 * (`collapsedSize`) and all it gave goes to `id`. Sizes in any one unit (the library's percent);
 * null when no open panel can make room.
 */
export function expandedSizes(sizes: Readonly<Record<string, number>>, id: string, minSize: number, collapsedSize: number): Record<string, number> | null {
  const need = minSize - sizes[id];
  const next = { ...sizes };
  if (!(need > 0)) return next;
  const slack = 1e-6 * minSize; // the library's sizes are rounded floats
  const open = Object.keys(sizes).filter((k) => k !== id && sizes[k] > collapsedSize + slack).sort((a, b) => sizes[b] - sizes[a]);
  const spare = open.reduce((sum, k) => sum + Math.max(0, sizes[k] - minSize), 0);
  let gained = 0;
  if (spare < need - slack) {
    const largest = open.shift();
    if (largest === undefined) return null;
    gained = sizes[largest] - collapsedSize;
    next[largest] = collapsedSize;
  }
  for (const k of open) {
    if (gained >= need - slack) break;
    const give = Math.min(need - gained, Math.max(0, sizes[k] - minSize));
    next[k] = sizes[k] - give;
    gained += give;
  }
  if (gained < need - slack) return null;
  next[id] = sizes[id] + gained;
  return next;
}
