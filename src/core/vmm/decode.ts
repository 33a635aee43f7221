/**
 * Decode: bhyve's vmm_decode_instruction (sys/amd64/vmm/vmm_instruction_emul.c), in its order:
 * decode_prefixes, decode_opcode, decode_modrm, decode_sib, decode_displacement,
 * decode_immediate, decode_moffset, then verify_gla. The bytes are parsed the way bhyve parses
 * them (so the record is bhyve's), and iced-x86 decodes the same bytes alongside: it says
 * whether the bytes are a complete instruction at all (a fetch cut short by a faulting second
 * page), its length must agree with bhyve's num_processed, and it names the instruction in
 * Intel syntax for the UI and for the "unsupported" message.
 *
 * 64-bit mode only (DESIGN.md: the guest runs in long mode); bhyve's real/protected-mode and
 * VEX (BEXTR) paths are not reproduced.
 */
import { hexBytes } from '../hex';
import {
  Decoder, DecoderError, DecoderOptions, Formatter, FormatterSyntax, Instruction,
} from '../iced';
import {
  ONE_BYTE_OPCODES, TWO_BYTE_OPCODES, VIE_OP_F_IMM, VIE_OP_F_IMM8, VIE_OP_F_MOFFSET,
  VIE_OP_F_NO_MODRM, VIE_OP_TYPE_NONE, VIE_OP_TYPE_TWO_BYTE,
} from './opcodes';
import type { VcpuPort } from './ports';
import {
  SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_NAMES, SEG_SS, VIE_MOD_DIRECT, VIE_MOD_INDIRECT,
  VIE_MOD_INDIRECT_DISP32, VIE_MOD_INDIRECT_DISP8, VIE_RM_DISP32, VIE_RM_SIB, VM_REG_GUEST_RBP,
  VM_REG_GUEST_RIP, VM_REG_GUEST_RSP, VM_REG_LAST, type Vie,
} from './vie';

/** Results of `VieDecoder.decode`. */
export const DECODE_OK = 0;
/** The bytes end before the instruction does (iced: NoMoreBytes). */
export const DECODE_INCOMPLETE = 1;
/** bhyve's decoder gives up: an opcode its tables lack, mod = 3, a bad prefix order. */
export const DECODE_UNSUPPORTED = 2;
/**
 * bhyve's parse and iced disagree on the length. It happens where bhyve's table is coarser
 * than the opcode (F7 is "XXX group 3: not just TEST" with an immediate for every ModRM.reg,
 * so `not dword [m]` is misparsed); bhyve would then fail in emulation. The exit path stops
 * the run as 'unsupported', naming the instruction.
 */
export const DECODE_MISMATCH = 3;

const TWO64 = 18446744073709551616;
const TWO63 = 9223372036854775808;

// ---- bhyve's byte cursor -------------------------------------------------------------------

/** vie_peek: the next byte, or -1 when the fetched bytes are exhausted. */
function vie_peek(vie: Vie): number {
  return vie.num_processed < vie.num_valid ? vie.inst[vie.num_processed] : -1;
}

function vie_advance(vie: Vie): void {
  vie.num_processed++;
}

/** segment_override(): prefix byte -> segment register, or -1. */
function segment_override(x: number): number {
  switch (x) {
    case 0x2e: return SEG_CS;
    case 0x36: return SEG_SS;
    case 0x3e: return SEG_DS;
    case 0x26: return SEG_ES;
    case 0x64: return SEG_FS;
    case 0x65: return SEG_GS;
    default: return -1;
  }
}

/**
 * decode_prefixes (64-bit mode). Legacy prefixes in any order, then at most one REX that must
 * immediately precede the opcode (SDM Vol. 2A §2.2.1 "REX Prefixes"). Operand and address size
 * per SDM Vol. 1 §3.6.1 "Operand-Size and Address-Size Attributes": addrsize 8 (4 with 67),
 * opsize 4, 8 with REX.W, 2 with 66 (REX.W wins). LOCK (F0) is not a prefix bhyve knows: the
 * loop stops at it and decode_opcode fails on it, as in bhyve.
 */
