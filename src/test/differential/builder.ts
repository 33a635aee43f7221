/**
 * The state of one differential case while it is being generated: its initial registers,
 * flags and memory, and what the instructions generated so far have done to them.
 *
 * The generator must keep every case well defined on the real CPU: memory operands stay inside
 * the buffer, pointers stay pointers, divisions that should not fault do not, and a flag left
 * undefined by one instruction is never read by the next. The builder tracks that:
 * - `reserved` registers hold pointers or counts; no instruction may write them.
 * - `pinned` registers' initial values were relied upon; nobody may change them.
 * - `dirty` registers were written by an earlier instruction: their value is no longer known.
 * - `undef` are the flags currently undefined (SDM "Flags Affected").
 */
import { hexLiteral } from '../../core/hex';
import { GS_BASE, MEM_ADDR, MEM_SIZE, PAGE_CROSS, INITIAL_RSP, STACK_OFF } from './layout.ts';
import { Prng } from './prng.ts';
import { type FlagEffect, RSP, type RegOp, type Width, maskOf, ptrWord, regName, IF, RFLAGS_FIXED, DF } from './x86.ts';

/** One generated instruction (or a short fixed sequence, e.g. a jcc over one instruction). */
export interface Insn {
  /** GNU as `.intel_syntax noprefix` text; several lines for sequences. */
  text: string;
  /** Coverage key, e.g. "add m32,r32". */
  form: string;
  /** GPRs written (explicitly or implicitly). */
  writes: number[];
  writesMem?: boolean;
  flags: FlagEffect;
  /** Bits of GPRs the instruction leaves undefined (e.g. BSF with a zero source). */
  undefRegs?: [number, bigint][];
  /** The case ends after this instruction (its result must not feed another one). */
  endsCase?: boolean;
  /** Net change of RSP (stack templates only). */
  stackDelta?: number;
  /** Raises an exception on purpose (#UD, #BP, #GP, #PF); the case ends there. */
  raises?: boolean;
}

export type MemForm = 'base' | 'base+index' | 'rsp' | 'index' | 'abs' | 'addr32' | 'rip' | 'gs';

export interface MemOp {
  text: string;
  /** Offset of the effective address in the buffer. */
  off: number;
  /** Pseudo-prefix to put before the mnemonic ('{disp32} ' or ''). */
  pfx: string;
  form: MemForm;
}


/** A value as a signed number of `width` bits. */
export function signed(v: bigint, width: Width): bigint {
  return BigInt.asIntN(width, v);
}

export class CaseBuilder {
  readonly gpr: bigint[] = [];
  rflags: number;
  readonly mem: Uint8Array;
  readonly reserved = new Set<number>([RSP]);
  readonly pinned = new Set<number>([RSP]);
  readonly dirty = new Set<number>();
  memDirty = false;
  private readonly memPinned = new Uint8Array(MEM_SIZE);
  undef = 0;
  /** Union of `undef` over the whole case, for cases that fault midway (#DE). */
  undefAny = 0;
  readonly undefRegs: bigint[] = new Array<bigint>(16).fill(0n);
  /** RSP relative to its initial value. */
  stackDelta = 0;
  base: number | null = null;
  baseOff = 0;
  index: number | null = null;
  indexVal = 0;
  readonly lines: string[] = [];
  readonly forms: string[] = [];
  raises = false;

  constructor(readonly rng: Prng) {
    for (let i = 0; i < 16; i++) this.gpr.push(initialValue(rng));
    this.gpr[RSP] = BigInt(INITIAL_RSP);
    let flags = RFLAGS_FIXED | IF;
    for (const bit of [1 << 0, 1 << 2, 1 << 4, 1 << 6, 1 << 7, 1 << 11]) if (rng.bool()) flags |= bit;
    if (rng.bool(0.3)) flags |= DF;
    this.rflags = flags;
    this.mem = initialMemory(rng);
  }

  // ---- registers -------------------------------------------------------------------------

  /** May the generator choose this register's initial value now? */
  canSet(reg: number): boolean {
    return !this.dirty.has(reg) && !this.pinned.has(reg) && !this.reserved.has(reg);
  }

