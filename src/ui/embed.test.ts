import { describe, expect, it } from 'vitest';
import { COST_PRESET_NAMES } from '../core/cost';
import { decodeShare, ICACHE_SIZE_MAX, ICACHE_SIZE_MIN, shareParam, type SharePayload } from './share';
import { DEFAULT_EMBED_PANELS, embedSnippet, embedUrl, fullPageUrl, parseEmbed } from './embed';

describe('embed URL', () => {
  it('is not an embed without embed=1', () => {
    expect(parseEmbed('?example=lapic-microbench')).toBeNull();
    expect(parseEmbed('?embed=0&panels=walk-grid')).toBeNull();
  });

  it('reads the example, the panels in order, the strategy and autorun', () => {
    expect(parseEmbed('?embed=1&example=pt-remap&panels=walk-grid,exit-pipeline&strategy=none&autorun=1')).toEqual({
      example: 'pt-remap', panels: ['walk-grid', 'exit-pipeline'], unknown: [], strategy: 'none', unknownStrategy: null,
      preset: null, unknownPreset: null, icacheSize: null, unknownIcache: null, autorun: true,
    });
  });

  it('reads the cost preset and the cache size, and drops and names ones it does not know', () => {
    expect(parseEmbed('?embed=1&preset=skylake-2020&icache=64')).toMatchObject({ preset: 'skylake-2020', unknownPreset: null, icacheSize: 64, unknownIcache: null });
    expect(parseEmbed('?embed=1&icache=1')?.icacheSize).toBe(1);
    expect(parseEmbed('?embed=1&icache=65536')?.icacheSize).toBe(65_536);
    expect(parseEmbed('?embed=1&preset=pentium4&icache=big')).toMatchObject({ preset: null, unknownPreset: 'pentium4', icacheSize: null, unknownIcache: 'big' });
    for (const bad of ['0', '65537', '-8', '2.5', '1e3', '0x40', ' 64', '', '9999999999']) {
      expect(parseEmbed(`?embed=1&icache=${encodeURIComponent(bad)}`), bad).toMatchObject({ icacheSize: null, unknownIcache: bad });
    }
    expect(parseEmbed(`?embed=1&preset=${'x'.repeat(500)}`)?.unknownPreset).toHaveLength(40);
    // Not named: no preset, no size, nothing to say (the embed takes the built-in defaults).
    expect(parseEmbed('?embed=1')).toMatchObject({ preset: null, unknownPreset: null, icacheSize: null, unknownIcache: null });
  });

  it('drops and names unknown panels and an unknown strategy, and shows the default panels when none are named', () => {
    const p = parseEmbed('?embed=1&panels=walk-grid,<script>,walk-grid&strategy=fastest');
    expect(p?.panels).toEqual(['walk-grid']);
    expect(p?.unknown).toEqual(['<script>']);
    expect(p?.strategy).toBeNull();
    expect(p?.unknownStrategy).toBe('fastest');
    expect(parseEmbed('?embed=1')?.panels).toEqual(DEFAULT_EMBED_PANELS);
    expect(parseEmbed('?embed=1&example=../../etc')?.example).toBeNull();
  });

  it('round-trips through embedUrl, with an example or with a program carried as a share link', () => {
    const url = embedUrl('https://x.test/app/?foo=1#old', {
      program: { example: 'smc-mmio' }, panels: ['exit-pipeline', 'registers'], strategy: 'icache', preset: 'skylake-2020', icacheSize: 64, autorun: true,
    });
    expect(url).toBe('https://x.test/app/?embed=1&example=smc-mmio&panels=exit-pipeline,registers&strategy=icache&preset=skylake-2020&icache=64&autorun=1');
    expect(parseEmbed(new URL(url).search)).toEqual({
      example: 'smc-mmio', panels: ['exit-pipeline', 'registers'], unknown: [], strategy: 'icache', unknownStrategy: null,
      preset: 'skylake-2020', unknownPreset: null, icacheSize: 64, unknownIcache: null, autorun: true,
    });
    // Every preset and a cache size at each end come back as they went.
    for (const preset of COST_PRESET_NAMES) {
      for (const icacheSize of [ICACHE_SIZE_MIN, 256, ICACHE_SIZE_MAX]) {
        const u = embedUrl('https://x.test/', { program: { example: 'a' }, panels: ['charts'], strategy: 'none', preset, icacheSize, autorun: false });
        expect(parseEmbed(new URL(u).search)).toMatchObject({ strategy: 'none', preset, icacheSize });
      }
    }
    const payload: SharePayload = { v: 1, source: '_start: hlt\n', config: { strategy: 'none', preset: 'nehalem-2014', icacheSize: 64 } };
    const shared = new URL(embedUrl('https://x.test/', { program: { payload }, panels: ['editor'], autorun: false }));
    expect(parseEmbed(shared.search)).toMatchObject({ example: null, panels: ['editor'], autorun: false });
    const decoded = decodeShare(shareParam(shared.hash) ?? '');
    expect(decoded.ok && decoded.payload).toMatchObject(payload) // the fields it does not carry take their defaults;
  });

  it('links the full page to the same program under the same configuration, and quotes the URL in the iframe snippet', () => {
    // The full page reads a configuration from a share link only: the link is one, in a single view.
    const payload: SharePayload = { v: 1, source: '_start: hlt\n', config: { strategy: 'none', strategyB: 'apicv', preset: 'skylake-2020', icacheSize: 64, abMode: true } };
    const full = new URL(fullPageUrl('https://x.test/app/?embed=1&panels=a#s=old', { program: { payload } }));
    expect(`${full.origin}${full.pathname}${full.search}`).toBe('https://x.test/app/');
    const opened = decodeShare(shareParam(full.hash) ?? '');
    expect(opened).toEqual({ ok: true, payload: { ...payload, config: { ...payload.config, abMode: false } } });
    const snippet = embedSnippet('https://x.test/?embed=1&example=a"b', 'exitscope: a');
    expect(snippet).toContain('src="https://x.test/?embed=1&amp;example=a&quot;b"');
    expect(snippet).toMatch(/^<iframe [^>]*title="exitscope: a"[^>]*><\/iframe>$/);
  });
});
