/**
 * Differential test against GNU as: the corpus is assembled by both, both outputs are
 * decoded by iced, and the instruction streams must be equal. Bytes may differ where x86 has
 * several encodings of one instruction (e.g. 01 /r vs 03 /r); branch and RIP-relative targets
 * are compared as "instruction k of the stream", since a different (valid) encoding choice
 * would move every later address.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeStream, gnuAssemble, haveBinutils } from '../../test/gnuHarness';
import { assemble, formatDiagnostic, lineAt } from './index';

const corpusPath = join(import.meta.dirname, 'corpus', 'gnu-corpus.s');

if (!haveBinutils) console.warn('gnu-diff: skipped: GNU as/objcopy not found (install binutils to run the differential test against GNU as)');

describe('differential test against GNU as', () => {
  it.skipIf(!haveBinutils)('assembles the corpus to the same instruction stream as GNU as', () => {
    const source = readFileSync(corpusPath, 'utf8');
    const mine = assemble(source, { file: 'gnu-corpus.s', origin: 0 });
    expect(mine.diagnostics.map(formatDiagnostic)).toEqual([]);
    const text = mine.segments.find((s) => s.name === '.text')!;
    const a = decodeStream(text.bytes, 0);
    const b = decodeStream(gnuAssemble(source), 0);
    const lines = source.split('\n');
    const mismatches: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i]?.text === b[i]?.text) continue;
      const line = a[i] ? lineAt(mine.lineMap, a[i].ip) : undefined;
      mismatches.push(`#${i} line ${line}: '${line ? lines[line - 1].trim() : '?'}': ours '${a[i]?.text}' gnu '${b[i]?.text}'`);
      if (mismatches.length >= 20) break;
    }
    expect(mismatches).toEqual([]);
    expect(a.length).toBeGreaterThanOrEqual(500);
    console.info(`gnu-diff: ${a.length} instructions, identical instruction streams`);
  });
});
