/**
 * The embeddable view's URL:
 * `?embed=1&example=NAME&panels=walk-grid,exit-pipeline&strategy=icache&preset=nehalem-2014&icache=256&autorun=1`
 * (or a share link's `#s=` instead of `example`). Parsing is pure and never throws: the query is
 * untrusted like a share link, so unknown panels, strategies, presets and cache sizes are dropped
 * and named.
 */
import { COST_PRESET_NAMES } from '../core/cost';
import { STRATEGIES, type Strategy } from '../worker/protocol';
import { encodeShare, ICACHE_SIZE_MAX, ICACHE_SIZE_MIN, shareUrl, type SharePayload } from './share';

/** Panel test ids an embed may name, and the workspace panel each one is. 'editor' is the program. */
export const EMBED_PANELS: Readonly<Record<string, string>> = {
  'exit-pipeline': 'pipeline',
  'walk-grid': 'walk',
  'icache-table': 'icache',
  'memory-map': 'memory',
  registers: 'registers',
  'event-log': 'log',
  charts: 'charts',
  console: 'console',
  editor: 'editor',
};

export const DEFAULT_EMBED_PANELS = ['exit-pipeline', 'walk-grid'];
/** At most this many panels (a query is untrusted; an iframe has little room anyway). */
const MAX_PANELS = 8;

export interface EmbedParams {
  /** Panel test ids to show, in the order given, known ones only. */
  panels: string[];
  /** Names in `panels=` that are not panels (shown to the reader, not silently ignored). */
  unknown: string[];
  strategy: Strategy | null;
  /** A `strategy=` that names no strategy (shown to the reader, with the strategy used instead). */
  unknownStrategy: string | null;
  /** The cost preset (`preset=`), one of COST_PRESET_NAMES. */
  preset: string | null;
  /** A `preset=` that names no cost preset (shown to the reader, with the preset used instead). */
  unknownPreset: string | null;
  /** The instruction cache's capacity in entries (`icache=`). */
  icacheSize: number | null;
  /** An `icache=` that is not a size from ICACHE_SIZE_MIN to ICACHE_SIZE_MAX (shown, with the size used). */
  unknownIcache: string | null;
  autorun: boolean;
  example: string | null;
}

/** The embed parameters of a page's query string, or null when it is not an embed (`embed=1`). */
export function parseEmbed(search: string): EmbedParams | null {
  const q = new URLSearchParams(search);
  if (q.get('embed') !== '1') return null;
  const asked = (q.get('panels') ?? '').split(',').map((s) => s.trim()).filter(Boolean).slice(0, MAX_PANELS);
  const panels = [...new Set(asked.filter((p) => Object.hasOwn(EMBED_PANELS, p)))];
  const unknown = asked.filter((p) => !Object.hasOwn(EMBED_PANELS, p)).map((p) => p.slice(0, 40));
  const s = q.get('strategy');
  const strategy = s !== null && (STRATEGIES as readonly string[]).includes(s) ? (s as Strategy) : null;
  const pr = q.get('preset');
  const preset = pr !== null && (COST_PRESET_NAMES as readonly string[]).includes(pr) ? pr : null;
  const ic = q.get('icache');
  const size = ic !== null && /^\d{1,6}$/.test(ic) ? Number(ic) : NaN;
  const icacheSize = size >= ICACHE_SIZE_MIN && size <= ICACHE_SIZE_MAX ? size : null;
  const example = q.get('example');
  return {
    panels: asked.length === 0 ? [...DEFAULT_EMBED_PANELS] : panels,
    unknown,
    strategy,
    unknownStrategy: s !== null && strategy === null ? s.slice(0, 40) : null,
    preset,
    unknownPreset: pr !== null && preset === null ? pr.slice(0, 40) : null,
    icacheSize,
    unknownIcache: ic !== null && icacheSize === null ? ic.slice(0, 40) : null,
    autorun: q.get('autorun') === '1',
    example: example && /^[\w-]{1,60}$/.test(example) ? example : null,
  };
}

export interface EmbedSpec {
  /** An example by name, or a program with its configuration (carried as a share link). */
  program: { example: string } | { payload: SharePayload };
  panels: readonly string[];
  /** The configuration it runs under; each one left out takes the built-in default (never the reader's). */
  strategy?: Strategy;
  preset?: string;
  icacheSize?: number;
  autorun: boolean;
}

/** The embed URL on the given page (its query and hash replaced). */
export function embedUrl(pageUrl: string, spec: EmbedSpec): string {
  const u = new URL(pageUrl);
  const q = new URLSearchParams({ embed: '1' });
  if ('example' in spec.program) q.set('example', spec.program.example);
  q.set('panels', spec.panels.join(','));
  if (spec.strategy) q.set('strategy', spec.strategy);
  if (spec.preset) q.set('preset', spec.preset);
  if (spec.icacheSize !== undefined) q.set('icache', String(spec.icacheSize));
  if (spec.autorun) q.set('autorun', '1');
  // URLSearchParams would escape the commas of the panel list; they are safe in a query.
  u.search = q.toString().replace(/%2C/g, ',');
  u.hash = 'payload' in spec.program ? `s=${encodeShare(spec.program.payload)}` : '';
  return u.toString();
}

/**
 * The full exitscope page for the same program under the same configuration: the embed's "Open in
 * exitscope" link. The full page reads no `strategy=` or `preset=` (only a share link carries a
 * configuration), so it is a share link of the program as the embed runs it, in one view (A/B off).
 */
export function fullPageUrl(pageUrl: string, spec: { program: { payload: SharePayload } }): string {
  const { payload } = spec.program;
  return shareUrl(pageUrl, { ...payload, config: { ...payload.config, abMode: false } });
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The HTML a course page pastes: an iframe of the embed URL. */
export function embedSnippet(url: string, title: string, height = 480): string {
  return `<iframe src="${attr(url)}" title="${attr(title)}" width="100%" height="${height}" style="border:1px solid #ccc;border-radius:6px" loading="lazy"></iframe>`;
}
