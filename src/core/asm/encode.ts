/**
 * One instruction: operands (already evaluated) -> iced Instruction -> bytes.
 *
 * Selection works like NASM's: every iced template of the mnemonic whose operand kinds accept
 * the operands is a candidate; candidates whose immediates do not fit are dropped; the rest
 * are encoded by iced's Encoder and the shortest wins (ties: iced's table order, which lists
 * the classic encoding first). Branches are candidates too: rel8 fails to encode when the
 * target is too far, so jumps come out short when they can be.
 */
import { Code, Encoder, Instruction, OpCodeOperandKind as K, OpKind, Register } from '../iced';
import { AsmError } from './expr';
import { PREFIX_BYTES, rexByte, type MemOperand } from './parser';
import { closest } from './suggest';
import { isImplicitStringKind, tables, type RegInfo, type Template } from './tables';

export type ROperand =
  | { readonly t: 'reg'; readonly reg: RegInfo; readonly col: number }
  | { readonly t: 'imm'; readonly value: bigint; readonly reloc: boolean; readonly col: number; readonly jump?: 'short' | 'near' }
  | { readonly t: 'mem'; readonly m: MemOperand; readonly disp: bigint; readonly reloc: boolean; readonly col: number };

export interface EncodeRequest {
  readonly mnemonic: string;
  readonly prefixes: readonly string[];
  readonly operands: readonly ROperand[];
  readonly rip: bigint;
  /** Length chosen in the previous pass: never shrink below it, so passes converge. */
  readonly minLen: number;
  readonly defaultRel: boolean;
  readonly col: number;
  /** Identity of the source statement: operand shapes are matched once per key, not per pass. */
  readonly key?: object;
}

/** Signed view of `v` as a `bits`-wide value, or undefined if v does not fit in `bits` at all. */
function signedIn(v: bigint, bits: number): bigint | undefined {
  const w = BigInt(bits);
  const lo = -(1n << (w - 1n));
  const hi = (1n << w) - 1n;
  if (v < lo || v > hi) return undefined;
  return BigInt.asIntN(bits, v);
}

function immBytes(k: K): number {
  switch (k) {
    case K.imm8: case K.imm8_const_1: case K.imm8sex16: case K.imm8sex32: case K.imm8sex64: return 1;
    case K.imm16: return 2;
    case K.imm32: case K.imm32sex64: return 4;
    case K.imm64: return 8;
    default: return 0;
  }
}

/** Whether `v` can be written in an immediate of kind k; describes the width for errors. */
export function immFits(k: K, v: bigint): boolean {
  switch (k) {
    case K.imm8: return v >= -128n && v <= 255n;
    case K.imm8_const_1: return v === 1n;
    case K.imm8sex16: { const s = signedIn(v, 16); return s !== undefined && s >= -128n && s <= 127n; }
    case K.imm8sex32: { const s = signedIn(v, 32); return s !== undefined && s >= -128n && s <= 127n; }
    case K.imm8sex64: { const s = signedIn(v, 64); return s !== undefined && s >= -128n && s <= 127n; }
    case K.imm16: return signedIn(v, 16) !== undefined;
    case K.imm32: return signedIn(v, 32) !== undefined;
    case K.imm32sex64: { const s = signedIn(v, 64); return s !== undefined && s >= -(1n << 31n) && s < 1n << 31n; }
    case K.imm64: return signedIn(v, 64) !== undefined;
    default: return false;
  }
}

function isImmKind(k: K): boolean { return immBytes(k) > 0; }
function isBranchKind(k: K): boolean { return k === K.br64_1 || k === K.br64_4 || k === K.xbegin_4; }

function regMatches(k: K, r: RegInfo): boolean {
  switch (k) {
    case K.r8_reg: case K.r8_opcode: case K.r8_or_mem: return r.cls === 'r8';
    case K.r16_reg: case K.r16_reg_mem: case K.r16_rm: case K.r16_opcode: case K.r16_or_mem: return r.cls === 'r16';
    case K.r32_reg: case K.r32_reg_mem: case K.r32_rm: case K.r32_opcode: case K.r32_vvvv: case K.r32_or_mem: return r.cls === 'r32';
    case K.r64_reg: case K.r64_reg_mem: case K.r64_rm: case K.r64_opcode: case K.r64_vvvv: case K.r64_or_mem: return r.cls === 'r64';
    case K.seg_reg: return r.cls === 'seg';
    case K.cr_reg: return r.cls === 'cr';
    case K.dr_reg: return r.cls === 'dr';
    case K.mm_reg: case K.mm_rm: case K.mm_or_mem: return r.cls === 'mm';
    case K.xmm_reg: case K.xmm_rm: case K.xmm_vvvv: case K.xmm_is4: case K.xmm_or_mem: return r.cls === 'xmm';
    case K.ymm_reg: case K.ymm_rm: case K.ymm_vvvv: case K.ymm_is4: case K.ymm_or_mem: return r.cls === 'ymm';
    case K.sti_opcode: return r.cls === 'st';
    case K.st0: return r.reg === Register.ST0;
    case K.es: return r.reg === Register.ES;
    case K.cs: return r.reg === Register.CS;
    case K.ss: return r.reg === Register.SS;
    case K.ds: return r.reg === Register.DS;
    case K.fs: return r.reg === Register.FS;
    case K.gs: return r.reg === Register.GS;
    case K.al: return r.reg === Register.AL;
    case K.cl: return r.reg === Register.CL;
    case K.ax: return r.reg === Register.AX;
    case K.dx: return r.reg === Register.DX;
    case K.eax: return r.reg === Register.EAX;
    case K.rax: return r.reg === Register.RAX;
    default: return false;
  }
}

