/**
 * Hex formatting, one function per purpose. Pure.
 */

/**
 * A JS-number address or count. Guest-linear addresses are sign-extended 48-bit values held as
 * numbers (0xFFFF8000_00000000 is -2^47): negative values print as their 64-bit pattern, the
 * way the guest sees them.
 */
export function hex(n: number, pad = 0): string {
  const s = n >= 0 ? Math.trunc(n).toString(16) : BigInt.asUintN(64, BigInt(Math.trunc(n))).toString(16);
  return '0x' + s.padStart(pad, '0');
}

/** A 64-bit value (a register, an MSR) as unsigned hex. */
export function hex64(v: bigint | number, pad = 0): string {
  return '0x' + BigInt.asUintN(64, BigInt(v)).toString(16).padStart(pad, '0');
}

/** A signed integer literal for assembler source: -16 is "-0x10". */
export function hexLiteral(v: bigint | number): string {
  const b = BigInt(v);
  return b < 0n ? `-0x${(-b).toString(16)}` : `0x${b.toString(16)}`;
}

/** The first `n` bytes as "0f 01 d9". */
export function hexBytes(b: ArrayLike<number>, n = b.length): string {
  let s = '';
  for (let i = 0; i < n; i++) s += (i ? ' ' : '') + b[i].toString(16).padStart(2, '0');
  return s;
}
