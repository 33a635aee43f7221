/**
 * The stress generator itself: deterministic, every program assembles, and every patchable
 * field it records sits exactly where the assembler put it (so a patch changes the intended
 * bytes and never the instruction's length).
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../differential/prng';
import { generateProgram } from './generator';
import { randomMmioInsn } from './mmioInsn';
import { prepare } from './runner';
import { assemble } from '../../core/asm';
import { PREDEFINED_SYMBOLS } from '../../core/guestAbi';

const SEED = 7;

describe('stress program generator', () => {
  it('gives the same program for the same seed and index, and different ones otherwise', () => {
    expect(generateProgram(SEED, 3).source).toBe(generateProgram(SEED, 3).source);
    expect(generateProgram(SEED, 3).source).not.toBe(generateProgram(SEED, 4).source);
    expect(generateProgram(SEED + 1, 3).source).not.toBe(generateProgram(SEED, 3).source);
  });

  it('programs assemble and cover every feature', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const g = generateProgram(SEED, i);
      expect(() => prepare(g.source, g.name), g.source).not.toThrow();
      for (const [k, v] of Object.entries(g.features)) if (v === true || v === 2) seen.add(k);
    }
    expect([...seen].sort()).toEqual(['cr3', 'dataInTablePage', 'ownTables', 'remap', 'smc', 'straddle', 'vcpus', 'vms']);
  });

  it('every MMIO instruction form puts its patchable fields where the generator says', () => {
    const rng = new Prng(SEED);
    for (let i = 0; i < 400; i++) {
      const insn = randomMmioInsn(rng, (i & 1) as 0 | 1, { lapic: true, patchable: i % 3 !== 0 });
      const src = `mov rbx, IORAM_BASE\n${insn.pre.join('\n')}\nsite:\n${insn.text}\nsite_end:\n${insn.post.join('\n')}\nhlt\nsection .data\nram_scratch: times 64 db 0\n`;
      const r = assemble(src, { origin: 0x100000, predefined: PREDEFINED_SYMBOLS });
      expect(r.ok, `${insn.text}: ${r.diagnostics.map((d) => d.message).join('; ')}`).toBe(true);
      const end = Number(r.symbols.get('site_end')) - 0x100000;
      const bytes = r.segments[0].bytes;
      for (const f of insn.fields) {
        let v = 0;
        for (let k = 0; k < f.size; k++) v += bytes[end - f.tail + k] * 2 ** (8 * k);
        expect(v, `${insn.text}: ${f.what} at end-${f.tail}`).toBe(f.value);
        for (const alt of f.alternatives) {
          expect(alt, `${insn.text} ${f.what}`).not.toBe(f.value);
          expect(alt, `${insn.text} ${f.what} fits its field`).toBeLessThan(2 ** (8 * f.size));
        }
      }
    }
  });
});
