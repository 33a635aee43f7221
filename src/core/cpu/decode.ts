/**
 * Decode guest code with iced-x86 into compact, plain records (bhyve's `struct vie` idea):
 * decode once per block, keep nothing from iced alive. Operand sizes come from iced's Code
 * names (e.g. `Add_rm64_imm8` -> 64-bit destination, 8-bit immediate), a table built once.
 */
import { Code, Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction, Mnemonic, OpKind, Register } from '../iced';

export const enum OK {
  None = 0,
  Reg = 1,
  Mem = 2,
  Imm = 3,
  Branch = 4,
  /** Implicit string memory operand ([rsi] / [rdi]); the string helpers handle it. */
  Str = 5,
}

/** One operand: a GPR (idx 0..15, hi8 for AH..BH), an immediate (lo/hi), memory or branch. */
export interface Operand {
  kind: OK;
  /** GPR index for Reg; -1 for a non-GPR register (see `sreg`). */
  reg: number;
  /** AH/CH/DH/BH. */
  hi8: boolean;
  /** iced Register for non-GPR registers (CRn, segment registers). */
  sreg: number;
  size: number;
  immLo: number;
  immHi: number;
}

/** A decoded instruction. Addresses are sign-extended 48-bit numbers (DESIGN.md). */
export interface DInsn {
  rip: number;
  len: number;
  next: number;
  code: number;
  mn: number;
  /** Operand size in bytes (of the destination / first operand). */
  osz: number;
  /** Address size in bytes (8, or 4 with the 67 prefix). */
  asz: number;
  ops: Operand[];
  /** Memory operand (at most one explicit one). */
  memBase: number; // GPR index, -1 none, 16 = RIP-relative (already folded into disp)
  memIndex: number;
  memScale: number;
  memDisp: number; // sign-extended displacement (or absolute address for moffs / RIP-rel)
  memSeg: number; // 0 none (DS/ES), 2 = SS (an RSP/RBP base, or an SS override), 4 = FS, 5 = GS
  memSize: number;
  rep: number; // 0 none, 1 rep/repe, 2 repne
  lock: boolean;
  cc: number; // iced ConditionCode
  target: number; // near branch target (NaN: non-canonical, the branch raises #GP(0) when taken)
  flagsRead: number; // iced RflagsBits
  flagsWritten: number;
  bytes: Uint8Array;
  /** Intel-syntax text (iced formatter). */
  text: string;
}

// ---------------------------------------------------------------------------------------------
// Register table: iced Register -> GPR index and size (SDM Vol. 1 §3.4.1.1).

const gprIdx = new Int8Array(512).fill(-1);
const gprSize = new Uint8Array(512);
const gprHi8 = new Uint8Array(512);
(function buildRegs() {
  const R = Register as unknown as Record<string, number>;
  for (let i = 0; i < 16; i++) {
    gprIdx[R.RAX! + i] = i; gprSize[R.RAX! + i] = 8;
    gprIdx[R.EAX! + i] = i; gprSize[R.EAX! + i] = 4;
    gprIdx[R.AX! + i] = i; gprSize[R.AX! + i] = 2;
  }
  // AL CL DL BL AH CH DH BH SPL BPL SIL DIL R8L..R15L
  for (let i = 0; i < 4; i++) { gprIdx[R.AL! + i] = i; gprSize[R.AL! + i] = 1; }
  for (let i = 0; i < 4; i++) { gprIdx[R.AH! + i] = i; gprSize[R.AH! + i] = 1; gprHi8[R.AH! + i] = 1; }
  for (let i = 0; i < 4; i++) { gprIdx[R.SPL! + i] = 4 + i; gprSize[R.SPL! + i] = 1; }
  for (let i = 0; i < 8; i++) { gprIdx[R.R8L! + i] = 8 + i; gprSize[R.R8L! + i] = 1; }
})();

// ---------------------------------------------------------------------------------------------
// Operand-size table from Code names: the first sized operand token gives the operand size.

const sizeTok: Record<string, number> = {
  AL: 1, CL: 1, DL: 1, BL: 1, AX: 2, DX: 2, EAX: 4, RAX: 8, CX: 2, ECX: 4, RCX: 8,
};
const codeSizes = new Map<number, number[]>();
export function codeOperandSizes(code: number): number[] {
  let s = codeSizes.get(code);
  if (s) return s;
  const name = (Code as unknown as Record<number, string>)[code] ?? '';
  s = [];
  for (const t of name.split('_').slice(1)) {
    const m = /^(?:rm|r|m|moffs|imm|mem|rel|ptr)?(8|16|32|64)$/.exec(t);
    if (m) s.push(Number(m[1]) / 8);
    else if (sizeTok[t] !== undefined) s.push(sizeTok[t]!);
  }
  codeSizes.set(code, s);
  return s;
}

/** Canonical sign-extended 48-bit number from a 64-bit bigint (non-canonical: NaN). */
export function bigToAddr(v: bigint): number {
  const s = BigInt.asIntN(64, v);
  if (s < -(1n << 47n) || s >= 1n << 47n) return NaN;
  return Number(s);
}

