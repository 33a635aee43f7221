/**
 * System instructions and everything rare, run by `sys()` for instructions without generated
 * code: HLT/CPUID/VMCALL/IO/MSR exits, RDTSC, CLI/STI, POPF, INT/IRET, SYSCALL/SYSRET,
 * SWAPGS, MOV CR, INVLPG, LGDT/LIDT/LTR, ENTER, CMPXCHG8B/16B; and the MSRs the vCPU keeps.
 */
import { Mnemonic, Register } from '../iced';
import { cpuidLeaf } from './cpuid';
import { bigToAddr, type DInsn, OK } from './decode';
import { AF, CF, DF, FIXED1, IF, PF, POPF_MASK, RF, SF, ZF } from './flags';
import { ssOf } from './memory';
import { VcpuStrings } from './strings';
import { EXIT, FAULT } from './vcpuState';
import type { VmExit } from './vmexit';
import { BP, CANON, CR0_PE, CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_TSD, DB, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, GP, MSR, msrIntercepted, NP, toU64, TWO32, UD } from './x86';
import { hex } from '../hex';

export abstract class VcpuSystem extends VcpuStrings {

  /** RDMSR of an MSR the vCPU keeps itself (not intercepted). Throws #GP for unknown ones. */
  msrRead(msr: number): bigint {
    switch (msr) {
      case MSR.EFER: return BigInt(this.efer);
      case MSR.STAR: return this.star;
      case MSR.LSTAR: return BigInt.asUintN(64, BigInt(this.lstar));
      case MSR.CSTAR: return BigInt.asUintN(64, BigInt(this.cstar));
      case MSR.FMASK: return BigInt(this.fmask >>> 0);
      case MSR.FS_BASE: return BigInt.asUintN(64, BigInt(this.fsBase));
      case MSR.GS_BASE: return BigInt.asUintN(64, BigInt(this.gsBase));
      case MSR.KERNEL_GS_BASE: return BigInt.asUintN(64, BigInt(this.kernelGsBase));
      case MSR.TSC: this.tscReads++; return BigInt(Math.floor(this.cycles));
      case MSR.TSC_AUX: return BigInt(this.tscAux >>> 0);
      case MSR.PAT: return this.pat;
      case MSR.MISC_ENABLE: return BigInt(this.miscEnable);
      default: {
        const v = this.msrs.get(msr);
        if (v === undefined) return this.raise(GP, 0);
        return v;
      }
    }
  }
  /** WRMSR of a non-intercepted MSR; #GP for reserved bits, non-canonical bases, unknown MSRs. */
  msrWrite(msr: number, v: bigint): void {
    const addr = (): number => {
      const a = bigToAddr(v);
      if (Number.isNaN(a)) this.raise(GP, 0);
      return a;
    };
    switch (msr) {
      case MSR.EFER: {
        const n = Number(v & 0xffffffffn);
        if (v >> 32n !== 0n || (n & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) !== 0) this.raise(GP, 0);
        if ((n & EFER_LME) === 0) this.raise(GP, 0); // leaving long mode is not supported while paging is on
        const nxChanged = ((n ^ this.efer) & EFER_NXE) !== 0;
        this.efer = (n & ~EFER_LMA) | EFER_LMA;
        if (nxChanged) this.flushTlb(true);
        return;
      }
      case MSR.STAR: this.star = BigInt.asUintN(64, v); return;
      case MSR.LSTAR: this.lstar = addr(); return;
      case MSR.CSTAR: this.cstar = addr(); return;
      case MSR.FMASK: this.fmask = Number(v & 0xffffffffn) >>> 0; return;
      case MSR.FS_BASE: this.fsBase = addr(); return;
      case MSR.GS_BASE: this.gsBase = addr(); return;
      case MSR.KERNEL_GS_BASE: this.kernelGsBase = addr(); return;
      case MSR.TSC: this.cycles = Number(BigInt.asUintN(64, v)); return;
      case MSR.TSC_AUX: this.tscAux = Number(v & 0xffffffffn); return;
      case MSR.PAT: this.pat = BigInt.asUintN(64, v); return;
      case MSR.MISC_ENABLE: this.miscEnable = Number(v & 0xffffffffn); return;
      default:
        if (!this.msrs.has(msr)) this.raise(GP, 0);
        this.msrs.set(msr, BigInt.asUintN(64, v));
    }
  }

