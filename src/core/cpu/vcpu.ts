/**
 * The x86-64 vCPU (long mode; SDM Vol. 1-3). State lives in typed arrays and plain number
 * fields; guest code runs as generated block functions (codegen.ts) cached per physical
 * page (codeCache.ts). Everything rare (system instructions, exits, exceptions) runs here.
 *
 * Two kinds of abnormal end of an instruction travel as thrown sentinels, never as Errors:
 *   FAULT - a guest exception (delivered through the IDT inside the vCPU),
 *   EXIT  - a VM exit (returned to the VMM; fault-like: the instruction had no effect).
 * Emulator bugs are real Errors and stop the run with reason 'error'.
 */
import type { AccessKind, StopInfo, StopReason } from '../events';
import { Mnemonic } from '../iced';
import { type Block, type BlockFn, CodeCache, type CodeCacheListener } from './codeCache';
import { genBlock } from './codegen';
import { bigToAddr, decodeBlock, type DInsn, OK } from './decode';
import { AF, CF, computeStatus, DF, FIXED1, FK, IF, NT, OF, parity, PF, POPF_MASK, RF, SF, STATUS, testCond, TF, ZF } from './flags';
import { type Ept, gla2gpa, type GuestRam, newWalkResult, type PagingContext, type WalkResult } from '../mem';
import { VmExit } from './vmexit';

export { VmExit } from './vmexit';
export { CodeCache } from './codeCache';

const FAULT = { sentinel: 'fault' };
const EXIT = { sentinel: 'exit' };

const TLB_SIZE = 4096;
const TLB_MASK = TLB_SIZE - 1;
const CANON = 2 ** 47;
const TWO32 = 4294967296;

/** Exception vectors (SDM Vol. 3A Table 6-1). */
export const DE = 0, DB = 1, BP = 3, OFV = 4, UD = 6, DF_V = 8, TS = 10, NP = 11, SS = 12, GP = 13, PFV = 14;

export const MSR = {
  TSC: 0x10, APIC_BASE: 0x1b, MISC_ENABLE: 0x1a0, PAT: 0x277, TSC_DEADLINE: 0x6e0, EFER: 0xc0000080, STAR: 0xc0000081,
  LSTAR: 0xc0000082, CSTAR: 0xc0000083, FMASK: 0xc0000084, FS_BASE: 0xc0000100, GS_BASE: 0xc0000101,
  KERNEL_GS_BASE: 0xc0000102, TSC_AUX: 0xc0000103,
} as const;

export const EFER_SCE = 1, EFER_LME = 0x100, EFER_LMA = 0x400, EFER_NXE = 0x800;
export const CR0_PE = 1, CR0_MP = 2, CR0_ET = 0x10, CR0_NE = 0x20, CR0_WP = 0x10000, CR0_PG = 0x80000000;
export const CR4_PAE = 0x20, CR4_PGE = 0x80, CR4_TSD = 0x4, CR4_OSFXSR = 0x200;

/** Which MSRs exit to the VMM (SDM Vol. 3C §25.1.3 MSR bitmaps, as our VMM configures them). */
export function msrIntercepted(msr: number): boolean {
  return msr === MSR.APIC_BASE || msr === MSR.TSC_DEADLINE || (msr >= 0x800 && msr <= 0x8ff);
}

/** Segment-register numbers for segBase (ES CS SS DS FS GS). */
export type SegName = 'es' | 'cs' | 'ss' | 'ds' | 'fs' | 'gs';

/**
 * APICv fast path: complete an MMIO access without an exit. Return the value read (bigint),
 * `true` for a completed write, or null to exit as usual. May set `vcpu.apicWritePending`.
 */
export type MmioFastPath = (gpa: number, size: number, isWrite: boolean, value: bigint) => bigint | boolean | null;

export interface VcpuOptions {
  ram: GuestRam;
  ept: Ept;
  /** Shared by the VM's vCPUs. */
  codeCache: CodeCache;
  vcpuId: number;
}

interface PendingEvent {
  vector: number;
  errorCode: number; // -1: none
  cr2: number | null;
  external: boolean;
}

const GATE_INTR = 0xe, GATE_TRAP = 0xf;

function isContributory(v: number): boolean { return v === DE || v === TS || v === NP || v === SS || v === GP; }
export function hex(v: number): string {
  return v < 0 ? '-0x' + (-v).toString(16) : '0x' + v.toString(16);
}
function toU64(lo: number, hi: number): bigint { return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0); }

/**
 * The access rights one privilege level has cached for each TLB entry (SDM Vol. 3A §4.10.2.2:
 * a TLB entry keeps the U/S and R/W rights of its translation, checked against the CPL on
 * every access). The vCPU keeps one for supervisor accesses (CPL 0-2) and one for user
 * accesses (CPL 3) over the same entries, and switches between them when the CPL changes, so
 * SYSCALL/SYSRET and interrupts flush nothing. A slot holds the page number when the access
 * kind is allowed, NaN otherwise. `mr`/`mw`: the entry is an MMIO page (EPT misconfiguration):
 * every access exits, but without a new walk. The jump caches (rip -> block) are per
 * privilege too: a block found there was fetched with this privilege's rights.
 */
interface PrivTlb {
  r: Float64Array;
  w: Float64Array;
  x: Float64Array;
  mr: Float64Array;
  mw: Float64Array;
  jc: Map<number, Block>;
  jc1: Map<number, Block>;
}
function newPrivTlb(): PrivTlb {
  const a = (): Float64Array => new Float64Array(TLB_SIZE).fill(NaN);
  return { r: a(), w: a(), x: a(), mr: a(), mw: a(), jc: new Map(), jc1: new Map() };
}
function clearPrivEntry(t: PrivTlb, i: number): void {
  t.r[i] = NaN; t.w[i] = NaN; t.x[i] = NaN; t.mr[i] = NaN; t.mw[i] = NaN;
}

export class Vcpu implements CodeCacheListener {
  readonly id: number;
  readonly ram: GuestRam;
  readonly ept: Ept;
  readonly codeCache: CodeCache;
  private readonly dv: DataView;
  private readonly walkOut: WalkResult = newWalkResult();

  // ---- architectural state
  /** GPRs: lo 32 bits at [i], hi 32 bits at [i + 16] (SDM Vol. 1 §3.4.1). */
  readonly R = new Int32Array(32);
  rip = 0;
  /** RFLAGS except the status flags while a lazy record is pending (fo != 0). */
  fl = FIXED1;
  fo = 0; fr = 0; frh = 0; fa = 0; fah = 0; fb = 0; fbh = 0; fc = 0;
  cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
  cr2 = 0;
  cr3 = 0;
  cr4 = CR4_PAE | CR4_OSFXSR;
  cr8 = 0;
  efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
  /** CS selector; its RPL is the CPL. Setting it selects the TLB rights of that privilege. */
  get cs(): number { return this.csSel; }
  set cs(v: number) {
    this.csSel = v;
    if (((v & 3) === 3) !== this.privUser) this.selectPriv((v & 3) === 3);
  }
  private csSel = 0x08;
  ss = 0x10;
  ds = 0; es = 0; fsSel = 0; gsSel = 0;
  fsBase = 0;
  gsBase = 0;
  kernelGsBase = 0;
  gdtBase = 0; gdtLimit = 0xffff;
  idtBase = 0; idtLimit = 0xfff;
  trSel = 0; tssBase = 0;
  star = 0n; lstar = 0; cstar = 0; fmask = 0; tscAux = 0; pat = 0x0007040600070406n; miscEnable = 1;
  /** Other MSRs the vCPU keeps (written by wrmsr, read back by rdmsr). */
  readonly msrs = new Map<number, bigint>();

  // ---- run state
  retired = 0;
  cycles = 0;
  cyclesPerInsn = 1;
  requestInterruptWindow = false;
  /** APICv: set by the fast path to exit 'apic-write' after the current instruction. */
  apicWritePending = false;
  mmioFastPath: MmioFastPath | null = null;
  readonly exit = new VmExit();
  /** Why the vCPU stopped for good (triple fault, unsupported, error); null while runnable. */
  stopInfo: StopInfo | null = null;
  /** The last exception delivered (for UIs and stop messages). */
  lastException: { vector: number; errorCode: number; rip: number; text: string } | null = null;
  private pending: PendingEvent | null = null;
  private shadowUntil = 0;