  /** May an instruction write this register? */
  canWrite(reg: number): boolean {
    return !this.reserved.has(reg);
  }

  /** The register's value when the next instruction runs, if known (and pins it). */
  known(reg: number): bigint | null {
    if (this.dirty.has(reg)) return null;
    this.pinned.add(reg);
    return this.gpr[reg] as bigint;
  }

  /** Sets the low `width` bits of a register's initial value (bits 8..15 for AH..BH) and pins it. */
  setLow(r: RegOp, value: bigint): void {
    const shift = r.high ? 8n : 0n;
    const m = maskOf(r.width) << shift;
    const old = this.gpr[r.reg] as bigint;
    this.gpr[r.reg] = (old & ~m & maskOf(64)) | ((value << shift) & m);
    this.pinned.add(r.reg);
  }

  /** The low `width` bits of a known register (bits 8..15 for AH..BH). */
  lowOf(r: RegOp): bigint | null {
    const v = this.known(r.reg);
    if (v === null) return null;
    return (v >> (r.high ? 8n : 0n)) & maskOf(r.width);
  }

  /**
   * Picks a register operand. `dest` excludes reserved registers; `legacy` means the
   * instruction cannot have a REX prefix (it uses AH..BH), so only registers 0..7 (and for
   * bytes AL..BL, AH..BH) qualify; `high` allows AH..BH for bytes.
   */
  reg(width: Width, opts: { dest?: boolean; legacy?: boolean; high?: boolean; not?: number[] } = {}): RegOp | null {
    const cands: RegOp[] = [];
    for (let reg = 0; reg < 16; reg++) {
      if (opts.dest && !this.canWrite(reg)) continue;
      if (opts.not?.includes(reg)) continue;
      if (opts.legacy && (reg >= 8 || (width === 8 && reg >= 4))) continue;
      cands.push({ reg, width, high: false });
      if (width === 8 && reg < 4 && (opts.high || opts.legacy)) cands.push({ reg, width, high: true });
    }
    if (cands.length === 0) return null;
    // A high-byte register is legal only without REX: callers that allow it pass `legacy`.
    const pick = this.rng.pick(cands);
    if (pick.high && !opts.legacy) return { ...pick, high: false };
    return pick;
  }

  name(r: RegOp): string {
    return regName(r);
  }

  // ---- memory ----------------------------------------------------------------------------

  /** Chooses the case's base register (reserved, pointing into the buffer) on first use. */
  private ensureBase(legacy: boolean): number | null {
    if (this.base !== null) return legacy && this.base >= 8 ? null : this.base;
    const cands: number[] = [];
    for (let r = 0; r < (legacy ? 8 : 16); r++) if (r !== RSP && this.canSet(r)) cands.push(r);
    if (cands.length === 0) return null;
    const b = this.rng.pick(cands);
    this.base = b;
    this.baseOff = this.rng.range(-0x100, MEM_SIZE + 0x100);
    this.gpr[b] = BigInt(MEM_ADDR + this.baseOff);
    this.reserved.add(b);
    this.pinned.add(b);
    return b;
  }

  private ensureIndex(legacy: boolean): number | null {
    if (this.index !== null) return legacy && this.index >= 8 ? null : this.index;
    const cands: number[] = [];
    for (let r = 0; r < (legacy ? 8 : 16); r++) if (r !== RSP && this.canSet(r)) cands.push(r);
    if (cands.length === 0) return null;
    const x = this.rng.pick(cands);
    this.index = x;
    this.indexVal = this.rng.range(-48, 48);
    this.gpr[x] = BigInt.asUintN(64, BigInt(this.indexVal));
    this.reserved.add(x);
    this.pinned.add(x);
    return x;
  }

  /** An offset in the buffer for an access of `size` bytes: random, aligned, or crossing the page. */
  pickOff(size: number): number {
    const kind = this.rng.weighted([[6, 'any'], [2, 'aligned'], [2, 'cross']] as const);
    if (kind === 'cross' && size > 1) return PAGE_CROSS - this.rng.range(1, size - 1);
    const off = this.rng.range(0, MEM_SIZE - size);
    return kind === 'aligned' ? off & ~(size - 1) : off;
  }