function memKind(k: K): boolean {
  return k === K.mem || k === K.mem_offs || k === K.r8_or_mem || k === K.r16_or_mem || k === K.r32_or_mem || k === K.r64_or_mem ||
    k === K.mm_or_mem || k === K.xmm_or_mem || k === K.ymm_or_mem;
}

/** Does the operand have the right shape for kind k (ignoring immediate ranges)? */
function shapeMatches(t: Template, k: K, o: ROperand, movabs: boolean, offs = false): boolean {
  switch (o.t) {
    case 'reg': return regMatches(k, o.reg);
    case 'imm':
      if (isBranchKind(k)) return o.jump === undefined || (o.jump === 'short') === (k === K.br64_1);
      return isImmKind(k) && o.jump === undefined;
    case 'mem': {
      if (!memKind(k)) return false;
      if (k === K.mem_offs ? !(movabs || offs) : movabs) return false;
      if (k === K.mem_offs && (o.m.base || o.m.index || o.m.rel)) return false;
      if (o.m.far !== t.farMem) return false;
      if (o.m.size !== undefined && t.memSize !== 0 && o.m.size !== t.memSize) return false;
      return true;
    }
  }
}

const SHIFTS = new Set(['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr']);

/**
 * Operand lists to try: xchg and test are commutative in NASM and GNU; `imul r, imm` = `imul r, r, imm`;
 * a shift or rotate with one operand shifts by 1 (GNU).
 */
function operandVariants(mn: string, ops: readonly ROperand[]): (readonly ROperand[])[] {
  const out: (readonly ROperand[])[] = [ops];
  if (SHIFTS.has(mn) && ops.length === 1) out.push([ops[0], { t: 'imm', value: 1n, reloc: false, col: ops[0].col }]);
  if ((mn === 'xchg' || mn === 'test') && ops.length === 2) out.push([ops[1], ops[0]]);
  if (mn === 'imul' && ops.length === 2 && ops[0].t === 'reg' && ops[1].t === 'imm') out.push([ops[0], ops[0], ops[1]]);
  return out;
}

interface Resolved { name: string; templates: readonly Template[]; movabs: boolean; }

/** GNU (AT&T-derived) spellings GNU as also accepts in Intel mode: name, and the operation size it fixes. */
const GNU_NAMES: Record<string, [string, number?]> = {
  cltq: ['cdqe'], cqto: ['cqo'], cwtl: ['cwde'], cltd: ['cdq'], cbtw: ['cbw'], cwtd: ['cwd'], ud2a: ['ud2'], ud2b: ['ud1'], lret: ['retf'],
  movslq: ['movsxd', 64], movsbw: ['movsx', 16], movsbl: ['movsx', 32], movsbq: ['movsx', 64], movswl: ['movsx', 32], movswq: ['movsx', 64],
  movzbw: ['movzx', 16], movzbl: ['movzx', 32], movzbq: ['movzx', 64], movzwl: ['movzx', 32], movzwq: ['movzx', 64],
  movzxb: ['movzx'], movzxw: ['movzx'], movsxb: ['movsx'], movsxw: ['movsx'], movsxl: ['movsxd'],
  movabsq: ['movabs'], int1: ['int1'], icebp: ['int1'],
};
/** iced names GNU's 16-bit forms plainly (our aliases map `pushf` to pushfq, `iret` to iretd). */
const DIRECT: Record<string, string> = { pushfw: 'pushf', popfw: 'popf', iretw: 'iret' };

function bySize(r: Resolved, size: number | undefined): Resolved | undefined {
  if (size === undefined) return r;
  const is8 = (k: K): boolean => k === K.r8_or_mem || k === K.r8_reg || k === K.r8_opcode || k === K.al;
  const templates = r.templates.filter((t) => (size === 8 ? t.opSize === 0 && t.ops.some(is8) : t.opSize === size));
  return templates.length ? { ...r, templates } : undefined;
}