  /**
   * CPUID (SDM Vol. 2A CPUID): the values this vCPU reports, written to RAX..RDX. The
   * instruction exits to the VMM, which calls this (or its own policy) and advances RIP.
   */
  emulateCpuid(): void {
    const leaf = this.gpr[0]! >>> 0, sub = this.gpr[1]! >>> 0;
    const [a, b, c, d] = cpuidLeaf(leaf, sub, this.id);
    for (const [i, v] of [[0, a], [3, b], [1, c], [2, d]] as const) { this.gpr[i] = v | 0; this.gpr[i + 16] = 0; }
  }


  // ---- system instructions and everything rare

  /**
   * Slow path for instructions without generated code. `idx` = instructions already retired
   * in this block. Returns 1 when it set RIP (control transfer), else 0.
   */
  sys(d: DInsn, idx: number): number {
    const M = Mnemonic, mn = d.mn, R = this.gpr;
    const cpl0 = (): void => { if (this.cpl !== 0) this.raise(GP, 0); };
    switch (mn) {
      case M.Hlt: cpl0(); return this.exitInsn('hlt');
      case M.Cpuid: return this.exitInsn('cpuid');
      case M.Vmcall: return this.exitInsn('vmcall');
      case M.In: case M.Out: return this.io(d);
      case M.Insb: case M.Insw: case M.Insd: case M.Outsb: case M.Outsw: case M.Outsd: return this.ioString(d);
      case M.Rdmsr: case M.Wrmsr: {
        cpl0();
        const msr = R[1]! >>> 0;
        if (msrIntercepted(msr)) {
          const done = this.msrFastPath?.(msr, mn === M.Wrmsr, mn === M.Wrmsr ? toU64(R[0]!, R[2]!) : 0n) ?? null;
          if (done === null) { this.exit.msr = msr; return this.exitInsn(mn === M.Rdmsr ? 'rdmsr' : 'wrmsr'); }
          if (typeof done === 'bigint') {
            this.setEdxEax(done);
          } else {
            this.virtualIntrEval = true;
            this.endBlock = true;
          }
          return 0;
        }
        if (mn === M.Rdmsr) {
          this.setEdxEax(this.msrRead(msr));
        } else {
          this.msrWrite(msr, toU64(R[0]!, R[2]!));
        }
        return 0;
      }
      case M.Rdtsc: {
        if (this.cr4 & CR4_TSD) cpl0();
        this.tscReads++;
        this.setEdxEax(BigInt(Math.floor(this.cycles + idx * this.cyclesPerInsn)));
        return 0;
      }
      case M.Rdtscp: {
        this.sys({ ...d, mn: M.Rdtsc }, idx);
        R[1] = this.tscAux; R[17] = 0;
        return 0;
      }
      case M.Cli: case M.Sti: {
        if (this.cpl > ((this.rflags >> 12) & 3)) this.raise(GP, 0);
        if (mn === M.Cli) this.rflags &= ~IF;
        else {
          // STI shadow: interrupts stay blocked until after the next instruction (SDM STI).
          if ((this.rflags & IF) === 0) this.shadowUntil = this.retired + idx + 2;
          this.rflags |= IF;
        }
        return 0;
      }
      case M.Popfq: case M.Popf: {
        const size = mn === M.Popf ? 2 : 8;
        const sp = this.regAddr(4);
        const v = size === 8 ? this.rd64(sp, 2) >>> 0 : this.rd16(sp, 2);
        let mask = POPF_MASK;
        if (this.cpl > 0) mask &= ~0x3000; // IOPL only at CPL 0
        if (this.cpl > ((this.rflags >> 12) & 3)) mask &= ~IF;
        if (size === 2) mask &= 0xffff;
        this.lazyOp = 0;
        this.materializeInto(mask, v);
        this.setRegNum(4, sp + size);
        return 0;
      }
      case M.Lahf: this.materialize(); R[0] = (R[0]! & ~0xff00) | (((this.rflags | 2) & 0xd7) << 8); return 0;
      case M.Sahf: this.materialize(); this.rflags = (this.rflags & ~(SF | ZF | AF | PF | CF)) | ((R[0]! >> 8) & (SF | ZF | AF | PF | CF)); return 0;
      case M.Int3: return this.softInt(BP, d);
      case M.Int: return this.softInt(d.ops[0]!.immLo & 0xff, d);
      case M.Int1: return this.softInt(DB, d);
      case M.Iretq: case M.Iretd: case M.Iret: return this.iret(d);
      case M.Syscall: return this.syscall(d);
      case M.Sysretq: case M.Sysret: return this.sysret();
      case M.Swapgs: { cpl0(); const t = this.gsBase; this.gsBase = this.kernelGsBase; this.kernelGsBase = t; return 0; }
      case M.Mov: return this.movCr(d, idx);
      case M.Invlpg: { cpl0(); this.flushTlbPage(this.memEa(d)); return 0; }
      case M.Lgdt: case M.Lidt: {
        cpl0();
        const ea = this.memEa(d), ss = ssOf(d);
        const limit = this.rd16(ea, ss);
        const lo = this.rd32(ea + 2, ss), hi = this.rd32(ea + 6, ss);
        const base = bigToAddr(toU64(lo, hi));
        if (Number.isNaN(base)) this.raise(GP, 0);
        if (mn === M.Lgdt) { this.gdtBase = base; this.gdtLimit = limit; } else { this.idtBase = base; this.idtLimit = limit; }
        return 0;
      }
      case M.Sgdt: case M.Sidt: {
        const ea = this.memEa(d);
        const [base, limit] = mn === M.Sgdt ? [this.gdtBase, this.gdtLimit] : [this.idtBase, this.idtLimit];
        // Probe both halves for write before storing anything.
        const ss = ssOf(d);
        this.xlate(ea, 'write', ss); this.xlate(ea + 9, 'write', ss);
        this.wr16(ea, limit, ss);
        this.wr64(ea + 2, base | 0, Math.floor(base / TWO32) | 0, ss);
        return 0;
      }
      case M.Ltr: {
        cpl0();
        const sel = d.ops[0]!.kind === OK.Reg ? R[d.ops[0]!.reg]! & 0xffff : this.rd16(this.memEa(d), ssOf(d));
        if ((sel & ~7) === 0 || (sel & 4) !== 0) this.raise(GP, sel & ~3);
        const da = this.gdtBase + (sel & ~7);
        const lo = this.sysRead64(da), hi = this.sysRead64(da + 8);
        if (((lo >> 47n) & 1n) === 0n) this.raise(NP, sel & ~3);
        const base = (((lo >> 16n) & 0xffffffn) | (((lo >> 56n) & 0xffn) << 24n)) | ((hi & 0xffffffffn) << 32n);
        this.tssBase = bigToAddr(base);
        this.trSel = sel;
        return 0;
      }
      case M.Str: case M.Sldt: case M.Lldt: case M.Smsw: case M.Lmsw: case M.Clts: case M.Wbinvd: case M.Invd:
        if (mn === M.Clts || mn === M.Wbinvd || mn === M.Invd || mn === M.Lldt) { cpl0(); return 0; }
        return this.raise(UD);
      case M.Enter: return this.enter(d);
      case M.Xlatb: {
        const ea = (d.asz === 4 ? R[3]! >>> 0 : this.regAddr(3)) + (R[0]! & 0xff);
        R[0] = (R[0]! & -256) | this.rd8(ea);
        return 0;
      }
      case M.Cmpxchg16b: case M.Cmpxchg8b: return this.cmpxchgWide(d);
      case M.Ud2: case M.Ud0: case M.Ud1: case M.INVALID:
        return this.raise(UD);
      default:
        return this.raise(UD);
    }
  }


