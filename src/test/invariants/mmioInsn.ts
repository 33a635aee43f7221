/**
 * Random MMIO instructions from bhyve's emulated set (opcodes.ts), as assembly
 * text, each with the fields a self-modifying program may patch without changing the
 * instruction's length.
 *
 * Field positions are counted back from the end of the instruction (the `<label>_end` label
 * the generator puts after it): for a ModRM memory operand with base rbx or rbp (never a SIB)
 * the encoding ends `opcode ModRM [disp8|disp32] [imm]`, so the immediate is the last I bytes,
 * the displacement the D bytes before it, ModRM the byte before that and the (last) opcode
 * byte the one before ModRM. Prefixes (66, REX) sit in front and do not move these.
 */
import { hexLiteral } from '../../core/hex';
import type { Prng } from '../differential/prng';

export type Width = 1 | 2 | 4 | 8;
/** Which vCPU of its VM executes the instruction: each owns IORAM windows (no races). */
export type Owner = 0 | 1;

/** A patchable field: `tail` bytes before the end label, `size` bytes, little endian. */
export interface Field {
  what: 'disp' | 'imm' | 'opcode' | 'modrm' | 'moffs';
  tail: number;
  size: 1 | 2 | 4;
  /** The value assembled (as an unsigned `size`-byte number). */
  value: number;
  /** Other values of the same encoding class (same length, still a valid supported access). */
  alternatives: number[];
}

export interface MmioInsn {
  /** Setup lines before the instruction (string-op registers). */
  pre: string[];
  /** The MMIO instruction itself. */
  text: string;
  /** Lines after it (a pop that balances a push). */
  post: string[];
  /** 64-bit register holding a result to fold into the checksum, or null. */
  dst: string | null;
  fields: Field[];
}

export const SIZE_KW: Record<Width, string> = { 1: 'byte', 2: 'word', 4: 'dword', 8: 'qword' };

/** IORAM offsets each vCPU owns: a disp8 window, a window crossing the first page into the second; vCPU 1's window. */
export const IO_WINDOWS: Record<Owner, readonly (readonly [number, number])[]> = {
  0: [[0x000, 0x040], [0xfe0, 0x1020]],
  1: [[0x1800, 0x1840]],
};
/** RFLAGS may change: an ALU op, or a mov a patch may turn into one. */
export function mayChangeFlags(insn: MmioInsn): boolean {
  return /^(add|or|and|sub|cmp|test|bt)\b/.test(insn.text) || insn.fields.some((f) => f.what === 'opcode' || f.what === 'modrm');
}

/** 16 bytes of IORAM per vCPU for staging bytes that a movs then copies into code or tables. */
export const IO_STAGING: Record<Owner, number> = { 0: 0x100, 1: 0x1900 };

/** Scratch registers the MMIO instructions may use (rbx, rbp, r8, r9, r12-r15 are reserved). */
export const SCRATCH = ['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r10', 'r11'] as const;
type Scratch = (typeof SCRATCH)[number];

const NAMES: Record<Scratch, Record<Width, string>> = {
  rax: { 1: 'al', 2: 'ax', 4: 'eax', 8: 'rax' },
  rcx: { 1: 'cl', 2: 'cx', 4: 'ecx', 8: 'rcx' },
  rdx: { 1: 'dl', 2: 'dx', 4: 'edx', 8: 'rdx' },
  rsi: { 1: 'sil', 2: 'si', 4: 'esi', 8: 'rsi' },
  rdi: { 1: 'dil', 2: 'di', 4: 'edi', 8: 'rdi' },
  r10: { 1: 'r10b', 2: 'r10w', 4: 'r10d', 8: 'r10' },
  r11: { 1: 'r11b', 2: 'r11w', 4: 'r11d', 8: 'r11' },
};

// LAPIC registers (SDM Vol. 3A Table 11-1) whose value does not depend on time.
const LAPIC_READ_D1 = [0x20, 0x30]; // ID, version: disp8
const LAPIC_READ_D4 = [0x80, 0xa0, 0xd0, 0xf0]; // TPR, PPR, LDR, SVR: disp32
const LAPIC_WRITE = [0x80, 0xd0]; // TPR, LDR