function resolveBase(mn: string): Resolved | undefined {
  const tb = tables();
  if (mn === 'movabs') return { name: 'mov', templates: tb.byMnemonic.get('mov') ?? [], movabs: true };
  const direct = DIRECT[mn];
  if (direct) return { name: direct, templates: tb.byMnemonic.get(direct) ?? [], movabs: false };
  const name = tb.aliases.get(mn) ?? mn;
  const templates = tb.byMnemonic.get(name);
  if (!templates) return undefined;
  if (name === 'movsx') {
    // NASM and GNU accept `movsx r64, r/m32` for movsxd.
    return { name, templates: [...templates, ...(tb.byMnemonic.get('movsxd') ?? []).filter((t) => t.ops[0] === K.r64_reg)], movabs: false };
  }
  return { name, templates, movabs: false };
}

/** A GNU suffixed spelling (`pushq`, `shrb`, `cltq`, `movslq`): its base instruction, sized. */
function resolveSuffixed(mn: string): Resolved | undefined {
  const g = GNU_NAMES[mn];
  if (g) { const r = resolveBase(g[0]); return r && bySize(r, g[1]); }
  const m = mn.match(/^([a-z][a-z0-9]*?)([bwlq])$/);
  if (!m) return undefined;
  const g2 = GNU_NAMES[m[1]];
  const r = resolveBase(m[1]) ?? (g2 && resolveBase(g2[0]));
  return r && bySize(r, { b: 8, w: 16, l: 32, q: 64 }[m[2]]);
}

export function resolveMnemonic(mn: string): Resolved | undefined {
  return resolveBase(mn) ?? resolveSuffixed(mn);
}

/** Spellings the encoder accepts (GNU's operand forms of string instructions included). */
export function isKnownMnemonic(mn: string): boolean {
  return STRING_BASES.has(mn) || resolveMnemonic(mn) !== undefined;
}

/** `suggest`: search for a "did you mean" (each search measures every mnemonic). */
export function unknownMnemonicMessage(written: string, extra: readonly string[], suggest = true): string {
  const c = suggest ? closest(written, [...tables().mnemonicNames, ...extra]) : undefined;
  return `unknown instruction '${written}'` + (c ? `; did you mean '${c}'?` : '');
}

interface Candidate { readonly t: Template; readonly ops: readonly ROperand[]; }
const shapeCache = new WeakMap<object, [number, Template][]>();

let encoder: Encoder | undefined;
function theEncoder(): Encoder {
  // One Encoder for the process: creating wasm objects per instruction would dominate.
  return (encoder ??= new Encoder(64));
}

const STRING_OPKIND: Partial<Record<K, OpKind>> = {
  [K.seg_rSI]: OpKind.MemorySegRSI,
  [K.es_rDI]: OpKind.MemoryESRDI,
  [K.seg_rDI]: OpKind.MemorySegRDI,
};
const STRING_OPKIND32: Partial<Record<K, OpKind>> = {
  [K.seg_rSI]: OpKind.MemorySegESI,
  [K.es_rDI]: OpKind.MemoryESEDI,
  [K.seg_rDI]: OpKind.MemorySegEDI,
};
const FIXED_REG: Partial<Record<K, Register>> = {
  [K.al]: Register.AL, [K.cl]: Register.CL, [K.ax]: Register.AX, [K.dx]: Register.DX, [K.eax]: Register.EAX, [K.rax]: Register.RAX,
  [K.es]: Register.ES, [K.cs]: Register.CS, [K.ss]: Register.SS, [K.ds]: Register.DS, [K.fs]: Register.FS, [K.gs]: Register.GS, [K.st0]: Register.ST0,
};

function immOpKind(k: K, second: boolean): OpKind {
  switch (k) {
    case K.imm8: case K.imm8_const_1: return second ? OpKind.Immediate8_2nd : OpKind.Immediate8;
    case K.imm8sex16: return OpKind.Immediate8to16;
    case K.imm8sex32: return OpKind.Immediate8to32;
    case K.imm8sex64: return OpKind.Immediate8to64;
    case K.imm16: return OpKind.Immediate16;
    case K.imm32: return OpKind.Immediate32;
    case K.imm32sex64: return OpKind.Immediate32to64;
    default: return OpKind.Immediate64;
  }
}

