/**
 * ALU helpers generated code calls for what it does not inline (SDM Vol. 2): shifts and
 * rotates, SHLD/SHRD, BT*, bit scans, MUL/DIV, IMUL. 64-bit values travel as two int32
 * halves; a helper returns the low half and leaves the high half in `resultHi`.
 */
import { Mnemonic } from '../iced';
import { CF, OF, parity, ZF } from './flags';
import { VcpuEvents } from './events';
import { DE, toU64, TWO32 } from './x86';

export abstract class VcpuAlu extends VcpuEvents {

  /** Shifts and rotates (SDM SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR). Returns lo; resultHi = hi. */
  shift(mn: number, size: number, a0: number, a1: number, count: number): number {
    const bits = size * 8;
    const cnt = count & (size === 8 ? 63 : 31);
    const mask = (1n << BigInt(bits)) - 1n;
    const a = size === 8 ? toU64(a0, a1) : BigInt(size === 4 ? a0 >>> 0 : a0) & mask;
    if (cnt === 0) return this.ret64(a, size);
    const msb = (v: bigint): number => Number((v >> BigInt(bits - 1)) & 1n);
    let r: bigint, cf: number, of: number;
    const M = Mnemonic;
    switch (mn) {
      case M.Shl: case M.Sal:
        r = (a << BigInt(cnt)) & mask;
        cf = cnt <= bits ? Number((a >> BigInt(bits - cnt)) & 1n) : 0;
        of = msb(r) ^ cf;
        this.setStatus(this.szp(r, bits) | (cf ? CF : 0) | (of ? OF : 0));
        return this.ret64(r, size);
      case M.Shr:
        r = a >> BigInt(cnt);
        cf = Number((a >> BigInt(cnt - 1)) & 1n);
        of = msb(a);
        this.setStatus(this.szp(r, bits) | (cf ? CF : 0) | (of ? OF : 0));
        return this.ret64(r, size);
      case M.Sar: {
        const sa = BigInt.asIntN(bits, a);
        r = (sa >> BigInt(cnt)) & mask;
        cf = Number((sa >> BigInt(Math.min(cnt - 1, bits - 1))) & 1n);
        this.setStatus(this.szp(r, bits) | (cf ? CF : 0));
        return this.ret64(r, size);
      }
      case M.Rol: case M.Ror: {
        this.materialize();
        const c = cnt % bits;
        const left = mn === M.Rol;
        r = c === 0 ? a : left ? ((a << BigInt(c)) | (a >> BigInt(bits - c))) & mask : ((a >> BigInt(c)) | (a << BigInt(bits - c))) & mask;
        if (left) { cf = Number(r & 1n); of = msb(r) ^ cf; } else { cf = msb(r); of = msb(r) ^ Number((r >> BigInt(bits - 2)) & 1n); }
        this.rflags = (this.rflags & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
        return this.ret64(r, size);
      }
      default: { // RCL / RCR: rotate through CF; the count is taken modulo size + 1 for 8/16 bits
        this.materialize();
        let c = cnt;
        if (size === 1) c %= 9; else if (size === 2) c %= 17;
        let v = a, carry = BigInt(this.rflags & CF);
        const left = mn === Mnemonic.Rcl;
        const ofIn = msb(a) ^ Number(carry);
        for (let k = 0; k < c; k++) {
          if (left) { const out = (v >> BigInt(bits - 1)) & 1n; v = ((v << 1n) | carry) & mask; carry = out; }
          else { const out = v & 1n; v = (v >> 1n) | (carry << BigInt(bits - 1)); carry = out; }
        }
        cf = Number(carry);
        of = left ? msb(v) ^ cf : ofIn;
        this.rflags = (this.rflags & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
        return this.ret64(v, size);
      }
    }
  }

  /** SHLD/SHRD (0F A4/A5/AC/AD). Count >= size is undefined for 16-bit: computed as a 32/64-bit funnel. */
  shiftD(left: number, size: number, a0: number, a1: number, b0: number, b1: number, count: number): number {
    const bits = size * 8;
    const cnt = count & (size === 8 ? 63 : 31);
    const mask = (1n << BigInt(bits)) - 1n;
    const a = size === 8 ? toU64(a0, a1) : BigInt(size === 4 ? a0 >>> 0 : a0) & mask;
    const b = size === 8 ? toU64(b0, b1) : BigInt(size === 4 ? b0 >>> 0 : b0) & mask;
    if (cnt === 0) return this.ret64(a, size);
    let r: bigint, cf: number;
    if (left) {
      const wide = (a << BigInt(bits)) | b; // dest:src
      const sh = wide << BigInt(cnt);
      r = (sh >> BigInt(bits)) & mask;
      cf = Number((wide >> BigInt(2 * bits - cnt)) & 1n);
    } else {
      const wide = (b << BigInt(bits)) | a; // src:dest
      r = (wide >> BigInt(cnt)) & mask;
      cf = Number((wide >> BigInt(cnt - 1)) & 1n);
    }
    const of = Number(((r ^ a) >> BigInt(bits - 1)) & 1n);
    this.setStatus(this.szp(r, bits) | (cf ? CF : 0) | (of ? OF : 0));
    return this.ret64(r, size);
  }

  private ret64(v: bigint, size: number): number {
    if (size === 8) {
      this.resultHi = Number((v >> 32n) & 0xffffffffn) | 0;
      return Number(v & 0xffffffffn) | 0;
    }
    this.resultHi = 0;
    return size === 4 ? Number(v) | 0 : Number(v);
  }

  /** BT/BTS/BTR/BTC on a register: bit offset modulo the operand size; CF = old bit, ZF kept. */
  btReg(op: number, size: number, a0: number, a1: number, off: number): number {
    const bit = off & (size * 8 - 1);
    this.materialize();
    let lo = a0, hi = a1;
    const inHi = bit >= 32;
    const m = 1 << (bit & 31);
    const old = ((inHi ? hi : lo) & m) !== 0;
    if (op === 1) { if (inHi) hi |= m; else lo |= m; }
    else if (op === 2) { if (inHi) hi &= ~m; else lo &= ~m; }
    else if (op === 3) { if (inHi) hi ^= m; else lo ^= m; }
    this.rflags = (this.rflags & ~CF) | (old ? CF : 0);
    this.resultHi = size === 8 ? hi : 0;
    return size === 1 ? lo & 0xff : size === 2 ? lo & 0xffff : lo | 0;
  }

  /**
   * BT* on memory (SDM BT): the access is the operand-sized word at EA + size * (offset DIV
   * bits). An immediate offset is already taken modulo the operand size (the operand at EA); a
   * register offset is signed and may address outside the operand.
   */
  btMem(op: number, size: number, ea: number, offLo: number, offHi: number, ss = 0): void {
    let off: number;
    if (size === 8) off = (offLo >>> 0) + offHi * TWO32;
    else if (size === 4) off = offLo | 0;
    else if (size === 2) off = (offLo << 16) >> 16;
    else off = offLo;
    if (offHi === 0 && size < 8 && offLo >= 0 && size !== 4) off = offLo;
    const bits = size * 8;
    const unit = Math.floor(off / bits);
    const bit = off - unit * bits;
    const addr = ea + unit * size;
    let lo: number;
    if (op === 0) lo = size === 1 ? this.rd8(addr, ss) : size === 2 ? this.rd16(addr, ss) : size === 4 ? this.rd32(addr, ss) : this.rd64(addr, ss);
    else lo = size === 1 ? this.rdw8(addr, ss) : size === 2 ? this.rdw16(addr, ss) : size === 4 ? this.rdw32(addr, ss) : this.rdw64(addr, ss);
    let hi = size === 8 ? this.resultHi : 0;
    const inHi = bit >= 32;
    const m = 1 << (bit & 31);
    this.materialize();
    this.rflags = (this.rflags & ~CF) | (((inHi ? hi : lo) & m) !== 0 ? CF : 0);
    if (op === 0) return;
    if (inHi) hi = op === 1 ? hi | m : op === 2 ? hi & ~m : hi ^ m;
    else lo = op === 1 ? lo | m : op === 2 ? lo & ~m : lo ^ m;
    this.wrN(addr, size, lo, hi, ss);
  }

  /** BSF/BSR/TZCNT/LZCNT/POPCNT. Returns true when the destination is written (resultLo/resultHi). */
  bitscan(mn: number, size: number, a0: number, a1: number): boolean {
    const bits = size * 8;
    const v = size === 8 ? toU64(a0, a1) : BigInt(size === 4 ? a0 >>> 0 : a0 & (size === 2 ? 0xffff : 0xff));
    const M = Mnemonic;
    this.materialize();
    let r = 0;
    if (mn === M.Popcnt) {
      for (let x = v; x; x >>= 1n) r += Number(x & 1n);
      this.setStatus(v === 0n ? ZF : 0);
    } else if (mn === M.Bsf || mn === M.Bsr) {
      if (v === 0n) { this.setStatus(ZF); return false; } // destination unchanged (AMD/Intel behaviour)
      if (mn === M.Bsf) { let x = v; while (!(x & 1n)) { x >>= 1n; r++; } }
      else { r = v.toString(2).length - 1; }
      this.setStatus(parity(r) & 0);
    } else if (mn === M.Tzcnt) {
      if (v === 0n) r = bits; else { let x = v; while (!(x & 1n)) { x >>= 1n; r++; } }
      this.setStatus((v === 0n ? CF : 0) | (r === 0 ? ZF : 0));
    } else {
      r = v === 0n ? bits : bits - v.toString(2).length;
      this.setStatus((v === 0n ? CF : 0) | (r === 0 ? ZF : 0));
    }
    this.resultLo = r;
    this.resultHi = 0;
    return true;
  }

  /** MUL/IMUL/DIV/IDIV with implicit AX/DX:AX/EDX:EAX/RDX:RAX (SDM Vol. 2). #DE on divide errors. */
  muldiv(mn: number, size: number, s0: number, s1: number): void {
    const bits = BigInt(size * 8);
    const mask = (1n << bits) - 1n;
    const src = size === 8 ? toU64(s0, s1) : BigInt(size === 4 ? s0 >>> 0 : s0) & mask;
    const M = Mnemonic;
    const rax = this.getGpr(0), rdx = this.getGpr(2);
    const signed = mn === M.Imul || mn === M.Idiv;
    if (mn === M.Mul || mn === M.Imul) {
      const a = size === 1 ? rax & 0xffn : rax & mask;
      const x = signed ? BigInt.asIntN(size * 8, a) * BigInt.asIntN(size * 8, src) : a * src;
      const full = BigInt.asUintN(size * 16, x);
      const lo = full & mask, hi = full >> bits;
      const overflow = signed ? BigInt.asIntN(size * 16, full) !== BigInt.asIntN(size * 8, lo) : hi !== 0n;
      if (size === 1) this.writeReg(0, 2, full);
      else { this.writeReg(0, size, lo); this.writeReg(2, size, hi); }
      this.setStatus((overflow ? CF | OF : 0) | this.szp(lo, size * 8) & ~ZF);
      return;
    }
    // DIV / IDIV
    const dividend = size === 1 ? rax & 0xffffn : ((rdx & mask) << bits) | (rax & mask);
    if (src === 0n) this.raise(DE);
    let q: bigint, r: bigint;
    if (signed) {
      const n = BigInt.asIntN(size * 16, dividend), d = BigInt.asIntN(size * 8, src);
      q = n / d; r = n % d;
      if (q > (1n << (bits - 1n)) - 1n || q < -(1n << (bits - 1n))) this.raise(DE);
    } else {
      q = dividend / src; r = dividend % src;
      if (q > mask) this.raise(DE);
    }
    q = BigInt.asUintN(size * 8, q); r = BigInt.asUintN(size * 8, r);
    if (size === 1) this.writeReg(0, 2, (r << 8n) | q);
    else { this.writeReg(0, size, q); this.writeReg(2, size, r); }
    // Flags undefined: left unchanged (deterministic).
  }

  /** IMUL r, r/m[, imm] (0F AF, 6B, 69): truncated product; CF = OF = significant bits lost. */
  imul2(size: number, a0: number, a1: number, b0: number, b1: number): number {
    const bits = size * 8;
    const a = size === 8 ? BigInt.asIntN(64, toU64(a0, a1)) : BigInt.asIntN(bits, BigInt(a0 >>> 0));
    const b = size === 8 ? BigInt.asIntN(64, toU64(b0, b1)) : BigInt.asIntN(bits, BigInt(b0 >>> 0));
    const x = a * b;
    const t = BigInt.asIntN(bits, x);
    const r = BigInt.asUintN(bits, x);
    this.setStatus((t !== x ? CF | OF : 0) | (this.szp(r, bits) & ~ZF));
    return this.ret64(r, size);
  }
}