/** Reg <- reg op mem, all with the same ModRM form (16/32/64-bit): mov add or and sub cmp. */
const LOAD_OPS: Record<number, string> = { 0x8b: 'mov', 0x03: 'add', 0x0b: 'or', 0x23: 'and', 0x2b: 'sub', 0x3b: 'cmp' };
/** Mem <- reg (or compare): mov, cmp. */
const STORE_OPS: Record<number, string> = { 0x89: 'mov', 0x39: 'cmp' };
/** Group 1 ModRM.reg: /1 or, /4 and, /7 cmp (bhyve's emulate_group1). */
const GRP1: Record<number, string> = { 1: 'or', 4: 'and', 7: 'cmp' };

export function signed(value: number, size: 1 | 2 | 4): number {
  const bits = size * 8;
  const v = value % 2 ** bits;
  const u = v < 0 ? v + 2 ** bits : v;
  return u >= 2 ** (bits - 1) ? u - 2 ** bits : u;
}

export function unsigned(value: number, size: 1 | 2 | 4): number {
  const m = 2 ** (size * 8);
  return ((value % m) + m) % m;
}


function dispSize(base: 'rbx' | 'rbp', off: number): 0 | 1 | 4 {
  if (off === 0 && base === 'rbx') return 0;
  return off >= -128 && off <= 127 ? 1 : 4;
}

function modrm(mod: number, reg: number, rm: number): number {
  return (mod << 6) | (reg << 3) | rm;
}

function distinctSample(_rng: Prng, n: number, gen: () => number, not: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n * 4 && out.length < n; i++) {
    const v = gen();
    if (v !== not && !out.includes(v)) out.push(v);
  }
  return out;
}

/** An IORAM operand: the offset from rbx, its displacement size and same-class alternatives. */
interface IoOperand {
  off: number;
  d: 0 | 1 | 4;
  alts: number[];
}

function ioOperand(rng: Prng, owner: Owner, w: number): IoOperand {
  const windows = IO_WINDOWS[owner];
  const [lo, hi] = rng.pick(windows);
  const off = rng.range(lo, hi - w);
  const d = dispSize('rbx', off);
  let alts: number[] = [];
  if (d === 1) {
    alts = distinctSample(rng, 4, () => rng.range(1, Math.min(0x7f, hi - w)), off);
  } else if (d === 4) {
    const wide = windows.filter(([a]) => a >= 0x80);
    alts = distinctSample(rng, 4, () => {
      const [a, b] = rng.pick(wide);
      return rng.range(a, b - w);
    }, off);
  }
  return { off, d, alts };
}

function dispField(d: 0 | 1 | 4, tailImm: number, off: number, alts: number[]): Field[] {
  if (d === 0 || alts.length === 0) return [];
  return [{ what: 'disp', tail: tailImm + d, size: d, value: unsigned(off, d), alternatives: alts.map((a) => unsigned(a, d)) }];
}

function opcodeField(tail: number, value: number, set: Record<number, string>): Field {
  return { what: 'opcode', tail, size: 1, value, alternatives: Object.keys(set).map(Number).filter((b) => b !== value) };
}

/** Immediate for a group-1 op: imm8 (83) or a value that needs 81's imm16/imm32. */
function grp1Imm(rng: Prng, w: 2 | 4 | 8, small: boolean): number {
  if (small) return rng.range(-128, 127);
  if (w === 2) return rng.pick([rng.range(128, 0x7fff), rng.range(-0x8000, -129)]);
  return rng.pick([rng.range(128, 0x7fff_ffff), rng.range(-0x8000_0000, -129)]);
}

/**
 * One random MMIO instruction for `owner`. `lapic` allows LAPIC accesses (rbp = LAPIC_BASE);
 * `patchable` asks for a form with at least one patchable field (no string ops).
 */
