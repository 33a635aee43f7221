/**
 * Test helpers: assemble with GNU as (`as --64`, then `objcopy -O binary`) and decode a byte
 * stream with iced, so tests can compare this assembler's output with GNU's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction, OpKind, Register } from '../core/iced';

function which(tool: string): boolean {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

/** GNU as and objcopy are installed (the differential tests skip without them). */
export const haveBinutils = which('as') && which('objcopy') && which('ld');

/** The .text section GNU as makes of `source` (a whole file: include `.intel_syntax noprefix`). */
export function gnuAssemble(source: string): Uint8Array {
  const r = gnuTry(source);
  if ('error' in r) throw new Error(`as failed: ${r.error}`);
  return r.bytes;
}

/** Like gnuAssemble, but GNU's error messages instead of a throw. */
export function gnuTry(source: string, link = false): { bytes: Uint8Array } | { error: string } {
  const dir = mkdtempSync(join(tmpdir(), 'exitscope-asm-'));
  try {
    writeFileSync(join(dir, 'c.s'), source);
    const as = spawnSync('as', ['--64', '-o', join(dir, 'c.o'), join(dir, 'c.s')], { encoding: 'utf8' });
    if (as.status !== 0) return { error: as.stderr };
    let obj = join(dir, 'c.o');
    if (link) {
      // Linked at 0, so absolute references to labels hold their addresses (in c.o they are 0 plus a relocation).
      const ld = spawnSync('ld', ['-Ttext=0', '-e', '0', '-o', join(dir, 'c.elf'), obj], { encoding: 'utf8' });
      if (ld.status !== 0) return { error: ld.stderr };
      obj = join(dir, 'c.elf');
    }
    const oc = spawnSync('objcopy', ['-O', 'binary', '-j', '.text', obj, join(dir, 'c.bin')], { encoding: 'utf8' });
    if (oc.status !== 0) throw new Error(`objcopy failed: ${oc.stderr}`);
    return { bytes: new Uint8Array(readFileSync(join(dir, 'c.bin'))) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Decoded { ip: number; text: string; }

/** Decodes a stream; targets inside it are rewritten to a synthetic "instruction k" address. */
export function decodeStream(bytes: Uint8Array, ip: number): Decoded[] {
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

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
