/**
 * Instruction templates: each makes one instruction of a kind, with random operands (register
 * or memory, every width, AH..BH, every addressing form), values picked to hit the edges, and
 * the flags it reads, defines and leaves undefined (x86.ts, from the SDM). A template returns
 * null when it cannot make a well-defined instruction in the current case.
 */
import { hexLiteral } from '../../core/hex';
import { CaseBuilder, type Insn, type MemOp, signed, value } from './builder.ts';
import { GS_BASE, MEM_ADDR, MEM_SIZE, STACK_MAX_DELTA, STACK_MIN_DELTA, STACK_OFF } from './layout.ts';
import {
  AF, CF, CONDITIONS, DF, FLAG_TABLE, type FlagEffect, IF, NO_FLAGS, OF, PF,
  RAX, RBP, RBX, RCX, RDI, RDX, RFLAGS_FIXED, RSI, RSP, type RegOp, SF, type Width, ZF,
  doubleShiftFlags, maskOf, ptrWord, rotateFlags, shiftFlags,
} from './x86.ts';

export interface Template {
  name: string;
  gen: (b: CaseBuilder) => Insn | null;
}

const W_ALL: readonly Width[] = [8, 16, 32, 64];
const W_NO8: readonly Width[] = [16, 32, 64];

/** An r/m operand: a register or a memory operand. */
type Rm = { kind: 'reg'; r: RegOp; text: string } | { kind: 'mem'; m: MemOp; text: string };

function suffix(rm: Rm, width: Width): string {
  return rm.kind === 'reg' ? `r${width}` : `m${width}`;
}

/**
 * A destination (or source) r/m operand. For bytes, 20% of the time the instruction is
 * "legacy": no REX prefix, so AH..BH are allowed and R8..R15, SPL..DIL are not.
 */
function rm(b: CaseBuilder, width: Width, opts: { dest: boolean; mem?: number; legacy?: boolean; noRsp?: boolean }): Rm | null {
  const useMem = b.rng.bool(opts.mem ?? 0.4);
  if (useMem) {
    const m = b.memOp(width, { legacy: opts.legacy, noRsp: opts.noRsp });
    if (m) return { kind: 'mem', m, text: m.text };
  }
  const r = b.reg(width, { dest: opts.dest, legacy: opts.legacy, high: opts.legacy });
  if (!r) return null;
  return { kind: 'reg', r, text: b.name(r) };
}

function writesOf(x: Rm): number[] {
  return x.kind === 'reg' ? [x.r.reg] : [];
}

function pfxOf(...xs: (Rm | null)[]): string {
  for (const x of xs) if (x?.kind === 'mem') return x.m.pfx;
  return '';
}

function legacyByte(b: CaseBuilder, width: Width): boolean {
  return width === 8 && b.rng.bool(0.25);
}

/** The value of an r/m operand when the instruction runs, if known; pins it. */
function knownRm(b: CaseBuilder, x: Rm, width: Width): bigint | null {
  return x.kind === 'reg' ? b.lowOf(x.r) : b.memValue(x.m.off, width);
}

/** Sets the value of an r/m operand before the instruction runs, if possible. */
function setRm(b: CaseBuilder, x: Rm, width: Width, v: bigint): boolean {
  if (x.kind === 'reg') {
    if (!b.canSet(x.r.reg)) return false;
    b.setLow(x.r, v);
    return true;
  }
  return b.setMem(x.m.off, width, v);
}

/** An immediate for `width`: imm8 (sign-extended, 83/6B/C0 forms) or full (imm32 for 64). */
function immFor(b: CaseBuilder, width: Width, allowImm8 = true): bigint {
  if (width === 8) return signed(value(b.rng, 8), 8);
  if (allowImm8 && b.rng.bool(0.45)) return signed(value(b.rng, 8), 8);
  return signed(value(b.rng, width === 64 ? 32 : width), width === 64 ? 32 : width);
}

function lockPfx(b: CaseBuilder, x: Rm, p = 0.15): string {
  return x.kind === 'mem' && b.rng.bool(p) ? 'lock ' : '';
}

function insn(text: string, form: string, writes: number[], flags: FlagEffect, extra: Partial<Insn> = {}): Insn {
  return { text, form, writes, flags, ...extra };
}

// ---- ALU: add adc sub sbb cmp and or xor (SDM Vol. 2A/2B; 00-3F, 80-83 /digit) ------------

function alu(op: string): Template {
  return {
    name: op,
    gen(b) {
      const width = b.rng.pick(W_ALL);
      const legacy = legacyByte(b, width);
      const fl = FLAG_TABLE[op] as FlagEffect;
      const writesDest = op !== 'cmp';
      const form = b.rng.weighted([[3, 'rm,r'], [2, 'r,m'], [3, 'rm,imm']] as const);
      if (form === 'rm,r') {
        const d = rm(b, width, { dest: writesDest, legacy });
        const s = b.reg(width, { legacy, high: legacy });
        if (!d || !s) return null;
        const dir = d.kind === 'reg' && b.rng.bool(0.3) ? b.rng.pick(['{load} ', '{store} ']) : '';
        const lock = writesDest ? lockPfx(b, d) : '';
        return insn(`${pfxOf(d)}${dir}${lock}${op} ${d.text}, ${b.name(s)}`, `${op} ${suffix(d, width)},r${width}`,
          writesDest ? writesOf(d) : [], fl, { writesMem: writesDest && d.kind === 'mem' });
      }
      if (form === 'r,m') {
        const d = b.reg(width, { dest: writesDest, legacy, high: legacy });
        const m = b.memOp(width, { legacy });
        if (!d || !m) return null;
        return insn(`${m.pfx}${op} ${b.name(d)}, ${m.text}`, `${op} r${width},m${width}`, writesDest ? [d.reg] : [], fl);
      }
      const d = rm(b, width, { dest: writesDest, legacy });
      if (!d) return null;
      const imm = immFor(b, width);
      const lock = writesDest ? lockPfx(b, d) : '';
      const immForm = width !== 8 && imm >= -128n && imm <= 127n ? 'imm8' : `imm${Math.min(width, 32)}`;
      return insn(`${pfxOf(d)}${lock}${op} ${d.text}, ${hexLiteral(imm)}`, `${op} ${suffix(d, width)},${immForm}`,
        writesDest ? writesOf(d) : [], fl, { writesMem: writesDest && d.kind === 'mem' });
    },
  };
}

// TEST: 84/85 r/m,r; F6/F7 /0 r/m,imm; A8/A9 al/eax,imm.
const testT: Template = {
  name: 'test',
  gen(b) {
    const width = b.rng.pick(W_ALL);
    const legacy = legacyByte(b, width);
    const d = rm(b, width, { dest: false, legacy });
    if (!d) return null;
    if (b.rng.bool()) {
      const s = b.reg(width, { legacy, high: legacy });
      if (!s) return null;
      return insn(`${pfxOf(d)}test ${d.text}, ${b.name(s)}`, `test ${suffix(d, width)},r${width}`, [], FLAG_TABLE.test as FlagEffect);
    }
    const imm = immFor(b, width, false);
    return insn(`${pfxOf(d)}test ${d.text}, ${hexLiteral(imm)}`, `test ${suffix(d, width)},imm`, [], FLAG_TABLE.test as FlagEffect);
  },
};

// INC DEC NEG NOT (FE/FF /0 /1, F6/F7 /3 /2).
function unary(op: 'inc' | 'dec' | 'neg' | 'not'): Template {
  return {
    name: op,
    gen(b) {
      const width = b.rng.pick(W_ALL);
      const legacy = legacyByte(b, width);
      const d = rm(b, width, { dest: true, legacy });
      if (!d) return null;
      const lock = lockPfx(b, d);
      return insn(`${pfxOf(d)}${lock}${op} ${d.text}`, `${op} ${suffix(d, width)}`, writesOf(d), FLAG_TABLE[op] as FlagEffect,
        { writesMem: d.kind === 'mem' });
    },
  };
}