  /** IN/OUT (E4-E7, EC-EF): exit 'io' (the VMM completes IN by writing AL/AX/EAX). */
  /** EDX:EAX = the 64-bit `v` (RDMSR, RDTSC), the upper halves of RAX and RDX cleared. */
  private setEdxEax(v: bigint): void {
    const R = this.gpr;
    R[0] = Number(v & 0xffffffffn) | 0; R[16] = 0;
    R[2] = Number((v >> 32n) & 0xffffffffn) | 0; R[18] = 0;
  }

  private io(d: DInsn): number {
    const M = Mnemonic;
    if (this.cpl > ((this.rflags >> 12) & 3)) this.raise(GP, 0); // no I/O bitmap: CPL > IOPL faults
    const isIn = d.mn === M.In;
    const portOp = isIn ? d.ops[1]! : d.ops[0]!;
    const dataOp = isIn ? d.ops[0]! : d.ops[1]!;
    const e = this.exit;
    e.port = portOp.kind === OK.Imm ? portOp.immLo & 0xff : this.gpr[2]! & 0xffff;
    e.ioSize = dataOp.size;
    e.ioIn = isIn;
    e.ioValue = isIn ? 0 : dataOp.size === 1 ? this.gpr[0]! & 0xff : dataOp.size === 2 ? this.gpr[0]! & 0xffff : this.gpr[0]! >>> 0;
    return this.exitInsn('io');
  }