export function randomMmioInsn(rng: Prng, owner: Owner, opts: { lapic: boolean; patchable: boolean }): MmioInsn {
  if (opts.lapic && rng.bool(0.25)) return lapicInsn(rng);
  const kinds: (readonly [number, () => MmioInsn])[] = [
    [5, () => ioLoad(rng, owner)],
    [4, () => ioStore(rng, owner)],
    [3, () => ioStoreImm(rng, owner)],
    [3, () => ioMovx(rng, owner)],
    [4, () => ioAluLoad(rng, owner)],
    [2, () => ioCmpStore(rng, owner)],
    [3, () => ioGroup1(rng, owner)],
    [2, () => ioTest(rng, owner)],
    [2, () => ioBt(rng, owner)],
    [1, () => ioMoffs(rng, owner)],
    [opts.patchable ? 0 : 1, () => ioPushPop(rng, owner)],
    [opts.patchable ? 0 : 2, () => ioStos(rng, owner)],
    [opts.patchable ? 0 : 2, () => ioMovs(rng, owner)],
    [opts.patchable ? 0 : 0.3, () => ioClflush(rng, owner)],
  ];
  for (;;) {
    const insn = rng.weighted(kinds)();
    if (!opts.patchable || insn.fields.length > 0) return insn;
  }
}

function pickWidth(rng: Prng, allowed: readonly Width[]): Width {
  return rng.pick(allowed);
}

function reg(rng: Prng): Scratch {
  return rng.pick(SCRATCH);
}

function ioLoad(rng: Prng, owner: Owner): MmioInsn {
  const w = pickWidth(rng, [1, 2, 4, 8]);
  const op = ioOperand(rng, owner, w);
  if (w === 1) {
    // 8A /r: mov r8, r/m8 (AH..DH without REX, SIL/DIL/R10B/R11B with REX).
    const high = rng.bool(0.3);
    const r = high ? rng.pick(['rax', 'rcx', 'rdx'] as const) : reg(rng);
    const name = high ? { rax: 'ah', rcx: 'ch', rdx: 'dh' }[r as 'rax' | 'rcx' | 'rdx'] : NAMES[r][1];
    return { pre: [], text: `mov ${name}, [rbx + ${hexLiteral(op.off)}]`, post: [], dst: r, fields: dispField(op.d, 0, op.off, op.alts) };
  }
  const r = reg(rng);
  return {
    pre: [], text: `mov ${NAMES[r][w]}, [rbx + ${hexLiteral(op.off)}]`, post: [], dst: r,
    fields: [...dispField(op.d, 0, op.off, op.alts), opcodeField(op.d + 2, 0x8b, LOAD_OPS)],
  };
}

function ioAluLoad(rng: Prng, owner: Owner): MmioInsn {
  const w = pickWidth(rng, [2, 4, 8]);
  const op = ioOperand(rng, owner, w);
  const code = rng.pick([0x03, 0x0b, 0x23, 0x2b, 0x3b]);
  const r = reg(rng);
  return {
    pre: [], text: `${LOAD_OPS[code]} ${NAMES[r][w]}, [rbx + ${hexLiteral(op.off)}]`, post: [], dst: r,
    fields: [...dispField(op.d, 0, op.off, op.alts), opcodeField(op.d + 2, code, LOAD_OPS)],
  };
}

function ioStore(rng: Prng, owner: Owner): MmioInsn {
  const w = pickWidth(rng, [1, 2, 4, 8]);
  const op = ioOperand(rng, owner, w);
  const r = reg(rng);
  if (w === 1) {
    return { pre: [], text: `mov [rbx + ${hexLiteral(op.off)}], ${NAMES[r][1]}`, post: [], dst: null, fields: dispField(op.d, 0, op.off, op.alts) };
  }
  return {
    pre: [], text: `mov [rbx + ${hexLiteral(op.off)}], ${NAMES[r][w]}`, post: [], dst: null,
    fields: [...dispField(op.d, 0, op.off, op.alts), opcodeField(op.d + 2, 0x89, STORE_OPS)],
  };
}

function ioCmpStore(rng: Prng, owner: Owner): MmioInsn {
  const w = pickWidth(rng, [2, 4, 8]);
  const op = ioOperand(rng, owner, w);
  const r = reg(rng);
  return {
    pre: [], text: `cmp [rbx + ${hexLiteral(op.off)}], ${NAMES[r][w]}`, post: [], dst: null,
    fields: [...dispField(op.d, 0, op.off, op.alts), opcodeField(op.d + 2, 0x39, STORE_OPS)],
  };
}