// ---- MUL / IMUL / DIV / IDIV ------------------------------------------------------------

/** Registers written by F6/F7 /4../7: AX for bytes, rDX:rAX otherwise. */
function mulDivWrites(width: Width): number[] {
  return width === 8 ? [RAX] : [RAX, RDX];
}

// MUL, IMUL r/m (F6/F7 /4 /5).
function mul1(op: 'mul' | 'imul'): Template {
  return {
    name: `${op}1`,
    gen(b) {
      const width = b.rng.pick(W_ALL);
      if (!mulDivWrites(width).every((r) => b.canWrite(r))) return null;
      const legacy = legacyByte(b, width);
      const s = rm(b, width, { dest: false, legacy });
      if (!s) return null;
      // Make the edge products (overflow to exactly the sign bit, -1 * min) likely.
      const rax = { reg: RAX, width, high: false };
      if (b.canSet(RAX) && b.rng.bool(0.5)) b.setLow(rax, value(b.rng, width));
      return insn(`${pfxOf(s)}${op} ${s.text}`, `${op} ${suffix(s, width)}`, mulDivWrites(width), FLAG_TABLE[op] as FlagEffect);
    },
  };
}

// IMUL r, r/m (0F AF) and IMUL r, r/m, imm (6B/69).
const imul2: Template = {
  name: 'imul2',
  gen(b) {
    const width = b.rng.pick(W_NO8);
    const d = b.reg(width, { dest: true });
    const s = rm(b, width, { dest: false });
    if (!d || !s) return null;
    return insn(`${pfxOf(s)}imul ${b.name(d)}, ${s.text}`, `imul r${width},${suffix(s, width)}`, [d.reg], FLAG_TABLE.imul as FlagEffect);
  },
};

const imul3: Template = {
  name: 'imul3',
  gen(b) {
    const width = b.rng.pick(W_NO8);
    const d = b.reg(width, { dest: true });
    const s = rm(b, width, { dest: false });
    if (!d || !s) return null;
    const imm = immFor(b, width);
    const f = imm >= -128n && imm <= 127n ? 'imm8' : 'imm';
    return insn(`${pfxOf(s)}imul ${b.name(d)}, ${s.text}, ${hexLiteral(imm)}`, `imul r${width},${suffix(s, width)},${f}`, [d.reg],
      FLAG_TABLE.imul as FlagEffect);
  },
};

function randBelow(b: CaseBuilder, n: bigint): bigint {
  // n > 0: a value in [0, n), often an edge (0 or n-1).
  const k = b.rng.int(4);
  if (k === 0) return 0n;
  if (k === 1) return n - 1n;
  return (b.rng.u64() * (1n << 64n) + b.rng.u64()) % n;
}

/**
 * DIV/IDIV r/m (F6/F7 /6 /7). The dividend and divisor are chosen so that the quotient fits
 * (SDM: #DE "if the quotient is too large for the designated register") most of the time, and
 * so that it does not (or the divisor is 0) sometimes: the harness catches SIGFPE natively and
 * the vCPU must raise #DE at the same instruction.
 */
function div(op: 'div' | 'idiv'): Template {
  return {
    name: op,
    gen(b) {
      const width = b.rng.pick(W_ALL);
      const regs = mulDivWrites(width);
      if (!regs.every((r) => b.canWrite(r))) return null;
      const legacy = legacyByte(b, width);
      const s = rm(b, width, { dest: false, legacy: legacy, mem: 0.35 });
      if (!s) return null;
      const form = `${op} ${suffix(s, width)}`;
      const fl = FLAG_TABLE[op] as FlagEffect;
      const text = `${pfxOf(s)}${op} ${s.text}`;
      // Divisor inside the dividend (div rax / div rdx / div ah): whatever it does, natively too.
      if (s.kind === 'reg' && regs.includes(s.r.reg)) return insn(text, form, regs, fl);
      if (!regs.every((r) => b.canSet(r))) return b.rng.bool(0.2) ? insn(text, form, regs, fl) : null;
      const w = BigInt(width);
      const fault = b.rng.bool(0.06);
      let d = value(b.rng, width);
      if (!fault && d === 0n) d = 1n;
      if (fault && b.rng.bool(0.5)) d = 0n;
      if (!setRm(b, s, width, d)) return null;
      let dividend: bigint;
      if (op === 'div') {
        const hi = fault && d !== 0n ? d + randBelow(b, maskOf(width) - d + 1n) : d === 0n ? 0n : randBelow(b, d);
        dividend = (hi << w) | (b.rng.u64() & maskOf(width));
      } else {
        const ds = signed(d, width);
        const min = -(1n << (w - 1n));
        const max = (1n << (w - 1n)) - 1n;
        let q = signed(value(b.rng, width), width);
        if (fault && ds !== 0n) q = ds > 0n ? max + 1n + BigInt(b.rng.int(3)) : min - 1n - BigInt(b.rng.int(3));
        const absD = ds < 0n ? -ds : ds;
        let r = absD === 0n ? 0n : randBelow(b, absD);
        const prod = q * ds;
        // The remainder has the sign of the dividend (SDM IDIV: truncation toward zero).
        if (prod < 0n || (prod === 0n && b.rng.bool())) r = -r;
        dividend = BigInt.asUintN(2 * width, prod + r);
      }
      if (width === 8) {
        b.setLow({ reg: RAX, width: 16, high: false }, dividend);
      } else {
        b.setLow({ reg: RAX, width, high: false }, dividend & maskOf(width));
        b.setLow({ reg: RDX, width, high: false }, dividend >> w);
      }
      return insn(text, form, regs, fl);
    },
  };
}

// ---- shifts and rotates (C0/C1 imm8, D0/D1 by 1, D2/D3 by CL) ----------------------------

const SHIFT_OPS = ['shl', 'shr', 'sar', 'sal', 'rol', 'ror', 'rcl', 'rcr'] as const;

function countValue(b: CaseBuilder, width: Width): number {
  return b.rng.pick([0, 1, 1, 2, width - 1, width, width + 1, 31, 32, 33, 63, 64, 65, 255, b.rng.int(256), b.rng.int(width)]);
}

function shiftEffect(op: (typeof SHIFT_OPS)[number], width: Width, raw: number): FlagEffect {
  const count = raw & (width === 64 ? 63 : 31);
  if (op === 'shl' || op === 'sal') return shiftFlags('shl', width, count);
  if (op === 'shr' || op === 'sar') return shiftFlags(op, width, count);
  return rotateFlags(op, count);
}

function shift(op: (typeof SHIFT_OPS)[number]): Template {
  return {
    name: op,
    gen(b) {
      const width = b.rng.pick(W_ALL);
      const legacy = legacyByte(b, width);
      const d = rm(b, width, { dest: true, legacy });
      if (!d) return null;
      const how = b.rng.weighted([[2, '1'], [3, 'imm'], [4, 'cl']] as const);
      let count: number;
      let text: string;
      if (how === '1') {
        count = 1;
        text = b.rng.bool(0.3) ? `${op} ${d.text}` : `${op} ${d.text}, 1`;
      } else if (how === 'imm') {
        count = countValue(b, width);
        text = `${op} ${d.text}, ${count}`;
      } else {
        const cl: RegOp = { reg: RCX, width: 8, high: false };
        if (b.canSet(RCX)) b.setLow(cl, BigInt(countValue(b, width)));
        const known = b.lowOf(cl);
        if (known === null) return null;
        count = Number(known);
        text = `${op} ${d.text}, cl`;
      }
      const form = `${op} ${suffix(d, width)},${how}`;
      return insn(pfxOf(d) + text, form, writesOf(d), shiftEffect(op, width, count), { writesMem: d.kind === 'mem' });
    },
  };
}