  /**
   * INS/OUTS (6C-6F, SDM Vol. 2 INS/INSB/INSW/INSD, OUTS/OUTSB/OUTSW/OUTSD), with or without
   * REP: one element per 'io' exit, fault-like. OUTS reads its element from [RSI] (DS or the
   * override) first; INS probes [RDI] (always ES) for write, so a #PF or #GP is raised before
   * the exit. The VMM completes the element with `completeStringIo`. A REP with RCX = 0 does
   * nothing and exits nowhere.
   */
  private ioString(d: DInsn): number {
    const M = Mnemonic, mn = d.mn, R = this.gpr;
    if (this.cpl > ((this.rflags >> 12) & 3)) this.raise(GP, 0); // no I/O bitmap: CPL > IOPL faults
    const isIn = mn === M.Insb || mn === M.Insw || mn === M.Insd;
    const size = mn === M.Insb || mn === M.Outsb ? 1 : mn === M.Insw || mn === M.Outsw ? 2 : 4;
    const a32 = d.asz === 4;
    const rep = d.rep !== 0;
    if (rep && (a32 ? R[1]! : R[1]! | R[17]!) === 0) return 0;
    const e = this.exit;
    e.port = R[2]! & 0xffff;
    e.ioSize = size;
    e.ioIn = isIn;
    e.ioString = true;
    e.ioRep = rep;
    e.ioAsz = a32 ? 4 : 8;
    if (isIn) {
      const gla = a32 ? R[7]! >>> 0 : this.regAddr(7);
      const off = gla - Math.floor(gla / 4096) * 4096;
      this.xlate(gla, 'write');
      if (size > 4096 - off) this.xlate(gla + (4096 - off), 'write');
      e.ioGla = gla;
      e.ioValue = 0;
    } else {
      const gla = (a32 ? R[6]! >>> 0 : this.regAddr(6)) + (d.memSeg === 4 ? this.fsBase : d.memSeg === 5 ? this.gsBase : 0);
      const v = this.rdN(gla, size, ssOf(d));
      e.ioGla = gla;
      e.ioValue = size === 4 ? v >>> 0 : v;
    }
    return this.exitInsn('io');
  }