function ioStoreImm(rng: Prng, owner: Owner): MmioInsn {
  const w = pickWidth(rng, [1, 2, 4, 8]);
  const op = ioOperand(rng, owner, w);
  const isz = (w === 8 ? 4 : w) as 1 | 2 | 4;
  const gen = () => signed(rng.u32(), isz);
  const imm = gen();
  return {
    pre: [], text: `mov ${SIZE_KW[w]} [rbx + ${hexLiteral(op.off)}], ${imm}`, post: [], dst: null,
    fields: [
      ...dispField(op.d, isz, op.off, op.alts),
      { what: 'imm', tail: isz, size: isz, value: unsigned(imm, isz), alternatives: distinctSample(rng, 4, gen, imm).map((v) => unsigned(v, isz)) },
    ],
  };
}

function ioMovx(rng: Prng, owner: Owner): MmioInsn {
  const src = pickWidth(rng, [1, 2]);
  const op = ioOperand(rng, owner, src);
  const r = reg(rng);
  if (src === 2) {
    // 0F B7: movzx r32/r64, r/m16 (movsx r, r/m16 is 0F BF: not in bhyve's table).
    const w = pickWidth(rng, [4, 8]);
    return { pre: [], text: `movzx ${NAMES[r][w]}, word [rbx + ${hexLiteral(op.off)}]`, post: [], dst: r, fields: dispField(op.d, 0, op.off, op.alts) };
  }
  const w = pickWidth(rng, [2, 4, 8]);
  const code = rng.pick([0xb6, 0xbe]);
  return {
    pre: [], text: `${code === 0xb6 ? 'movzx' : 'movsx'} ${NAMES[r][w]}, byte [rbx + ${hexLiteral(op.off)}]`, post: [], dst: r,
    fields: [...dispField(op.d, 0, op.off, op.alts), { what: 'opcode', tail: op.d + 2, size: 1, value: code, alternatives: [code === 0xb6 ? 0xbe : 0xb6] }],
  };
}

function ioGroup1(rng: Prng, owner: Owner): MmioInsn {
  const w = pickWidth(rng, [1, 2, 4, 8]);
  const op = ioOperand(rng, owner, w);
  if (w === 1) {
    // 80 /7 ib: cmp r/m8, imm8 (the only byte form bhyve emulates).
    const imm = rng.range(-128, 127);
    return {
      pre: [], text: `cmp byte [rbx + ${hexLiteral(op.off)}], ${imm}`, post: [], dst: null,
      fields: [...dispField(op.d, 1, op.off, op.alts), { what: 'imm', tail: 1, size: 1, value: unsigned(imm, 1), alternatives: distinctSample(rng, 3, () => rng.range(0, 255), unsigned(imm, 1)) }],
    };
  }
  const small = rng.bool(0.5);
  const isz = (small ? 1 : w === 2 ? 2 : 4) as 1 | 2 | 4;
  const imm = grp1Imm(rng, w, small);
  const regField = rng.pick([1, 4, 7]);
  const mod = op.d === 0 ? 0 : op.d === 1 ? 1 : 2;
  return {
    pre: [], text: `${GRP1[regField]} ${SIZE_KW[w]} [rbx + ${hexLiteral(op.off)}], ${imm}`, post: [], dst: null,
    fields: [
      ...dispField(op.d, isz, op.off, op.alts),
      { what: 'imm', tail: isz, size: isz, value: unsigned(imm, isz), alternatives: distinctSample(rng, 3, () => grp1Imm(rng, w, small), imm).map((v) => unsigned(v, isz)) },
      { what: 'modrm', tail: isz + op.d + 1, size: 1, value: modrm(mod, regField, 3), alternatives: [1, 4, 7].filter((x) => x !== regField).map((x) => modrm(mod, x, 3)) },
    ],
  };
}

function ioTest(rng: Prng, owner: Owner): MmioInsn {
  const w = pickWidth(rng, [2, 4, 8]);
  const op = ioOperand(rng, owner, w);
  const isz = (w === 2 ? 2 : 4) as 2 | 4;
  const gen = () => signed(rng.u32(), isz);
  const imm = gen();
  return {
    pre: [], text: `test ${SIZE_KW[w]} [rbx + ${hexLiteral(op.off)}], ${imm}`, post: [], dst: null,
    fields: [...dispField(op.d, isz, op.off, op.alts), { what: 'imm', tail: isz, size: isz, value: unsigned(imm, isz), alternatives: distinctSample(rng, 3, gen, imm).map((v) => unsigned(v, isz)) }],
  };
}