/** SHLD/SHRD r/m, r, imm8 / CL (0F A4/A5, AC/AD). */
function shiftDouble(op: 'shld' | 'shrd'): Template {
  return {
    name: op,
    gen(b) {
      const width = b.rng.pick(W_NO8);
      const d = rm(b, width, { dest: true });
      const s = b.reg(width, {});
      if (!d || !s) return null;
      let raw: number;
      let countText: string;
      if (b.rng.bool()) {
        raw = countValue(b, width);
        countText = String(raw);
      } else {
        const cl: RegOp = { reg: RCX, width: 8, high: false };
        if (b.canSet(RCX)) b.setLow(cl, BigInt(countValue(b, width)));
        const known = b.lowOf(cl);
        if (known === null) return null;
        raw = Number(known);
        countText = 'cl';
      }
      const count = raw & (width === 64 ? 63 : 31);
      const extra: Partial<Insn> = { writesMem: d.kind === 'mem' };
      if (count > width) {
        // SDM: "If the count is greater than the operand size, the result is undefined."
        if (d.kind === 'mem') return null;
        extra.undefRegs = [[d.r.reg, maskOf(width)]];
        extra.endsCase = true;
      }
      return insn(`${pfxOf(d)}${op} ${d.text}, ${b.name(s)}, ${countText}`, `${op} ${suffix(d, width)},r${width},${countText === 'cl' ? 'cl' : 'imm'}`,
        writesOf(d), doubleShiftFlags(width, count), extra);
    },
  };
}

// ---- bit test: BT BTS BTR BTC (0F A3/AB/B3/BB r/m,r; 0F BA /4../7 r/m,imm8) ---------------

function bitTest(op: 'bt' | 'bts' | 'btr' | 'btc'): Template {
  return {
    name: op,
    gen(b) {
      const width = b.rng.pick(W_NO8);
      const writes = op !== 'bt';
      const fl = FLAG_TABLE[op] as FlagEffect;
      const how = b.rng.weighted([[3, 'imm'], [3, 'r,r'], [4, 'm,r']] as const);
      if (how === 'imm') {
        const d = rm(b, width, { dest: writes });
        if (!d) return null;
        const bit = b.rng.bool(0.7) ? b.rng.int(width) : b.rng.int(256);
        const lock = writes ? lockPfx(b, d) : '';
        return insn(`${pfxOf(d)}${lock}${op} ${d.text}, ${bit}`, `${op} ${suffix(d, width)},imm8`, writes ? writesOf(d) : [], fl,
          { writesMem: writes && d.kind === 'mem' });
      }
      if (how === 'r,r') {
        const d = b.reg(width, { dest: writes });
        const s = b.reg(width, {});
        if (!d || !s) return null;
        return insn(`${op} ${b.name(d)}, ${b.name(s)}`, `${op} r${width},r${width}`, writes ? [d.reg] : [], fl);
      }
      // Memory with a register bit offset: the offset is a signed integer of the operand size
      // and may address bits far outside the operand (SDM Vol. 2A BT: "bit offset operand ...
      // −2^31 to 2^31 − 1 for a 32-bit register"). Choose it so the accessed unit stays in the buffer.
      const bytes = width / 8;
      const s = b.reg(width, {});
      if (!s || !b.canSet(s.reg)) return null;
      const m = b.memOp(width, { off: b.rng.range(0, MEM_SIZE - bytes) });
      if (!m || !b.canSet(s.reg)) return null;
      const lo = Math.ceil(-m.off / bytes);
      const hi = Math.floor((MEM_SIZE - bytes - m.off) / bytes);
      const unit = b.rng.range(lo, hi);
      const offset = BigInt(unit * width + b.rng.int(width));
      b.setLow(s, BigInt.asUintN(width, offset));
      const lock = writes ? lockPfx(b, { kind: 'mem', m, text: m.text }) : '';
      return insn(`${m.pfx}${lock}${op} ${m.text}, ${b.name(s)}`, `${op} m${width},r${width}`, [], fl, { writesMem: writes });
    },
  };
}

// ---- bit scan and count: BSF BSR (0F BC/BD), TZCNT LZCNT POPCNT (F3 0F BC/BD/B8) ----------

function bitScan(op: 'bsf' | 'bsr' | 'tzcnt' | 'lzcnt' | 'popcnt'): Template {
  return {
    name: op,
    gen(b) {
      const width = b.rng.pick(W_NO8);
      const d = b.reg(width, { dest: true });
      const s = rm(b, width, { dest: false });
      if (!d || !s) return null;
      if (b.rng.bool(0.2)) setRm(b, s, width, 0n);
      else if (b.rng.bool(0.3)) setRm(b, s, width, value(b.rng, width));
      const extra: Partial<Insn> = {};
      if (op === 'bsf' || op === 'bsr') {
        // SDM BSF/BSR: "If the content of the source operand is 0, the content of the
        // destination operand is undefined."
        const v = knownRm(b, s, width);
        if (v === null) return null;
        if (v === 0n) {
          extra.undefRegs = [[d.reg, maskOf(64)]];
          extra.endsCase = true;
        }
      }
      return insn(`${pfxOf(s)}${op} ${b.name(d)}, ${s.text}`, `${op} r${width},${suffix(s, width)}`, [d.reg],
        FLAG_TABLE[op] as FlagEffect, extra);
    },
  };
}

// ---- setcc (0F 90+cc), cmovcc (0F 40+cc), jcc over one instruction -----------------------

const setcc: Template = {
  name: 'setcc',
  gen(b) {
    const c = b.rng.pick(CONDITIONS);
    const legacy = legacyByte(b, 8);
    const d = rm(b, 8, { dest: true, legacy });
    if (!d) return null;
    return insn(`${pfxOf(d)}set${c.cc} ${d.text}`, `set${c.cc} ${suffix(d, 8)}`, writesOf(d), { reads: c.reads, writes: 0, undef: 0 },
      { writesMem: d.kind === 'mem' });
  },
};

const cmovcc: Template = {
  name: 'cmovcc',
  gen(b) {
    const c = b.rng.pick(CONDITIONS);
    const width = b.rng.pick(W_NO8);
    const d = b.reg(width, { dest: true });
    const s = rm(b, width, { dest: false });
    if (!d || !s) return null;
    return insn(`${pfxOf(s)}cmov${c.cc} ${b.name(d)}, ${s.text}`, `cmov${c.cc} r${width},${suffix(s, width)}`, [d.reg],
      { reads: c.reads, writes: 0, undef: 0 });
  },
};

/** Jcc rel8/rel32 forward over a NOT: tests the branch condition the way guest code uses it. */
const jcc: Template = {
  name: 'jcc',
  gen(b) {
    const c = b.rng.pick(CONDITIONS);
    const width = b.rng.pick(W_NO8);
    const d = b.reg(width, { dest: true });
    if (!d) return null;
    // {disp32} forces the rel32 form (0F 80+cc).
    const near = b.rng.bool(0.3);
    return insn(`${near ? '{disp32} ' : ''}j${c.cc} 1f\n  not ${b.name(d)}\n1:`, `j${c.cc} rel${near ? 32 : 8}`, [d.reg],
      { reads: c.reads, writes: 0, undef: 0 });
  },
};

/** LOOP/LOOPE/LOOPNE/JRCXZ/JECXZ rel8 forward (E0-E3). */
const loopT: Template = {
  name: 'loop',
  gen(b) {
    const op = b.rng.pick(['loop', 'loope', 'loopne', 'jrcxz', 'jecxz'] as const);
    const d = b.reg(32, { dest: true, not: [RCX] });
    if (!d) return null;
    const decrements = op.startsWith('loop');
    if (decrements && !b.canWrite(RCX)) return null;
    if (b.canSet(RCX) && b.rng.bool(0.6)) {
      b.setLow({ reg: RCX, width: 64, high: false }, b.rng.pick([0n, 1n, 2n, 1n << 32n, (1n << 32n) + 1n, maskOf(64)]));
    }
    const reads = op === 'loope' || op === 'loopne' ? ZF : 0;
    return insn(`${op} 1f\n  not ${b.name(d)}\n1:`, op, decrements ? [RCX, d.reg] : [d.reg], { reads, writes: 0, undef: 0 });
  },
};

// ---- data movement ----------------------------------------------------------------------

