/**
 * Register names, RFLAGS bits, condition codes and the table of flags each instruction leaves
 * undefined, for the differential test. Everything here is quoted from the Intel SDM, Vol. 2
 * (instruction pages, "Flags Affected") and Vol. 1 §3.4.3 (EFLAGS).
 */

/** GPR numbering = the hardware register number (ModRM/REX), the vCPU's `getGpr(i)` index. */
export const GPR64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
const GPR32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi',
  'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'] as const;
const GPR16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di',
  'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'] as const;
const GPR8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil',
  'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'] as const;
/** AH..BH: bits 8..15 of registers 0..3; encodable only without a REX prefix. */
const GPR8H = ['ah', 'ch', 'dh', 'bh'] as const;

export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;

export type Width = 8 | 16 | 32 | 64;
export const WIDTHS: readonly Width[] = [8, 16, 32, 64];

/** A register operand: `high` selects AH..BH (reg 0..3, bits 8..15). */
export interface RegOp {
  reg: number;
  width: Width;
  high: boolean;
}

export function regName(r: RegOp): string {
  if (r.high) return GPR8H[r.reg] as string;
  const table = r.width === 64 ? GPR64 : r.width === 32 ? GPR32 : r.width === 16 ? GPR16 : GPR8;
  return table[r.reg] as string;
}

export function ptrWord(width: Width): string {
  return width === 8 ? 'byte ptr' : width === 16 ? 'word ptr' : width === 32 ? 'dword ptr' : 'qword ptr';
}

export function maskOf(width: Width): bigint {
  return (1n << BigInt(width)) - 1n;
}

// RFLAGS bits (SDM Vol. 1 §3.4.3).
export const CF = 1 << 0;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const IF = 1 << 9;
/** Bit 1 of RFLAGS always reads as 1. */
export const RFLAGS_FIXED = 1 << 1;
/** The six status flags. */
export const STATUS = CF | PF | AF | ZF | SF | OF;
/**
 * The flags the test sets and compares: the status flags and DF. IF, TF, AC, IOPL, RF... belong
 * to the environment (natively the case runs at CPL 3 with IF = 1), not to the instructions.
 */
export const COMPARED_FLAGS = STATUS | DF;

export function flagNames(mask: number): string {
  const names: string[] = [];
  for (const [bit, name] of [[CF, 'CF'], [PF, 'PF'], [AF, 'AF'], [ZF, 'ZF'], [SF, 'SF'], [DF, 'DF'], [OF, 'OF']] as const) {
    if (mask & bit) names.push(name);
  }
  return names.join(' ') || '-';
}

/**
 * Condition codes (SDM Vol. 1 Appendix B, Table B-1) in encoding order, and the flags each one
 * reads: setcc/cmovcc/jcc read exactly these.
 */
export const CONDITIONS: readonly { cc: string; reads: number }[] = [
  { cc: 'o', reads: OF }, { cc: 'no', reads: OF },
  { cc: 'b', reads: CF }, { cc: 'ae', reads: CF },
  { cc: 'e', reads: ZF }, { cc: 'ne', reads: ZF },
  { cc: 'be', reads: CF | ZF }, { cc: 'a', reads: CF | ZF },
  { cc: 's', reads: SF }, { cc: 'ns', reads: SF },
  { cc: 'p', reads: PF }, { cc: 'np', reads: PF },
  { cc: 'l', reads: SF | OF }, { cc: 'ge', reads: SF | OF },
  { cc: 'le', reads: ZF | SF | OF }, { cc: 'g', reads: ZF | SF | OF },
];

/**
 * What an instruction does to the flags: `reads` are inputs; `writes` get a defined value;
 * `undef` are left undefined ("the state of the flag is undefined"); all others are preserved.
 */
export interface FlagEffect {
  reads: number;
  writes: number;
  undef: number;
}

const fx = (reads: number, writes: number, undef: number): FlagEffect => ({ reads, writes, undef });
export const NO_FLAGS: FlagEffect = fx(0, 0, 0);

/**
 * Flags per mnemonic, for the instructions whose effect does not depend on an operand value.
 * Each entry quotes the SDM Vol. 2 "Flags Affected" paragraph it encodes.
 */
