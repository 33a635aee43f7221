/**
 * The vCPU's state (SDM Vol. 1 §3.4, Vol. 3A §2): general-purpose registers in a typed array,
 * RIP, RFLAGS with the lazy status-flag record (flags.ts), control registers, segment state,
 * MSR values, the run counters, and the scratch fields generated block functions use to
 * talk to the dispatcher. The layers above add the TLB (tlb.ts), memory accessors
 * (memory.ts), event delivery (events.ts), ALU and string helpers (alu.ts, strings.ts),
 * system instructions (system.ts), block lookup (blocks.ts) and the run loop (vcpu.ts).
 *
 * Two kinds of abnormal end of an instruction travel as thrown sentinels, never as Errors:
 *   FAULT - a guest exception (delivered through the IDT inside the vCPU),
 *   EXIT  - a VM exit (returned to the VMM; fault-like: the instruction had no effect).
 * Emulator bugs are real Errors and stop the run with reason 'error'.
 */
import type { AccessKind, StopInfo } from '../events';
import type { CodeCache } from './codeCache';
import { CF, computeStatus, FIXED1, FK, parity, SF, STATUS, testCond, ZF } from './flags';
import type { Ept, GuestRam } from '../mem';
import { VmExit } from './vmexit';
import { CANON, CR0_ET, CR0_MP, CR0_NE, CR0_PE, CR0_PG, CR0_WP, CR4_OSFXSR, CR4_PAE, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, GP, type SegName, toU64, TWO32 } from './x86';

/** Thrown for a guest exception being raised (vector and error code in the vCPU). */
export const FAULT = { sentinel: 'fault' };
/** Thrown for a VM exit (the exit record is filled in). */
export const EXIT = { sentinel: 'exit' };
/** Thrown by translation when the run stops at a program end (stopInfo is set). */
export const RAN_OFF = { sentinel: 'ran-off-end' };

/**
 * APICv fast path: complete an MMIO access without an exit. Return the value read (bigint),
 * `true` for a completed write, or null to exit as usual. May set `vcpu.apicWritePending`.
 */
export type MmioFastPath = (gpa: number, size: number, isWrite: boolean, value: bigint) => bigint | boolean | null;

/**
 * APICv in x2APIC mode: complete an intercepted RDMSR/WRMSR without an exit (the MSR bitmap lets
 * it through). Return the value read (bigint), `true` for a completed write, or null to exit.
 */
export type MsrFastPath = (msr: number, isWrite: boolean, value: bigint) => bigint | boolean | null;

export interface VcpuOptions {
  ram: GuestRam;
  ept: Ept;
  /** Shared by the VM's vCPUs. */
  codeCache: CodeCache;
  vcpuId: number;
}

export interface PendingEvent {
  vector: number;
  errorCode: number; // -1: none
  cr2: number | null;
  external: boolean;
}


export abstract class VcpuState {
  readonly id: number;
  readonly ram: GuestRam;
  readonly ept: Ept;
  readonly codeCache: CodeCache;
  /** RAM as a DataView (the accessors' fast paths read and write through it). */
  readonly ramView: DataView;

  // ---- architectural state
  /** GPRs: lo 32 bits at [i], hi 32 bits at [i + 16] (SDM Vol. 1 §3.4.1). */
  readonly gpr = new Int32Array(32);
  rip = 0;
  /**
   * RFLAGS, except that the status flags (CF PF AF ZF SF OF) are stale while a lazy record is
   * pending (lazyOp != 0): read them with getRflags(), cond(), carryFlag().
   */
  rflags = FIXED1;
  /** The lazy status-flag record (flags.ts LazyFlags). */
  lazyOp = 0; lazyResult = 0; lazyResultHi = 0; lazyA = 0; lazyAHi = 0; lazyB = 0; lazyBHi = 0; lazyCarry = 0;
  cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
  cr2 = 0;
  cr3 = 0;
  cr4 = CR4_PAE | CR4_OSFXSR;
  cr8 = 0;
  efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
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
  /** Reads of the TSC (RDTSC, RDTSCP, RDMSR 0x10): the guest has seen modeled time pass. */
  tscReads = 0;
  requestInterruptWindow = false;
  /** APICv: set by the fast path to exit 'apic-write' after the current instruction. */
  apicWritePending = false;
  mmioFastPath: MmioFastPath | null = null;
  msrFastPath: MsrFastPath | null = null;
  /**
   * A write the CPU virtualized (EOI, TPR, SELF IPI) made it evaluate pending virtual interrupts
   * (SDM Vol. 3C §29.2): the run ends after the instruction, not a VM exit, so that the machine
   * delivers one at this instruction boundary, not at the slice's end.
   */
  virtualIntrEval = false;
  readonly exit = new VmExit();
  /** Why the vCPU stopped for good (triple fault, unsupported, error); null while runnable. */
  stopInfo: StopInfo | null = null;
  /**
   * Where the program's image ends (linear address -> what ends there, e.g. "the end of .text,
   * after line 12"), set by the machine. A program without `hlt` falls through its last
   * instruction into zeroed memory, which decodes as `add [rax], al` forever: reaching an end
   * whose first two bytes are zero stops the run ('ran-off-end'). Blocks end at these addresses.
   */
  programEnds: ReadonlyMap<number, string> = new Map();
  /** The last exception delivered (for UIs and stop messages). */
  lastException: { vector: number; errorCode: number; rip: number; text: string } | null = null;
  /** An event to deliver at the next VM entry (injected, or re-queued after an exit). */
  protected pending: PendingEvent | null = null;
  /** Interrupts are inhibited until `retired` reaches this (STI / MOV SS shadow). */
  protected shadowUntil = 0;