/** MOV: 88/89/8A/8B, B0+r/B8+r (incl. imm64), C6/C7, A0-A3 moffs. */
const mov: Template = {
  name: 'mov',
  gen(b) {
    const width = b.rng.pick(W_ALL);
    const legacy = legacyByte(b, width);
    const form = b.rng.weighted([[3, 'r,r'], [3, 'r,m'], [3, 'm,r'], [3, 'r,imm'], [2, 'm,imm'], [1, 'moffs']] as const);
    switch (form) {
      case 'r,r': {
        const d = b.reg(width, { dest: true, legacy, high: legacy });
        const s = b.reg(width, { legacy, high: legacy });
        if (!d || !s) return null;
        const dir = b.rng.bool(0.3) ? b.rng.pick(['{load} ', '{store} ']) : '';
        return insn(`${dir}mov ${b.name(d)}, ${b.name(s)}`, `mov r${width},r${width}`, [d.reg], NO_FLAGS);
      }
      case 'r,m': {
        const d = b.reg(width, { dest: true, legacy, high: legacy });
        const m = b.memOp(width, { legacy });
        if (!d || !m) return null;
        return insn(`${m.pfx}mov ${b.name(d)}, ${m.text}`, `mov r${width},m${width}`, [d.reg], NO_FLAGS);
      }
      case 'm,r': {
        const s = b.reg(width, { legacy, high: legacy });
        const m = b.memOp(width, { legacy });
        if (!s || !m) return null;
        return insn(`${m.pfx}mov ${m.text}, ${b.name(s)}`, `mov m${width},r${width}`, [], NO_FLAGS, { writesMem: true });
      }
      case 'r,imm': {
        const d = b.reg(width, { dest: true, legacy, high: legacy });
        if (!d) return null;
        const v = width === 64 && b.rng.bool(0.6) ? b.rng.pick([b.rng.u64(), value(b.rng, 64)]) : signed(value(b.rng, width === 64 ? 32 : width), width === 64 ? 32 : width);
        const text = width === 64 && (v > 0x7fffffffn) ? `movabs ${b.name(d)}, ${hexLiteral(v)}` : `mov ${b.name(d)}, ${hexLiteral(v)}`;
        return insn(text, `mov r${width},imm${width === 64 && v > 0x7fffffffn ? 64 : ''}`, [d.reg], NO_FLAGS);
      }
      case 'm,imm': {
        const m = b.memOp(width);
        if (!m) return null;
        const v = immFor(b, width, false);
        return insn(`${m.pfx}mov ${m.text}, ${hexLiteral(v)}`, `mov m${width},imm`, [], NO_FLAGS, { writesMem: true });
      }
      case 'moffs': {
        // A0-A3: MOV AL/AX/EAX/RAX <-> moffs64 (SDM Vol. 2B MOV, "moffs").
        if (!b.canWrite(RAX)) return null;
        const off = b.pickOff(width / 8);
        const a = { reg: RAX, width, high: false };
        const at = `${ptrWord(width)} ds:${hexLiteral(MEM_ADDR + off)}`;
        if (b.rng.bool()) return insn(`movabs ${b.name(a)}, ${at}`, `mov rax${width},moffs`, [RAX], NO_FLAGS);
        return insn(`movabs ${at}, ${b.name(a)}`, `mov moffs,rax${width}`, [], NO_FLAGS, { writesMem: true });
      }
    }
  },
};

/** MOVZX/MOVSX (0F B6/B7/BE/BF) and MOVSXD (63). */
function movx(op: 'movzx' | 'movsx' | 'movsxd'): Template {
  return {
    name: op,
    gen(b) {
      let sw: Width;
      let dw: Width;
      if (op === 'movsxd') {
        sw = 32;
        dw = 64;
      } else {
        sw = b.rng.pick([8, 16] as const);
        dw = b.rng.pick(sw === 8 ? ([16, 32, 64] as const) : ([32, 64] as const));
      }
      const legacy = sw === 8 && dw !== 64 && b.rng.bool(0.3);
      const d = b.reg(dw, { dest: true, legacy });
      const s = rm(b, sw, { dest: false, legacy });
      if (!d || !s) return null;
      return insn(`${pfxOf(s)}${op} ${b.name(d)}, ${s.text}`, `${op} r${dw},${suffix(s, sw)}`, [d.reg], NO_FLAGS);
    },
  };
}

/** LEA (8D): every addressing form, any register values (no memory access). */
const lea: Template = {
  name: 'lea',
  gen(b) {
    const width = b.rng.pick(W_NO8);
    const d = b.reg(width, { dest: true });
    if (!d) return null;
    const a32 = b.rng.bool(0.2);
    const aw: Width = a32 ? 32 : 64;
    const base = b.rng.bool(0.85) ? b.reg(aw, {}) : null;
    const index = b.rng.bool(0.6) ? b.reg(aw, { not: [RSP] }) : null;
    const disp = b.rng.pick([0, b.rng.range(-128, 127), b.rng.range(-0x80000000, 0x7fffffff)]);
    const parts: string[] = [];
    if (base) parts.push(b.name(base));
    if (index) parts.push(`${b.name(index)}*${b.rng.pick([1, 2, 4, 8])}`);
    let text = parts.join(' + ');
    if (disp !== 0 || parts.length === 0) text += parts.length === 0 ? hexLiteral(disp) : disp < 0 ? ` - ${hexLiteral(-disp)}` : ` + ${hexLiteral(disp)}`;
    const operand = `[${text}]`;
    return insn(`lea ${b.name(d)}, ${operand}`, `lea r${width},${a32 ? 'a32' : 'a64'}`, [d.reg], NO_FLAGS);
  },
};

/** XCHG (86/87, 90+r). */
const xchg: Template = {
  name: 'xchg',
  gen(b) {
    const width = b.rng.pick(W_ALL);
    const legacy = legacyByte(b, width);
    const d = rm(b, width, { dest: true, legacy });
    const s = b.reg(width, { dest: true, legacy, high: legacy });
    if (!d || !s) return null;
    const [x, y] = b.rng.bool() ? [d.text, b.name(s)] : [b.name(s), d.text];
    return insn(`${pfxOf(d)}xchg ${x}, ${y}`, `xchg ${suffix(d, width)},r${width}`, [...writesOf(d), s.reg], NO_FLAGS,
      { writesMem: d.kind === 'mem' });
  },
};

/** XADD (0F C0/C1) and CMPXCHG (0F B0/B1). */
function xaddCmpxchg(op: 'xadd' | 'cmpxchg'): Template {
  return {
    name: op,
    gen(b) {
      const width = b.rng.pick(W_ALL);
      if (op === 'cmpxchg' && !b.canWrite(RAX)) return null;
      const legacy = legacyByte(b, width);
      const d = rm(b, width, { dest: true, legacy });
      const s = b.reg(width, { dest: op === 'xadd', legacy, high: legacy });
      if (!d || !s) return null;
      if (op === 'cmpxchg' && b.rng.bool(0.5)) {
        // Make the comparison succeed: accumulator = destination.
        const acc: RegOp = { reg: RAX, width, high: false };
        const dv = knownRm(b, d, width);
        if (dv !== null && b.canSet(RAX)) b.setLow(acc, dv);
        else {
          const av = b.lowOf(acc);
          if (av !== null) setRm(b, d, width, av);
        }
      }
      const lock = lockPfx(b, d, 0.3);
      const writes = op === 'xadd' ? [...writesOf(d), s.reg] : [...writesOf(d), RAX];
      return insn(`${pfxOf(d)}${lock}${op} ${d.text}, ${b.name(s)}`, `${op} ${suffix(d, width)},r${width}`, writes,
        FLAG_TABLE[op] as FlagEffect, { writesMem: d.kind === 'mem' });
    },
  };
}

/** BSWAP r32/r64 (0F C8+r); BSWAP r16 is undefined (SDM) and not generated. */
const bswap: Template = {
  name: 'bswap',
  gen(b) {
    const width = b.rng.pick([32, 64] as const);
    const d = b.reg(width, { dest: true });
    if (!d) return null;
    return insn(`bswap ${b.name(d)}`, `bswap r${width}`, [d.reg], NO_FLAGS);
  },
};

