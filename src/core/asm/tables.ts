/**
 * Instruction and register knowledge, derived at start-up from iced-x86's own tables
 * (OpCodeInfo for every Code): the assembler has no opcode table of its own. One template per
 * iced Code that exists in 64-bit mode with legacy or VEX encoding, grouped by mnemonic.
 */
import {
  Code,
  CodeExt,
  EncodingKind,
  MemorySize,
  MemorySizeExt,
  Mnemonic,
  OpCodeOperandKind as K,
  Register,
} from '../iced';

/** One encodable form of a mnemonic, e.g. `Add_rm32_imm8` = add r/m32, imm8 (83 /0 ib). */
export interface Template {
  readonly code: Code;
  readonly ops: readonly K[];
  /** Size in bytes of the memory operand (0 = any, e.g. lea). */
  readonly memSize: number;
  /** The memory operand is a far pointer (m16:64): only used with an explicit `far`. */
  readonly farMem: boolean;
  /** push/pop/call/jmp and friends default to 64-bit operands in long mode. */
  readonly defaultOp64: boolean;
  readonly canLock: boolean;
  readonly canRep: boolean;
  readonly canRepne: boolean;
  /** Operand size in bits (0 when the instruction has none), for NASM's o16/o32/o64. */
  readonly opSize: number;
}

export type RegClass =
  | 'r8' | 'r16' | 'r32' | 'r64' | 'seg' | 'cr' | 'dr' | 'st' | 'mm' | 'xmm' | 'ymm' | 'k' | 'ip' | 'other';

export interface RegInfo { readonly reg: Register; readonly cls: RegClass; readonly name: string; }

const IMPLICIT_STRING_KINDS = new Set<K>([K.seg_rSI, K.es_rDI, K.seg_rDI, K.seg_rBX_al]);

/** Operand kinds this assembler knows how to fill; a template with any other kind is skipped. */
const SUPPORTED_KINDS = new Set<K>([
  K.mem_offs, K.mem, K.r8_or_mem, K.r16_or_mem, K.r32_or_mem, K.r64_or_mem, K.mm_or_mem, K.xmm_or_mem,
  K.ymm_or_mem, K.r8_reg, K.r8_opcode, K.r16_reg, K.r16_reg_mem, K.r16_rm, K.r16_opcode, K.r32_reg,
  K.r32_reg_mem, K.r32_rm, K.r32_opcode, K.r32_vvvv, K.r64_reg, K.r64_reg_mem, K.r64_rm, K.r64_opcode,
  K.r64_vvvv, K.seg_reg, K.mm_reg, K.mm_rm, K.xmm_reg, K.xmm_rm, K.xmm_vvvv, K.xmm_is4, K.ymm_reg,
  K.ymm_rm, K.ymm_vvvv, K.ymm_is4, K.cr_reg, K.dr_reg, K.es, K.cs, K.ss, K.ds, K.fs, K.gs, K.al, K.cl,
  K.ax, K.dx, K.eax, K.rax, K.st0, K.sti_opcode, K.imm8, K.imm8_const_1, K.imm8sex16, K.imm8sex32,
  K.imm8sex64, K.imm16, K.imm32, K.imm32sex64, K.imm64, K.seg_rSI, K.es_rDI, K.seg_rDI, K.seg_rBX_al,
  K.br64_1, K.br64_4, K.xbegin_4,
]);

export function isImplicitStringKind(k: K): boolean { return IMPLICIT_STRING_KINDS.has(k); }

/** NASM/GNU spellings that iced names differently (condition-code synonyms and friends). */
const CC_ALIASES: Record<string, string> = {
  z: 'e', nz: 'ne', c: 'b', nae: 'b', nb: 'ae', nc: 'ae', na: 'be', nbe: 'a', nge: 'l', nl: 'ge',
  ng: 'le', nle: 'g', pe: 'p', po: 'np',
};

function buildAliases(): Map<string, string> {
  const m = new Map<string, string>();
  for (const [alias, cc] of Object.entries(CC_ALIASES)) {
    m.set('j' + alias, 'j' + cc);
    m.set('set' + alias, 'set' + cc);
    m.set('cmov' + alias, 'cmov' + cc);
  }
  // `sal` is the same operation as `shl`; iced's Sal codes are the undocumented /6 form,
  // while NASM and GNU both emit /4.
  m.set('sal', 'shl');
  // In 64-bit mode NASM and GNU mean the 64-bit forms.
  m.set('pushf', 'pushfq');
  m.set('popf', 'popfq');
  m.set('retn', 'ret');
  m.set('xlat', 'xlatb');
  // iced's `iret` is the 16-bit form (66 CF); NASM and GNU mean CF.
  m.set('iret', 'iretd');
  return m;
}

export interface Tables {
  readonly byMnemonic: ReadonlyMap<string, readonly Template[]>;
  readonly aliases: ReadonlyMap<string, string>;
  readonly registers: ReadonlyMap<string, RegInfo>;
  /** Every spelling a user may write as an instruction, for suggestions. */
  readonly mnemonicNames: readonly string[];
}

