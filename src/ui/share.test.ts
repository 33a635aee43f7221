import { describe, expect, it } from 'vitest';
import LZString from 'lz-string';
import { MAX_ENCODED, decodeShare, encodeShare, shareParam, shareUrl, type SharePayload } from './share';

const payload: SharePayload = {
  v: 1,
  source: '; hello\n  mov eax, [LAPIC_BASE + LAPIC_ID]\n  hlt\n',
  config: { strategy: 'icache', preset: 'nehalem-2014', icacheSize: 256, strategyB: 'decode-assist', abMode: true },
  file: 'lapic-microbench.s',
};
const enc = (x: unknown) => LZString.compressToEncodedURIComponent(JSON.stringify(x));

describe('share links', () => {
  it('round-trip a program and its configuration', () => {
    const r = decodeShare(encodeShare(payload));
    expect(r).toEqual({ ok: true, payload });
  });

  it('build a #s= link on the page URL, dropping any ?example', () => {
    const url = shareUrl('http://x.test/app/?example=smc-mmio#old', payload);
    expect(url.startsWith('http://x.test/app/#s=')).toBe(true);
    expect(decodeShare(shareParam(new URL(url).hash)!)).toEqual({ ok: true, payload });
  });

  it('read only s= hashes', () => {
    expect(shareParam('#s=abc')).toBe('abc');
    expect(shareParam('#other')).toBeNull();
    expect(shareParam('')).toBeNull();
  });

  it('reject garbage with a message, never an exception', () => {
    for (const bad of ['', '%%%', 'not-lz-data', 'N4Ig'.repeat(10), enc('just a string'), enc([1, 2])]) {
      const r = decodeShare(bad);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.length).toBeGreaterThan(5);
    }
  });

  it('reject an oversized link before decompressing it', () => {
    const r = decodeShare('A'.repeat(MAX_ENCODED + 1));
    expect(r).toMatchObject({ ok: false });
    if (!r.ok) expect(r.error).toMatch(/too long/);
  });

  it('validate each field', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...payload, v: 2 }, /version/],
      [{ ...payload, source: 42 }, /source/],
      [{ ...payload, config: 'fast' }, /configuration/],
      [{ ...payload, config: { ...payload.config, strategyB: 'magic' } }, /strategy/],
      [{ ...payload, config: { ...payload.config, abMode: 'yes' } }, /A\/B/],
      [{ ...payload, config: { ...payload.config, strategy: 'magic' } }, /strategy/],
      [{ ...payload, config: { ...payload.config, preset: '<script>' } }, /preset/],
      [{ ...payload, config: { ...payload.config, icacheSize: 0 } }, /cache size/],
      [{ ...payload, config: { ...payload.config, icacheSize: 1.5 } }, /cache size/],
      [{ ...payload, config: { ...payload.config, icacheSize: '64' } }, /cache size/],
      [{ ...payload, source: 'a\u0000b' }, /NUL/],
      // A name, not a path: the page shows it and names downloads by it.
      [{ ...payload, file: '../../etc/passwd' }, /file name/],
      [{ ...payload, file: 'a\nb.s' }, /file name/],
      [{ ...payload, file: '' }, /file name/],
      [{ ...payload, file: 'x'.repeat(101) }, /file name/],
      [{ ...payload, file: 7 }, /file name/],
    ];
    for (const [data, msg] of cases) {
      const r = decodeShare(enc(data));
      expect(r.ok, JSON.stringify(data)).toBe(false);
      if (!r.ok) expect(r.error).toMatch(msg);
    }
  });

  it('take the default for a field the link does not carry (a link made before the field existed)', () => {
    const { strategyB: _b, abMode: _ab, ...sideA } = payload.config;
    const r = decodeShare(enc({ ...payload, config: { ...sideA, preset: undefined } }));
    expect(r).toEqual({ ok: true, payload: { ...payload, config: { ...sideA, preset: 'nehalem-2014', strategyB: 'none', abMode: false } } });
    // No file name: the page opens it as shared.s.
    const bare = decodeShare(enc({ v: 1, source: 'hlt\n' }));
    expect(bare).toEqual({ ok: true, payload: { v: 1, source: 'hlt\n', config: { strategy: 'icache', preset: 'nehalem-2014', icacheSize: 256, strategyB: 'none', abMode: false } } });
  });

  it('drop unknown extra fields', () => {
    const r = decodeShare(enc({ ...payload, evil: true, config: { ...payload.config, extra: 1 } }));
    expect(r).toEqual({ ok: true, payload });
  });
});