/** CBW CWDE CDQE (98), CWD CDQ CQO (99). */
const convert: Template = {
  name: 'convert',
  gen(b) {
    const op = b.rng.pick(['cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo'] as const);
    const writes = op === 'cwd' || op === 'cdq' || op === 'cqo' ? [RDX] : [RAX];
    if (!writes.every((r) => b.canWrite(r))) return null;
    if (b.canSet(RAX) && b.rng.bool(0.3)) b.setLow({ reg: RAX, width: 64, high: false }, value(b.rng, 64));
    return insn(op, op, writes, NO_FLAGS);
  },
};

/** CLC STC CMC CLD STD (F8 F9 F5 FC FD), LAHF SAHF (9F 9E). */
const flagOps: Template = {
  name: 'flagops',
  gen(b) {
    const op = b.rng.pick(['clc', 'stc', 'cmc', 'cld', 'std', 'lahf', 'sahf'] as const);
    if (op === 'lahf' && !b.canWrite(RAX)) return null;
    return insn(op, op, op === 'lahf' ? [RAX] : [], FLAG_TABLE[op] as FlagEffect);
  },
};

// ---- string instructions (A4-A7, AA-AF) with REP/REPE/REPNE and DF -----------------------

const STRING_OPS = ['movs', 'stos', 'lods', 'cmps', 'scas'] as const;
const SUFFIX: Record<Width, string> = { 8: 'b', 16: 'w', 32: 'd', 64: 'q' };

function stringOp(op: (typeof STRING_OPS)[number]): Template {
  return {
    name: op,
    gen(b) {
      const width = b.rng.pick(W_ALL);
      const size = width / 8;
      const usesSi = op === 'movs' || op === 'lods' || op === 'cmps';
      const usesDi = op !== 'lods';
      const prefixes = op === 'cmps' || op === 'scas' ? ['', 'repe ', 'repne '] : ['', 'rep '];
      const pfx = b.rng.pick(prefixes);
      const regs = [...(usesSi ? [RSI] : []), ...(usesDi ? [RDI] : []), ...(pfx ? [RCX] : [])];
      if (!regs.every((r) => b.canSet(r))) return null;
      if ((op === 'lods' || op === 'scas' || op === 'stos') && !b.canWrite(RAX)) return null;
      const count = pfx ? b.rng.pick([0, 1, 2, 3, 5, 8]) : 1;
      // Place the pointers so that the whole run stays in the buffer whichever way DF points.
      const span = Math.max(count, 1) * size;
      const place = (): number => b.rng.range(span, MEM_SIZE - span - size);
      const si = place();
      const di = place();
      // The source ([RSI]) may take a segment override (SDM MOVS: "DS:(E)SI ... The DS segment
      // may be overridden"); ES:[RDI] may not. A GS override adds the GS base.
      const gs = usesSi && b.rng.bool(0.2);
      if (usesSi) b.setLow({ reg: RSI, width: 64, high: false }, BigInt(MEM_ADDR + si - (gs ? GS_BASE : 0)));
      if (usesDi) b.setLow({ reg: RDI, width: 64, high: false }, BigInt(MEM_ADDR + di));
      if (pfx) b.setLow({ reg: RCX, width: 64, high: false }, BigInt(count));
      // Make REPE/REPNE stop somewhere inside the run: equal prefixes for CMPS, the
      // accumulator's value somewhere for SCAS.
      if (op === 'cmps' && !b.memDirty && b.rng.bool(0.7)) {
        const n = b.rng.int(span + 1);
        // Assumes the initial DF; if an earlier instruction changed it, the run just stops elsewhere.
        const dfSet = (b.rflags & DF) !== 0;
        for (let i = 0; i < n; i++) {
          const a = dfSet ? si + size - 1 - i : si + i;
          const c = dfSet ? di + size - 1 - i : di + i;
          if (a >= 0 && c >= 0 && a < MEM_SIZE && c < MEM_SIZE) b.mem[c] = b.mem[a] as number;
        }
      }
      if ((op === 'scas' || op === 'stos') && b.canSet(RAX) && b.rng.bool(0.5)) {
        const at = di + size * b.rng.range(-count, count);
        if (at >= 0 && at + size <= MEM_SIZE) {
          let v = 0n;
          for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b.mem[at + i] as number);
          b.setLow({ reg: RAX, width, high: false }, v);
        }
      }
      const writes = [...regs];
      if (op === 'lods') writes.push(RAX);
      // With a REP prefix and RCX = 0 nothing happens, flags included (SDM REP: "the
      // instruction ... is not executed").
      const fl = pfx && count === 0 ? { reads: DF, writes: 0, undef: 0 } : FLAG_TABLE[op] as FlagEffect;
      return insn(`${gs ? '.byte 0x65\n  ' : ''}${pfx}${op}${SUFFIX[width]}`, `${gs ? 'gs ' : ''}${pfx}${op}${SUFFIX[width]}`, writes, fl,
        { writesMem: op === 'movs' || op === 'stos' });
    },
  };
}

// ---- stack: PUSH POP (50+r, FF /6, 6A, 68, 58+r, 8F /0), PUSHFQ POPFQ, ENTER LEAVE ---------

function stackRoom(b: CaseBuilder, delta: number): boolean {
  const d = b.stackDelta + delta;
  return d >= STACK_MIN_DELTA && d <= STACK_MAX_DELTA;
}

const push: Template = {
  name: 'push',
  gen(b) {
    const form = b.rng.weighted([[3, 'r64'], [1, 'r16'], [2, 'imm'], [2, 'm64'], [1, 'm16']] as const);
    const delta = form === 'r16' || form === 'm16' ? -2 : -8;
    if (!stackRoom(b, delta)) return null;
    let text: string;
    switch (form) {
      case 'r64': case 'r16': {
        const r = b.reg(form === 'r64' ? 64 : 16, {});
        if (!r) return null;
        text = `push ${b.name(r)}`;
        break;
      }
      case 'imm': {
        const v = b.rng.bool() ? signed(value(b.rng, 8), 8) : signed(value(b.rng, 32), 32);
        text = `push ${hexLiteral(v)}`;
        break;
      }
      case 'm64': case 'm16': {
        const m = b.memOp(form === 'm64' ? 64 : 16);
        if (!m) return null;
        text = `${m.pfx}push ${m.text}`;
        break;
      }
    }
    return insn(text, `push ${form}`, [RSP], NO_FLAGS, { writesMem: true, stackDelta: delta });
  },
};

const pop: Template = {
  name: 'pop',
  gen(b) {
    const form = b.rng.weighted([[3, 'r64'], [1, 'r16'], [2, 'm64'], [1, 'm16'], [1, 'rsp']] as const);
    const delta = form === 'r16' || form === 'm16' ? 2 : 8;
    if (!stackRoom(b, delta)) return null;
    switch (form) {
      case 'r64': case 'r16': {
        const r = b.reg(form === 'r64' ? 64 : 16, { dest: true });
        if (!r) return null;
        return insn(`pop ${b.name(r)}`, `pop ${form}`, [RSP, r.reg], NO_FLAGS, { stackDelta: delta });
      }
      case 'm64': case 'm16': {
        // The address of a POP to memory is computed after RSP is incremented (SDM POP);
        // keep RSP out of it so the buffer offset is known.
        const m = b.memOp(form === 'm64' ? 64 : 16, { noRsp: true });
        if (!m) return null;
        return insn(`${m.pfx}pop ${m.text}`, `pop ${form}`, [RSP], NO_FLAGS, { writesMem: true, stackDelta: delta });
      }
      case 'rsp':
        // POP RSP loads RSP from the stack; it ends the case (RSP no longer points anywhere).
        return insn('pop rsp', 'pop rsp', [RSP], NO_FLAGS, { stackDelta: delta, endsCase: true });
    }
  },
};

