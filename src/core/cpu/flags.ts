/**
 * RFLAGS (SDM Vol. 1 §3.4.3) and lazy evaluation of the six status flags. An arithmetic
 * instruction records what it did (`lazyOp` = kind * 4 + log2(size)) with its result and
 * operands; the flags are computed only when something reads them.
 */

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800;
export const IOPL = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, VIF = 0x80000, VIP = 0x100000, ID = 0x200000;
export const STATUS = CF | PF | AF | ZF | SF | OF;
/** Bit 1 is always 1 (SDM Vol. 1 Figure 3-8). */
export const FIXED1 = 0x2;
/** Flags a 64-bit POPFQ at CPL 0 may change (no VM/VIF/VIP, SDM POPF). */
export const POPF_MASK = STATUS | TF | IF | DF | IOPL | NT | AC | ID;

export const enum FK {
  None = 0,
  Add = 1,
  Adc = 2,
  Sub = 3,
  Sbb = 4,
  Logic = 5,
  Inc = 6,
  Dec = 7,
}

/** log2 of an operand size in bytes: 1 -> 0, 2 -> 1, 4 -> 2, 8 -> 3. */
export function szlog(size: number): number {
  return size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3;
}

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, p = 1;
  while (b) { p ^= b & 1; b >>>= 1; }
  PARITY[i] = p ? PF : 0;
}
export function parity(v: number): number { return PARITY[v & 0xff]!; }

const MASK = [0xff, 0xffff, -1, -1];
const SIGN = [0x80, 0x8000, -0x80000000, -0x80000000];

/** The lazily-recorded state (fields of the Vcpu) this module reads. */
export interface LazyFlags {
  /** What the last flag-writing instruction did: kind (FK) * 4 + log2(size); 0: none pending. */
  lazyOp: number;
  /** Its result, low and high 32 bits (the high half only for 64-bit operations). */
  lazyResult: number;
  lazyResultHi: number;
  /** Its operands a (destination) and b (source), low and high halves. */
  lazyA: number;
  lazyAHi: number;
  lazyB: number;
  lazyBHi: number;
  /** Carry in (ADC/SBB) or the preserved CF (INC/DEC). */
  lazyCarry: number;
}

function ult64(ah: number, al: number, bh: number, bl: number): boolean {
  return (ah >>> 0) < (bh >>> 0) || (ah === bh && (al >>> 0) < (bl >>> 0));
}

/** The six status flags of a lazy record. */
export function computeStatus(s: LazyFlags): number {
  const kind = s.lazyOp >> 2, lg = s.lazyOp & 3;
  const m = MASK[lg]!, sb = SIGN[lg]!;
  const r = s.lazyResult & m, a = s.lazyA & m, b = s.lazyB & m;
  let f = PARITY[r & 0xff]!;
  let zero: boolean, neg: boolean;
  if (lg === 3) {
    zero = (s.lazyResult | s.lazyResultHi) === 0;
    neg = s.lazyResultHi < 0;
  } else {
    zero = r === 0;
    neg = (r & sb) !== 0;
  }
  if (zero) f |= ZF;
  if (neg) f |= SF;
  const hr = lg === 3 ? s.lazyResultHi : r, ha = lg === 3 ? s.lazyAHi : a, hb = lg === 3 ? s.lazyBHi : b;
  switch (kind) {
    case FK.Add:
    case FK.Adc: {
      // CF: unsigned carry out; with carry-in, r <= a (SDM ADC). OF: operands of equal sign, result differs.
      const lt = lg === 3 ? ult64(s.lazyResultHi, s.lazyResult, s.lazyAHi, s.lazyA) : (r >>> 0) < (a >>> 0);
      const eq = lg === 3 ? s.lazyResultHi === s.lazyAHi && s.lazyResult === s.lazyA : r === a;
      if (lt || (kind === FK.Adc && s.lazyCarry !== 0 && eq)) f |= CF;
      if (((ha ^ hr) & (hb ^ hr) & (lg === 3 ? -0x80000000 : sb)) !== 0) f |= OF;
      f |= (s.lazyA ^ s.lazyB ^ s.lazyResult) & AF;
      break;
    }
    case FK.Sub:
    case FK.Sbb: {
      const lt = lg === 3 ? ult64(s.lazyAHi, s.lazyA, s.lazyBHi, s.lazyB) : (a >>> 0) < (b >>> 0);
      const eq = lg === 3 ? s.lazyAHi === s.lazyBHi && s.lazyA === s.lazyB : a === b;
      if (lt || (kind === FK.Sbb && s.lazyCarry !== 0 && eq)) f |= CF;
      if (((ha ^ hb) & (ha ^ hr) & (lg === 3 ? -0x80000000 : sb)) !== 0) f |= OF;
      f |= (s.lazyA ^ s.lazyB ^ s.lazyResult) & AF;
      break;
    }
    case FK.Logic:
      break; // CF = OF = 0; AF undefined: 0
    case FK.Inc:
      if (s.lazyCarry) f |= CF;
      if (lg === 3 ? s.lazyResultHi === -0x80000000 && s.lazyResult === 0 : r === (sb & m)) f |= OF;
      if ((r & 0xf) === 0) f |= AF;
      break;
    case FK.Dec:
      if (s.lazyCarry) f |= CF;
      if (lg === 3 ? s.lazyResultHi === 0x7fffffff && s.lazyResult === -1 : r === ((sb - 1) & m)) f |= OF;
      if ((r & 0xf) === 0xf) f |= AF;
      break;
  }
  return f;
}

/** Condition codes 0..15 (SDM Vol. 1 Appendix B, Table B-1) evaluated on RFLAGS bits. */
export function testCond(cc: number, f: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = (f & OF) !== 0; break; // O
    case 1: r = (f & CF) !== 0; break; // B
    case 2: r = (f & ZF) !== 0; break; // E
    case 3: r = (f & (CF | ZF)) !== 0; break; // BE
    case 4: r = (f & SF) !== 0; break; // S
    case 5: r = (f & PF) !== 0; break; // P
    case 6: r = ((f & SF) !== 0) !== ((f & OF) !== 0); break; // L
    default: r = (f & ZF) !== 0 || ((f & SF) !== 0) !== ((f & OF) !== 0); break; // LE
  }
  return (cc & 1) !== 0 ? !r : r;
}
