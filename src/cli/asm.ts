/**
 * `asm FILE.s [--hex | --list]`: assembles a file. Default output is a short summary;
 * --hex prints each segment's bytes as hex, --list a listing (address, bytes, source line).
 * A program with errors prints its diagnostics on stderr and exits 1.
 */
import { readFileSync } from 'node:fs';
import { assemble, formatDiagnostic, type AsmResult } from '../core/asm/index';
import { PREDEFINED_SYMBOLS } from '../core/guestAbi';
import { hex, hexBytes } from '../core/hex';
import { commandUsage } from './usage';


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

const ASM_USAGE = commandUsage('asm');

/** What is wrong with the arguments, or null (a program whose name starts with '-' is given as ./-name). */
function argsProblem(files: string[], flags: Set<string>): string | null {
  const unknown = [...flags].filter((f) => f !== '--hex' && f !== '--list');
  if (unknown.length > 0) return `unknown option ${unknown[0]}`;
  if (flags.has('--hex') && flags.has('--list')) return '--hex and --list: one or the other';
  if (files.length === 0) return 'no program given';
  if (files.length > 1) return `one program at a time (given ${files.length})`;
  return null;
}

export async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(ASM_USAGE);
    return 0;
  }
  const isFlag = (a: string) => a.startsWith('-') && a !== '-';
  const files = args.filter((a) => !isFlag(a));
  const flags = new Set(args.filter(isFlag));
  const problem = argsProblem(files, flags);
  if (problem !== null) {
    console.error(`asm: ${problem}\n${ASM_USAGE}`);
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