/** A value POPFQ may load at CPL 3 and CPL 0 alike: status flags, DF, IF = 1, bit 1. */
function popfValue(b: CaseBuilder): bigint {
  let v = RFLAGS_FIXED | IF;
  for (const f of [CF, PF, AF, ZF, SF, OF, DF]) if (b.rng.bool(f === DF ? 0.3 : 0.5)) v |= f;
  return BigInt(v);
}

const pushfq: Template = {
  name: 'pushfq',
  gen(b) {
    if (!stackRoom(b, -8)) return null;
    return insn('pushfq', 'pushfq', [RSP], FLAG_TABLE.pushfq as FlagEffect, { writesMem: true, stackDelta: -8 });
  },
};

const popfq: Template = {
  name: 'popfq',
  gen(b) {
    if (b.rng.bool(0.5) && stackRoom(b, -8)) {
      // push imm32 / popfq.
      const v = popfValue(b);
      return insn(`push ${hexLiteral(v)}\n  popfq`, 'popfq', [RSP], FLAG_TABLE.popfq as FlagEffect, { writesMem: true, stackDelta: 0 });
    }
    if (!stackRoom(b, 8) || b.dirty.has(RSP)) return null;
    const off = STACK_OFF;
    if (!b.setMem(off, 64, popfValue(b))) return null;
    return insn('popfq', 'popfq', [RSP], FLAG_TABLE.popfq as FlagEffect, { stackDelta: 8 });
  },
};

/** LEAVE (C9): RSP = RBP, pop RBP. RBP is set to point into the stack area. */
const leave: Template = {
  name: 'leave',
  gen(b) {
    if (!b.canSet(RBP) || b.dirty.has(RSP)) return null;
    // RSP is not dirty, so it is still at STACK_OFF and stackDelta is 0.
    const off = b.rng.range(0x140, 0x1c0) & ~b.rng.pick([0, 7]);
    b.setLow({ reg: RBP, width: 64, high: false }, BigInt(MEM_ADDR + off));
    const delta = off + 8 - STACK_OFF;
    if (!stackRoom(b, delta)) return null;
    return insn('leave', 'leave', [RSP, RBP], NO_FLAGS, { stackDelta: delta });
  },
};

/** ENTER imm16, imm8 (C8). Nesting levels above 1 read frame pointers through RBP. */
const enter: Template = {
  name: 'enter',
  gen(b) {
    const level = b.rng.pick([0, 0, 1, 2, 3]);
    const size = b.rng.pick([0, 8, 16, 0x18, 3]);
    const delta = -8 - (level > 0 ? 8 * level : 0) - size;
    if (!stackRoom(b, delta)) return null;
    if (level > 1) {
      if (!b.canSet(RBP)) return null;
      b.setLow({ reg: RBP, width: 64, high: false }, BigInt(MEM_ADDR + b.rng.range(0x80, 0x1f8)));
    }
    return insn(`enter ${size}, ${level}`, `enter ${level > 1 ? 'nested' : level}`, [RSP, RBP], NO_FLAGS,
      { writesMem: true, stackDelta: delta });
  },
};

/** Multi-byte NOP (0F 1F /0) with a memory form, and XCHG-free NOP (90). */
const nop: Template = {
  name: 'nop',
  gen(b) {
    if (b.rng.bool(0.3)) return insn('nop', 'nop', [], NO_FLAGS);
    const r = b.reg(b.rng.pick([32, 64] as const), {});
    if (!r) return null;
    return insn(`nop dword ptr [${b.name({ ...r, width: 64 })} + ${hexLiteral(b.rng.range(0, 0x100))}]`, 'nop m32', [], NO_FLAGS);
  },
};

// ---- control transfer: CALL/RET/JMP near, direct and indirect; loops that loop -----------

/**
 * CALL rel32 / r64 / m64 (E8, FF /2), RET and RET imm16 (C3, C2), JMP r64 / m64 (FF /4), and
 * CALL followed by POP (the return address into a register). The case code is linked at the
 * vCPU's code address, so return addresses agree.
 */
const callRet: Template = {
  name: 'call',
  gen(b) {
    const form = b.rng.weighted([[3, 'rel'], [2, 'ret imm'], [2, 'reg'], [2, 'mem'], [2, 'pop'], [2, 'jmp reg'], [2, 'jmp mem']] as const);
    const needsPush = form !== 'jmp reg' && form !== 'jmp mem';
    if (needsPush && !stackRoom(b, -8)) return null;
    const scratch = b.reg(64, { dest: true });
    if (!scratch) return null;
    const r = b.name(scratch);
    const skip = b.reg(32, { dest: true, not: [scratch.reg] });
    if (!skip) return null;
    const not = `not ${b.name(skip)}`;
    switch (form) {
      case 'rel':
        // {disp32} forces JMP rel32 (E9) over the short form.
        return insn(`call 1f\n  ${b.rng.bool() ? '{disp32} ' : ''}jmp 2f\n1:\n  ret\n2:`, 'call rel32; ret', [RSP], NO_FLAGS,
          { writesMem: true, stackDelta: 0 });
      case 'ret imm': {
        const n = b.rng.pick([0, 8, 16]);
        if (!stackRoom(b, n)) return null;
        return insn(`call 1f\n  jmp 2f\n1:\n  ret ${n}\n2:`, 'ret imm16', [RSP], NO_FLAGS, { writesMem: true, stackDelta: n });
      }
      case 'reg':
        return insn(`lea ${r}, [rip + 1f]\n  call ${r}\n  jmp 2f\n1:\n  ret\n2:`, 'call r64', [RSP, scratch.reg], NO_FLAGS,
          { writesMem: true, stackDelta: 0 });
      case 'mem': {
        const m = b.memOp(64);
        if (!m) return null;
        return insn(`lea ${r}, [rip + 1f]\n  mov ${m.text}, ${r}\n  call ${m.text}\n  jmp 2f\n1:\n  ret\n2:`, 'call m64',
          [RSP, scratch.reg], NO_FLAGS, { writesMem: true, stackDelta: 0 });
      }
      case 'pop':
        return insn(`call 1f\n1:\n  pop ${r}`, 'call rel32; pop', [RSP, scratch.reg], NO_FLAGS, { writesMem: true, stackDelta: 0 });
      case 'jmp reg':
        return insn(`lea ${r}, [rip + 1f]\n  jmp ${r}\n  ${not}\n1:`, 'jmp r64', [scratch.reg, skip.reg], NO_FLAGS);
      case 'jmp mem': {
        const m = b.memOp(64);
        if (!m) return null;
        return insn(`lea ${r}, [rip + 1f]\n  mov ${m.text}, ${r}\n  jmp ${m.text}\n  ${not}\n1:`, 'jmp m64',
          [scratch.reg, skip.reg], NO_FLAGS, { writesMem: true });
      }
    }
  },
};

/** LEA with a RIP-relative address: of a code label, or of the buffer. */
const leaRip: Template = {
  name: 'lea rip',
  gen(b) {
    const width = b.rng.pick([32, 64] as const);
    const d = b.reg(width, { dest: true });
    if (!d) return null;
    const target = b.rng.bool() ? `diff_buf + ${hexLiteral(b.rng.int(MEM_SIZE))}` : '1f';
    return insn(`lea ${b.name(d)}, [rip + ${target}]\n1:`, `lea r${width},rip`, [d.reg], NO_FLAGS);
  },
};

/**
 * A loop that runs 1..6 times: `1: body; loop 1b` or `1: body; dec ecx; jnz 1b` (a backward
 * branch to the block's own start, which the vCPU may turn into a loop inside its block).
 */
