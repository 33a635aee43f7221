/**
 * Differential test against GNU as: the corpus is assembled by both, both outputs are
 * decoded by iced, and the instruction streams must be equal. Bytes may differ where x86 has
 * several encodings of one instruction (e.g. 01 /r vs 03 /r); branch and RIP-relative targets
 * are compared as "instruction k of the stream", since a different (valid) encoding choice
 * would move every later address.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction, OpKind, Register } from '../iced';
import { assemble, formatDiagnostic, lineAt } from './index';

const corpusPath = join(import.meta.dirname, 'corpus', 'gnu-corpus.s');

function which(tool: string): boolean {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}
const haveBinutils = which('as') && which('objcopy');
if (!haveBinutils) console.warn('gnu-diff: skipped: GNU as/objcopy not found (install binutils to run the differential test against GNU as)');

function gnuAssemble(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'exitscope-asm-'));
  try {
    writeFileSync(join(dir, 'c.s'), source);
    const as = spawnSync('as', ['--64', '-o', join(dir, 'c.o'), join(dir, 'c.s')], { encoding: 'utf8' });
    if (as.status !== 0) throw new Error(`as failed: ${as.stderr}`);
    const oc = spawnSync('objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'c.o'), join(dir, 'c.bin')], { encoding: 'utf8' });
    if (oc.status !== 0) throw new Error(`objcopy failed: ${oc.stderr}`);
    return new Uint8Array(readFileSync(join(dir, 'c.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Decoded { ip: number; text: string; }

/** Decodes a stream; targets inside it are rewritten to a synthetic "instruction k" address. */
function decodeStream(bytes: Uint8Array, ip: number): Decoded[] {
  const decoder = new Decoder(64, bytes, DecoderOptions.None);
  decoder.ip = BigInt(ip);
  const insns: Instruction[] = [];
  while (decoder.canDecode) insns.push(decoder.decode());
  decoder.free();
  const starts = insns.map((i) => Number(i.ip));
  const canon = (addr: bigint): bigint => {
    const a = Number(addr);
    let lo = 0, hi = starts.length - 1, k = -1;
    while (lo <= hi) { const m = (lo + hi) >> 1; if (starts[m] <= a) { k = m; lo = m + 1; } else hi = m - 1; }
    if (k < 0) return addr;
    if (a >= ip + bytes.length) return 0x7800_0000n + BigInt(a - ip - bytes.length); // past the end: relative to it
    return 0x7000_0000n + BigInt(k) * 0x100n + BigInt(a - starts[k]);
  };
  const fmt = new Formatter(FormatterSyntax.Intel);
  const out: Decoded[] = [];
  for (const ins of insns) {
    const rip = Number(ins.ip);
    if (ins.op0Kind === OpKind.NearBranch64) ins.nearBranch64 = canon(ins.nearBranch64);
    if (ins.memoryBase === Register.RIP) ins.memoryDisplacement = canon(ins.memoryDisplacement);
    out.push({ ip: rip, text: fmt.format(ins) });
    ins.free();
  }
  fmt.free();
  return out;
}

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