function setMemory(ins: Instruction, i: number, k: K, o: ROperand & { t: 'mem' }, req: EncodeRequest, len: number): void {
  const { rip, defaultRel } = req;
  const hint = req.prefixes.includes('{disp32}') ? 4 : req.prefixes.includes('{disp8}') ? 1 : 0;
  const addr32 = req.prefixes.includes('addr32');
  const m = o.m;
  ins.setOpKind(i, OpKind.Memory);
  // GNU drops a segment written before the brackets when it is the default one (DS, or SS with RSP/RBP).
  const stackBase = m.base && /^[re](sp|bp)$/.test(m.base.name);
  const dflt = stackBase ? Register.SS : Register.DS;
  ins.segmentPrefix = m.seg === undefined || (m.segOutside && m.seg === dflt) ? Register.None : m.seg;
  if (addr32 && k !== K.mem_offs && (m.rel || m.base?.cls === 'r64' || m.index?.cls === 'r64' || (defaultRel && !m.abs && !m.base && !m.index))) {
    throw new AsmError('addr32 needs 32-bit address registers (write [eax], [ebx+ecx*4], ...)', o.col);
  }
  ins.memoryIndexScale = m.scale;
  if (k === K.mem_offs) {
    ins.memoryBase = Register.None;
    ins.memoryIndex = Register.None;
    ins.memoryDisplacement = BigInt.asUintN(addr32 ? 32 : 64, o.disp);
    ins.memoryDisplSize = addr32 ? 4 : 8;
    return;
  }
  const ripRel = m.rel || (defaultRel && !m.abs && !m.base && !m.index);
  if (ripRel) {
    // iced wants the absolute target. GNU reads `[rip + 8]` (a plain number) as a raw
    // displacement from the next instruction; with a label it is the label's address.
    const target = m.ripReg && !o.reloc ? rip + BigInt(len) + o.disp : o.disp;
    ins.memoryBase = Register.RIP;
    ins.memoryIndex = Register.None;
    ins.memoryDisplacement = BigInt.asUintN(64, target);
    ins.memoryDisplSize = 8;
    return;
  }
  ins.memoryBase = m.base?.reg ?? Register.None;
  ins.memoryIndex = m.index?.reg ?? Register.None;
  const wide = (m.base ?? m.index)?.cls !== 'r32';
  const d = o.disp;
  if (m.base) {
    const s = signedIn(d, wide ? 64 : 32);
    if (s === undefined || s < -(1n << 31n) || s >= 1n << 31n) throw new AsmError('displacement does not fit in 32 bits', o.col);
    ins.memoryDisplacement = BigInt.asUintN(64, s);
    // 1: iced picks disp8 or disp32, whichever fits; {disp8} asks for a disp8 even when 0;
    // {disp32} for a disp32 (iced writes disp32 for a size of 4 or 8).
    ins.memoryDisplSize = hint === 4 ? (wide ? 8 : 4) : s === 0n && hint === 0 ? 0 : 1;
    return;
  }
  if (m.index) {
    const s = signedIn(d, wide ? 64 : 32);
    if (s === undefined || s < -(1n << 31n) || s >= 1n << 31n) throw new AsmError('displacement does not fit in 32 bits', o.col);
    ins.memoryDisplacement = BigInt.asUintN(64, s);
    ins.memoryDisplSize = wide ? 8 : 4;
    return;
  }
  // Absolute [disp32]: sign-extended to 64 bits. An address in 2..4 GiB (the LAPIC at
  // 0xFEE00000) gets the address-size prefix instead, which zero-extends it.
  const s = signedIn(d, 64);
  if (addr32 && d >= -(1n << 31n) && d < 1n << 32n) {
    ins.memoryDisplacement = BigInt.asUintN(32, d);
    ins.memoryDisplSize = 4;
  } else if (s !== undefined && s >= -(1n << 31n) && s < 1n << 31n) {
    ins.memoryDisplacement = BigInt.asUintN(64, s);
    ins.memoryDisplSize = 8;
  } else if (d >= 0n && d < 1n << 32n) {
    ins.memoryDisplacement = d;
    ins.memoryDisplSize = 4;
  } else {
    throw new AsmError('absolute address does not fit in 32 bits; put it in a register (or use movabs with al/ax/eax/rax)', o.col);
  }
}