function ioBt(rng: Prng, owner: Owner): MmioInsn {
  const w = pickWidth(rng, [2, 4, 8]);
  const op = ioOperand(rng, owner, w);
  const bit = rng.range(0, w * 8 - 1);
  return {
    pre: [], text: `bt ${SIZE_KW[w]} [rbx + ${hexLiteral(op.off)}], ${bit}`, post: [], dst: null,
    fields: [...dispField(op.d, 1, op.off, op.alts), { what: 'imm', tail: 1, size: 1, value: bit, alternatives: distinctSample(rng, 3, () => rng.range(0, 255), bit) }],
  };
}

function ioMoffs(rng: Prng, owner: Owner): MmioInsn {
  // A1/A3: mov eax/rax, moffs64 and back. The low dword of the 8-byte offset is patchable.
  const w = pickWidth(rng, [2, 4, 8]);
  const op = ioOperand(rng, owner, w);
  const store = rng.bool(0.4);
  const base = 0xff00_0000;
  // movabs: the spelling of A1/A3 with a 64-bit offset that this assembler accepts.
  const addr = `[${hexLiteral(base + op.off)}]`;
  const alts = distinctSample(rng, 3, () => {
    const [a, b] = rng.pick(IO_WINDOWS[owner]);
    return rng.range(a, b - w);
  }, op.off);
  return {
    pre: [], text: store ? `movabs ${addr}, ${NAMES.rax[w]}` : `movabs ${NAMES.rax[w]}, ${addr}`, post: [], dst: store ? null : 'rax',
    fields: [{ what: 'moffs', tail: 8, size: 4, value: base + op.off, alternatives: alts.map((a) => base + a) }],
  };
}

function ioPushPop(rng: Prng, owner: Owner): MmioInsn {
  const op = ioOperand(rng, owner, 8);
  const r = reg(rng);
  if (rng.bool()) return { pre: [], text: `push qword [rbx + ${hexLiteral(op.off)}]`, post: [`pop ${r}`], dst: r, fields: [] };
  return { pre: [`push ${r}`], text: `pop qword [rbx + ${hexLiteral(op.off)}]`, post: [], dst: null, fields: [] };
}

const STR_SUFFIX: Record<Width, string> = { 1: 'b', 2: 'w', 4: 'd', 8: 'q' };

function ioStos(rng: Prng, owner: Owner): MmioInsn {
  const w = pickWidth(rng, [1, 2, 4, 8]);
  const [lo, hi] = rng.pick(IO_WINDOWS[owner]);
  const n = rng.range(1, Math.min(6, Math.floor((hi - lo) / w)));
  const start = rng.range(lo, hi - n * w);
  const rep = n > 1 || rng.bool(0.5);
  const down = rep && rng.bool(0.25);
  const pre = [`lea rdi, [rbx + ${hexLiteral(down ? start + (n - 1) * w : start)}]`];
  if (rep) pre.push(`mov ecx, ${n}`);
  if (down) pre.push('std');
  return { pre, text: `${rep ? 'rep ' : ''}stos${STR_SUFFIX[w]}`, post: down ? ['cld'] : [], dst: 'rdi', fields: [] };
}

/** RAM scratch buffer (in .data) the string ops copy to and from. */
export const RAM_SCRATCH = 'ram_scratch';
export const RAM_SCRATCH_SIZE = 64;

function ioMovs(rng: Prng, owner: Owner): MmioInsn {
  const w = pickWidth(rng, [1, 2, 4, 8]);
  const n = rng.range(1, 5);
  const io = () => {
    const [lo, hi] = rng.pick(IO_WINDOWS[owner]);
    return `[rbx + ${hexLiteral(rng.range(lo, hi - n * w))}]`;
  };
  // Absolute, not RIP-relative: the code may run at a window's linear address.
  const ram = () => `${RAM_SCRATCH} + ${owner * 32 + rng.range(0, 32 - n * w)}`;
  const dir = rng.pick(['ram-io', 'io-ram', 'io-io'] as const);
  const src = dir === 'ram-io' ? `mov esi, ${ram()}` : `lea rsi, ${io()}`;
  const dst = dir === 'io-ram' ? `mov edi, ${ram()}` : `lea rdi, ${io()}`;
  const rep = n > 1 || rng.bool(0.5);
  const pre = [src, dst];
  if (rep) pre.push(`mov ecx, ${n}`);
  return { pre, text: `${rep ? 'rep ' : ''}movs${STR_SUFFIX[w]}`, post: [], dst: 'rsi', fields: [] };
}