function decode_prefixes(vie: Vie): number {
  let x: number;
  for (;;) {
    x = vie_peek(vie);
    if (x < 0) return -1;
    if (x === 0x66) vie.opsize_override = 1;
    else if (x === 0x67) vie.addrsize_override = 1;
    else if (x === 0xf3) vie.repz_present = 1;
    else if (x === 0xf2) vie.repnz_present = 1;
    else {
      const seg = segment_override(x);
      if (seg < 0) break;
      vie.segment_override = 1;
      vie.segment_register = seg;
    }
    vie_advance(vie);
  }
  if (x >= 0x40 && x <= 0x4f) {
    vie.rex_present = 1;
    vie.rex_w = (x >> 3) & 1;
    vie.rex_r = (x >> 2) & 1;
    vie.rex_x = (x >> 1) & 1;
    vie.rex_b = x & 1;
    vie_advance(vie);
  }
  vie.addrsize = vie.addrsize_override ? 4 : 8;
  vie.opsize = vie.rex_w ? 8 : vie.opsize_override ? 2 : 4;
  return 0;
}

/** decode_two_byte_opcode: the byte after 0F in two_byte_opcodes[]. */
function decode_two_byte_opcode(vie: Vie): number {
  const x = vie_peek(vie);
  if (x < 0) return -1;
  const op = TWO_BYTE_OPCODES[x];
  if (op.op_type === VIE_OP_TYPE_NONE) return -1;
  setOp(vie, op.op_byte, op.op_type, op.op_flags);
  vie_advance(vie);
  return 0;
}

function setOp(vie: Vie, b: number, t: number, f: number): void {
  vie.op.op_byte = b;
  vie.op.op_type = t;
  vie.op.op_flags = f;
}

/** decode_opcode: one_byte_opcodes[]; an empty entry is where bhyve gives up. */
function decode_opcode(vie: Vie): number {
  const x = vie_peek(vie);
  if (x < 0) return -1;
  const op = ONE_BYTE_OPCODES[x];
  if (op.op_type === VIE_OP_TYPE_NONE) return -1;
  setOp(vie, op.op_byte, op.op_type, op.op_flags);
  vie_advance(vie);
  if (op.op_type === VIE_OP_TYPE_TWO_BYTE) return decode_two_byte_opcode(vie);
  return 0;
}

/**
 * decode_modrm (SDM Vol. 2A §2.1.5, Table 2-2; §2.2.1.2 Table 2-5 "Special Cases of REX
 * Encodings"; Table 2-7 "RIP-Relative Addressing"). mod = 3 (a register operand) makes no
 * sense for an EPT fault, so bhyve rejects it.
 */
function decode_modrm(vie: Vie): number {
  if (vie.op.op_flags & VIE_OP_F_NO_MODRM) return 0;
  const x = vie_peek(vie);
  if (x < 0) return -1;
  vie.mod = (x >> 6) & 3;
  vie.rm = x & 7;
  vie.reg = (x >> 3) & 7;
  if (vie.mod === VIE_MOD_DIRECT) return -1;
  if (
    (vie.mod === VIE_MOD_INDIRECT && vie.rm === VIE_RM_DISP32) ||
    (vie.mod !== VIE_MOD_DIRECT && vie.rm === VIE_RM_SIB)
  ) {
    // Table 2-5: REX.B is "don't care" for mod=0 r/m=5 (disp32/RIP) and r/m=4 (SIB follows).
  } else {
    vie.rm |= vie.rex_b << 3;
  }
  vie.reg |= vie.rex_r << 3;
  if (vie.mod !== VIE_MOD_DIRECT && vie.rm === VIE_RM_SIB) {
    vie_advance(vie);
    return 0;
  }
  vie.base_register = vie.rm; // gpr_map[] is the identity in x86 numbering
  switch (vie.mod) {
    case VIE_MOD_INDIRECT_DISP8:
      vie.disp_bytes = 1;
      break;
    case VIE_MOD_INDIRECT_DISP32:
      vie.disp_bytes = 4;
      break;
    case VIE_MOD_INDIRECT:
      if (vie.rm === VIE_RM_DISP32) {
        // Table 2-7: in 64-bit mode mod=00 r/m=101 is [rip + disp32].
        vie.disp_bytes = 4;
        vie.base_register = VM_REG_GUEST_RIP;
      }
      break;
  }
  vie_advance(vie);
  return 0;
}