const R = Register as unknown as Record<string, number>;
const IP_REGS = new Set([R.RIP!, R.EIP!]);

let decoder: Decoder | null = null;
let insn: Instruction | null = null;
let formatter: Formatter | null = null;

/**
 * Decode instructions from `bytes` (guest code at linear `rip`) until a block ends.
 * Stops at: control flow other than fallthrough, `maxInsns`, or the end of `bytes`. An
 * instruction cut off by the end of `bytes` is not returned (`truncated` = true).
 */
export function decodeBlock(bytes: Uint8Array, rip: number, maxInsns: number, out: DInsn[]): { truncated: boolean; invalid: boolean } {
  decoder?.free();
  decoder = new Decoder(64, bytes, DecoderOptions.None);
  decoder.ip = BigInt.asUintN(64, BigInt(rip));
  insn ??= new Instruction();
  formatter ??= new Formatter(FormatterSyntax.Intel);
  let off = 0;
  let truncated = false, invalid = false;
  while (out.length < maxInsns && decoder.canDecode) {
    decoder.decodeOut(insn);
    if (insn.isInvalid) {
      // Not enough bytes left in this window: an instruction that crosses the window end.
      if (bytes.length - off < 15 && decoder.lastError === 2 /* NoMoreBytes */) { truncated = true; break; }
      invalid = true;
      out.push(invalidRecord(bytes, off, rip + off));
      break;
    }
    const d = toRecord(insn, bytes.subarray(off, off + insn.length), rip + off);
    out.push(d);
    off += insn.length;
    if (endsBlock(d)) break;
  }
  return { truncated, invalid };
}

function invalidRecord(bytes: Uint8Array, off: number, rip: number): DInsn {
  return {
    rip, len: 1, next: rip + 1, code: 0, mn: Mnemonic.INVALID, osz: 0, asz: 8, ops: [], memBase: -1, memIndex: -1,
    memScale: 1, memDisp: 0, memSeg: 0, memSize: 0, rep: 0, lock: false, cc: 0, target: 0, flagsRead: 0,
    flagsWritten: 0, bytes: bytes.slice(off, Math.min(bytes.length, off + 15)), text: '(bad)',
  };
}

const END_MN = new Set<number>([
  Mnemonic.Hlt, Mnemonic.Int, Mnemonic.Int3, Mnemonic.Int1, Mnemonic.Into, Mnemonic.Iretq, Mnemonic.Iret, Mnemonic.Iretd,
  Mnemonic.Syscall, Mnemonic.Sysretq, Mnemonic.Sysret, Mnemonic.Ud2, Mnemonic.Ud0, Mnemonic.Ud1, Mnemonic.Sti, Mnemonic.Cli,
  Mnemonic.Popfq, Mnemonic.Popf, Mnemonic.Mov /* only with CRn, see below */, Mnemonic.Lgdt, Mnemonic.Lidt, Mnemonic.Invlpg,
  Mnemonic.Wrmsr, Mnemonic.Rdmsr, Mnemonic.Cpuid, Mnemonic.In, Mnemonic.Out, Mnemonic.Vmcall, Mnemonic.Swapgs,
  Mnemonic.Ltr, Mnemonic.Insb, Mnemonic.Insw, Mnemonic.Insd, Mnemonic.Outsb, Mnemonic.Outsw, Mnemonic.Outsd,
]);

/** Instructions after which a block ends: branches, and anything that changes mode/exits. */
export function endsBlock(d: DInsn): boolean {
  if (d.mn === Mnemonic.INVALID) return true;
  if (d.mn === Mnemonic.Mov) return d.ops.some((o) => o.kind === OK.Reg && o.reg < 0);
  if (END_MN.has(d.mn)) return true;
  return d.target !== 0 || isBranch(d.mn);
}

const BRANCH_MN = new Set<number>([
  Mnemonic.Jmp, Mnemonic.Call, Mnemonic.Ret, Mnemonic.Jo, Mnemonic.Jno, Mnemonic.Jb, Mnemonic.Jae, Mnemonic.Je, Mnemonic.Jne,
  Mnemonic.Jbe, Mnemonic.Ja, Mnemonic.Js, Mnemonic.Jns, Mnemonic.Jp, Mnemonic.Jnp, Mnemonic.Jl, Mnemonic.Jge, Mnemonic.Jle,
  Mnemonic.Jg, Mnemonic.Loop, Mnemonic.Loope, Mnemonic.Loopne, Mnemonic.Jrcxz, Mnemonic.Jecxz,
]);
export function isBranch(mn: number): boolean { return BRANCH_MN.has(mn); }

const ECX_COUNTER = new Set<number>([Code.Loop_rel8_64_ECX, Code.Loope_rel8_64_ECX, Code.Loopne_rel8_64_ECX, Code.Jecxz_rel8_64]);