  // ---- generated-code scratch (public: read by block functions)
  /** High half returned by 64-bit helpers / reads. */
  th = 0;
  tl = 0;
  /** Index (retired-in-block) of the instruction that faulted or exited. */
  fi = 0;
  /**
   * End the running block after the current instruction: a store hit a code page (SMC), or
   * the APICv fast path asked for an 'apic-write' exit.
   */
  smc = false;
  /**
   * A VM exit is pending (set by a soft accessor, `rd32(ea, 1)` etc.): the generated code
   * stores the instruction's index in `fi` and returns -1, without throwing.
   */
  xp = 0;

  // ---- exception being raised
  private excVec = 0;
  private excErr = -1;

  // ---- TLB (per vCPU; linear page -> host page, SDM Vol. 3A §4.10)
  /** Linear page number of each entry (NaN: empty); delta = host address - linear address. */
  private readonly tlbPn = new Float64Array(TLB_SIZE).fill(NaN);
  private readonly tlbDelta = new Float64Array(TLB_SIZE);
  private readonly tlbGlobal = new Uint8Array(TLB_SIZE);
  private readonly tlbSup: PrivTlb = newPrivTlb();
  private readonly tlbUser: PrivTlb = newPrivTlb();
  /** The current privilege's read/write rights (tlbSup's or tlbUser's), read by the accessors. */
  private tagR = this.tlbSup.r;
  private tagW = this.tlbSup.w;
  /** Jump caches of the current privilege: rip -> block (cleared with the TLB). */
  private jc = this.tlbSup.jc;
  private jc1 = this.tlbSup.jc1;
  private privUser = false;
  /** Bumped on every TLB flush: chained block links are valid only within one epoch. */
  private tlbEpoch = 0;
  /** tlbEpoch and privilege: a chained link is followed only under the key it was made with. */
  private linkKey = 0;
  private eptGen = -1;
  private decodeBuf: DInsn[] = [];
  private ctx: PagingContext = { cr0: 0, cr3: 0, cr4: 0, efer: 0 };
  /** Faults on accesses by the vCPU itself (IDT, TSS, stack during delivery) use CPL 0. */
  private implicitSupervisor = false;
  /** Set when event delivery was cut short by a VM exit (the event is pending again). */
  private deliveryExited = false;

  constructor(opts: VcpuOptions) {
    this.id = opts.vcpuId;
    this.ram = opts.ram;
    this.ept = opts.ept;
    this.codeCache = opts.codeCache;
    this.dv = opts.ram.view;
    this.codeCache.addListener(this);
  }

  // =============================================================================== accessors

  get cpl(): number { return this.cs & 3; }

  getGpr(i: number): bigint { return toU64(this.R[i]!, this.R[i + 16]!); }
  setGpr(i: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.R[i] = Number(u & 0xffffffffn) | 0;
    this.R[i + 16] = Number(u >> 32n) | 0;
  }
  /** Read a GPR at size 1/2/4/8 bytes; `high8` selects AH..BH (reg 0..3). */
  readReg(reg: number, size: number, high8 = false): bigint {
    const v = this.getGpr(reg);
    if (size === 1 && high8) return (v >> 8n) & 0xffn;
    return size === 8 ? v : v & ((1n << BigInt(size * 8)) - 1n);
  }
  /** Write a GPR with x86 width rules: 32-bit writes zero 63:32, 8/16 preserve the rest. */
  writeReg(reg: number, size: number, v: bigint, high8 = false): void {
    const old = this.getGpr(reg);
    if (size === 8) this.setGpr(reg, v);
    else if (size === 4) this.setGpr(reg, v & 0xffffffffn);
    else if (size === 1 && high8) this.setGpr(reg, (old & ~0xff00n) | ((v & 0xffn) << 8n));
    else {
      const m = (1n << BigInt(size * 8)) - 1n;
      this.setGpr(reg, (old & ~m) | (v & m));
    }
  }
  /** A GPR as a linear-address number (sign-extended 64 -> number; exact when canonical). */
  regAddr(i: number): number { return (this.R[i]! >>> 0) + this.R[i + 16]! * TWO32; }
  setRegNum(i: number, v: number): void {
    this.R[i] = v | 0;
    this.R[i + 16] = Math.floor(v / TWO32) | 0;
  }

  getRflags(): number {
    this.materialize();
    return (this.fl | FIXED1) >>> 0;
  }
  setRflags(v: number): void {
    this.fo = 0;
    this.fl = ((v & 0x3f7fd7) | FIXED1) >>> 0;
  }

  segBase(seg: SegName): number {
    return seg === 'fs' ? this.fsBase : seg === 'gs' ? this.gsBase : 0;
  }

  interruptWindowOpen(): boolean {
    return (this.fl & IF) !== 0 && this.retired >= this.shadowUntil && this.pending === null;
  }

