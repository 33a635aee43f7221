/**
 * Intel-syntax x86-64 assembler (NASM and GNU `.intel_syntax noprefix` spellings) on iced-x86's
 * encoder. The public API: other modules depend on exactly these names.
 */
import { assembleSource } from './assembler';
import type { Diagnostic } from './diagnostic';

export { formatDiagnostic, type Diagnostic } from './diagnostic';
export interface Segment { addr: number; bytes: Uint8Array; name: '.text' | '.data'; }
/** One per emitted instruction or data statement. */
export interface LineMapEntry { addr: number; length: number; line: number; }
export interface AsmResult {
  /** No errors. */
  ok: boolean;
  /** .text at the origin; .data on the next 4 KiB page after .text unless `org` places it. */
  segments: Segment[];
  /** Address of `_start` if defined, else the origin. */
  entry: number;
  /** All labels and equ's of the program (not the predefined symbols). */
  symbols: Map<string, bigint>;
  /** Sorted by addr. */
  lineMap: LineMapEntry[];
  diagnostics: Diagnostic[];
}
export interface AsmOptions {
  file?: string;
  origin?: number;
  predefined?: ReadonlyMap<string, bigint>;
  /** A program to run, not only bytes: it must have an instruction at its entry. */
  runnable?: boolean;
}

export const DEFAULT_ORIGIN = 0x100000;

/** Never throws: anything unexpected becomes an "internal error" diagnostic. */
export function assemble(source: string, options: AsmOptions = {}): AsmResult {
  try {
    // A byte-order mark (an editor's UTF-8 file) is no character of the program.
    return assembleSource(source.startsWith('\uFEFF') ? source.slice(1) : source, options);
  } catch (e) {
    const origin = options.origin ?? DEFAULT_ORIGIN;
    return {
      ok: false,
      segments: [{ name: '.text', addr: origin, bytes: new Uint8Array(0) }],
      entry: origin,
      symbols: new Map(),
      lineMap: [],
      diagnostics: [{ file: options.file ?? 'input.s', line: 1, col: 1, severity: 'error', message: `internal error: ${e instanceof Error ? e.message : String(e)}` }],
    };
  }
}

/** The line that emitted the byte at `addr`, if any (binary search over the sorted map). */
export function lineAt(lineMap: readonly LineMapEntry[], addr: number): number | undefined {
  let lo = 0;
  let hi = lineMap.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const e = lineMap[mid];
    if (addr < e.addr) hi = mid - 1;
    else if (addr >= e.addr + e.length) lo = mid + 1;
    else return e.line;
  }
  return undefined;
}
