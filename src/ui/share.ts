/**
 * Share links: `#s=` + lz-string `compressToEncodedURIComponent(JSON.stringify(payload))`.
 * A link is untrusted input: its size is limited before and after decompression, and every
 * field is checked; a bad link yields a message, never an exception.
 */
// lz-string is CommonJS: a default import works in Vite, vitest and Node alike.
import LZString from 'lz-string';
import { STRATEGIES, type Strategy } from '../worker/protocol';
import { COST_PRESET_NAMES } from '../core/cost';
import { DEFAULT_SETTINGS } from '../store/settings';

/** Longest encoded `#s=` value accepted (characters). */
export const MAX_ENCODED = 256 * 1024;
/** Longest program a link may carry (characters). */
export const MAX_SOURCE = 512 * 1024;
export const ICACHE_SIZE_MIN = 1;
export const ICACHE_SIZE_MAX = 65_536;

export interface ShareConfig {
  strategy: Strategy;
  preset: string;
  icacheSize: number;
  /** Side B's strategy (A/B mode). A link made before A/B was shared says nothing of it. */
  strategyB?: Strategy;
  abMode?: boolean;
}

export interface SharePayload {
  v: 1;
  source: string;
  config: ShareConfig;
  /**
   * The program's file name where it was shared ("lapic-microbench.s"), which the page opening
   * the link shows, and names its diagnostics and exports by; a link without one opens as
   * `shared.s` (SHARED_FILE).
   */
  file?: string;
}

/** The name a shared program goes by when its link names none. */
export const SHARED_FILE = 'shared.s';

/** A file name a link may carry: a plain name, no path, no control character. */
const isFileName = (x: unknown): x is string =>
  typeof x === 'string' && x.length >= 1 && x.length <= 100 && !/[/\\]/.test(x) && ![...x].some((c) => c < ' ' || c === '\u007f');

export type ShareResult = { ok: true; payload: SharePayload } | { ok: false; error: string };

export function encodeShare(payload: SharePayload): string {
  return LZString.compressToEncodedURIComponent(JSON.stringify(payload));
}

/** The full link for a payload, on the given page URL (its hash and query replaced). */
export function shareUrl(pageUrl: string, payload: SharePayload): string {
  const u = new URL(pageUrl);
  u.search = '';
  u.hash = `s=${encodeShare(payload)}`;
  return u.toString();
}

/** The `s=` value of a location hash, or null when the hash carries no share link. */
export function shareParam(hash: string): string | null {
  const h = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!h.startsWith('s=')) return null;
  return h.slice(2);
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Checks an already-parsed payload field by field. */
export function validatePayload(data: unknown, presets: readonly string[] = COST_PRESET_NAMES): ShareResult {
  if (!isRecord(data)) return { ok: false, error: 'the link does not hold a program' };
  if (data.v !== 1) return { ok: false, error: `unsupported link version ${JSON.stringify(data.v) ?? 'missing'} (this page reads version 1)` };
  if (typeof data.source !== 'string') return { ok: false, error: 'the link has no program source' };
  if (data.source.length > MAX_SOURCE) return { ok: false, error: `the program is too long (${data.source.length} characters, at most ${MAX_SOURCE})` };
  if (data.source.includes('\u0000')) return { ok: false, error: 'the program contains a NUL character' };
  // A field the link does not carry takes its default; only a field that is there and wrong refuses the link.
  const c = data.config === undefined ? {} : data.config;
  if (!isRecord(c)) return { ok: false, error: 'the link has a damaged machine configuration' };
  const d = DEFAULT_SETTINGS;
  const isStrategy = (x: unknown) => typeof x === 'string' && (STRATEGIES as readonly string[]).includes(x);
  for (const key of ['strategy', 'strategyB'] as const) {
    if (c[key] !== undefined && !isStrategy(c[key])) {
      return { ok: false, error: `unknown strategy ${JSON.stringify(c[key])} (known: ${STRATEGIES.join(', ')})` };
    }
  }
  if (c.preset !== undefined && (typeof c.preset !== 'string' || !presets.includes(c.preset))) {
    return { ok: false, error: `unknown cost preset ${JSON.stringify(c.preset)} (known: ${presets.join(', ')})` };
  }
  if (c.icacheSize !== undefined && (typeof c.icacheSize !== 'number' || !Number.isInteger(c.icacheSize) || c.icacheSize < ICACHE_SIZE_MIN || c.icacheSize > ICACHE_SIZE_MAX)) {
    return { ok: false, error: `cache size must be an integer from ${ICACHE_SIZE_MIN} to ${ICACHE_SIZE_MAX}` };
  }
  if (c.abMode !== undefined && typeof c.abMode !== 'boolean') return { ok: false, error: 'A/B mode must be true or false' };
  if (data.file !== undefined && !isFileName(data.file)) {
    return { ok: false, error: 'the program\'s file name is not a plain name (at most 100 characters, no / or \\)' };
  }
  return {
    ok: true,
    payload: {
      v: 1,
      source: data.source,
      config: {
        strategy: (c.strategy as Strategy | undefined) ?? d.strategy,
        preset: (c.preset as string | undefined) ?? d.preset,
        icacheSize: (c.icacheSize as number | undefined) ?? d.icacheSize,
        strategyB: (c.strategyB as Strategy | undefined) ?? d.strategyB,
        abMode: (c.abMode as boolean | undefined) ?? d.abMode,
      },
      ...typeof data.file === 'string' && { file: data.file },
    },
  };
}

/** Decodes the `s=` value of a link. Never throws. */
export function decodeShare(encoded: string, presets?: readonly string[]): ShareResult {
  if (encoded.length === 0) return { ok: false, error: 'the link is empty' };
  if (encoded.length > MAX_ENCODED) return { ok: false, error: `the link is too long (${Math.round(encoded.length / 1024)} KB, at most ${MAX_ENCODED / 1024} KB)` };
  if (!/^[A-Za-z0-9+\-$]*$/.test(encoded)) return { ok: false, error: 'the link is damaged (characters that a share link never has)' };
  let json: string | null;
  try {
    json = LZString.decompressFromEncodedURIComponent(encoded);
  } catch {
    json = null;
  }
  if (!json) return { ok: false, error: 'the link is damaged (it does not decompress)' };
  if (json.length > MAX_SOURCE * 2) return { ok: false, error: 'the link holds too much data' };
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return { ok: false, error: 'the link is damaged (not valid JSON)' };
  }
  return validatePayload(data, presets);
}