  injectException(vector: number, errorCode?: number, cr2?: number): void {
    this.pending = { vector, errorCode: errorCode ?? -1, cr2: cr2 ?? null, external: false };
  }
  injectInterrupt(vector: number): void {
    this.pending = { vector, errorCode: -1, cr2: null, external: true };
  }

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
      case MSR.TSC: return BigInt(Math.floor(this.cycles));
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
    const leaf = this.R[0]! >>> 0, sub = this.R[1]! >>> 0;
    const [a, b, c, d] = cpuidLeaf(leaf, sub, this.id);
    for (const [i, v] of [[0, a], [3, b], [1, c], [2, d]] as const) { this.R[i] = v | 0; this.R[i + 16] = 0; }
  }

  // =============================================================================== flags

  materialize(): void {
    if (this.fo !== 0) {
      this.fl = (this.fl & ~STATUS) | computeStatus(this);
      this.fo = 0;
    }
  }
  /** CF without materializing the rest (ADC/SBB/INC/DEC/RCL read it). */
  cf(): number {
    const fo = this.fo;
    if (fo === 0) return this.fl & CF;
    const kind = fo >> 2, lg = fo & 3;
    if (kind === FK.Logic) return 0;
    if (kind === FK.Inc || kind === FK.Dec) return this.fc;
    return computeStatus(this) & CF ? 1 : 0;
    void lg;
  }
  cond(cc: number): boolean {
    this.materialize();
    return testCond(cc, this.fl);
  }
  /** CLC/STC/CMC (F8/F9/F5). */
  setCF(op: number): void {
    this.materialize();
    if (op === 0) this.fl &= ~CF;
    else if (op === 1) this.fl |= CF;
    else this.fl ^= CF;
  }
  private setStatus(f: number): void {
    this.fo = 0;
    this.fl = (this.fl & ~STATUS) | f;
  }
  private szp(v: bigint, bits: number): number {
    let f = parity(Number(v & 0xffn));
    if (v === 0n) f |= ZF;
    if ((v >> BigInt(bits - 1)) & 1n) f |= SF;
    return f;
  }

  // =============================================================================== TLB

  flushTlb(all: boolean): void {
    const sup = this.tlbSup, user = this.tlbUser;
    const keepGlobal = !all && (this.cr4 & CR4_PGE) !== 0;
    for (let i = 0; i < TLB_SIZE; i++) {
      if (!keepGlobal || !this.tlbGlobal[i]) {
        this.tlbPn[i] = NaN; this.tlbGlobal[i] = 0;
        clearPrivEntry(sup, i); clearPrivEntry(user, i);
      }
    }
    this.clearJumpCaches();
  }
  flushTlbPage(la: number): void {
    const pn = Math.floor(la / 4096), i = pn & TLB_MASK;
    if (this.tlbPn[i] === pn) { this.tlbPn[i] = NaN; clearPrivEntry(this.tlbSup, i); clearPrivEntry(this.tlbUser, i); }
    this.clearJumpCaches();
  }
  private clearJumpCaches(): void {
    this.tlbSup.jc.clear(); this.tlbSup.jc1.clear();
    this.tlbUser.jc.clear(); this.tlbUser.jc1.clear();
    this.tlbEpoch++;
    this.linkKey = this.tlbEpoch * 2 + (this.privUser ? 1 : 0);
  }
  /** The CPL changed between user (3) and supervisor (0-2): use that privilege's TLB rights. */
  private selectPriv(user: boolean): void {
    const t = user ? this.tlbUser : this.tlbSup;
    this.privUser = user;
    this.tagR = t.r; this.tagW = t.w;
    this.jc = t.jc; this.jc1 = t.jc1;
    this.linkKey = this.tlbEpoch * 2 + (user ? 1 : 0);
  }
  /** CodeCacheListener: a page became a code page; stop caching writes to it. */
  codePageAdded(hpaPage: number): void {
    const base = hpaPage * 4096;
    const ws = this.tlbSup.w, wu = this.tlbUser.w;
    for (let i = 0; i < TLB_SIZE; i++) {
      if ((ws[i] === ws[i] || wu[i] === wu[i]) && this.tlbPn[i]! * 4096 + this.tlbDelta[i]! === base) { ws[i] = NaN; wu[i] = NaN; }
    }
  }

  private syncCtx(): PagingContext {
    const c = this.ctx;
    c.cr0 = this.cr0; c.cr3 = this.cr3; c.cr4 = this.cr4; c.efer = this.efer;
    return c;
  }

  /**
   * Translate a linear address for an access, filling the TLB. Returns the host-physical
   * address, or -1 for an MMIO page (details in mmioGpa). Raises #GP(0) for a non-canonical
   * address, #SS(0) when `ss` is nonzero (the access references SS: an RSP/RBP-based operand or
   * an implicit stack access, SDM Vol. 3A §6.15 "Interrupt 12"), #PF; exits on EPT violations.
   * A write to a code page invalidates its blocks (SMC).
   */
  private mmioGpa = 0;
  xlate(la: number, access: AccessKind, ss = 0): number {
    if (!(la >= -CANON && la < CANON)) this.raise(ss !== 0 ? SS : GP, 0);
    const pn = Math.floor(la / 4096), i = pn & TLB_MASK;
    const off = la - pn * 4096;
    const cpl = this.implicitSupervisor ? 0 : this.cpl;
    const set = cpl === 3 ? this.tlbUser : this.tlbSup;
    const tag = access === 'read' ? set.r : access === 'write' ? set.w : set.x;
    if (tag[i] === pn) return this.tlbDelta[i]! + la;
    if (access !== 'fetch' && (access === 'read' ? set.mr : set.mw)[i] === pn) {
      this.mmioGpa = this.tlbDelta[i]! + la;
      return -1;
    }
    const out = this.walkOut;
    if (!gla2gpa(this.ram, this.ept, this.syncCtx(), la, access, cpl, out, null)) {
      const f = out.fault!;
      if (f.kind === 'pf') {
        this.cr2Pending = la;
        return this.raise(PFV, f.errorCode);
      }
      // An MMIO data page (row 0) may be served by the APICv fast path; table pages always exit.
      if (f.kind === 'mmio' && f.row === 0) {
        this.mmioGpa = f.gpa;
        if (access !== 'fetch') {
          // Keep the translation: the next access to this MMIO page exits without a walk.
          const delta = f.gpa - la;
          if (this.tlbPn[i] !== pn || this.tlbDelta[i] !== delta) {
            this.tlbPn[i] = pn; clearPrivEntry(this.tlbSup, i); clearPrivEntry(this.tlbUser, i);
          }
          this.tlbDelta[i] = delta;
          this.tlbGlobal[i] = 0;
          set.mr[i] = pn;
          if (access === 'write') set.mw[i] = pn;
        }
        return -1;
      }
      return this.exitMem(f.kind, la, f.gpa, f.access);
    }
    const hpaPage = out.hpa - off;
    if (access === 'write' && this.codeCache.hasCode(Math.floor(out.hpa / 4096))) {
      this.codeCache.invalidatePageNumber(Math.floor(out.hpa / 4096));
      this.smc = true;
    }
    if (this.tlbPn[i] !== pn || this.tlbDelta[i] !== hpaPage - pn * 4096) {
      this.tlbPn[i] = pn; clearPrivEntry(this.tlbSup, i); clearPrivEntry(this.tlbUser, i);
    }
    this.tlbDelta[i] = hpaPage - pn * 4096;
    this.tlbGlobal[i] = out.global ? 1 : 0;
    if (access === 'fetch') set.x[i] = pn;
    else {
      set.r[i] = pn;
      if (access === 'write') set.w[i] = pn;
    }
    return out.hpa;
  }
  private cr2Pending = 0;

  // =============================================================================== memory

  eaWide(b: number, x: number, scale: number, disp: number): number {
    const v = BigInt.asIntN(64, this.getGpr(b) + this.getGpr(x) * BigInt(scale) + BigInt(disp));
    if (v < -(1n << 47n) || v >= 1n << 47n) return 2 ** 60; // non-canonical: the access raises #GP/#SS
    return Number(v);
  }
  /** LEA r64 with a 64-bit address size: exact 64-bit arithmetic into tl/th. */
  lea64(b: number, x: number, scale: number, disp: number): void {
    const R = this.R;
    let lo = disp | 0, hi = disp < 0 ? -1 : 0;
    if (b >= 0) { const u = (lo >>> 0) + (R[b]! >>> 0); lo = u | 0; hi = (hi + R[b + 16]! + (u > 0xffffffff ? 1 : 0)) | 0; }
    if (x >= 0) {
      let xl = R[x]!, xh = R[x + 16]!;
      for (let s = scale; s > 1; s >>= 1) { xh = (xh << 1) | (xl >>> 31); xl <<= 1; }
      const u = (lo >>> 0) + (xl >>> 0); lo = u | 0; hi = (hi + xh + (u > 0xffffffff ? 1 : 0)) | 0;
    }
    this.tl = lo; this.th = hi;
  }

  // Accessor flags (`soft`): bit 0 = exit softly (set xp instead of throwing EXIT), bit 1 = the
  // access references SS (a non-canonical address raises #SS(0) instead of #GP(0)). The fast
  // paths never look at them.
  rd8(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.tagR[i] === pn) return this.dv.getUint8(ea + this.tlbDelta[i]!);
    return this.rdSlow(ea, 1, 'read', soft);
  }
  rd16(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.tagR[i] === pn && (ea & 4095) <= 4094) return this.dv.getUint16(ea + this.tlbDelta[i]!, true);
    return this.rdSlow(ea, 2, 'read', soft);
  }
  rd32(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.tagR[i] === pn && (ea & 4095) <= 4092) return this.dv.getInt32(ea + this.tlbDelta[i]!, true);
    return this.rdSlow(ea, 4, 'read', soft);
  }
  rd64(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.tagR[i] === pn && (ea & 4095) <= 4088) {
      const a = ea + this.tlbDelta[i]!;
      this.th = this.dv.getInt32(a + 4, true);
      return this.dv.getInt32(a, true);
    }
    return this.rdSlow(ea, 8, 'read', soft);
  }
  /** Reads of a read-modify-write destination: checked for write first (one exit/fault kind). */
  rdw8(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.tagW[i] === pn) return this.dv.getUint8(ea + this.tlbDelta[i]!);
    return this.rdSlow(ea, 1, 'write', soft);
  }
  rdw16(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.tagW[i] === pn && (ea & 4095) <= 4094) return this.dv.getUint16(ea + this.tlbDelta[i]!, true);
    return this.rdSlow(ea, 2, 'write', soft);
  }
  rdw32(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.tagW[i] === pn && (ea & 4095) <= 4092) return this.dv.getInt32(ea + this.tlbDelta[i]!, true);
    return this.rdSlow(ea, 4, 'write', soft);
  }
  rdw64(ea: number, soft?: number): number {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.tagW[i] === pn && (ea & 4095) <= 4088) {
      const a = ea + this.tlbDelta[i]!;
      this.th = this.dv.getInt32(a + 4, true);
      return this.dv.getInt32(a, true);
    }
    return this.rdSlow(ea, 8, 'write', soft);
  }
  wr8(ea: number, v: number, soft?: number): void {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.tagW[i] === pn) { this.dv.setUint8(ea + this.tlbDelta[i]!, v); return; }
    this.wrSlow(ea, 1, v, 0, soft);
  }
  wr16(ea: number, v: number, soft?: number): void {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.tagW[i] === pn && (ea & 4095) <= 4094) { this.dv.setUint16(ea + this.tlbDelta[i]!, v, true); return; }
    this.wrSlow(ea, 2, v, 0, soft);
  }
  wr32(ea: number, v: number, soft?: number): void {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.tagW[i] === pn && (ea & 4095) <= 4092) { this.dv.setInt32(ea + this.tlbDelta[i]!, v, true); return; }
    this.wrSlow(ea, 4, v, 0, soft);
  }
  wr64(ea: number, lo: number, hi: number, soft?: number): void {
    const pn = Math.floor(ea / 4096), i = pn & TLB_MASK;
    if (this.tagW[i] === pn && (ea & 4095) <= 4088) {
      const a = ea + this.tlbDelta[i]!;
      this.dv.setInt32(a, lo, true);
      this.dv.setInt32(a + 4, hi, true);
      return;
    }
    this.wrSlow(ea, 8, lo, hi, soft);
  }

  /**
   * Slow read: TLB fill, page-crossing, MMIO (fast path or exit). Returns lo; th = hi.
   * `soft`: an MMIO exit sets `xp` and returns 0 instead of throwing (generated code checks).
   */
  private rdSlow(ea: number, size: number, access: AccessKind, flags: number | undefined): number {
    const soft = flags !== undefined && (flags & 1) !== 0;
    const ss = flags !== undefined ? flags & 2 : 0;
    const off = ea - Math.floor(ea / 4096) * 4096;
    const h1 = this.xlate(ea, access, ss);
    let h2 = h1 + (size > 4096 - off ? 4096 - off : 0);
    if (size > 4096 - off && h1 >= 0) h2 = this.xlate(ea + (4096 - off), access, ss);
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
    this.th = hi;
    return size === 4 || size === 8 ? lo | 0 : lo;
  }
  private wrSlow(ea: number, size: number, lo: number, hi: number, flags: number | undefined): void {
    const soft = flags !== undefined && (flags & 1) !== 0;
    const ss = flags !== undefined ? flags & 2 : 0;
    const off = ea - Math.floor(ea / 4096) * 4096;
    const cross = size > 4096 - off;
    const h1 = this.xlate(ea, 'write', ss);
    const h2 = cross && h1 >= 0 ? this.xlate(ea + (4096 - off), 'write', ss) : h1;
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
   * An access to an MMIO page: APICv fast path, else exit 'mmio' (EPT misconfiguration).
   * `probeOnly`: an RMW read checked for write; the fast path is not used for it. `soft`: exit
   * by setting `xp` (the caller returns to the dispatcher) instead of throwing EXIT.
   */
  private mmioFault(la: number, size: number, isWrite: boolean, value: bigint, probeOnly: boolean, soft: boolean): number {
    const gpa = this.mmioGpa;
    if (this.mmioFastPath && !probeOnly && Math.floor(gpa / 4096) === Math.floor((gpa + size - 1) / 4096)) {
      const r = this.mmioFastPath(gpa, size, isWrite, value);
      // A trap-like 'apic-write' exit follows the current instruction: end the block after it.
      if (this.apicWritePending) this.smc = true;
      if (r !== null) {
        if (typeof r === 'bigint') {
          const u = BigInt.asUintN(64, r);
          this.th = Number(u >> 32n) | 0;
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
      this.xp = 1;
      return 0;
    }
    return this.exitMem('mmio', la, gpa, isWrite ? 'write' : 'read');
  }

  // ---- implicit supervisor accesses (IDT, TSS, GDT, interrupt stack frames)
  private sysRead64(la: number): bigint {
    const was = this.implicitSupervisor;
    this.implicitSupervisor = true;
    try { const lo = this.rd64(la); return toU64(lo, this.th); } finally { this.implicitSupervisor = was; }
  }

  // =============================================================================== raising

  /** Raise a guest exception (errorCode -1: none). Never returns. */
  raise(vector: number, errorCode = -1): never {
    this.excVec = vector;
    this.excErr = errorCode;
    throw FAULT;
  }
  private exitMem(kind: 'mmio' | 'ept-violation', la: number, gpa: number, access: AccessKind): never {
    const e = this.exit;
    e.reason = kind;
    e.gla = la;
    e.gpa = gpa;
    e.access = access;
    throw EXIT;
  }
  private exitInsn(reason: 'hlt' | 'io' | 'cpuid' | 'rdmsr' | 'wrmsr' | 'vmcall'): never {
    this.exit.reason = reason;
    throw EXIT;
  }
  checkCanonical(lo: number, hi: number): void {
    const v = (lo >>> 0) + hi * TWO32;
    if (!(v >= -CANON && v < CANON)) this.raise(GP, 0);
  }
  jumpTo(lo: number, hi: number): void {
    const v = (lo >>> 0) + hi * TWO32;
    if (!(v >= -CANON && v < CANON)) this.raise(GP, 0);
    this.rip = v;
  }

  // =============================================================================== run loop

  /** Execute exactly one instruction (or deliver one pending event). */
  step(): VmExit { return this.run(1); }

  /** VM entry: run until an exit, a stop, or `maxInsns` retired instructions. */
  run(maxInsns: number): VmExit {
    const ex = this.exit;
    ex.reset();
    this.xp = 0;
    if (this.stopInfo) return this.stopExit(ex);
    if (this.ept.generation !== this.eptGen) { this.flushTlb(true); this.eptGen = this.ept.generation; }
    const start = this.retired;
    if (this.pending) {
      const p = this.pending;
      this.pending = null;
      if (p.cr2 !== null) this.cr2 = p.cr2;
      if (!this.deliverWithEscalation(p.vector, p.errorCode, this.rip, p.external ? 'external' : 'exception')) {
        ex.retired = 0;
        if (this.takeDeliveryExit(ex)) return ex;
        return this.finishExit(ex);
      }
    }
    let prev: Block | null = null;
    for (;;) {
      if (this.stopInfo) return this.stopExit(ex);
      if (this.requestInterruptWindow && this.interruptWindowOpen()) {
        ex.reason = 'interrupt-window';
        ex.rip = this.rip;
        ex.retired = this.retired - start;
        return ex;
      }
      const left = maxInsns - (this.retired - start);
      if (left <= 0) {
        ex.reason = 'budget';
        ex.rip = this.rip;
        ex.retired = this.retired - start;
        return ex;
      }
      const single = left === 1 || (this.requestInterruptWindow && (this.fl & IF) !== 0 && this.retired < this.shadowUntil);
      let b: Block | null = null;
      const rip = this.rip;
      if (prev !== null && !single && prev.linkEpoch === this.linkKey) {
        const l0: Block | null = prev.l0, l1: Block | null = prev.l1;
        if (l0 !== null && l0.rip === rip && l0.valid) b = l0;
        else if (l1 !== null && l1.rip === rip && l1.valid) b = l1;
      }
      try {
        if (b === null) {
          b = this.getBlock(single);
          if (prev !== null && !single) {
            if (prev.linkEpoch !== this.linkKey) { prev.l0 = null; prev.l1 = null; prev.linkEpoch = this.linkKey; }
            prev.l1 = prev.l0;
            prev.l0 = b;
          }
        }
      } catch (e) {
        if (e === FAULT) {
          // Instruction fetch fault (#PF/#GP) at RIP: nothing retired.
          if (!this.deliverFault(this.rip, null)) return this.takeDeliveryExit(ex) ? ex : this.finishExit(ex);
          continue;
        }
        if (e === EXIT) return this.fetchExit(ex, start);
        return this.internalError(ex, e);
      }
      if (!single && b.n > left) b = this.getBlock(true);
      prev = b.single ? null : b;
      this.smc = false;
      let n: number;
      try {
        n = (b.fn as BlockFn)(this, this.R, left);
        if (n < 0) {
          // A soft VM exit at instruction fi (fault-like: it had no effect).
          this.xp = 0;
          return this.blockExit(ex, b, start);
        }
      } catch (e) {
        const fi = this.fi;
        const idx = fi % b.n;
        this.retire(fi);
        const d = b.insns[idx]!;
        this.rip = d.rip;
        prev = null;
        if (e === FAULT) {
          if (!this.deliverFault(d.rip, d)) { ex.retired = this.retired - start; return this.takeDeliveryExit(ex) ? ex : this.finishExit(ex); }
          continue;
        }
        if (e === EXIT) {
          // io/rdmsr/wrmsr fields were set by sys().
          ex.setInsn(d);
          ex.rip = d.rip;
          ex.retired = this.retired - start;
          return ex;
        }
        return this.internalError(ex, e);
      }
      this.retire(n);
      if (this.apicWritePending) {
        this.apicWritePending = false;
        ex.reason = 'apic-write';
        ex.rip = this.rip;
        ex.retired = this.retired - start;
        return ex;
      }
    }
  }

  /** True (and the exit record completed) when the last delivery attempt ended in a VM exit. */
  private takeDeliveryExit(ex: VmExit): boolean {
    if (!this.deliveryExited) return false;
    this.deliveryExited = false;
    ex.rip = this.rip;
    ex.insnLength = 0;
    return true;
  }

  private retire(n: number): void {
    this.retired += n;
    this.cycles += n * this.cyclesPerInsn;
  }

  /** The block's instruction `fi` exited (soft exit): retire what ran before it and report it. */
  private blockExit(ex: VmExit, b: Block, start: number): VmExit {
    const fi = this.fi;
    const d = b.insns[fi % b.n]!;
    this.retire(fi);
    this.rip = d.rip;
    ex.setInsn(d);
    ex.rip = d.rip;
    ex.retired = this.retired - start;
    return ex;
  }

  private fetchExit(ex: VmExit, start: number): VmExit {
    ex.rip = this.rip;
    ex.retired = this.retired - start;
    if (ex.access !== 'fetch') {
      // The fetch's page walk faulted in the EPT on a guest page-table page (an A-bit update on
      // a write-protected table page, access 'write'): exit like a data access does, fault-like
      // (nothing decoded, nothing retired); the fetch is retried on re-entry.
      ex.insnLength = 0;
      return ex;
    }
    // An instruction fetch from an MMIO page or a non-executable EPT page: not emulated.
    return this.stopWith(ex, 'error', `instruction fetch from ${ex.reason === 'mmio' ? 'an MMIO page' : 'a page the EPT does not allow'} at rip ${hex(this.rip)} (gpa ${hex(ex.gpa)})`);
  }

  private internalError(ex: VmExit, e: unknown): VmExit {
    const msg = e instanceof Error ? `${e.message}` : String(e);
    return this.stopWith(ex, 'error', `emulator error at rip ${hex(this.rip)}: ${msg}`);
  }

  private stopWith(ex: VmExit, reason: StopReason, message: string): VmExit {
    this.stopInfo = { reason, message };
    return this.stopExit(ex);
  }
  private stopExit(ex: VmExit): VmExit {
    ex.reason = 'stop';
    ex.stop = this.stopInfo ?? undefined;
    ex.rip = this.rip;
    return ex;
  }
  private finishExit(ex: VmExit): VmExit {
    if (this.stopInfo) return this.stopExit(ex);
    return ex;
  }

  /** Clear a stop (e.g. after the VMM fixed things up); the vCPU becomes runnable again. */
  clearStop(): void { this.stopInfo = null; }

  // ---- block lookup / translation

  private getBlock(single: boolean): Block {
    const rip = this.rip;
    const jc = single ? this.jc1 : this.jc;
    const cached = jc.get(rip);
    if (cached !== undefined && cached.valid) return cached;
    const hpa = this.xlate(rip, 'fetch');
    if (hpa < 0) this.exitMem('mmio', rip, this.mmioGpa, 'fetch');
    let b = this.codeCache.lookup(hpa, rip, single);
    // An instruction crossing into the next linear page: its decode holds only while that page
    // still maps the same physical page (a PTE write + invlpg or a CR3 switch may change it).
    if (b !== undefined && b.page2 >= 0 && this.fetchPage2(rip, hpa) !== b.page2) b = undefined;
    if (!b) b = this.translate(rip, hpa, single);
    jc.set(rip, b);
    return b;
  }

  /** Host-physical page number of the next linear page after `rip` (at `hpa`), translated for fetch. */
  private fetchPage2(rip: number, hpa: number): number {
    const first = 4096 - (hpa % 4096);
    const h2 = this.xlate(rip + first, 'fetch');
    if (h2 < 0) this.exitMem('mmio', rip + first, this.mmioGpa, 'fetch');
    return Math.floor(h2 / 4096);
  }

  private translate(rip: number, hpa: number, single: boolean): Block {
    const off = hpa % 4096;
    const bytes = this.ram.bytes;
    const insns = this.decodeBuf;
    insns.length = 0;
    const pages = [Math.floor(hpa / 4096)];
    let page2 = -1;
    const r = decodeBlock(bytes.subarray(hpa, hpa - off + 4096), rip, single ? 1 : 64, insns);
    if (insns.length === 0 && r.truncated) {
      // The first instruction crosses into the next page: fetch 15 bytes across both.
      const first = 4096 - off;
      page2 = this.fetchPage2(rip, hpa);
      const h2 = page2 * 4096;
      const buf = new Uint8Array(15);
      buf.set(bytes.subarray(hpa, hpa + first));
      buf.set(bytes.subarray(h2, h2 + 15 - first), first);
      decodeBlock(buf, rip, 1, insns);
      pages.push(page2);
    }
    const list = insns.slice();
    const g = genBlock(list);
    let fn: BlockFn;
    try {
      fn = new Function('D', g.src)(list) as BlockFn;
    } catch (e) {
      throw new Error(`codegen produced invalid JS for block at ${hex(rip)}: ${(e as Error).message}\n${g.src}`);
    }
    const b: Block = { rip, hpa, insns: list, n: list.length, fn, pages, page2, valid: true, single, src: g.src, l0: null, l1: null, linkEpoch: -1 };
    this.codeCache.insert(b);
    return b;
  }

  // =============================================================================== events

  /**
   * Deliver the exception raised by the instruction `d` at `rip` (or by an instruction
   * fetch when d is null), escalating to #DF / triple fault per SDM Vol. 3A Table 6-5.
   * Returns false when the vCPU stopped.
   */
  private deliverFault(rip: number, d: DInsn | null): boolean {
    const vec = this.excVec, err = this.excErr;
    if (vec === PFV) this.cr2 = this.cr2Pending;
    if (vec === UD && d && !this.gatePresent(UD)) {
      this.stopInfo = { reason: 'unsupported', message: `unsupported instruction at rip ${hex(rip)}: ${d.text} (${[...d.bytes].map((x) => x.toString(16).padStart(2, '0')).join(' ')})` };
      return false;
    }
    this.lastException = { vector: vec, errorCode: err, rip, text: d?.text ?? '(fetch)' };
    return this.deliverWithEscalation(vec, err, rip, 'exception');
  }

  private gatePresent(vec: number): boolean {
    if (vec * 16 + 15 > this.idtLimit) return false;
    try {
      const hi = this.sysRead64(this.idtBase + vec * 16);
      return ((hi >> 47n) & 1n) === 1n;
    } catch (e) {
      if (e === FAULT || e === EXIT) return false;
      throw e;
    }
  }

  private deliverWithEscalation(vec: number, err: number, rip: number, kind: 'exception' | 'external' | 'soft', nextRip = rip): boolean {
    try {
      this.deliver(vec, err, kind === 'soft' ? nextRip : rip, kind);
      return true;
    } catch (e) {
      if (e === EXIT) {
        // An exit during event delivery (e.g. the stack push hits a page the VMM write-protected):
        // like VMX's IDT-vectoring information (SDM Vol. 3C §28.2.4), the event is re-queued and
        // delivered again on the next VM entry, after the VMM has handled the exit.
        this.pending = { vector: vec, errorCode: err, cr2: vec === PFV ? this.cr2 : null, external: kind === 'external' };
        this.deliveryExited = true;
        return false;
      }
      if (e !== FAULT) throw e;
    }
    const second = this.excVec, err2 = this.excErr;
    if (second === PFV) this.cr2 = this.cr2Pending;
    const name = vecName(vec);
    if (vec === DF_V) {
      this.stopInfo = { reason: 'triple-fault', message: `triple fault: ${vecName(second)} while delivering #DF (rip ${hex(rip)})` };
      return false;
    }
    if ((isContributory(vec) || vec === PFV) && (isContributory(second) || (vec === PFV && second === PFV))) {
      try {
        this.deliver(DF_V, 0, rip, 'exception');
        return true;
      } catch (e) {
        if (e !== FAULT && e !== EXIT) throw e;
        this.stopInfo = { reason: 'triple-fault', message: `triple fault: ${vecName(this.excVec)} while delivering #DF (after ${name}, then ${vecName(second)}) at rip ${hex(rip)}` };
        return false;
      }
    }
    // Benign first event: handle the second serially (SDM Table 6-5).
    return this.deliverWithEscalation(second, err2, rip, 'exception');
  }

  /** Long-mode event delivery through a 64-bit IDT gate (SDM Vol. 3A §6.14.1-6.14.5). */
  private deliver(vec: number, err: number, retRip: number, kind: 'exception' | 'external' | 'soft'): void {
    const was = this.implicitSupervisor;
    this.implicitSupervisor = true;
    try {
      if (vec * 16 + 15 > this.idtLimit) this.raise(GP, vec * 8 + 2 + (kind === 'external' ? 1 : 0));
      const lo = this.sysRead64(this.idtBase + vec * 16);
      const hi = this.sysRead64(this.idtBase + vec * 16 + 8);
      const type = Number((lo >> 40n) & 0xfn);
      const dpl = Number((lo >> 45n) & 3n);
      const present = ((lo >> 47n) & 1n) === 1n;
      if (!present || (type !== GATE_INTR && type !== GATE_TRAP)) this.raise(GP, vec * 8 + 2 + (kind === 'external' ? 1 : 0));
      if (kind === 'soft' && dpl < this.cpl) this.raise(GP, vec * 8 + 2);
      const sel = Number((lo >> 16n) & 0xffffn);
      const ist = Number((lo >> 32n) & 7n);
      const target64 = (lo & 0xffffn) | (((lo >> 48n) & 0xffffn) << 16n) | ((hi & 0xffffffffn) << 32n);
      const target = bigToAddr(target64);
      if (Number.isNaN(target)) this.raise(GP, 0);
      const oldCpl = this.cpl;
      const newCpl = sel & 3;
      let rsp: number;
      if (ist !== 0) rsp = this.tssRsp(0x24 + (ist - 1) * 8);
      else if (newCpl < oldCpl) rsp = this.tssRsp(4 + newCpl * 8);
      else rsp = this.regAddr(4);
      rsp = Math.floor(rsp / 16) * 16; // 64-bit mode aligns the new stack to 16 bytes (§6.14.2)
      const rflags = this.getRflags();
      const frame: number[] = [retRip, this.cs, rflags, NaN, this.ss];
      if (err >= 0) frame.unshift(err);
      let sp = rsp - frame.length * 8;
      // Write the frame (faults here leave the state untouched), then commit. The old RSP goes
      // in as its two halves: it may be non-canonical (a #SS on a non-canonical stack).
      for (let k = 0; k < frame.length; k++) {
        const v = frame[k]!;
        if (Number.isNaN(v)) this.wr64(sp + k * 8, this.R[4]!, this.R[20]!);
        else this.wr64(sp + k * 8, v | 0, Math.floor(v / TWO32) | 0);
      }
      sp = rsp - frame.length * 8;
      this.setRegNum(4, sp);
      if (newCpl !== oldCpl) this.ss = newCpl; // NULL SS with RPL = new CPL (§6.14.4)
      this.cs = sel;
      let f = this.fl & ~(TF | NT | RF | 0x20000);
      if (type === GATE_INTR) f &= ~IF;
      this.fl = f;
      this.rip = target;
    } finally {
      this.implicitSupervisor = was;
    }
  }

  private tssRsp(off: number): number {
    const v = bigToAddr(this.sysRead64(this.tssBase + off));
    if (Number.isNaN(v)) this.raise(TS, this.trSel & ~3);
    return v;
  }

  // =============================================================================== helpers for generated code

  /** Shifts and rotates (SDM SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR). Returns lo; th = hi. */
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
        this.fl = (this.fl & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
        return this.ret64(r, size);
      }
      default: { // RCL / RCR: rotate through CF; the count is taken modulo size + 1 for 8/16 bits
        this.materialize();
        let c = cnt;
        if (size === 1) c %= 9; else if (size === 2) c %= 17;
        let v = a, carry = BigInt(this.fl & CF);
        const left = mn === Mnemonic.Rcl;
        const ofIn = msb(a) ^ Number(carry);
        for (let k = 0; k < c; k++) {
          if (left) { const out = (v >> BigInt(bits - 1)) & 1n; v = ((v << 1n) | carry) & mask; carry = out; }
          else { const out = v & 1n; v = (v >> 1n) | (carry << BigInt(bits - 1)); carry = out; }
        }
        cf = Number(carry);
        of = left ? msb(v) ^ cf : ofIn;
        this.fl = (this.fl & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
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
      this.th = Number((v >> 32n) & 0xffffffffn) | 0;
      return Number(v & 0xffffffffn) | 0;
    }
    this.th = 0;
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
    this.fl = (this.fl & ~CF) | (old ? CF : 0);
    this.th = size === 8 ? hi : 0;
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
    let hi = size === 8 ? this.th : 0;
    const inHi = bit >= 32;
    const m = 1 << (bit & 31);
    this.materialize();
    this.fl = (this.fl & ~CF) | (((inHi ? hi : lo) & m) !== 0 ? CF : 0);
    if (op === 0) return;
    if (inHi) hi = op === 1 ? hi | m : op === 2 ? hi & ~m : hi ^ m;
    else lo = op === 1 ? lo | m : op === 2 ? lo & ~m : lo ^ m;
    this.wrN(addr, size, lo, hi, ss);
  }

  /** BSF/BSR/TZCNT/LZCNT/POPCNT. Returns true when the destination is written (tl/th). */
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
    this.tl = r;
    this.th = 0;
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

  // ---- string instructions (SDM Vol. 2 MOVS/STOS/LODS/CMPS/SCAS, REP prefixes)

  str(d: DInsn): void {
    const M = Mnemonic, mn = d.mn;
    const size = [M.Movsb, M.Stosb, M.Lodsb, M.Cmpsb, M.Scasb].includes(mn) ? 1
      : [M.Movsw, M.Stosw, M.Lodsw, M.Cmpsw, M.Scasw].includes(mn) ? 2
        : [M.Movsd, M.Stosd, M.Lodsd, M.Cmpsd, M.Scasd].includes(mn) ? 4 : 8;
    const kind = mn === M.Movsb || mn === M.Movsw || mn === M.Movsd || mn === M.Movsq ? 0
      : mn === M.Stosb || mn === M.Stosw || mn === M.Stosd || mn === M.Stosq ? 1
        : mn === M.Lodsb || mn === M.Lodsw || mn === M.Lodsd || mn === M.Lodsq ? 2
          : mn === M.Cmpsb || mn === M.Cmpsw || mn === M.Cmpsd || mn === M.Cmpsq ? 3 : 4;
    const a32 = d.asz === 4;
    const rep = d.rep;
    const segBase = d.memSeg === 4 ? this.fsBase : d.memSeg === 5 ? this.gsBase : 0;
    const srcSs = d.memSeg === 2 ? 2 : 0; // an SS override of the source (DS:RSI); ES:RDI never is
    const R = this.R;
    const addr = (i: number): number => (a32 ? R[i]! >>> 0 : this.regAddr(i));
    const adv = (i: number, delta: number): void => {
      if (a32) { R[i] = (R[i]! + delta) | 0; R[i + 16] = 0; }
      else this.setRegNum(i, this.regAddr(i) + delta);
    };
    const bulk = rep !== 0 && !a32 && kind <= 1;
    for (;;) {
      if (rep) {
        const cnt = a32 ? R[1]! : R[1]! | R[17]!;
        if (cnt === 0) return;
        if (bulk && (this.fl & DF) === 0 && this.repChunk(kind, size, segBase)) continue;
      }
      const delta = this.fl & DF ? -size : size;
      switch (kind) {
        case 0: { // MOVS: [rsi] -> [rdi]
          const v = this.rdN(addr(6) + segBase, size, srcSs);
          const vh = this.th;
          this.wrN(addr(7), size, v, vh);
          adv(6, delta); adv(7, delta);
          break;
        }
        case 1: this.wrN(addr(7), size, R[0]!, R[16]!); adv(7, delta); break;
        case 2: {
          const v = this.rdN(addr(6) + segBase, size, srcSs);
          if (size === 8) { R[0] = v; R[16] = this.th; } else if (size === 4) { R[0] = v; R[16] = 0; }
          else if (size === 2) R[0] = (R[0]! & -65536) | v; else R[0] = (R[0]! & -256) | v;
          adv(6, delta);
          break;
        }
        default: { // CMPS (src - dest) / SCAS (acc - dest)
          let a0: number, a1: number;
          if (kind === 3) { a0 = this.rdN(addr(6) + segBase, size, srcSs); a1 = this.th; }
          else { a0 = size === 1 ? R[0]! & 255 : size === 2 ? R[0]! & 65535 : R[0]!; a1 = R[16]!; }
          const b0 = this.rdN(addr(7), size), b1 = this.th;
          this.setSubLazy(size, a0, a1, b0, b1);
          if (kind === 3) adv(6, delta);
          adv(7, delta);
        }
      }
      if (!rep) return;
      if (a32) { R[1] = (R[1]! - 1) | 0; R[17] = 0; }
      else { const lo = R[1]!; R[1] = (lo - 1) | 0; if (lo === 0) R[17] = (R[17]! - 1) | 0; }
      if (kind >= 3) {
        const zf = this.cond(4);
        if ((rep === 1 && !zf) || (rep === 2 && zf)) return;
      }
    }
  }
  /**
   * REP MOVS / REP STOS forward with 64-bit addresses, a page at a time: the elements that lie
   * in one source page and one destination page are translated once (source first, as the
   * first element's read would be) and moved with one copy, then RSI/RDI/RCX advance by the
   * chunk. Returns false (nothing done) where the per-element loop must run: fewer than 2
   * elements fit, an element crosses a page, an MMIO page, or a forward overlap (element-wise
   * MOVS repeats the pattern there, a memmove would not). Faults leave the state of the last
   * completed chunk, as at an iteration boundary.
   */
  private repChunk(kind: number, size: number, segBase: number): boolean {
    const R = this.R;
    const cnt = R[17] !== 0 ? 0x40000000 : R[1]! >>> 0;
    const dst = this.regAddr(7);
    const dOff = dst - Math.floor(dst / 4096) * 4096;
    let n = Math.min(cnt, Math.floor((4096 - dOff) / size));
    let src = 0;
    if (kind === 0) {
      src = this.regAddr(6) + segBase;
      n = Math.min(n, Math.floor((4096 - (src - Math.floor(src / 4096) * 4096)) / size));
    }
    if (n < 2) return false;
    const len = n * size;
    const bytes = this.ram.bytes;
    if (kind === 0) {
      const hs = this.xlate(src, 'read');
      if (hs < 0) return false;
      const hd = this.xlate(dst, 'write');
      if (hd < 0 || (hd > hs && hd < hs + len)) return false;
      bytes.copyWithin(hd, hs, hs + len);
      this.setRegNum(6, this.regAddr(6) + len);
    } else {
      const hd = this.xlate(dst, 'write');
      if (hd < 0) return false;
      if (size === 1) bytes.fill(R[0]! & 0xff, hd, hd + len);
      else {
        const dv = this.dv, lo = R[0]!, hi = R[16]!;
        for (let a = hd, end = hd + len; a < end; a += size) {
          if (size === 2) dv.setUint16(a, lo & 0xffff, true);
          else { dv.setInt32(a, lo, true); if (size === 8) dv.setInt32(a + 4, hi, true); }
        }
      }
    }
    this.setRegNum(7, dst + len);
    const lo = (R[1]! >>> 0) - n;
    R[1] = lo | 0;
    if (lo < 0) R[17] = (R[17]! - 1) | 0;
    return true;
  }

  private rdN(ea: number, size: number, ss = 0): number {
    if (size === 1) return this.rd8(ea, ss);
    if (size === 2) return this.rd16(ea, ss);
    if (size === 4) { this.th = 0; return this.rd32(ea, ss); }
    return this.rd64(ea, ss);
  }
  private wrN(ea: number, size: number, lo: number, hi: number, ss = 0): void {
    if (size === 1) this.wr8(ea, lo, ss);
    else if (size === 2) this.wr16(ea, lo, ss);
    else if (size === 4) this.wr32(ea, lo, ss);
    else this.wr64(ea, lo, hi, ss);
  }
  private setSubLazy(size: number, a0: number, a1: number, b0: number, b1: number): void {
    const lg = size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3;
    let r0: number, r1 = 0;
    if (size === 8) { const u = (a0 >>> 0) - (b0 >>> 0); r0 = u | 0; r1 = (a1 - b1 - (u < 0 ? 1 : 0)) | 0; }
    else r0 = size === 4 ? (a0 - b0) | 0 : (a0 - b0) & (size === 2 ? 0xffff : 0xff);
    this.fo = FK.Sub * 4 + lg;
    this.fr = r0; this.frh = r1; this.fa = a0; this.fah = a1; this.fb = b0; this.fbh = b1;
  }

  // ---- system instructions and everything rare

  /**
   * Slow path for instructions without generated code. `idx` = instructions already retired
   * in this block. Returns 1 when it set RIP (control transfer), else 0.
   */
  sys(d: DInsn, idx: number): number {
    const M = Mnemonic, mn = d.mn, R = this.R;
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
        if (msrIntercepted(msr)) { this.exit.msr = msr; return this.exitInsn(mn === M.Rdmsr ? 'rdmsr' : 'wrmsr'); }
        if (mn === M.Rdmsr) {
          const v = this.msrRead(msr);
          R[0] = Number(v & 0xffffffffn) | 0; R[16] = 0;
          R[2] = Number(v >> 32n) | 0; R[18] = 0;
        } else {
          this.msrWrite(msr, toU64(R[0]!, R[2]!));
        }
        return 0;
      }
      case M.Rdtsc: {
        if (this.cr4 & CR4_TSD) cpl0();
        const t = BigInt(Math.floor(this.cycles + idx * this.cyclesPerInsn));
        R[0] = Number(t & 0xffffffffn) | 0; R[16] = 0;
        R[2] = Number((t >> 32n) & 0xffffffffn) | 0; R[18] = 0;
        return 0;
      }
      case M.Rdtscp: {
        this.sys({ ...d, mn: M.Rdtsc }, idx);
        R[1] = this.tscAux; R[17] = 0;
        return 0;
      }
      case M.Cli: case M.Sti: {
        if (this.cpl > ((this.fl >> 12) & 3)) this.raise(GP, 0);
        if (mn === M.Cli) this.fl &= ~IF;
        else {
          // STI shadow: interrupts stay blocked until after the next instruction (SDM STI).
          if ((this.fl & IF) === 0) this.shadowUntil = this.retired + idx + 2;
          this.fl |= IF;
        }
        return 0;
      }
      case M.Popfq: case M.Popf: {
        const size = mn === M.Popf ? 2 : 8;
        const sp = this.regAddr(4);
        const v = size === 8 ? this.rd64(sp, 2) >>> 0 : this.rd16(sp, 2);
        let mask = POPF_MASK;
        if (this.cpl > 0) mask &= ~0x3000; // IOPL only at CPL 0
        if (this.cpl > ((this.fl >> 12) & 3)) mask &= ~IF;
        if (size === 2) mask &= 0xffff;
        this.fo = 0;
        this.materializeInto(mask, v);
        this.setRegNum(4, sp + size);
        return 0;
      }
      case M.Lahf: this.materialize(); R[0] = (R[0]! & ~0xff00) | (((this.fl | 2) & 0xd7) << 8); return 0;
      case M.Sahf: this.materialize(); this.fl = (this.fl & ~(SF | ZF | AF | PF | CF)) | ((R[0]! >> 8) & (SF | ZF | AF | PF | CF)); return 0;
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

  private materializeInto(mask: number, v: number): void {
    this.fl = ((this.fl & ~mask) | (v & mask) | FIXED1) >>> 0;
  }

  /** The effective address of a sys instruction's memory operand. */
  private memEa(d: DInsn): number {
    let ea: number;
    if (d.asz === 4) {
      let v = d.memDisp | 0;
      if (d.memBase >= 0) v += this.R[d.memBase]!;
      if (d.memIndex >= 0) v += this.R[d.memIndex]! * d.memScale;
      ea = v >>> 0;
    } else if (d.memBase >= 0 && d.memIndex >= 0) ea = this.eaWide(d.memBase, d.memIndex, d.memScale, d.memDisp);
    else {
      ea = d.memDisp;
      if (d.memBase >= 0) ea += this.regAddr(d.memBase);
      if (d.memIndex >= 0) ea += this.regAddr(d.memIndex) * d.memScale;
    }
    return ea + (d.memSeg === 4 ? this.fsBase : d.memSeg === 5 ? this.gsBase : 0);
  }

  /** IN/OUT (E4-E7, EC-EF): exit 'io' (the VMM completes IN by writing AL/AX/EAX). */
  private io(d: DInsn): number {
    const M = Mnemonic;
    if (this.cpl > ((this.fl >> 12) & 3)) this.raise(GP, 0); // no I/O bitmap: CPL > IOPL faults
    const isIn = d.mn === M.In;
    const portOp = isIn ? d.ops[1]! : d.ops[0]!;
    const dataOp = isIn ? d.ops[0]! : d.ops[1]!;
    const e = this.exit;
    e.port = portOp.kind === OK.Imm ? portOp.immLo & 0xff : this.R[2]! & 0xffff;
    e.ioSize = dataOp.size;
    e.ioIn = isIn;
    e.ioValue = isIn ? 0 : dataOp.size === 1 ? this.R[0]! & 0xff : dataOp.size === 2 ? this.R[0]! & 0xffff : this.R[0]! >>> 0;
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
    const M = Mnemonic, mn = d.mn, R = this.R;
    if (this.cpl > ((this.fl >> 12) & 3)) this.raise(GP, 0); // no I/O bitmap: CPL > IOPL faults
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
    const R = this.R, size = e.ioSize, a32 = e.ioAsz === 4;
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
    const delta = this.fl & DF ? -size : size;
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

  private softInt(vec: number, d: DInsn): number {
    this.lastException = { vector: vec, errorCode: -1, rip: d.rip, text: d.text };
    this.deliver(vec, -1, d.next, 'soft');
    return 1;
  }

  /** IRETQ (REX.W CF) in 64-bit mode: pops RIP, CS, RFLAGS, RSP, SS (SDM IRET, IA-32e mode). */
  private iret(d: DInsn): number {
    const sp = this.regAddr(4);
    const w = d.mn === Mnemonic.Iretq ? 8 : d.mn === Mnemonic.Iretd ? 4 : 2;
    const rd = (k: number): number => {
      if (w === 8) { const lo = this.rd64(sp + k * 8, 2); const v = (lo >>> 0) + this.th * TWO32; return v; }
      return w === 4 ? this.rd32(sp + k * 4, 2) >>> 0 : this.rd16(sp + k * 2, 2);
    };
    const nrip = rd(0), ncs = rd(1) & 0xffff, nfl = rd(2), nrsp = rd(3), nss = rd(4) & 0xffff;
    if (!(nrip >= -CANON && nrip < CANON)) this.raise(GP, 0);
    const newCpl = ncs & 3;
    if (newCpl < this.cpl || (ncs & ~3) === 0) this.raise(GP, ncs & ~3);
    let mask = POPF_MASK | 0x20000;
    if (this.cpl > 0) mask &= ~0x3000;
    if (this.cpl > ((this.fl >> 12) & 3)) mask &= ~IF;
    this.fo = 0;
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
    this.R[11] = rfl | 0; this.R[27] = 0;
    const sel = Number((this.star >> 32n) & 0xffffn);
    this.cs = sel & 0xfffc;
    this.ss = (sel + 8) & 0xfffc;
    this.fl = (this.fl & ~(this.fmask | RF)) | FIXED1;
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
    this.fo = 0;
    this.fl = ((this.R[11]! & 0x3c7fd7) | FIXED1) >>> 0;
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
    this.wr64(frameTemp, this.R[5]!, this.R[21]!, 2);
    for (let k = 1; k < level; k++) {
      const lo = this.rd64(rbp - 8 * k, 2);
      this.wr64(frameTemp - 8 * k, lo, this.th, 2);
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
    const R = this.R;
    if (d.mn === Mnemonic.Cmpxchg16b) {
      if (ea % 16 !== 0) this.raise(GP, 0);
      const l0 = this.rdw64(ea, ss), h0 = this.th, l1 = this.rdw64(ea + 8, ss), h1 = this.th;
      this.materialize();
      if (l0 === R[0] && h0 === R[16] && l1 === R[2] && h1 === R[18]) {
        this.wr64(ea, R[3]!, R[19]!, ss); this.wr64(ea + 8, R[1]!, R[17]!, ss);
        this.fl |= ZF;
      } else {
        this.wr64(ea, l0, h0, ss); this.wr64(ea + 8, l1, h1, ss);
        R[0] = l0; R[16] = h0; R[2] = l1; R[18] = h1;
        this.fl &= ~ZF;
      }
      return 0;
    }
    const lo = this.rdw32(ea, ss), hi = this.rdw32(ea + 4, ss);
    this.materialize();
    if (lo === R[0] && hi === R[2]) { this.wr32(ea, R[3]!, ss); this.wr32(ea + 4, R[1]!, ss); this.fl |= ZF; }
    else { this.wr32(ea, lo, ss); this.wr32(ea + 4, hi, ss); R[0] = lo; R[16] = 0; R[2] = hi; R[18] = 0; this.fl &= ~ZF; }
    return 0;
  }
}

// ----------------------------------------------------------------------------- tables

/** Accessor flag for an instruction's memory operand: 2 when its segment is SS (RSP/RBP base). */
function ssOf(d: DInsn): number { return d.memSeg === 2 ? 2 : 0; }

import { Register } from '../iced';

function crNumber(reg: number): number {
  const Rg = Register as unknown as Record<string, number>;
  for (const n of [0, 2, 3, 4, 8]) if (Rg[`CR${n}`] === reg) return n;
  if (reg >= Rg.CR0! && reg <= Rg.CR15!) return reg - Rg.CR0!;
  return -1;
}

function segSelector(c: Vcpu, reg: number): number {
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

function vecName(v: number): string {
  const names: Record<number, string> = { 0: '#DE', 1: '#DB', 3: '#BP', 4: '#OF', 6: '#UD', 8: '#DF', 10: '#TS', 11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF' };
  return names[v] ?? `vector ${v}`;
}

/** Vendor string: 12 ASCII bytes in EBX, EDX, ECX order (SDM CPUID leaf 0). */
const VENDOR = 'ExitScopeCPU';
function str4(s: string, i: number): number {
  return (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) >>> 0;
}

/**
 * CPUID leaves (SDM Vol. 2A CPUID, Tables 3-8 ... 3-20). Feature bits only for what the vCPU
 * implements: FPU-less integer core with TSC, MSR, PAE, CX8, APIC, SEP-less SYSCALL, PGE,
 * CMOV, CX16, POPCNT, x2APIC; extended: LM, NX, SYSCALL, LAHF-SAHF in 64-bit, ABM (LZCNT),
 * BMI1 (TZCNT) is not advertised (TZCNT decodes as REP BSF elsewhere; we implement TZCNT).
 */
export function cpuidLeaf(leaf: number, sub: number, apicId: number): [number, number, number, number] {
  void sub;
  switch (leaf) {
    case 0: return [0x0d, str4(VENDOR, 0), str4(VENDOR, 8), str4(VENDOR, 4)];
    case 1: {
      // Family 6, model 0x55 (stepping 4): eax = stepping | model<<4 | family<<8 | extModel<<16
      const eax = 0x4 | (0x5 << 4) | (0x6 << 8) | (0x5 << 16);
      const ebx = (apicId << 24) | (1 << 16) | (8 << 8);
      const ecx = (1 << 13) /* CX16 */ | (1 << 21) /* x2APIC */ | (1 << 23) /* POPCNT */ | (1 << 24) /* TSC-deadline */ | (1 << 31) /* hypervisor */;
      const edx = (1 << 4) /* TSC */ | (1 << 5) /* MSR */ | (1 << 6) /* PAE */ | (1 << 8) /* CX8 */ | (1 << 9) /* APIC */
        | (1 << 13) /* PGE */ | (1 << 15) /* CMOV */;
      return [eax, ebx, ecx >>> 0, edx];
    }
    case 7: return sub === 0 ? [0, 1 << 3 /* BMI1 (TZCNT) */, 0, 0] : [0, 0, 0, 0];
    case 0x80000000: return [0x80000008, 0, 0, 0];
    case 0x80000001: return [0, 0, (1 << 0) /* LAHF/SAHF */ | (1 << 5) /* ABM: LZCNT */, (1 << 11) /* SYSCALL */ | (1 << 20) /* NX */ | (1 << 29) /* LM */];
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const brand = 'exitscope x86-64 vCPU (emulated)'.padEnd(48, ' ');
      const o = (leaf - 0x80000002) * 16;
      return [str4(brand, o), str4(brand, o + 4), str4(brand, o + 8), str4(brand, o + 12)];
    }
    case 0x80000008: return [0x3030, 0, 0, 0]; // 48-bit physical and linear addresses
    default: return [0, 0, 0, 0];
  }
}