  /**
   * Complete the INS/OUTS element of an 'io' exit with `ioString` (the VMM's side): INS stores
   * `value` (its low ioSize bytes) at [RDI]; RDI (INS) or RSI (OUTS) steps by the element size,
   * down when DF = 1; with REP, RCX counts down and RIP stays on the instruction until it
   * reaches 0, otherwise RIP moves past it. Returns false (and stops the vCPU) when the store
   * cannot complete (an INS into an MMIO page is not emulated).
   */
  completeStringIo(e: VmExit, value = 0): boolean {
    const R = this.gpr, size = e.ioSize, a32 = e.ioAsz === 4;
    if (e.ioIn) {
      try {
        this.wrN(e.ioGla, size, size === 4 ? value | 0 : value & (size === 2 ? 0xffff : 0xff), 0);
      } catch (x) {
        if (x !== FAULT && x !== EXIT) throw x;
        this.stopInfo = { reason: 'error', message: `INS at rip ${hex(e.rip)}: the store to ${hex(e.ioGla)} did not complete (MMIO or changed mapping)` };
        return false;
      }
    }
    const reg = e.ioIn ? 7 : 6;
    const delta = this.rflags & DF ? -size : size;
    if (a32) { R[reg] = (R[reg]! + delta) | 0; R[reg + 16] = 0; }
    else this.setRegNum(reg, this.regAddr(reg) + delta);
    let done = true;
    if (e.ioRep) {
      if (a32) { R[1] = (R[1]! - 1) | 0; R[17] = 0; done = R[1] === 0; }
      else { const lo = R[1]!; R[1] = (lo - 1) | 0; if (lo === 0) R[17] = (R[17]! - 1) | 0; done = (R[1]! | R[17]!) === 0; }
    }
    this.rip = done ? e.rip + e.insnLength : e.rip;
    return true;
  }


  /** IRETQ (REX.W CF) in 64-bit mode: pops RIP, CS, RFLAGS, RSP, SS (SDM IRET, IA-32e mode). */
  private iret(d: DInsn): number {
    const sp = this.regAddr(4);
    const w = d.mn === Mnemonic.Iretq ? 8 : d.mn === Mnemonic.Iretd ? 4 : 2;
    const rd = (k: number): number => {
      if (w === 8) { const lo = this.rd64(sp + k * 8, 2); const v = (lo >>> 0) + this.resultHi * TWO32; return v; }
      return w === 4 ? this.rd32(sp + k * 4, 2) >>> 0 : this.rd16(sp + k * 2, 2);
    };
    const nrip = rd(0), ncs = rd(1) & 0xffff, nfl = rd(2), nrsp = rd(3), nss = rd(4) & 0xffff;
    if (!(nrip >= -CANON && nrip < CANON)) this.raise(GP, 0);
    const newCpl = ncs & 3;
    if (newCpl < this.cpl || (ncs & ~3) === 0) this.raise(GP, ncs & ~3);
    let mask = POPF_MASK | 0x20000;
    if (this.cpl > 0) mask &= ~0x3000;
    if (this.cpl > ((this.rflags >> 12) & 3)) mask &= ~IF;
    this.lazyOp = 0;
    this.materializeInto(mask & 0x3f7fd7, nfl);
    this.cs = ncs;
    this.ss = nss;
    this.setRegNum(4, nrsp);
    this.rip = nrip;
    return 1;
  }

  /** SYSCALL (0F 05): RCX = next RIP, R11 = RFLAGS, CS/SS from STAR[47:32], RIP = LSTAR. */
  private syscall(d: DInsn): number {
    if ((this.efer & EFER_SCE) === 0) this.raise(UD);
    const rfl = this.getRflags() & ~RF;
    this.setRegNum(1, d.next);
    this.gpr[11] = rfl | 0; this.gpr[27] = 0;
    const sel = Number((this.star >> 32n) & 0xffffn);
    this.cs = sel & 0xfffc;
    this.ss = (sel + 8) & 0xfffc;
    this.rflags = (this.rflags & ~(this.fmask | RF)) | FIXED1;
    this.rip = this.lstar;
    return 1;
  }