function build(c: Candidate, req: EncodeRequest, len: number): Instruction {
  const t = c.t;
  const ins = Instruction.create(t.code);
  try {
    const implicit = t.ops.some(isImplicitStringKind);
    const a32 = req.prefixes.includes('addr32');
    let sawImm = false;
    for (let i = 0; i < t.ops.length; i++) {
      const k = t.ops[i];
      if (implicit) {
        const sk = (a32 ? STRING_OPKIND32 : STRING_OPKIND)[k];
        if (sk !== undefined) ins.setOpKind(i, sk);
        else if (k === K.seg_rBX_al) {
          ins.setOpKind(i, OpKind.Memory);
          ins.memoryBase = a32 ? Register.EBX : Register.RBX;
          ins.memoryIndex = Register.AL;
        } else {
          const r = FIXED_REG[k];
          if (r === undefined) throw new AsmError('unsupported implicit operand', req.col);
          ins.setOpKind(i, OpKind.Register);
          ins.setOpRegister(i, r);
        }
        continue;
      }
      const o = c.ops[i];
      switch (o.t) {
        case 'reg':
          ins.setOpKind(i, OpKind.Register);
          ins.setOpRegister(i, o.reg.reg);
          break;
        case 'imm':
          if (isBranchKind(k)) {
            ins.setOpKind(i, OpKind.NearBranch64);
            ins.nearBranch64 = BigInt.asUintN(64, o.value);
          } else {
            ins.setOpKind(i, immOpKind(k, sawImm));
            const v = k === K.imm8_const_1 ? 1n : o.value;
            ins.setImmediateU64(i, BigInt.asUintN(64, v) & ((1n << BigInt(8 * Math.min(immBytes(k), 8))) - 1n));
            sawImm = true;
          }
          break;
        case 'mem':
          setMemory(ins, i, k, o, req, len);
          break;
      }
    }
    for (const p of req.prefixes) {
      if (!HARD_PREFIXES.has(p)) continue; // operand size, hints, raw bytes: handled elsewhere
      if (p === 'lock') {
        if (!t.canLock || !c.ops.some((o) => o.t === 'mem')) throw new AsmError(`lock prefix is not allowed on '${req.mnemonic}' with these operands`, req.col);
        ins.hasLockPrefix = true;
      } else if (p === 'rep' || p === 'repe' || p === 'repz') {
        if (!t.canRep) throw new AsmError(`'${p}' prefix is not allowed on '${req.mnemonic}'`, req.col);
        if (p === 'rep') ins.hasRepPrefix = true;
        else ins.hasRepePrefix = true;
      } else {
        if (!t.canRepne) throw new AsmError(`'${p}' prefix is not allowed on '${req.mnemonic}'`, req.col);
        ins.hasRepnePrefix = true;
      }
    }
    return ins;
  } catch (e) {
    ins.free();
    throw e;
  }
}

const HARD_PREFIXES = new Set(['lock', 'rep', 'repe', 'repz', 'repne', 'repnz']);

function friendly(msg: string): string {
  if (/Branch distance is too far away/.test(msg)) return 'jump target out of range for a short (rel8) jump';
  if (/RIP relative distance is too far away/.test(msg)) return 'RIP-relative target is more than 2 GiB away';
  if (/can't be used if there's a REX prefix/.test(msg)) return 'ah, bh, ch and dh cannot be used in an instruction that needs a REX prefix';
  if (/Displacement must fit/.test(msg)) return 'displacement does not fit in 32 bits';
  return 'cannot encode this instruction: ' + msg.replace(/^Error: /, '');
}

function encodeOne(c: Candidate, req: EncodeRequest): Uint8Array {
  const enc = theEncoder();
  const ripRaw = c.ops.some((o) => o.t === 'mem' && o.m.ripReg && !o.reloc);
  let len = 0;
  // A raw `[rip + n]` needs the instruction's own length to find its target: encode twice.
  for (let round = ripRaw ? 0 : 1; round < 2; round++) {
    const ins = build(c, req, len);
    try {
      len = enc.encode(ins, req.rip);
    } catch (e) {
      enc.takeBuffer(); // a failed encode can leave partial bytes behind
      throw new AsmError(friendly(e instanceof Error ? e.message : String(e)), req.col);
    } finally {
      ins.free();
    }
    const bytes = enc.takeBuffer();
    if (round === 1) return bytes;
  }
  throw new AsmError('internal error: no encoding', req.col);
}

function describeOps(ops: readonly ROperand[]): string {
  return ops.map((o) => (o.t === 'reg' ? o.reg.name : o.t === 'imm' ? 'imm' : o.m.size ? `${sizeName(o.m.size)} mem` : 'mem')).join(', ');
}
function sizeName(n: number): string {
  return ({ 1: 'byte', 2: 'word', 4: 'dword', 6: 'fword', 8: 'qword', 10: 'tword', 16: 'oword', 32: 'ymmword' } as Record<number, string>)[n] ?? `${n}-byte`;
}

const STRING_BASES = new Set(['lods', 'stos', 'scas', 'movs', 'cmps', 'ins', 'outs']);
const SEG_WORDS: Record<string, Register> = { cs: Register.CS, ds: Register.DS, es: Register.ES, fs: Register.FS, gs: Register.GS, ss: Register.SS };
const LEGACY = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);