  /**
   * A memory operand of `size` bytes at buffer offset `off` (random when omitted), in one of
   * the 64-bit addressing forms (SDM Vol. 2A §2.2.1: ModRM/SIB, disp8/disp32, no base,
   * 32-bit address size). Returns null when no register is free to hold the pointer.
   */
  memOp(width: Width, opts: { legacy?: boolean; noRsp?: boolean; off?: number } = {}): MemOp | null {
    const size = width / 8;
    const off = opts.off ?? this.pickOff(size);
    const legacy = opts.legacy ?? false;
    const ptr = ptrWord(width);
    const forms: [number, MemForm][] = [[40, 'base'], [25, 'base+index'], [7, 'index'], [6, 'abs'], [6, 'addr32'], [7, 'rip'], [5, 'gs']];
    if (!opts.noRsp && !this.dirty.has(RSP)) forms.push([8, 'rsp']);
    for (let attempt = 0; attempt < 8; attempt++) {
      const form = this.rng.weighted(forms);
      const target = MEM_ADDR + off;
      const scale = this.rng.pick([1, 2, 4, 8]);
      const pfx = this.rng.bool(0.06) ? '{disp32} ' : '';
      switch (form) {
        case 'base': {
          const b = this.ensureBase(legacy);
          if (b === null) continue;
          const disp = off - this.baseOff;
          // ES/CS/SS/DS overrides are ignored in 64-bit mode (SDM Vol. 1 §3.3.7.1); a few carry one.
          const seg = this.rng.bool(0.1) ? `${this.rng.pick(['es', 'cs', 'ss', 'ds'])}:` : '';
          return { text: `${ptr} ${seg}[${addr(b, null, 1, disp)}]`, off, pfx, form };
        }
        case 'base+index': {
          const b = this.ensureBase(legacy);
          const x = this.ensureIndex(legacy);
          if (b === null || x === null) continue;
          const disp = off - this.baseOff - this.indexVal * scale;
          return { text: `${ptr} [${addr(b, x, scale, disp)}]`, off, pfx, form };
        }
        case 'rsp': {
          const disp = off - STACK_OFF;
          return { text: `${ptr} [${addr(RSP, null, 1, disp)}]`, off, pfx, form };
        }
        case 'index': {
          const x = this.ensureIndex(legacy);
          if (x === null) continue;
          const disp = target - this.indexVal * scale;
          return { text: `${ptr} [${GPR(x)}*${scale} + ${hexLiteral(disp)}]`, off, pfx: '', form };
        }
        case 'abs':
          return { text: `${ptr} ds:${hexLiteral(target)}`, off, pfx: '', form };
        case 'rip':
          // RIP-relative (ModRM mod=00 rm=101, SDM Vol. 2A §2.2.1.6): the case code is linked
          // at the vCPU's code address, so the displacement is the same on both sides.
          return { text: `${ptr} [rip + diff_buf + ${hexLiteral(off)}]`, off, pfx: '', form };
        case 'gs': {
          // GS segment override: linear address = GS base + effective address (SDM Vol. 3A §3.4.4).
          const b = this.ensureBase(legacy);
          if (b === null) continue;
          const disp = off - this.baseOff - GS_BASE;
          return { text: `${ptr} gs:[${addr(b, null, 1, disp)}]`, off, pfx, form };
        }
        case 'addr32': {
          const b = this.ensureBase(legacy);
          const x = this.ensureIndex(legacy);
          if (b === null || x === null) continue;
          const disp = off - this.baseOff - this.indexVal * scale;
          return { text: `${ptr} [${addr(b, x, scale, disp, true)}]`, off, pfx, form };
        }
      }
    }
    return null;
  }

