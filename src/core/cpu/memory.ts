/**
 * Guest memory accessors (SDM Vol. 3A §4, §6.15): the fast paths generated code calls
 * (`rd32(ea, flags)` etc.: one TLB tag compare and a DataView access), the slow paths (TLB
 * fill, page-crossing, MMIO through the APICv fast path or an 'mmio' exit), and address
 * arithmetic for 64-bit effective addresses.
 */
import type { AccessKind } from '../events';
import type { DInsn } from './decode';
import { VcpuTlb, TLB_MASK } from './tlb';
import { toU64 } from './x86';

export abstract class VcpuMemory extends VcpuTlb {
  /**
   * A 64-bit base + index * scale + disp whose halves do not fit the fast path, exactly
   * (registers passed as their 32-bit halves: generated code may hold them in locals).
   */
  eaWide(bLo: number, bHi: number, xLo: number, xHi: number, scale: number, disp: number): number {
    const v = BigInt.asIntN(64, toU64(bLo, bHi) + toU64(xLo, xHi) * BigInt(scale) + BigInt(disp));
    if (v < -(1n << 47n) || v >= 1n << 47n) return 2 ** 60; // non-canonical: the access raises #GP/#SS
    return Number(v);
  }
  /** LEA r64 with a 64-bit address size: exact 64-bit arithmetic into resultLo/resultHi (absent base/index: 0). */
  lea64(bLo: number, bHi: number, xLo: number, xHi: number, scale: number, disp: number): void {
    let lo = disp | 0, hi = disp < 0 ? -1 : 0;
    { const u = (lo >>> 0) + (bLo >>> 0); lo = u | 0; hi = (hi + bHi + (u > 0xffffffff ? 1 : 0)) | 0; }
    {
      let xl = xLo, xh = xHi;
      for (let s = scale; s > 1; s >>= 1) { xh = (xh << 1) | (xl >>> 31); xl <<= 1; }
      const u = (lo >>> 0) + (xl >>> 0); lo = u | 0; hi = (hi + xh + (u > 0xffffffff ? 1 : 0)) | 0;
    }
    this.resultLo = lo; this.resultHi = hi;
  }