  // ---- generated-code scratch (public: read by block functions)
  /** High 32 bits of a 64-bit value returned by a helper or an accessor (the low half is the return value). */
  resultHi = 0;
  /** Low 32 bits, for helpers that return a status instead (bitscan, lea64). */
  resultLo = 0;
  /** Index (instructions retired in the block before it) of the instruction that faulted or exited. */
  faultIndex = 0;
  /**
   * End the running block after the current instruction: a store hit a code page (SMC), or
   * the APICv fast path asked for an 'apic-write' exit.
   */
  endBlock = false;
  /**
   * A VM exit is pending (set by a soft accessor, `rd32(ea, 1)` etc.): the generated code
   * stores the instruction's index in `faultIndex` and returns -1, without throwing.
   */
  exitPending = false;

  // ---- exception being raised
  protected excVec = 0;
  protected excErr = -1;

  constructor(opts: VcpuOptions) {
    this.id = opts.vcpuId;
    this.ram = opts.ram;
    this.ept = opts.ept;
    this.codeCache = opts.codeCache;
    this.ramView = opts.ram.view;
  }

  // =============================================================================== registers

  getGpr(i: number): bigint { return toU64(this.gpr[i]!, this.gpr[i + 16]!); }
  setGpr(i: number, v: bigint): void {
    if (v >= 0n && v <= 0xffffffffn) {
      // The common case (an emulated 32-bit load): no BigInt built for the halves.
      this.gpr[i] = Number(v) | 0;
      this.gpr[i + 16] = 0;
      return;
    }
    const u = BigInt.asUintN(64, v);
    this.gpr[i] = Number(u & 0xffffffffn) | 0;
    this.gpr[i + 16] = Number(u >> 32n) | 0;
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
  regAddr(i: number): number { return (this.gpr[i]! >>> 0) + this.gpr[i + 16]! * TWO32; }
  setRegNum(i: number, v: number): void {
    this.gpr[i] = v | 0;
    this.gpr[i + 16] = Math.floor(v / TWO32) | 0;
  }

  getRflags(): number {
    this.materialize();
    return (this.rflags | FIXED1) >>> 0;
  }
  setRflags(v: number): void {
    this.lazyOp = 0;
    this.rflags = ((v & 0x3f7fd7) | FIXED1) >>> 0;
  }

  segBase(seg: SegName): number {
    return seg === 'fs' ? this.fsBase : seg === 'gs' ? this.gsBase : 0;
  }

  // =============================================================================== flags

  materialize(): void {
    if (this.lazyOp !== 0) {
      this.rflags = (this.rflags & ~STATUS) | computeStatus(this);
      this.lazyOp = 0;
    }
  }
  /** CF without materializing the rest (ADC/SBB/INC/DEC/RCL read it). */
  carryFlag(): number {
    const op = this.lazyOp;
    if (op === 0) return this.rflags & CF;
    const kind = op >> 2;
    if (kind === FK.Logic) return 0;
    if (kind === FK.Inc || kind === FK.Dec) return this.lazyCarry;
    return computeStatus(this) & CF ? 1 : 0;
  }
  cond(cc: number): boolean {
    this.materialize();
    return testCond(cc, this.rflags);
  }
  /** CLC/STC/CMC (F8/F9/F5). */
  setCF(op: number): void {
    this.materialize();
    if (op === 0) this.rflags &= ~CF;
    else if (op === 1) this.rflags |= CF;
    else this.rflags ^= CF;
  }
  protected setStatus(f: number): void {
    this.lazyOp = 0;
    this.rflags = (this.rflags & ~STATUS) | f;
  }
  protected szp(v: bigint, bits: number): number {
    let f = parity(Number(v & 0xffn));
    if (v === 0n) f |= ZF;
    if ((v >> BigInt(bits - 1)) & 1n) f |= SF;
    return f;
  }
  protected materializeInto(mask: number, v: number): void {
    this.rflags = ((this.rflags & ~mask) | (v & mask) | FIXED1) >>> 0;
  }

  // =============================================================================== raising

  /** Raise a guest exception (errorCode -1: none). Never returns. */
  raise(vector: number, errorCode = -1): never {
    this.excVec = vector;
    this.excErr = errorCode;
    throw FAULT;
  }
  /** `pagingEntry`: the access was the walk's own, to a guest paging-structure entry (VmExit). */
  protected exitMem(kind: 'mmio' | 'ept-violation', la: number, gpa: number, access: AccessKind, pagingEntry = false): never {
    const e = this.exit;
    e.reason = kind;
    e.gla = la;
    e.gpa = gpa;
    e.access = access;
    e.pagingEntry = pagingEntry;
    throw EXIT;
  }
  protected exitInsn(reason: 'hlt' | 'io' | 'cpuid' | 'rdmsr' | 'wrmsr' | 'vmcall'): never {
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
}