export const FLAG_TABLE: Record<string, FlagEffect> = {
  // ADD/SUB/CMP/NEG, XADD, CMPXCHG, CMPS/SCAS: "The OF, SF, ZF, AF, CF, and PF flags are set
  // according to the result."
  add: fx(0, STATUS, 0), sub: fx(0, STATUS, 0), cmp: fx(0, STATUS, 0), neg: fx(0, STATUS, 0),
  xadd: fx(0, STATUS, 0), cmpxchg: fx(0, STATUS, 0), cmps: fx(DF, STATUS, 0), scas: fx(DF, STATUS, 0),
  // ADC/SBB read CF.
  adc: fx(CF, STATUS, 0), sbb: fx(CF, STATUS, 0),
  // AND/OR/XOR/TEST: "The OF and CF flags are cleared; the SF, ZF, and PF flags are set according
  // to the result. The state of the AF flag is undefined."
  and: fx(0, STATUS & ~AF, AF), or: fx(0, STATUS & ~AF, AF), xor: fx(0, STATUS & ~AF, AF),
  test: fx(0, STATUS & ~AF, AF),
  // INC/DEC: "The CF flag is not affected. The OF, SF, ZF, AF, and PF flags are set according to
  // the result."
  inc: fx(0, STATUS & ~CF, 0), dec: fx(0, STATUS & ~CF, 0),
  // NOT: "None".
  not: NO_FLAGS,
  // MUL, IMUL: "The OF and CF flags are set ...; the SF, ZF, AF, and PF flags are undefined."
  mul: fx(0, OF | CF, SF | ZF | AF | PF), imul: fx(0, OF | CF, SF | ZF | AF | PF),
  // DIV, IDIV: "The CF, OF, SF, ZF, AF, and PF flags are undefined."
  div: fx(0, 0, STATUS), idiv: fx(0, 0, STATUS),
  // BT/BTS/BTR/BTC: "The CF flag contains the value of the selected bit ... The ZF flag is
  // unaffected. The OF, SF, AF, and PF flags are undefined."
  bt: fx(0, CF, OF | SF | AF | PF), bts: fx(0, CF, OF | SF | AF | PF),
  btr: fx(0, CF, OF | SF | AF | PF), btc: fx(0, CF, OF | SF | AF | PF),
  // BSF/BSR: "The ZF flag is set to 1 if the source operand is 0; otherwise, the ZF flag is
  // cleared. The CF, OF, SF, AF, and PF flags are undefined."
  bsf: fx(0, ZF, CF | OF | SF | AF | PF), bsr: fx(0, ZF, CF | OF | SF | AF | PF),
  // TZCNT/LZCNT: "ZF is set to 1 in case of zero output ..., CF is set to 1 if the input was
  // zero ... The OF, SF, PF and AF flags are undefined."
  tzcnt: fx(0, ZF | CF, OF | SF | PF | AF), lzcnt: fx(0, ZF | CF, OF | SF | PF | AF),
  // POPCNT: "OF, SF, ZF, AF, CF, PF are all cleared. ZF is set if SRC = 0".
  popcnt: fx(0, STATUS, 0),
  // CLC/STC: CF cleared/set; CMC: "The CF flag contains the complement of its original value."
  clc: fx(0, CF, 0), stc: fx(0, CF, 0), cmc: fx(CF, CF, 0),
  // CLD/STD: DF cleared/set.
  cld: fx(0, DF, 0), std: fx(0, DF, 0),
  // LAHF reads SF ZF AF PF CF; SAHF loads them from AH (OF unaffected).
  lahf: fx(SF | ZF | AF | PF | CF, 0, 0), sahf: fx(0, SF | ZF | AF | PF | CF, 0),
  // PUSHF(Q) stores every flag; POPF(Q) loads them.
  pushfq: fx(COMPARED_FLAGS, 0, 0), popfq: fx(0, COMPARED_FLAGS, 0),
  // MOVS/LODS/STOS: "None" (they read DF).
  movs: fx(DF, 0, 0), lods: fx(DF, 0, 0), stos: fx(DF, 0, 0),
};

/**
 * SHL/SHR/SAR/SAL by a count (SDM Vol. 2B "SAL/SAR/SHL/SHR", Flags Affected): "The CF flag
 * contains the value of the last bit shifted out ...; it is undefined for SHL and SHR
 * instructions where the count is greater than or equal to the size (in bits) of the
 * destination operand. The OF flag is affected only for 1-bit shifts; otherwise, it is
 * undefined. The SF, ZF, and PF flags are set according to the result. If the count is 0, the
 * flags are not affected. For a non-zero count, the AF flag is undefined."
 * `count` is the count after masking to 5 bits (6 with REX.W).
 */
export function shiftFlags(op: 'shl' | 'shr' | 'sar', width: Width, count: number): FlagEffect {
  if (count === 0) return NO_FLAGS;
  let undef = AF;
  if (count !== 1) undef |= OF;
  if (op !== 'sar' && count >= width) undef |= CF;
  return fx(0, STATUS & ~undef, undef);
}

/**
 * ROL/ROR/RCL/RCR (SDM Vol. 2B "RCL/RCR/ROL/ROR", Flags Affected): "If the masked count is 0,
 * the flags are not affected. If the masked count is 1, then the OF flag is affected, otherwise
 * (masked count is greater than 1) the OF flag is undefined. The CF flag is affected when the
 * masked count is non-zero. The SF, ZF, AF, and PF flags are always unaffected."
 * RCL/RCR read CF (it is rotated in).
 */
export function rotateFlags(op: 'rol' | 'ror' | 'rcl' | 'rcr', count: number): FlagEffect {
  const reads = op === 'rcl' || op === 'rcr' ? CF : 0;
  if (count === 0) return fx(reads, 0, 0);
  return count === 1 ? fx(reads, CF | OF, 0) : fx(reads, CF, OF);
}

/**
 * SHLD/SHRD (SDM Vol. 2B, Flags Affected and Operation): "If the count is 1 or greater, the CF
 * flag is filled with the last bit shifted out ... the SF, ZF, and PF flags are set according to
 * the value of the result. For a 1-bit shift, the OF flag is set if a sign change occurred;
 * otherwise, it is cleared. For shifts greater than 1 bit, the OF flag is undefined. If a shift
 * occurs, the AF flag is undefined. If the count operand is 0, the flags are not affected. If
 * the count is greater than the operand size, the flags are undefined" (and so is DEST).
 * `count` is masked to 5 bits (6 with REX.W).
 */
export function doubleShiftFlags(width: Width, count: number): FlagEffect {
  if (count === 0) return NO_FLAGS;
  if (count > width) return fx(0, 0, STATUS);
  let undef = AF;
  if (count !== 1) undef |= OF;
  return fx(0, STATUS & ~undef, undef);
}