  // Accessor flags (`soft`): bit 0 = exit softly (set exitPending instead of throwing EXIT), bit 1 = the
  // access references SS (a non-canonical address raises #SS(0) instead of #GP(0)). The fast
  // paths never look at them.
  rd8(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.readTag[i] === pn) return this.ramView.getUint8(ea + this.tlbDelta[i]!);
    return this.rdSlow(ea, 1, 'read', soft);
  }
  rd16(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.readTag[i] === pn && (ea & 4095) <= 4094) return this.ramView.getUint16(ea + this.tlbDelta[i]!, true);
    return this.rdSlow(ea, 2, 'read', soft);
  }
  rd32(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.readTag[i] === pn && (ea & 4095) <= 4092) return this.ramView.getInt32(ea + this.tlbDelta[i]!, true);
    return this.rdSlow(ea, 4, 'read', soft);
  }
  rd64(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.readTag[i] === pn && (ea & 4095) <= 4088) {
      const a = ea + this.tlbDelta[i]!;
      this.resultHi = this.ramView.getInt32(a + 4, true);
      return this.ramView.getInt32(a, true);
    }
    return this.rdSlow(ea, 8, 'read', soft);
  }
  /** Reads of a read-modify-write destination: checked for write first (one exit/fault kind). */
  rdw8(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.writeTag[i] === pn) return this.ramView.getUint8(ea + this.tlbDelta[i]!);
    return this.rdSlow(ea, 1, 'write', soft);
  }
  rdw16(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.writeTag[i] === pn && (ea & 4095) <= 4094) return this.ramView.getUint16(ea + this.tlbDelta[i]!, true);
    return this.rdSlow(ea, 2, 'write', soft);
  }
  rdw32(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.writeTag[i] === pn && (ea & 4095) <= 4092) return this.ramView.getInt32(ea + this.tlbDelta[i]!, true);
    return this.rdSlow(ea, 4, 'write', soft);
  }
  rdw64(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.writeTag[i] === pn && (ea & 4095) <= 4088) {
      const a = ea + this.tlbDelta[i]!;
      this.resultHi = this.ramView.getInt32(a + 4, true);
      return this.ramView.getInt32(a, true);
    }
    return this.rdSlow(ea, 8, 'write', soft);
  }
  wr8(ea: number, v: number, soft?: number): void {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.writeTag[i] === pn) { this.ramView.setUint8(ea + this.tlbDelta[i]!, v); return; }
    this.wrSlow(ea, 1, v, 0, soft);
  }
  wr16(ea: number, v: number, soft?: number): void {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.writeTag[i] === pn && (ea & 4095) <= 4094) { this.ramView.setUint16(ea + this.tlbDelta[i]!, v, true); return; }
    this.wrSlow(ea, 2, v, 0, soft);
  }
  wr32(ea: number, v: number, soft?: number): void {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.writeTag[i] === pn && (ea & 4095) <= 4092) { this.ramView.setInt32(ea + this.tlbDelta[i]!, v, true); return; }
    this.wrSlow(ea, 4, v, 0, soft);
  }
  wr64(ea: number, lo: number, hi: number, soft?: number): void {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.writeTag[i] === pn && (ea & 4095) <= 4088) {
      const a = ea + this.tlbDelta[i]!;
      this.ramView.setInt32(a, lo, true);
      this.ramView.setInt32(a + 4, hi, true);
      return;
    }
    this.wrSlow(ea, 8, lo, hi, soft);
  }

  /**
   * Slow read: TLB fill, page-crossing, MMIO (fast path or exit). Returns lo; resultHi = hi.
   * `soft`: an MMIO exit sets `exitPending` and returns 0 instead of throwing (generated code checks).
   */
  private rdSlow(ea: number, size: number, access: AccessKind, flags: number | undefined): number {
    const soft = flags !== undefined && (flags & 1) !== 0;
    const ss = flags !== undefined ? flags & 2 : 0;
    const off = ea - Math.floor(ea / 4096) * 4096;
    const h1 = this.xlate(ea, access, ss, size);
    let h2 = h1 + (size > 4096 - off ? 4096 - off : 0);
    if (size > 4096 - off && h1 >= 0) h2 = this.xlate(ea + (4096 - off), access, ss, size - (4096 - off));
    if (h1 < 0 || h2 < 0) {
      if (access === 'write') return this.mmioFault(h1 < 0 ? ea : ea + (4096 - off), size, true, 0n, true, soft);
      return this.mmioFault(h1 < 0 ? ea : ea + (4096 - off), size, false, 0n, false, soft);
    }
    const b = this.ram.bytes;
    let lo = 0, hi = 0;
    for (let k = size - 1; k >= 0; k--) {
      const a = k < 4096 - off ? h1 + k : h2 + (k - (4096 - off));
      if (k >= 4) hi = (hi << 8) | b[a]!;
      else lo = (lo << 8) | b[a]!;
    }
    this.resultHi = hi;
    return size === 4 || size === 8 ? lo | 0 : lo;
  }
  private wrSlow(ea: number, size: number, lo: number, hi: number, flags: number | undefined): void {
    const soft = flags !== undefined && (flags & 1) !== 0;
    const ss = flags !== undefined ? flags & 2 : 0;
    const off = ea - Math.floor(ea / 4096) * 4096;
    const cross = size > 4096 - off;
    const h1 = this.xlate(ea, 'write', ss, size);
    const h2 = cross && h1 >= 0 ? this.xlate(ea + (4096 - off), 'write', ss, size - (4096 - off)) : h1;
    if (h1 < 0 || h2 < 0) {
      const v = size === 8 ? toU64(lo, hi) : BigInt((size === 4 ? lo >>> 0 : lo & (size === 2 ? 0xffff : 0xff)));
      this.mmioFault(h1 < 0 ? ea : ea + (4096 - off), size, true, v, false, soft);
      return;
    }
    const b = this.ram.bytes;
    for (let k = 0; k < size; k++) {
      const a = k < 4096 - off ? h1 + k : h2 + (k - (4096 - off));
      b[a] = (k < 4 ? lo >>> (8 * k) : hi >>> (8 * (k - 4))) & 0xff;
    }
  }
  /**
   * An access to an MMIO page: APICv fast path, else exit 'mmio' (an EPT violation: the page is not mapped).
   * `probeOnly`: an RMW read checked for write; the fast path is not used for it. `soft`: exit
   * by setting `exitPending` (the caller returns to the dispatcher) instead of throwing EXIT.
   */
  private mmioFault(la: number, size: number, isWrite: boolean, value: bigint, probeOnly: boolean, soft: boolean): number {
    const gpa = this.mmioGpa;
    if (this.mmioFastPath && !probeOnly && Math.floor(gpa / 4096) === Math.floor((gpa + size - 1) / 4096)) {
      const r = this.mmioFastPath(gpa, size, isWrite, value);
      // A trap-like 'apic-write' exit follows the current instruction: end the block after it.
      if (this.apicWritePending) this.endBlock = true;
      if (r !== null) {
        if (typeof r === 'bigint') {
          const u = BigInt.asUintN(64, r);
          this.resultHi = Number(u >> 32n) | 0;
          const lo = Number(u & 0xffffffffn);
          return size === 4 || size === 8 ? lo | 0 : lo;
        }
        return 0;
      }
    }
    if (soft) {
      const e = this.exit;
      e.reason = 'mmio';
      e.gla = la;
      e.gpa = gpa;
      e.access = isWrite ? 'write' : 'read';
      this.exitPending = true;
      return 0;
    }
    return this.exitMem('mmio', la, gpa, isWrite ? 'write' : 'read');
  }

  // ---- implicit supervisor accesses (IDT, TSS, GDT, interrupt stack frames)
  protected sysRead64(la: number): bigint {
    const was = this.implicitSupervisor;
    this.implicitSupervisor = true;
    try { const lo = this.rd64(la); return toU64(lo, this.resultHi); } finally { this.implicitSupervisor = was; }
  }

  /** Read `size` bytes (1/2/4/8); lo returned, hi in resultHi (0 below 8 bytes). */
  protected rdN(ea: number, size: number, ss = 0): number {
    if (size === 1) return this.rd8(ea, ss);
    if (size === 2) return this.rd16(ea, ss);
    if (size === 4) { this.resultHi = 0; return this.rd32(ea, ss); }
    return this.rd64(ea, ss);
  }
  protected wrN(ea: number, size: number, lo: number, hi: number, ss = 0): void {
    if (size === 1) this.wr8(ea, lo, ss);
    else if (size === 2) this.wr16(ea, lo, ss);
    else if (size === 4) this.wr32(ea, lo, ss);
    else this.wr64(ea, lo, hi, ss);
  }

  /** The effective address of a sys instruction's memory operand. */
  protected memEa(d: DInsn): number {
    let ea: number;
    if (d.asz === 4) {
      let v = d.memDisp | 0;
      if (d.memBase >= 0) v += this.gpr[d.memBase]!;
      if (d.memIndex >= 0) v += this.gpr[d.memIndex]! * d.memScale;
      ea = v >>> 0;
    } else if (d.memBase >= 0 && d.memIndex >= 0) {
      const R = this.gpr, b = d.memBase, x = d.memIndex;
      ea = this.eaWide(R[b]!, R[b + 16]!, R[x]!, R[x + 16]!, d.memScale, d.memDisp);
    } else {
      ea = d.memDisp;
      if (d.memBase >= 0) ea += this.regAddr(d.memBase);
      if (d.memIndex >= 0) ea += this.regAddr(d.memIndex) * d.memScale;
    }
    return ea + (d.memSeg === 4 ? this.fsBase : d.memSeg === 5 ? this.gsBase : 0);
  }
}

/** Accessor flag for an instruction's memory operand: 2 when its segment is SS (RSP/RBP base). */
export function ssOf(d: DInsn): number { return d.memSeg === 2 ? 2 : 0; }