  /** SYSRETQ (REX.W 0F 07): RIP = RCX, RFLAGS = R11, CS = STAR[63:48]+16 | 3, SS = +8 | 3. */
  private sysret(): number {
    if ((this.efer & EFER_SCE) === 0) this.raise(UD);
    if (this.cpl !== 0) this.raise(GP, 0);
    const rip = this.regAddr(1);
    if (!(rip >= -CANON && rip < CANON)) this.raise(GP, 0);
    const sel = Number((this.star >> 48n) & 0xffffn);
    this.cs = ((sel + 16) & 0xfffc) | 3;
    this.ss = ((sel + 8) & 0xfffc) | 3;
    this.lazyOp = 0;
    this.rflags = ((this.gpr[11]! & 0x3c7fd7) | FIXED1) >>> 0;
    this.rip = rip;
    return 1;
  }

  /** MOV to/from CR0/CR2/CR3/CR4/CR8 (0F 20/22, SDM Vol. 3A §2.5); segment moves are accepted as no-ops. */
  private movCr(d: DInsn, idx: number): number {
    const [dst, src] = [d.ops[0]!, d.ops[1]!];
    const crIdx = (reg: number): number => {
      const names: Record<number, number> = {};
      void names;
      return crNumber(reg);
    };
    if (dst.kind === OK.Reg && dst.reg < 0) {
      const cr = crIdx(dst.sreg);
      if (cr < 0) {
        // MOV Sreg, r/m: data segments are ignored in 64-bit mode; SS/DS/ES load just the selector.
        if (dst.sreg === Register.SS) {
          if (src.kind === OK.Mem) this.rd16(this.memEa(d), ssOf(d));
          // MOV SS shadow (SDM Vol. 3A §6.8.3): interrupts are inhibited until the instruction
          // after it has completed, whatever IF is. A MOV SS inside the shadow of another
          // does not extend it ("only the first ... is guaranteed to inhibit"). POP SS, the
          // other SS load with a shadow, is #UD in 64-bit mode (17: "i64").
          const now = this.retired + idx;
          if (now >= this.shadowUntil) this.shadowUntil = now + 2;
        }
        return 0;
      }
      if (this.cpl !== 0) this.raise(GP, 0);
      const v = this.getGpr(src.reg);
      const lo = Number(v & 0xffffffffn), hi = Number(v >> 32n);
      switch (cr) {
        case 0: {
          if (hi !== 0 || (lo & (CR0_PG | CR0_PE)) !== (CR0_PG | CR0_PE)) this.raise(GP, 0);
          const changed = (lo ^ this.cr0) & (CR0_PG | CR0_WP);
          this.cr0 = lo >>> 0;
          if (changed) this.flushTlb(true);
          return 0;
        }
        case 2: this.cr2 = bigToAddr(v) || Number(v); return 0;
        case 3: this.cr3 = Number(v & 0x000ffffffffff000n) + Number(v & 0xfffn) * 0; this.cr3 = Number(v & 0x000fffffffffffffn); this.flushTlb(false); return 0;
        case 4: {
          if (hi !== 0 || (lo & CR4_PAE) === 0 || (lo & ~0x3f07ff) !== 0) this.raise(GP, 0);
          const changed = (lo ^ this.cr4) & (CR4_PGE | CR4_PAE);
          this.cr4 = lo >>> 0;
          if (changed) this.flushTlb(true);
          return 0;
        }
        case 8: if (hi !== 0 || lo > 15) this.raise(GP, 0); this.cr8 = lo; return 0;
        default: return this.raise(UD);
      }
    }
    const cr = crIdx(src.sreg);
    if (cr < 0) {
      // MOV r/m, Sreg
      const sel = segSelector(this, src.sreg);
      if (dst.kind === OK.Reg) this.writeReg(dst.reg, dst.size, BigInt(sel));
      else this.wr16(this.memEa(d), sel, ssOf(d));
      return 0;
    }
    if (this.cpl !== 0) this.raise(GP, 0);
    let v: number;
    switch (cr) {
      case 0: v = this.cr0; break;
      case 2: v = this.cr2; break;
      case 3: v = this.cr3; break;
      case 4: v = this.cr4; break;
      case 8: v = this.cr8; break;
      default: return this.raise(UD);
    }
    this.setRegNum(dst.reg, v);
    return 0;
  }