/** decode_sib (SDM Vol. 2A Table 2-3 "32-Bit Addressing Forms with the SIB Byte", Table 2-5). */
function decode_sib(vie: Vie): number {
  if (vie.mod === VIE_MOD_DIRECT || vie.rm !== VIE_RM_SIB) return 0;
  const x = vie_peek(vie);
  if (x < 0) return -1;
  vie.ss = (x >> 6) & 3;
  vie.index = ((x >> 3) & 7) | (vie.rex_x << 3);
  vie.base = (x & 7) | (vie.rex_b << 3);
  switch (vie.mod) {
    case VIE_MOD_INDIRECT_DISP8:
      vie.disp_bytes = 1;
      break;
    case VIE_MOD_INDIRECT_DISP32:
      vie.disp_bytes = 4;
      break;
  }
  if (vie.mod === VIE_MOD_INDIRECT && (vie.base === 5 || vie.base === 13)) {
    // mod = 0 with base = rbp/r13: no base register, disp32.
    vie.disp_bytes = 4;
  } else {
    vie.base_register = vie.base;
  }
  // Every index encoding is valid except rsp (4); with REX.X, 12 (r12) is an index.
  if (vie.index !== 4) vie.index_register = vie.index;
  if (vie.index_register !== VM_REG_LAST) vie.scale = 1 << vie.ss;
  vie_advance(vie);
  return 0;
}

/** Little-endian signed read of `n` bytes (1, 2, 4) at the cursor. */
function readSigned(vie: Vie, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const b = vie_peek(vie);
    if (b < 0) return NaN;
    v += b * 2 ** (8 * i);
    vie_advance(vie);
  }
  const top = 2 ** (8 * n - 1);
  return v >= top ? v - 2 * top : v;
}

/** decode_displacement: disp8/disp32, sign-extended (SDM Vol. 2A §2.1.5). */
function decode_displacement(vie: Vie): number {
  const n = vie.disp_bytes;
  if (n === 0) return 0;
  if (n !== 1 && n !== 4) return -1;
  const v = readSigned(vie, n);
  if (Number.isNaN(v)) return -1;
  vie.displacement = v;
  return 0;
}

/**
 * decode_immediate: SDM Vol. 2A §2.2.1.5 "Immediates": in 64-bit mode immediates stay 32 bits
 * wide and are sign-extended to 64 when the operand size is 64 bits; 16 with a 66 prefix.
 */
function decode_immediate(vie: Vie): number {
  if (vie.op.op_flags & VIE_OP_F_IMM) {
    vie.imm_bytes = vie.opsize === 4 || vie.opsize === 8 ? 4 : 2;
  } else if (vie.op.op_flags & VIE_OP_F_IMM8) {
    vie.imm_bytes = 1;
  }
  const n = vie.imm_bytes;
  if (n === 0) return 0;
  const v = readSigned(vie, n);
  if (Number.isNaN(v)) return -1;
  vie.immediate = v;
  return 0;
}

/** decode_moffset: SDM Vol. 2A §2.2.1.4 "Direct Memory-Offset MOVs": size = address size. */
function decode_moffset(vie: Vie): number {
  if ((vie.op.op_flags & VIE_OP_F_MOFFSET) === 0) return 0;
  const n = vie.addrsize;
  let v = 0n;
  for (let i = 0; i < n; i++) {
    const b = vie_peek(vie);
    if (b < 0) return -1;
    v |= BigInt(b) << BigInt(8 * i);
    vie_advance(vie);
  }
  // An 8-byte moffset is a signed 64-bit value in our numbers (canonical addresses are exact).
  vie.displacement = Number(n === 8 ? BigInt.asIntN(64, v) : v);
  return 0;
}

/** The bhyve half of vmm_decode_instruction (everything but verify_gla). 0 or -1. */
export function bhyveDecode(vie: Vie): number {
  if (decode_prefixes(vie)) return -1;
  if (decode_opcode(vie)) return -1;
  if (decode_modrm(vie)) return -1;
  if (decode_sib(vie)) return -1;
  if (decode_displacement(vie)) return -1;
  if (decode_immediate(vie)) return -1;
  if (decode_moffset(vie)) return -1;
  return 0;
}

/** 2^(8*size) - 1 as a number mask, for addrsize 4 (8 needs no mask on canonical numbers). */
function addrMask(v: number, addrsize: number): number {
  if (addrsize === 4) return ((v % 4294967296) + 4294967296) % 4294967296;
  if (addrsize === 2) return ((v % 65536) + 65536) % 65536;
  return v;
}

/**
 * verify_gla: recompute the operand's linear address from the decoded record and the guest's
 * registers and compare it with the GLA the exit reported. In 64-bit mode only FS and GS have
 * a base (SDM Vol. 1 §3.4.2.1); the default segment is SS for rsp/rbp bases, else DS.
 * RIP-relative addresses start at the next instruction. Returns the recomputed GLA (the caller
 * compares). Number arithmetic is exact for canonical addresses; the sum is wrapped to 64 bits.
 */