function toRecord(i: Instruction, bytes: Uint8Array, rip: number): DInsn {
  const sizes = codeOperandSizes(i.code);
  const ops: Operand[] = [];
  let memBase = -1, memIndex = -1, memScale = 1, memDisp = 0, memSeg = 0, memSize = 0, target = 0;
  let asz = 8;
  const n = i.opCount;
  for (let k = 0; k < n; k++) {
    const kind = i.opKind(k);
    const o: Operand = { kind: OK.None, reg: -1, hi8: false, sreg: 0, size: sizes[k] ?? 0, immLo: 0, immHi: 0 };
    switch (kind) {
      case OpKind.Register: {
        const r = i.opRegister(k);
        o.kind = OK.Reg;
        o.reg = gprIdx[r]!;
        o.hi8 = gprHi8[r] === 1;
        o.sreg = r;
        if (o.reg >= 0) o.size = gprSize[r]!;
        break;
      }
      case OpKind.NearBranch16: case OpKind.NearBranch32: case OpKind.NearBranch64:
        o.kind = OK.Branch;
        target = bigToAddr(i.nearBranchTarget);
        break;
      case OpKind.Immediate8: case OpKind.Immediate8_2nd: case OpKind.Immediate16: case OpKind.Immediate32:
      case OpKind.Immediate64: case OpKind.Immediate8to16: case OpKind.Immediate8to32: case OpKind.Immediate8to64:
      case OpKind.Immediate32to64: {
        o.kind = OK.Imm;
        // Sign- or zero-extended to 64 bits as the instruction defines (iced does this per kind).
        const v = BigInt.asUintN(64, i.immediate(k));
        o.immLo = Number(v & 0xffffffffn) | 0;
        o.immHi = Number(v >> 32n) | 0;
        break;
      }
      case OpKind.Memory: {
        o.kind = OK.Mem;
        const b = i.memoryBase, x = i.memoryIndex;
        memScale = i.memoryIndexScale;
        memIndex = x === Register.None ? -1 : gprIdx[x]!;
        if (IP_REGS.has(b)) {
          memBase = -1;
          memDisp = bigToAddr(i.ipRelMemoryAddress);
        } else {
          memBase = b === Register.None ? -1 : gprIdx[b]!;
          memDisp = Number(BigInt.asIntN(64, i.memoryDisplacement));
          if (memBase < 0 && memIndex < 0) memDisp = Number(BigInt.asIntN(64, i.memoryDisplacementU64));
          if (b !== Register.None && gprSize[b] === 4) asz = 4;
          if (x !== Register.None && gprSize[x] === 4) asz = 4;
        }
        const seg = i.memorySegment;
        memSeg = seg === Register.FS ? 4 : seg === Register.GS ? 5 : seg === Register.SS ? 2 : 0;
        memSize = o.size;
        break;
      }
      default:
        o.kind = OK.Str;
        if (kind === OpKind.MemorySegESI || kind === OpKind.MemorySegEDI || kind === OpKind.MemoryESEDI) asz = 4;
        {
          const seg = i.memorySegment;
          memSeg = seg === Register.FS ? 4 : seg === Register.GS ? 5 : seg === Register.SS ? 2 : 0;
        }
        break;
    }
    ops.push(o);
  }
  // LOOPcc/JECXZ with a 67 prefix count in ECX (SDM Vol. 2A LOOP/Jcc: "the address-size
  // attribute determines whether ECX or RCX is the count register"); no memory operand says so.
  if (ECX_COUNTER.has(i.code)) asz = 4;
  const first = ops[0];
  const osz = first && first.kind === OK.Reg && first.reg >= 0 ? first.size : (sizes[0] ?? 8);
  const text = formatter!.format(i);
  return {
    rip, len: i.length, next: rip + i.length, code: i.code, mn: i.mnemonic, osz, asz, ops, memBase, memIndex, memScale,
    memDisp, memSeg, memSize, rep: i.hasRepnePrefix ? 2 : i.hasRepPrefix || i.hasRepePrefix ? 1 : 0, lock: i.hasLockPrefix,
    cc: i.conditionCode, target, flagsRead: i.rflagsRead, flagsWritten: flagsWritten(i, ops, osz),
    bytes: bytes.slice(), text,
  };
}

const SHIFTS = new Set<number>([Mnemonic.Shl, Mnemonic.Sal, Mnemonic.Shr, Mnemonic.Sar, Mnemonic.Rol, Mnemonic.Ror,
  Mnemonic.Rcl, Mnemonic.Rcr, Mnemonic.Shld, Mnemonic.Shrd]);

/**
 * The flags an instruction certainly writes, for the block's flag liveness. A shift or rotate
 * whose masked count is 0 leaves the flags alone (SDM SAL/SHL, RCL/ROL, SHLD: "If the count is
 * 0, the flags are not affected"), so one counted by CL may write nothing, and one with an
 * immediate count that masks to 0 writes nothing.
 */
function flagsWritten(i: Instruction, ops: Operand[], osz: number): number {
  if (!SHIFTS.has(i.mnemonic)) return i.rflagsModified;
  const count = ops[ops.length - 1];
  if (!count || count.kind === OK.Reg) return 0;
  if (count.kind === OK.Imm && (count.immLo & (osz === 8 ? 63 : 31)) === 0) return 0;
  return i.rflagsModified;
}