const loopBack: Template = {
  name: 'loop back',
  gen(b) {
    if (!b.canSet(RCX)) return null;
    const n = b.rng.range(1, 6);
    const width = b.rng.pick([32, 64] as const);
    const d = b.reg(width, { dest: true, not: [RCX] });
    const s = b.reg(width, { not: [RCX] });
    if (!d || !s) return null;
    const op = b.rng.pick(['add', 'adc', 'xor', 'sub', 'rol'] as const);
    const body = op === 'rol' ? `rol ${b.name(d)}, 3` : `${op} ${b.name(d)}, ${b.name(s)}`;
    const bodyFx = op === 'rol' ? rotateFlags('rol', 3) : (FLAG_TABLE[op] as FlagEffect);
    const kind = b.rng.pick(['loop', 'dec jnz'] as const);
    b.setLow({ reg: RCX, width: 64, high: false }, (b.rng.u64() & ~0xffffffffn & (kind === 'loop' ? 0n : -1n)) | BigInt(n));
    if (kind === 'loop') {
      return insn(`1:\n  ${body}\n  loop 1b`, `loop back (${op})`, [RCX, d.reg], bodyFx);
    }
    // DEC writes OF SF ZF AF PF; CF stays the body's (ADC reads it: it must be defined).
    const fx: FlagEffect = { reads: bodyFx.reads, writes: (bodyFx.writes & CF) | (STATUS_NO_CF), undef: bodyFx.undef & CF };
    return insn(`1:\n  ${body}\n  dec ecx\n  jnz 1b`, `dec jnz back (${op})`, [RCX, d.reg], fx);
  },
};
const STATUS_NO_CF = OF | SF | ZF | AF | PF;

/** LOOP/JECXZ and the string instructions with a 67 prefix: ECX, ESI, EDI (SDM Vol. 2A §2.2.1). */
const addr32: Template = {
  name: 'addr32',
  gen(b) {
    const kind = b.rng.pick(['loop', 'string'] as const);
    if (kind === 'loop') {
      if (!b.canSet(RCX)) return null;
      const op = b.rng.pick(['loop', 'loope', 'loopne'] as const);
      const d = b.reg(32, { dest: true, not: [RCX] });
      if (!d) return null;
      // Upper half of RCX garbage: only ECX counts.
      b.setLow({ reg: RCX, width: 64, high: false }, (b.rng.u64() & ~0xffffffffn) | b.rng.pick([0n, 1n, 2n, 0xffffffffn]));
      return insn(`addr32 ${op} 1f\n  not ${b.name(d)}\n1:`, `addr32 ${op}`, [RCX, d.reg], { reads: op === 'loop' ? 0 : ZF, writes: 0, undef: 0 });
    }
    const op = b.rng.pick(['movs', 'stos', 'lods', 'cmps', 'scas'] as const);
    const width = b.rng.pick([8, 16, 32, 64] as const);
    const size = width / 8;
    const usesSi = op === 'movs' || op === 'lods' || op === 'cmps';
    const usesDi = op !== 'lods';
    const pfx = b.rng.pick(op === 'cmps' || op === 'scas' ? ['', 'repe ', 'repne '] : ['', 'rep ']);
    const regs = [...(usesSi ? [RSI] : []), ...(usesDi ? [RDI] : []), ...(pfx ? [RCX] : [])];
    if (!regs.every((r) => b.canSet(r))) return null;
    if ((op === 'lods' || op === 'scas' || op === 'stos') && !b.canWrite(RAX)) return null;
    const count = pfx ? b.rng.pick([0, 1, 2, 3, 5]) : 1;
    const span = Math.max(count, 1) * size;
    const garbage = (): bigint => b.rng.u64() & ~0xffffffffn;
    if (usesSi) b.setLow({ reg: RSI, width: 64, high: false }, garbage() | BigInt(MEM_ADDR + b.rng.range(span, MEM_SIZE - span - size)));
    if (usesDi) b.setLow({ reg: RDI, width: 64, high: false }, garbage() | BigInt(MEM_ADDR + b.rng.range(span, MEM_SIZE - span - size)));
    if (pfx) b.setLow({ reg: RCX, width: 64, high: false }, garbage() | BigInt(count));
    const writes = [...regs, ...(op === 'lods' ? [RAX] : [])];
    const fl = pfx && count === 0 ? { reads: DF, writes: 0, undef: 0 } : (FLAG_TABLE[op] as FlagEffect);
    return insn(`addr32 ${pfx}${op}${SUFFIX[width]}`, `addr32 ${pfx}${op}${SUFFIX[width]}`, writes, fl,
      { writesMem: op === 'movs' || op === 'stos' });
  },
};

/** CMPXCHG8B m64 / CMPXCHG16B m128 (0F C7 /1): EDX:EAX / RDX:RAX against memory. */
const cmpxchgWide: Template = {
  name: 'cmpxchg8b',
  gen(b) {
    const wide = b.rng.bool();
    const size = wide ? 16 : 8;
    if (!b.canWrite(RAX) || !b.canWrite(RDX)) return null;
    // CMPXCHG16B needs a 16-byte aligned operand (#GP otherwise).
    const off = wide ? b.rng.range(0, (MEM_SIZE - 16) / 16) * 16 : b.pickOff(8);
    const m = b.memOp(64, { off });
    if (!m) return null;
    const half = wide ? 64 : 32;
    const text = wide ? m.text.replace('qword ptr', 'xmmword ptr') : m.text;
    if (b.rng.bool() && b.canSet(RAX) && b.canSet(RDX)) {
      const lo = b.memValue(off, half as Width);
      const hi = b.memValue(off + size / 2, half as Width);
      if (lo !== null && hi !== null) {
        b.setLow({ reg: RAX, width: half as Width, high: false }, lo);
        b.setLow({ reg: RDX, width: half as Width, high: false }, hi);
      }
    }
    const lock = b.rng.bool(0.3) ? 'lock ' : '';
    // SDM CMPXCHG8B/16B: "The ZF flag is set if the destination operand and EDX:EAX are equal;
    // otherwise it is cleared. The CF, PF, AF, SF, and OF flags are unaffected."
    return insn(`${m.pfx}${lock}cmpxchg${wide ? '16b' : '8b'} ${text}`, `cmpxchg${wide ? '16b' : '8b'} m${size * 8}`, [RAX, RDX],
      { reads: 0, writes: ZF, undef: 0 }, { writesMem: true });
  },
};

/** XLATB (D7): AL = [RBX + AL]. */
const xlat: Template = {
  name: 'xlat',
  gen(b) {
    if (!b.canSet(RBX) || !b.canWrite(RAX)) return null;
    b.setLow({ reg: RBX, width: 64, high: false }, BigInt(MEM_ADDR + b.rng.range(0, MEM_SIZE - 256)));
    return insn('xlatb', 'xlatb', [RAX], NO_FLAGS);
  },
};

/** PUSH imm16 with an operand-size prefix (66 6A/68), PAUSE (F3 90), NOP forms. */
const misc: Template = {
  name: 'misc',
  gen(b) {
    const op = b.rng.pick(['pushw', 'pause', 'xchg ax, ax', 'nopw'] as const);
    if (op === 'pushw') {
      if (!stackRoom(b, -2)) return null;
      return insn(`pushw ${hexLiteral(signed(value(b.rng, 16), 16))}`, 'push imm16', [RSP], NO_FLAGS, { writesMem: true, stackDelta: -2 });
    }
    if (op === 'nopw') return insn('nop word ptr [rax + rax*1 + 0x0]', 'nop m16', [], NO_FLAGS);
    return insn(op, op, [], NO_FLAGS);
  },
};

// ---- exceptions: each ends the case; natively a signal, on the vCPU the IDT ---------------

/**
 * #UD (UD2, invalid opcodes, misplaced LOCK), #BP (INT3, a trap: the frame's RIP is the next instruction), #GP(0) (a
 * non-canonical address; CMPXCHG16B on an operand not 16-byte aligned), #PF (a canonical
 * address mapped neither natively nor in the vCPU's page tables). SDM Vol. 3A §6.15.
 */