function ioClflush(rng: Prng, owner: Owner): MmioInsn {
  const op = ioOperand(rng, owner, 1);
  return { pre: [], text: `clflush [rbx + ${hexLiteral(op.off)}]`, post: [], dst: null, fields: [] };
}

/** A 32-bit access to a LAPIC register whose value does not depend on guest time. */
function lapicInsn(rng: Prng): MmioInsn {
  const r = reg(rng);
  const readOff = () => rng.pick([...LAPIC_READ_D1, ...LAPIC_READ_D4]);
  const readAlts = (off: number) => (off < 0x80 ? LAPIC_READ_D1 : LAPIC_READ_D4).filter((x) => x !== off);
  const writeAlts = (off: number) => LAPIC_WRITE.filter((x) => x !== off);
  const d = (off: number) => (off < 0x80 ? 1 : 4) as 1 | 4;
  switch (rng.int(6)) {
    case 0: {
      const off = readOff();
      const code = rng.pick([0x8b, 0x03, 0x0b, 0x23, 0x2b, 0x3b]);
      return {
        pre: [], text: `${LOAD_OPS[code]} ${NAMES[r][4]}, [rbp + ${hexLiteral(off)}]`, post: [], dst: r,
        fields: [...dispField(d(off), 0, off, readAlts(off)), opcodeField(d(off) + 2, code, LOAD_OPS)],
      };
    }
    case 1: {
      const off = rng.pick(LAPIC_WRITE);
      const code = rng.pick([0x89, 0x39]);
      return {
        pre: [], text: `${STORE_OPS[code]} [rbp + ${hexLiteral(off)}], ${NAMES[r][4]}`, post: [], dst: null,
        fields: [...dispField(4, 0, off, writeAlts(off)), opcodeField(6, code, STORE_OPS)],
      };
    }
    case 2: {
      const off = rng.pick(LAPIC_WRITE);
      const imm = rng.range(0, 15) * 0x10;
      return {
        pre: [], text: `mov dword [rbp + ${hexLiteral(off)}], ${hexLiteral(imm)}`, post: [], dst: null,
        fields: [...dispField(4, 4, off, writeAlts(off)), { what: 'imm', tail: 4, size: 4, value: imm, alternatives: [0, 0x20, 0x50, 0xf0].filter((x) => x !== imm) }],
      };
    }
    case 3: {
      const off = rng.pick(LAPIC_WRITE);
      const small = rng.bool();
      const isz = small ? 1 : 4;
      const imm = small ? rng.range(0, 0x7f) : rng.range(0x100, 0x7fff_ffff);
      const g = rng.pick([1, 4, 7]);
      return {
        pre: [], text: `${GRP1[g]} dword [rbp + ${hexLiteral(off)}], ${hexLiteral(imm)}`, post: [], dst: null,
        fields: [
          ...dispField(4, isz, off, writeAlts(off)),
          { what: 'modrm', tail: isz + 5, size: 1, value: modrm(2, g, 5), alternatives: [1, 4, 7].filter((x) => x !== g).map((x) => modrm(2, x, 5)) },
        ],
      };
    }
    case 4: {
      const off = readOff();
      const imm = signed(rng.u32(), 4);
      return {
        pre: [], text: `test dword [rbp + ${hexLiteral(off)}], ${imm}`, post: [], dst: null,
        fields: [...dispField(d(off), 4, off, readAlts(off)), { what: 'imm', tail: 4, size: 4, value: unsigned(imm, 4), alternatives: [unsigned(~imm, 4), 0xff, 0x100] }],
      };
    }
    default: {
      const off = readOff();
      const bit = rng.range(0, 31);
      return {
        pre: [], text: `bt dword [rbp + ${hexLiteral(off)}], ${bit}`, post: [], dst: null,
        fields: [...dispField(d(off), 1, off, readAlts(off)), { what: 'imm', tail: 1, size: 1, value: bit, alternatives: distinctSample(rng, 3, () => rng.range(0, 31), bit) }],
      };
    }
  }
}