/**
 * GNU's string instructions with operands (`lods al, byte ptr [rsi]`, `movs byte ptr [rdi],
 * byte ptr fs:[rsi]`): the sized form, with the source's segment and the address size the
 * registers give.
 */
function stringForm(req: EncodeRequest): EncodeRequest {
  const mems = req.operands.filter((o): o is ROperand & { t: 'mem' } => o.t === 'mem');
  const reg = req.operands.find((o) => o.t === 'reg' && /^r(8|16|32|64)$/.test(o.reg.cls));
  const size = mems.find((m) => m.m.size)?.m.size ?? (reg && reg.t === 'reg' ? Number(reg.reg.cls.slice(1)) / 8 : undefined);
  const suffix = ({ 1: 'b', 2: 'w', 4: 'd', 8: 'q' } as Record<number, string>)[size ?? 0];
  if (!suffix) throw new AsmError(`operand size not specified for '${req.mnemonic}': write byte, word, dword or qword ptr`, req.col);
  const prefixes = [...req.prefixes];
  if (mems.some((m) => m.m.base?.cls === 'r32')) prefixes.push('addr32');
  const seg = mems.find((m) => m.m.seg !== undefined && m.m.seg !== Register.ES)?.m.seg;
  if (seg !== undefined && seg !== Register.DS) prefixes.push(Object.keys(SEG_WORDS).find((k) => SEG_WORDS[k] === seg) ?? '');
  return { ...req, mnemonic: req.mnemonic + suffix, operands: [], prefixes, key: undefined };
}

/** Encodes one instruction or throws an AsmError explaining why it cannot. */
export function encodeInstruction(req: EncodeRequest): Uint8Array {
  if (STRING_BASES.has(req.mnemonic) && req.operands.length > 0) return encodeInstruction(stringForm(req));
  let r = resolveMnemonic(req.mnemonic);
  if (!r) throw new AsmError(unknownMnemonicMessage(req.mnemonic, []), req.col);
  // Prefixes GNU writes as words are emitted as written, before the instruction (rex: merged into it).
  const raw: number[] = [];
  let rex: number | undefined;
  const rest: string[] = [];
  for (const p of req.prefixes) {
    const rb = rexByte(p);
    if (rb !== undefined) rex = (rex ?? 0x40) | rb;
    else if (p === 'data16' || p === 'notrack' || p === 'bnd' || p in SEG_WORDS) raw.push(PREFIX_BYTES[p]);
    else if ((p === 'rep' || p === 'repe' || p === 'repz') && r.name === 'ret') raw.push(0xf3); // GNU `rep ret`
    else rest.push(p);
  }
  if (rest.includes('addr32')) {
    // 32-bit addressing: ECX for loop/jecxz, ESI/EDI for string instructions, EAX.. in memory operands.
    const hasMem = req.operands.some((o) => o.t === 'mem');
    const isString = r.templates.some((t) => t.ops.some(isImplicitStringKind));
    if (r.name === 'jrcxz') r = resolveMnemonic('jecxz')!;
    else if (/^loop/.test(r.name)) r = { ...r, templates: r.templates.filter((t) => Code[t.code].endsWith('_ECX')) };
    else if (!hasMem && !isString) {
      rest.splice(rest.indexOf('addr32'), 1);
      // GNU skips it on a jump or call (with a warning); elsewhere it is just the byte.
      if (!/^(j[a-z]+|call)$/.test(r.name)) raw.unshift(0x67);
    }
  }
  const core = (extra: number): Uint8Array => encodeCore({ ...req, prefixes: rest, rip: req.rip + BigInt(raw.length + extra), minLen: req.minLen - raw.length - extra }, r!);
  let bytes = core(0);
  if (rex !== undefined) {
    let p = 0;
    while (p < bytes.length - 1 && LEGACY.has(bytes[p])) p++;
    if (bytes[p] === 0xc4 || bytes[p] === 0xc5) throw new AsmError('a rex prefix cannot be used with a VEX-encoded instruction', req.col);
    if ((bytes[p] & 0xf0) === 0x40) bytes[p] |= rex;
    else {
      bytes = core(1); // one byte longer: RIP-relative and branch displacements move
      bytes = Uint8Array.from([...bytes.slice(0, p), rex, ...bytes.slice(p)]);
    }
  }
  return raw.length ? Uint8Array.from([...raw, ...bytes]) : bytes;
}

