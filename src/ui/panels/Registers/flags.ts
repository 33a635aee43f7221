/** Decoding of RFLAGS, CR0, CR4 and EFER into named bits, and register diffs. Pure. */

export interface NamedBit {
  name: string;
  bit: number;
  on: boolean;
  title: string;
}

type BitDef = readonly [name: string, bit: number, title: string];

/** SDM Vol. 1 3.4.3, Figure 3-8. */
export const RFLAGS_BITS: readonly BitDef[] = [
  ['CF', 0, 'carry'], ['PF', 2, 'parity'], ['AF', 4, 'auxiliary carry'], ['ZF', 6, 'zero'], ['SF', 7, 'sign'],
  ['TF', 8, 'trap (single step)'], ['IF', 9, 'interrupts enabled'], ['DF', 10, 'direction (string ops go down)'], ['OF', 11, 'overflow'],
];
/** SDM Vol. 3A 2.5. */
export const CR0_BITS: readonly BitDef[] = [
  ['PE', 0, 'protected mode'], ['MP', 1, 'monitor coprocessor'], ['EM', 2, 'x87 emulation'], ['TS', 3, 'task switched'],
  ['ET', 4, 'extension type'], ['NE', 5, 'numeric error'], ['WP', 16, 'write protect (supervisor writes honour R/W)'],
  ['AM', 18, 'alignment mask'], ['NW', 29, 'not write-through'], ['CD', 30, 'cache disable'], ['PG', 31, 'paging'],
];
export const CR4_BITS: readonly BitDef[] = [
  ['VME', 0, 'virtual-8086 extensions'], ['PVI', 1, 'protected-mode virtual interrupts'], ['TSD', 2, 'time stamp disable'],
  ['DE', 3, 'debugging extensions'], ['PSE', 4, 'page size extensions'], ['PAE', 5, 'physical address extension'],
  ['MCE', 6, 'machine check'], ['PGE', 7, 'global pages'], ['PCE', 8, 'performance counters'], ['OSFXSR', 9, 'FXSAVE/FXRSTOR'],
  ['OSXMMEXCPT', 10, 'SIMD exceptions'], ['UMIP', 11, 'user-mode instruction prevention'], ['LA57', 12, '5-level paging'],
  ['VMXE', 13, 'VMX enable'], ['FSGSBASE', 16, 'FS/GS base instructions'], ['PCIDE', 17, 'PCID'], ['OSXSAVE', 18, 'XSAVE'],
  ['SMEP', 20, 'supervisor-mode execution prevention'], ['SMAP', 21, 'supervisor-mode access prevention'],
];
export const EFER_BITS: readonly BitDef[] = [
  ['SCE', 0, 'syscall enable'], ['LME', 8, 'long mode enable'], ['LMA', 10, 'long mode active'], ['NXE', 11, 'no-execute enable'],
];

function toBig(v: string | bigint | number): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  try { return BigInt(v); } catch { return 0n; }
}

export function decodeBits(value: string | bigint | number, defs: readonly BitDef[]): NamedBit[] {
  const v = toBig(value);
  return defs.map(([name, bit, title]) => ({ name, bit, title, on: ((v >> BigInt(bit)) & 1n) === 1n }));
}

export function decodeRflags(value: string | bigint | number): NamedBit[] {
  return decodeBits(value, RFLAGS_BITS);
}

/** IOPL (bits 13:12) of RFLAGS. */
export function iopl(value: string | bigint | number): number {
  return Number((toBig(value) >> 12n) & 3n);
}

/** Names whose value differs between two register records (all names when `prev` is null: none). */
export function changedKeys<K extends string>(prev: Readonly<Record<K, string>> | null, next: Readonly<Record<K, string>>): Set<K> {
  const out = new Set<K>();
  if (!prev) return out;
  for (const k of Object.keys(next) as K[]) if (prev[k] !== next[k]) out.add(k);
  return out;
}

/** "0x00000000000000ff" -> "0x0000_0000_0000_00ff" for reading 64-bit values at a glance. */
export function groupHex(v: string): string {
  const m = /^0x([0-9a-fA-F]+)$/.exec(v);
  if (!m) return v;
  const digits = m[1].padStart(16, '0');
  return '0x' + digits.replace(/(.{4})(?=.)/g, '$1_');
}