  /** Sets bytes of the initial memory that the instruction relies on, if still possible. */
  setMem(off: number, width: Width, value: bigint): boolean {
    const size = width / 8;
    if (this.memDirty) return false;
    for (let i = 0; i < size; i++) if (this.memPinned[off + i]) return false;
    for (let i = 0; i < size; i++) {
      this.mem[off + i] = Number((value >> BigInt(8 * i)) & 0xffn);
      this.memPinned[off + i] = 1;
    }
    return true;
  }

  /** The value in memory when the next instruction runs, if known (and pins it). */
  memValue(off: number, width: Width): bigint | null {
    if (this.memDirty) return null;
    let v = 0n;
    for (let i = width / 8 - 1; i >= 0; i--) {
      v = (v << 8n) | BigInt(this.mem[off + i] as number);
      this.memPinned[off + i] = 1;
    }
    return v;
  }

  // ---- accepting instructions ------------------------------------------------------------

  /** Adds an instruction if it is well defined here; returns false (and changes nothing) if not. */
  accept(insn: Insn): boolean {
    if (insn.flags.reads & this.undef) return false;
    for (const r of insn.writes) {
      if (this.reserved.has(r) && !(r === RSP && insn.stackDelta !== undefined)) return false;
    }
    for (const r of insn.writes) this.dirty.add(r);
    if (insn.writesMem) this.memDirty = true;
    this.undef = (this.undef & ~insn.flags.writes) | insn.flags.undef;
    this.undefAny |= this.undef;
    if (insn.stackDelta !== undefined) this.stackDelta += insn.stackDelta;
    for (const [r, m] of insn.undefRegs ?? []) this.undefRegs[r] = (this.undefRegs[r] as bigint) | m;
    if (insn.raises) this.raises = true;
    this.lines.push(insn.text);
    this.forms.push(insn.form);
    return true;
  }
}

function GPR(r: number): string {
  return regName({ reg: r, width: 64, high: false });
}

function addr(base: number, index: number | null, scale: number, disp: number, a32 = false): string {
  const w: Width = a32 ? 32 : 64;
  let s = regName({ reg: base, width: w, high: false });
  if (index !== null) s += ` + ${regName({ reg: index, width: w, high: false })}*${scale}`;
  if (disp > 0) s += ` + ${hexLiteral(disp)}`;
  if (disp < 0) s += ` - ${hexLiteral(-disp)}`;
  return s;
}

/** An interesting value of `width` bits: edges (0, 1, -1, min/max signed...), small, random. */
export function value(rng: Prng, width: Width): bigint {
  const m = maskOf(width);
  const sign = 1n << BigInt(width - 1);
  const kind = rng.weighted([[35, 'edge'], [35, 'random'], [12, 'small'], [10, 'bit'], [8, 'negsmall']] as const);
  switch (kind) {
    case 'edge':
      return rng.pick([0n, 1n, 2n, m, m - 1n, sign, sign - 1n, sign + 1n, 0x7fn & m, 0x80n & m, 0xffn & m, 0x8000n & m, 0x7fffn & m]);
    case 'random':
      return rng.u64() & m;
    case 'small':
      return BigInt(rng.range(0, 40)) & m;
    case 'bit':
      return (1n << BigInt(rng.int(width))) & m;
    case 'negsmall':
      return BigInt.asUintN(width, BigInt(-rng.range(1, 40)));
  }
}

/** A 64-bit initial register value whose low 8/16/32 bits are often interesting on their own. */
function initialValue(rng: Prng): bigint {
  const kind = rng.weighted([[30, 'random'], [30, 'value'], [40, 'low']] as const);
  if (kind === 'random') return rng.u64();
  if (kind === 'value') return value(rng, 64);
  const w = rng.pick([8, 16, 32] as const);
  return (rng.u64() & ~maskOf(w)) | value(rng, w);
}

function initialMemory(rng: Prng): Uint8Array {
  const mem = rng.bytes(MEM_SIZE);
  // Runs of 0x00 and 0xFF so that memory operands also see edge values.
  for (let n = rng.range(0, 6); n > 0; n--) {
    const at = rng.int(MEM_SIZE);
    const len = rng.range(1, 16);
    mem.fill(rng.bool() ? 0 : 0xff, at, Math.min(MEM_SIZE, at + len));
  }
  return mem;
}