function encodeCore(req: EncodeRequest, r: Resolved): Uint8Array {
  // NASM's o16/o32/o64 pick the operand size (`o64 sysret` is sysretq).
  const osz = req.prefixes.find((p) => /^o(16|32|64)$/.test(p));
  let templates = r.templates.filter((t) => (r.movabs ? t.ops.some((k) => k === K.imm64 || k === K.mem_offs) : true) &&
    (osz === undefined || t.opSize === Number(osz.slice(1))));
  if (templates.length === 0 && osz) {
    // iced names the sized forms of some no-operand instructions separately (sysretq, iretq).
    const suffix = ({ o16: 'w', o32: 'd', o64: 'q' } as Record<string, string>)[osz];
    templates = [...(tables().byMnemonic.get(r.name.replace(/[dwq]$/, '') + suffix) ?? [])];
  }
  if (templates.length === 0) throw new AsmError(`'${osz}' does not apply to '${req.mnemonic}'`, req.col);

  // With addr32 an absolute address fits the short moffs32 form of mov (GNU picks it).
  const offs = req.prefixes.includes('addr32') && req.operands.some((o) => o.t === 'mem' && !o.m.base && !o.m.index && !o.m.rel);
  // 1. Shape: operand kinds only. Shapes do not change between passes, so they are cached.
  const variants = operandVariants(r.name, req.operands);
  const cachedShape = req.key ? shapeCache.get(req.key) : undefined;
  const shaped: Candidate[] = cachedShape ? cachedShape.map(([v, t]) => ({ t, ops: variants[v] })) : [];
  if (!cachedShape) for (const ops of variants) {
    for (const t of templates) {
      const implicit = t.ops.some(isImplicitStringKind);
      if (implicit) {
        if (ops.length === 0) shaped.push({ t, ops });
        continue;
      }
      if (t.ops.length !== ops.length) continue;
      // 90 is nop in 64-bit mode, not `xchg eax, eax`.
      if (t.ops[1] === K.eax && t.ops[0] === K.r32_opcode && ops[0].t === 'reg' && ops[0].reg.reg === Register.EAX) continue;
      let ok = true;
      for (let i = 0; i < ops.length && ok; i++) ok = shapeMatches(t, t.ops[i], ops[i], r.movabs, offs);
      if (ok) shaped.push({ t, ops });
    }
  }
  if (req.key && !cachedShape) shapeCache.set(req.key, shaped.map((c) => [variants.indexOf(c.ops), c.t]));
  if (shaped.length === 0) {
    // `movq rax, 5`: not the SSE movq but GNU's suffixed mov.
    const alt = resolveSuffixed(req.mnemonic);
    if (alt && alt.name !== r.name) return encodeCore({ ...req, key: undefined }, alt);
    const counts = new Set(templates.map((t) => (t.ops.some(isImplicitStringKind) ? 0 : t.ops.length)));
    if (!counts.has(req.operands.length)) {
      const list = [...counts].sort().join(' or ');
      throw new AsmError(`'${req.mnemonic}' takes ${list} operand${list === '1' ? '' : 's'}, not ${req.operands.length}`, req.col);
    }
    const memOp = req.operands.find((o) => o.t === 'mem');
    if (memOp && memOp.t === 'mem' && memOp.m.size !== undefined) {
      const relaxed = templates.some((t) => t.ops.length === req.operands.length && t.ops.every((k, i) => {
        const o = req.operands[i];
        return o.t === 'mem' ? memKind(k) && k !== K.mem_offs : shapeMatches(t, k, o, r.movabs);
      }));
      if (relaxed) throw new AsmError(`operand size mismatch: '${req.mnemonic}' has no form with ${describeOps(req.operands)}`, memOp.col);
    }
    const gprs = req.operands.filter((o): o is ROperand & { t: 'reg' } => o.t === 'reg' && /^r(8|16|32|64)$/.test(o.reg.cls));
    if (gprs.length >= 2 && new Set(gprs.map((o) => o.reg.cls)).size > 1) {
      throw new AsmError(`register size mismatch: ${gprs.map((o) => `${o.reg.name} is ${o.reg.cls.slice(1)}-bit`).join(', ')}`, gprs[1].col);
    }
    throw new AsmError(`invalid operands for '${req.mnemonic}' (${describeOps(req.operands)})`, req.col);
  }

  // 2. Immediates must fit their field.
  let fits = shaped.filter((c) => c.t.ops.every((k, i) => {
    const o = c.ops[i];
    return !(o && o.t === 'imm' && isImmKind(k)) || immFits(k, o.value);
  }));
  if (fits.length === 0) {
    const idx = shaped[0].ops.findIndex((o) => o.t === 'imm');
    const o = shaped[0].ops[idx];
    const widest = Math.max(...shaped.map((c) => immBytes(c.t.ops[idx] ?? K.None)));
    const col = o ? o.col : req.col;
    const val = o && o.t === 'imm' ? o.value : 0n;
    if (shaped.every((c) => c.t.ops[idx] === K.imm8_const_1)) throw new AsmError('the only allowed value here is 1', col);
    throw new AsmError(`value ${fmtValue(val)} does not fit in ${widest === 1 ? 'an' : 'a'} ${widest * 8}-bit immediate`, col);
  }
  // A value that depends on an address may change between passes: give it a full-width
  // field, so the instruction's size does not flip back and forth.
  const relocIdx = fits[0].ops.findIndex((o, i) => o.t === 'imm' && o.reloc && isImmKind(fits[0].t.ops[i]));
  if (relocIdx >= 0) {
    const wide = fits.filter((c) => immBytes(c.t.ops[relocIdx]) >= 4);
    if (wide.length) fits = wide;
  }

  // 3. A memory operand without a size must be made unambiguous by the other operands.
  const memIdx = req.operands.findIndex((o) => o.t === 'mem');
  const memOp = req.operands[memIdx];
  if (memOp && memOp.t === 'mem' && memOp.m.size === undefined) {
    const sizes = new Set(fits.map((c) => c.t.memSize));
    if (sizes.size > 1) {
      // push/pop/call/jmp [mem] mean the 64-bit form in long mode (NASM and GNU agree).
      const def = fits.filter((c) => c.t.defaultOp64 && c.t.memSize === 8);
      if (def.length) fits = def;
      else {
        const names = [...sizes].filter((s) => s).sort((a, b) => a - b).map(sizeName);
        const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names.join('');
        throw new AsmError(`operand size not specified: write ${list} before the memory operand`, memOp.col);
      }
    }
  }

  // GNU encoding hints: {disp32}/{disp8} pick the branch size, {load}/{store} which operand a
  // reg,reg ModRM form puts in the reg field (load: the destination; store: the source).
  if (req.prefixes.includes('{disp32}') || req.prefixes.includes('{disp8}')) {
    const drop = req.prefixes.includes('{disp32}') ? K.br64_1 : K.br64_4;
    const kept = fits.filter((c) => !c.t.ops.includes(drop));
    if (kept.length) fits = kept;
  }
  if (req.prefixes.includes('{load}') || req.prefixes.includes('{store}')) {
    const dest = req.operands[0];
    const pair = (c: Candidate): boolean => c.t.ops.some(isRegField) && c.t.ops.some(isRmField);
    const destInRm = (c: Candidate): boolean => isRmField(c.t.ops[c.ops.indexOf(dest)] ?? K.None);
    const kept = req.prefixes.includes('{load}') ? fits.filter((c) => !(pair(c) && destInRm(c))) : fits.filter((c) => pair(c) && destInRm(c));
    if (kept.length) fits = kept;
  }

  // 4. Encode every survivor; keep the shortest (not below last pass's length).
  let best: Uint8Array | undefined;
  let longest: Uint8Array | undefined;
  let firstErr: AsmError | undefined;
  for (const c of fits) {
    // Skip rel8 forms that cannot reach without asking iced (its errors cost more than encodes).
    const b = c.t.ops.indexOf(K.br64_1);
    const bo = c.ops[b];
    if (b >= 0 && bo && bo.t === 'imm' && (bo.value - req.rip > 200n || bo.value - req.rip < -200n) && fits.length > 1) continue;
    let bytes: Uint8Array;
    try {
      bytes = encodeOne(c, req);
    } catch (e) {
      if (e instanceof AsmError) {
        // A prefix error is about the source, not this candidate: report it at once.
        if (/prefix/.test(e.message)) throw e;
        firstErr ??= e;
        continue;
      }
      throw e;
    }
    if (!longest || bytes.length > longest.length) longest = bytes;
    if (bytes.length >= req.minLen && (!best || bytes.length < best.length)) best = bytes;
  }
  const out = best ?? longest;
  if (!out) throw firstErr ?? new AsmError(`cannot encode '${req.mnemonic}'`, req.col);
  return out;
}

function isRegField(k: K): boolean {
  return k === K.r8_reg || k === K.r16_reg || k === K.r32_reg || k === K.r64_reg || k === K.xmm_reg || k === K.ymm_reg || k === K.mm_reg ||
    k === K.seg_reg || k === K.cr_reg || k === K.dr_reg;
}
function isRmField(k: K): boolean {
  return memKind(k) && k !== K.mem && k !== K.mem_offs || k === K.r16_rm || k === K.r32_rm || k === K.r64_rm || k === K.xmm_rm ||
    k === K.ymm_rm || k === K.mm_rm || k === K.r16_reg_mem || k === K.r32_reg_mem || k === K.r64_reg_mem;
}

function fmtValue(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : v > 9n ? `0x${v.toString(16)}` : v.toString();
}