function regClass(r: Register): RegClass {
  if (r >= Register.AL && r <= Register.R15L) return 'r8';
  if (r >= Register.AX && r <= Register.R15W) return 'r16';
  if (r >= Register.EAX && r <= Register.R15D) return 'r32';
  if (r >= Register.RAX && r <= Register.R15) return 'r64';
  if (r === Register.EIP || r === Register.RIP) return 'ip';
  if (r >= Register.ES && r <= Register.GS) return 'seg';
  if (r >= Register.XMM0 && r <= Register.XMM15) return 'xmm';
  if (r >= Register.YMM0 && r <= Register.YMM15) return 'ymm';
  if (r >= Register.CR0 && r <= Register.CR15) return 'cr';
  if (r >= Register.DR0 && r <= Register.DR15) return 'dr';
  if (r >= Register.ST0 && r <= Register.ST7) return 'st';
  if (r >= Register.MM0 && r <= Register.MM7) return 'mm';
  return 'other';
}

function buildRegisters(): Map<string, RegInfo> {
  const m = new Map<string, RegInfo>();
  for (let r = Register.AL; r <= Register.MM7; r++) {
    const name = Register[r];
    if (name === undefined) continue;
    const cls = regClass(r);
    if (cls === 'other') continue;
    m.set(name.toLowerCase(), { reg: r, cls, name: name.toLowerCase() });
  }
  // iced calls the low bytes of r8..r15 "r8l"; NASM and GNU write "r8b".
  for (let i = 8; i <= 15; i++) {
    const reg = (Register.R8L + (i - 8)) as Register;
    m.set(`r${i}b`, { reg, cls: 'r8', name: `r${i}b` });
  }
  return m;
}

function buildTemplates(): Map<string, Template[]> {
  const byMnemonic = new Map<string, Template[]>();
  const codeCount = Object.keys(Code).length / 2; // numeric enum: name<->value both ways
  for (let c = 1; c < codeCount; c++) {
    const info = CodeExt.opCode(c as Code);
    try {
      if (!info.isInstruction || !info.mode64) continue;
      if (info.encoding !== EncodingKind.Legacy && info.encoding !== EncodingKind.VEX) continue;
      // Codes that only decode with a DecoderOptions flag (Cyrix, MPX, old undocumented forms).
      if (info.decoderOption !== 0) continue;
      const ops: K[] = [];
      let ok = true;
      for (let i = 0; i < info.opCount; i++) {
        const k = info.opKind(i);
        if (!SUPPORTED_KINDS.has(k)) { ok = false; break; }
        ops.push(k);
      }
      if (!ok) continue;
      const ms = info.memorySize;
      const t: Template = {
        code: c as Code,
        ops,
        memSize: ms === MemorySize.Unknown ? 0 : MemorySizeExt.size(ms),
        farMem: ms === MemorySize.SegPtr16 || ms === MemorySize.SegPtr32 || ms === MemorySize.SegPtr64,
        defaultOp64: info.defaultOpSize64 || info.forceOpSize64,
        canLock: info.canUseLockPrefix,
        canRep: info.canUseRepPrefix,
        canRepne: info.canUseRepnePrefix,
        opSize: info.operandSize,
      };
      const name = Mnemonic[info.mnemonic].toLowerCase();
      let list = byMnemonic.get(name);
      if (!list) byMnemonic.set(name, (list = []));
      list.push(t);
    } finally {
      info.free();
    }
  }
  // Undocumented alternative encodings: never chosen by NASM or GNU, and they would only
  // tie with the documented forms.
  for (const [name, list] of byMnemonic) {
    byMnemonic.set(name, list.filter((t) => !/_(F6r1|F7r1|C0r6|C1r6|D0r6|D1r6|D2r6|D3r6|82)$/.test(Code[t.code])));
  }
  // `push imm` means a qword push in long mode (NASM and GNU); the 66h word pushes would
  // otherwise win as the shortest encodings of `push 0x1000`.
  const push = byMnemonic.get('push');
  if (push) {
    // GNU's `pushw` is the word push, immediates included.
    byMnemonic.set('pushw', push.filter((t) => t.opSize === 16));
    byMnemonic.set('push', push.filter((t) => t.code !== Code.Push_imm16 && t.code !== Code.Pushw_imm8));
  }
  // `sysretq`/`sysexitq`/`iretq`-style explicit-width spellings not covered by iced mnemonics.
  const byCode = (name: string, code: Code): void => {
    const src = [...byMnemonic.values()].flat().find((t) => t.code === code);
    if (src) byMnemonic.set(name, [src]);
  };
  byCode('sysretq', Code.Sysretq);
  byCode('sysexitq', Code.Sysexitq);
  byCode('retfq', Code.Retfq);
  byCode('iretd', Code.Iretd);
  return byMnemonic;
}

let cached: Tables | undefined;

/** Built once per process (about 30 ms): every OpCodeInfo is read and freed. */
export function tables(): Tables {
  if (cached) return cached;
  const byMnemonic = buildTemplates();
  const aliases = buildAliases();
  const mnemonicNames = [...byMnemonic.keys(), ...aliases.keys(), 'movabs', 'pushq', 'popq', 'popw', 'retq', 'cltq', 'cqto', 'movslq', 'addr32', 'data16'];
  cached = { byMnemonic, aliases, registers: buildRegisters(), mnemonicNames };
  return cached;
}