const raise: Template = {
  name: 'raise',
  gen(b) {
    const kind = b.rng.pick(['ud2', 'invalid', 'int3', 'noncanonical', 'noncanonical-stack', 'noncanonical-branch', 'unmapped', 'cmpxchg16b'] as const);
    const ends = { raises: true, endsCase: true };
    switch (kind) {
      case 'ud2': return insn('ud2', 'ud2 (#UD)', [], NO_FLAGS, ends);
      case 'invalid': {
        // Opcodes invalid in 64-bit mode (PUSH ES 06, DAA 27, SALC D6: SDM Vol. 2 Appendix A,
        // "i64") and LOCK on a register destination (SDM LOCK: "#UD ... if the destination
        // operand is not a memory operand").
        const bytes = b.rng.pick(['0x06', '0x27', '0xd6', '0x0e', '0xf0, 0x01, 0xd8', '0xf0, 0x90']);
        return insn(`.byte ${bytes}`, `invalid ${bytes} (#UD)`, [], NO_FLAGS, ends);
      }
      case 'int3': return insn('int3', 'int3 (#BP)', [], NO_FLAGS, ends);
      case 'cmpxchg16b': {
        if (!b.canWrite(RAX) || !b.canWrite(RDX)) return null;
        const m = b.memOp(64, { off: b.rng.range(0, (MEM_SIZE - 32) / 16) * 16 + b.rng.pick([1, 4, 8, 12]) });
        if (!m) return null;
        return insn(`cmpxchg16b ${m.text.replace('qword ptr', 'xmmword ptr')}`, 'cmpxchg16b misaligned (#GP)', [RAX, RDX],
          { reads: 0, writes: ZF, undef: 0 }, ends);
      }
      case 'noncanonical-branch': {
        // An indirect near branch to a non-canonical target: #GP(0) at the branch, which has
        // had no effect (CALL pushed nothing, RET popped nothing).
        const r = b.reg(64, { dest: true, not: [RSP] });
        if (!r) return null;
        const nc = (b.rng.pick([0x8000n, 0x0001n, 0xfff0n, 0x7fffn]) << 48n) | BigInt(b.rng.int(0x10000));
        const op = b.rng.pick(['jmp', 'call', 'ret'] as const);
        const text = op === 'ret' ? `mov ${b.name(r)}, ${hexLiteral(nc)}\n  push ${b.name(r)}\n  ret` : `mov ${b.name(r)}, ${hexLiteral(nc)}\n  ${op} ${b.name(r)}`;
        if (op === 'ret' && !stackRoom(b, -8)) return null;
        return insn(text, `non-canonical ${op} target (#GP)`, [RSP, r.reg], NO_FLAGS,
          { ...ends, stackDelta: op === 'ret' ? -8 : 0, writesMem: op === 'ret' });
      }
      case 'noncanonical-stack': {
        // A non-canonical RSP (or RBP for LEAVE): the stack access raises #SS(0), not #GP(0)
        // (SDM PUSH/POP/CALL/RET/LEAVE: "#SS(0) If the stack address is in a non-canonical form").
        const op = b.rng.pick(['push rax', 'push 0x12', 'push qword ptr [rsp + 8]', 'pushfq', 'popfq', 'ret', 'call 1f\n1:', 'leave'] as const);
        const reg = op === 'leave' ? RBP : RSP;
        if (op === 'leave' && !b.canSet(RBP)) return null;
        const nc = (b.rng.pick([0x8000n, 0x0001n, 0xfff0n, 0x7fffn]) << 48n) | BigInt(b.rng.int(0x10000) & ~7);
        return insn(`mov ${reg === RBP ? 'rbp' : 'rsp'}, ${hexLiteral(nc)}\n  ${op}`, `non-canonical stack: ${op.split('\n')[0]} (#SS)`, reg === RBP ? [RSP, RBP] : [RSP], NO_FLAGS,
          { ...ends, stackDelta: 0 });
      }
      default: {
        // RBP may be the base: a non-canonical SS reference raises #SS(0), not #GP(0) (SDM Vol.
        // 3A §6.15, "Interrupt 12"). (RSP never holds the pointer here: it points at the stack.)
        const p = b.reg(64, { not: [RSP] });
        const d = b.reg(b.rng.pick(W_ALL), { dest: true });
        if (!p || !d || !b.canSet(p.reg)) return null;
        const addr = kind === 'noncanonical'
          ? (b.rng.pick([0x8000n, 0x0001n, 0xfff0n, 0x7fffn]) << 48n) | BigInt(b.rng.int(0x10000))
          : 0x0000_1234_5678_0000n + BigInt(b.rng.int(0x10000));
        b.setLow(p, addr);
        const width = d.width;
        const load = b.rng.bool();
        const text = load ? `mov ${b.name(d)}, ${ptrWord(width)} [${b.name(p)}]` : `mov ${ptrWord(width)} [${b.name(p)}], ${b.name(d)}`;
        const what = kind === 'unmapped' ? 'unmapped (#PF)' : p.reg === RBP ? 'non-canonical [rbp] (#SS)' : 'non-canonical (#GP)';
        return insn(text, what, load ? [d.reg] : [], NO_FLAGS, ends);
      }
    }
  },
};

/**
 * Prefixes that change nothing, or not what they seem (SDM Vol. 2A §2.1-2.2.1): segment
 * overrides, 67 and F2/F3 on a register-only ALU instruction; a REX with no bits; a REX that is
 * not the last prefix (ignored: `48 66 01 D8` is ADD AX, BX); a repeated 66. The prefix bytes
 * are emitted with .byte before an instruction GNU as encodes.
 */
const prefixes: Template = {
  name: 'prefixes',
  gen(b) {
    const op = b.rng.pick(['add', 'sub', 'xor', 'and', 'or', 'adc', 'cmp', 'mov'] as const);
    const kind = b.rng.pick(['seg', '67', 'f2f3', 'rex40', 'rex-not-last', '66 66'] as const);
    // Registers 0..3 only: a REX prefix must not turn AH..BH or SPL..DIL into something else.
    const width: Width = kind === 'rex-not-last' ? 32 : kind === '66 66' ? 16 : b.rng.pick([8, 16, 32] as const);
    const d = b.reg(width, { dest: op !== 'cmp', legacy: true, not: [4, 5, 6, 7] });
    const s = b.reg(width, { legacy: true, not: [4, 5, 6, 7] });
    if (!d || !s || d.high || s.high) return null;
    const bytes = {
      seg: [b.rng.pick([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65])],
      '67': [0x67],
      f2f3: [b.rng.pick([0xf2, 0xf3])],
      rex40: [0x40],
      'rex-not-last': [b.rng.pick([0x48, 0x4f, 0x41]), 0x66],
      '66 66': [0x66],
    }[kind];
    const fx = op === 'mov' ? NO_FLAGS : (FLAG_TABLE[op] as FlagEffect);
    // With a REX before 66 the instruction is 16-bit: it writes only the low word.
    const pre = `.byte ${bytes.map((x) => hexLiteral(x)).join(', ')}\n  `;
    return insn(`${pre}${op} ${b.name(d)}, ${b.name(s)}`, `prefix ${kind}`, op === 'cmp' ? [] : [d.reg], fx);
  },
};

export const TEMPLATES: readonly Template[] = [
  ...['add', 'adc', 'sub', 'sbb', 'cmp', 'and', 'or', 'xor'].map(alu),
  testT,
  ...(['inc', 'dec', 'neg', 'not'] as const).map(unary),
  mul1('mul'), mul1('imul'), imul2, imul3, div('div'), div('idiv'),
  ...SHIFT_OPS.map(shift),
  shiftDouble('shld'), shiftDouble('shrd'),
  ...(['bt', 'bts', 'btr', 'btc'] as const).map(bitTest),
  ...(['bsf', 'bsr', 'tzcnt', 'lzcnt', 'popcnt'] as const).map(bitScan),
  setcc, cmovcc, jcc, loopT,
  mov, movx('movzx'), movx('movsx'), movx('movsxd'), lea, xchg, xaddCmpxchg('xadd'), xaddCmpxchg('cmpxchg'), bswap,
  convert, flagOps,
  ...STRING_OPS.map(stringOp),
  push, pop, pushfq, popfq, leave, enter, nop,
  callRet, leaRip, loopBack, addr32, cmpxchgWide, xlat, misc, raise, prefixes,
];