  /** ENTER imm16, imm8 (C8): 64-bit frames; nesting levels copy frame pointers. */
  private enter(d: DInsn): number {
    const size = d.ops[0]!.immLo & 0xffff;
    const level = d.ops[1]!.immLo & 31;
    const rsp = this.regAddr(4), rbp = this.regAddr(5);
    // Probe every access first (fault-like: a faulting ENTER has no effect), then perform them in
    // the SDM's order: RBP is pushed before the frame pointers are copied, and a copy may read
    // it back. Values move as 32-bit halves: they are arbitrary 64-bit values, not addresses.
    const frameTemp = rsp - 8;
    // Every access is a stack (SS) access: a non-canonical one raises #SS(0).
    this.xlate(frameTemp, 'write', 2);
    for (let k = 1; k < level; k++) {
      this.xlate(rbp - 8 * k, 'read', 2);
      this.xlate(frameTemp - 8 * k, 'write', 2);
    }
    if (level > 0) this.xlate(frameTemp - level * 8, 'write', 2);
    this.wr64(frameTemp, this.gpr[5]!, this.gpr[21]!, 2);
    for (let k = 1; k < level; k++) {
      const lo = this.rd64(rbp - 8 * k, 2);
      this.wr64(frameTemp - 8 * k, lo, this.resultHi, 2);
    }
    if (level > 0) this.wr64(frameTemp - level * 8, frameTemp | 0, Math.floor(frameTemp / TWO32) | 0, 2);
    const newRsp = frameTemp - (level > 0 ? level * 8 : 0) - size;
    this.setRegNum(5, frameTemp);
    this.setRegNum(4, newRsp);
    return 0;
  }

  /** CMPXCHG8B/16B (0F C7 /1). */
  private cmpxchgWide(d: DInsn): number {
    const ea = this.memEa(d), ss = ssOf(d);
    const R = this.gpr;
    if (d.mn === Mnemonic.Cmpxchg16b) {
      if (ea % 16 !== 0) this.raise(GP, 0);
      const l0 = this.rdw64(ea, ss), h0 = this.resultHi, l1 = this.rdw64(ea + 8, ss), h1 = this.resultHi;
      this.materialize();
      if (l0 === R[0] && h0 === R[16] && l1 === R[2] && h1 === R[18]) {
        this.wr64(ea, R[3]!, R[19]!, ss); this.wr64(ea + 8, R[1]!, R[17]!, ss);
        this.rflags |= ZF;
      } else {
        this.wr64(ea, l0, h0, ss); this.wr64(ea + 8, l1, h1, ss);
        R[0] = l0; R[16] = h0; R[2] = l1; R[18] = h1;
        this.rflags &= ~ZF;
      }
      return 0;
    }
    const lo = this.rdw32(ea, ss), hi = this.rdw32(ea + 4, ss);
    this.materialize();
    if (lo === R[0] && hi === R[2]) { this.wr32(ea, R[3]!, ss); this.wr32(ea + 4, R[1]!, ss); this.rflags |= ZF; }
    else { this.wr32(ea, lo, ss); this.wr32(ea + 4, hi, ss); R[0] = lo; R[16] = 0; R[2] = hi; R[18] = 0; this.rflags &= ~ZF; }
    return 0;
  }
}

function crNumber(reg: number): number {
  const Rg = Register as unknown as Record<string, number>;
  for (const n of [0, 2, 3, 4, 8]) if (Rg[`CR${n}`] === reg) return n;
  if (reg >= Rg.CR0! && reg <= Rg.CR15!) return reg - Rg.CR0!;
  return -1;
}

function segSelector(c: VcpuSystem, reg: number): number {
  switch (reg) {
    case Register.CS: return c.cs;
    case Register.SS: return c.ss;
    case Register.DS: return c.ds;
    case Register.ES: return c.es;
    case Register.FS: return c.fsSel;
    case Register.GS: return c.gsSel;
    default: return 0;
  }
}
