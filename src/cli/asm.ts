/**
 * `asm FILE.s [--hex | --list]`: assembles a file. Default output is a short summary;
 * --hex prints each segment's bytes as hex, --list a listing (address, bytes, source line).
 * A program with errors prints its diagnostics on stderr and exits 1.
 */
import { readFileSync } from 'node:fs';
import { assemble, formatDiagnostic, type AsmResult } from '../core/asm/index';
import { PREDEFINED_SYMBOLS } from '../core/guestAbi';
import { hex, hexBytes } from '../core/hex';


export function listing(r: AsmResult, source: string): string {
  const lines = source.split('\n');
  const out: string[] = [];
  for (const e of r.lineMap) {
    const seg = r.segments.find((s) => e.addr >= s.addr && e.addr + e.length <= s.addr + s.bytes.length);
    if (!seg) continue;
    const bytes = seg.bytes.subarray(e.addr - seg.addr, e.addr - seg.addr + e.length);
    // Long data statements are cut to 8 bytes per line: the listing is for reading.
    const shown = bytes.length > 8 ? hexBytes(bytes.subarray(0, 8)) + ' ..' : hexBytes(bytes);
    out.push(`${e.addr.toString(16).padStart(8, '0')}  ${shown.padEnd(26)}  ${String(e.line).padStart(4)}  ${(lines[e.line - 1] ?? '').trim()}`);
  }
  return out.join('\n');
}

export function summary(r: AsmResult, file: string): string {
  const segs = r.segments.filter((s) => s.bytes.length > 0 || s.name === '.text')
    .map((s) => `${s.name} ${hex(s.addr)} ${s.bytes.length} bytes`).join(', ');
  const insns = r.lineMap.length;
  return `${file}: ${segs}; ${insns} statements, ${r.symbols.size} symbols; entry ${hex(r.entry)}`;
}

export async function main(args: string[]): Promise<number> {
  const files = args.filter((a) => !a.startsWith('--'));
  const flags = new Set(args.filter((a) => a.startsWith('--')));
  const unknown = [...flags].filter((f) => f !== '--hex' && f !== '--list');
  if (files.length !== 1 || unknown.length > 0 || (flags.has('--hex') && flags.has('--list'))) {
    console.error('usage: npm run -s cli -- asm FILE.s [--hex | --list]');
    return 2;
  }
  const file = files[0];
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    console.error(`asm: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  // The same symbols the machine gives a program (LAPIC_BASE, DEBUG_PORT, MSR names...).
  const r = assemble(source, { file, predefined: PREDEFINED_SYMBOLS });
  for (const d of r.diagnostics) console.error(formatDiagnostic(d));
  if (!r.ok) return 1;
  if (flags.has('--hex')) {
    for (const s of r.segments) if (s.bytes.length) console.log(`${s.name} ${hex(s.addr)}\n${hexBytes(s.bytes)}`);
  } else if (flags.has('--list')) {
    console.log(listing(r, source));
  } else {
    console.log(summary(r, file));
  }
  return 0;
}