export function computeGla(vcpu: VcpuPort, vie: Vie, rip: number): number {
  let base = 0;
  if (vie.base_register === VM_REG_GUEST_RIP) base = rip + vie.num_processed;
  else if (vie.base_register !== VM_REG_LAST) base = signedNumber(vcpu.getGpr(vie.base_register));
  let idx = 0;
  if (vie.index_register !== VM_REG_LAST) idx = signedNumber(vcpu.getGpr(vie.index_register));
  let seg: number;
  if (vie.segment_override) seg = vie.segment_register;
  else if (vie.base_register === VM_REG_GUEST_RSP || vie.base_register === VM_REG_GUEST_RBP) seg = SEG_SS;
  else seg = SEG_DS;
  const segbase = seg === SEG_FS || seg === SEG_GS ? vcpu.segBase(SEG_NAMES[seg]) : 0;
  let gla = segbase + base + vie.scale * idx + vie.displacement;
  gla = wrapSigned64(gla);
  return addrMask(gla, vie.addrsize);
}

/** A 64-bit register value as a signed number (exact for canonical addresses). */
export function signedNumber(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

function wrapSigned64(v: number): number {
  if (v >= TWO63) return v - TWO64;
  if (v < -TWO63) return v + TWO64;
  return v;
}

/**
 * One decoder per VMM: bhyve's parse plus iced's check, into a caller-owned record. iced's
 * Decoder copies its input at construction, so one is made per decode (miss path only) and
 * freed at once; the Instruction and Formatter are reused.
 */
export class VieDecoder {
  private readonly insn = new Instruction();
  private readonly formatter: Formatter;
  /** iced's length of the last decode (0 when iced found no instruction or was not asked). */
  icedLength = 0;
  /**
   * Cross-check bhyve's parse with iced even when no text is wanted (default true). When
   * false and no text is wanted, a successful bhyve parse is final and iced is not called:
   * the bench's miss path. iced is always consulted when bhyve's parse fails, to tell an
   * instruction cut short by a faulting page from an unsupported one and to name it.
   */
  checkWithIced = true;

  constructor() {
    this.formatter = new Formatter(FormatterSyntax.Intel);
    this.formatter.hexPrefix = '0x';
    this.formatter.hexSuffix = '';
    this.formatter.uppercaseHex = false;
    this.formatter.spaceAfterOperandSeparator = true;
  }

  /**
   * vmm_decode_instruction without verify_gla, on vie.inst[0 .. num_valid). The record must be
   * vie_init'ed. When iced runs (format, checkWithIced, or a failed parse), vie.disasm gets
   * its Intel text. Returns DECODE_OK, DECODE_INCOMPLETE, DECODE_UNSUPPORTED or
   * DECODE_MISMATCH.
   */
  decode(vie: Vie, rip: number, format: boolean): number {
    const status = bhyveDecode(vie);
    if (status === 0 && !format && !this.checkWithIced) {
      // The bench's miss path: bhyve's parse alone, as bhyve decodes (no iced call).
      vie.decoded = 1;
      return DECODE_OK;
    }
    const d = new Decoder(64, vie.inst.subarray(0, vie.num_valid), DecoderOptions.None);
    d.ip = BigInt.asUintN(64, BigInt(rip));
    d.decodeOut(this.insn);
    const err = d.lastError;
    d.free();
    const insn = this.insn;
    if (insn.isInvalid) {
      this.icedLength = 0;
      vie.disasm = `(bad: ${hexBytes(vie.inst, vie.num_valid)})`;
      return err === DecoderError.NoMoreBytes ? DECODE_INCOMPLETE : DECODE_UNSUPPORTED;
    }
    this.icedLength = insn.length;
    vie.disasm = this.formatter.format(insn);
    if (status !== 0) return DECODE_UNSUPPORTED;
    if (vie.num_processed !== insn.length) return DECODE_MISMATCH;
    vie.decoded = 1;
    return DECODE_OK;
  }

  /** iced's Intel text of the first instruction in `bytes` (for messages and the UI). */
  disassemble(bytes: Uint8Array, len: number, rip: number): string {
    const d = new Decoder(64, bytes.subarray(0, len), DecoderOptions.None);
    d.ip = BigInt.asUintN(64, BigInt(rip));
    d.decodeOut(this.insn);
    d.free();
    return this.insn.isInvalid ? `(bad: ${hexBytes(bytes, len)})` : this.formatter.format(this.insn);
  }

  free(): void {
    this.insn.free();
    this.formatter.free();
  }
}
