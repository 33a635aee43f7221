/**
 * Local APIC in xAPIC (MMIO) and x2APIC (MSR) mode, as the Intel SDM Vol. 3A ch. 11 "Advanced Programmable
 * Interrupt Controller (APIC)" describes it (ch. 12 in newer editions); section numbers
 * below are the ch. 11 ones. One instance per vCPU.
 *
 * Pure and deterministic: time is the vCPU's modeled cycles (the TSC), never the host clock.
 * The timer counts at (modeled cycles / timerCyclesPerCount / divisor).
 *
 * How the machine drives it (lapic.test.ts "routes IPIs between two vCPUs" wires two):
 * - before an MMIO or MSR access the LAPIC syncs itself to `clock()` (an option), so reads of
 *   the current count and timer expiries are exact at the instruction that makes them;
 * - `advanceTo(now)` raises every timer interrupt due by `now`; `nextEventAt()` says when the
 *   next one is due, so the machine can bound a vCPU's run slice;
 * - `pendingVector()` / `acknowledge(v)` implement acceptance on VM entry (IRR -> ISR);
 * - `onIpi(dest, vector)` asks the machine to deliver a fixed IPI to other vCPUs, which it
 *   does with `isIpiTarget(dest)` and `acceptInterrupt(vector)` on each of their LAPICs.
 *
 * Access rules (the SDM only defines aligned 32-bit accesses, 11.4.1): the page is 256 slots
 * of 16 bytes, each holding a 32-bit register in its first 4 bytes and 12 reserved bytes.
 * - An aligned 4-byte access to an implemented register is the normal case.
 * - Any other read returns the bytes of that image (register bytes, reserved bytes read 0),
 *   so it is deterministic, and flags ESR "illegal register address" (bit 7).
 * - Any other write is ignored (like KVM's apic_mmio_write: a partial EOI or ICR write has no
 *   defined meaning) and flags ESR bit 7.
 * - Reads of reserved offsets return 0 and flag ESR bit 7; writes to read-only registers are
 *   ignored without an error.
 *
 * Modes (IA32_APIC_BASE EN bit 11, EXTD bit 10; SDM Vol. 3A §10.12.1, §10.12.5; the facts and
 * sources are in shared/research/x2apic-and-fast-mmio.md): xAPIC (the reset state), x2APIC,
 * disabled. In x2APIC mode the registers are MSRs 0x800-0x8FF (`readX2apicMsr`), the ICR is
 * one 64-bit MSR with a 32-bit destination, and the MMIO page no longer reaches the APIC
 * (§10.12.2): reads return all ones and writes are dropped, as KVM does with its default
 * LAPIC_MMIO_HOLE quirk (apic_mmio_read/apic_mmio_write). The disabled APIC answers the page
 * the same way and accepts no interrupts.
 */
import { APIC_BASE_BITS, LAPIC_BASE, LAPIC_OFFSETS, LAPIC_SIZE, MSRS, X2APIC_MSRS } from '../guestAbi';
import type { AccessSize, MmioDevice } from './mmio';

export { LAPIC_BASE, LAPIC_SIZE };

// Register offsets: SDM Vol. 3A Table 11-1 "Local APIC Register Address Map", as the guest ABI names them.
export const {
  LAPIC_ID, LAPIC_VERSION, LAPIC_TPR, LAPIC_APR, LAPIC_PPR, LAPIC_EOI, LAPIC_RRD, LAPIC_LDR, LAPIC_DFR, LAPIC_SVR,
  LAPIC_ISR, LAPIC_TMR, LAPIC_IRR, LAPIC_ESR, LAPIC_ICR_LO, LAPIC_ICR_HI, LAPIC_LVT_TIMER, LAPIC_LVT_THERMAL,
  LAPIC_LVT_PERF, LAPIC_LVT_LINT0, LAPIC_LVT_LINT1, LAPIC_LVT_ERROR, LAPIC_TIMER_ICR, LAPIC_TIMER_CCR, LAPIC_TIMER_DCR,
} = LAPIC_OFFSETS;

export const { MSR_APIC_BASE: MSR_IA32_APIC_BASE, MSR_TSC_DEADLINE: MSR_IA32_TSC_DEADLINE } = MSRS;

/**
 * Version register: version 0x14 (an integrated xAPIC, 11.4.8), max LVT entry 5 (timer,
 * thermal, perf, LINT0, LINT1, error: no CMCI), bit 24 clear (no EOI-broadcast suppression).
 */
export const LAPIC_VERSION_VALUE = 0x00050014;

// SVR bits (11.9 "Spurious Interrupt").
export const SVR_APIC_ENABLE = 1 << 8;
// LVT bits (11.5.1 "Local Vector Table").
export const LVT_MASKED = 1 << 16;
export const LVT_DELIVERY_STATUS = 1 << 12;
export const LVT_TIMER_MODE_SHIFT = 17;
// ESR bits (11.5.3 "Error Handling").
export const ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
export const ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
export const ESR_ILLEGAL_REGISTER = 1 << 7;

export type TimerMode = 'one-shot' | 'periodic' | 'tsc-deadline';

/** IA32_APIC_BASE (EN, EXTD): (1,0) xAPIC, (1,1) x2APIC, (0,0) disabled (§10.12.5). */
export type ApicMode = 'xapic' | 'x2apic' | 'disabled';

/**
 * IA32_APIC_BASE reserved bits: 7:0, 9, and 63:48 (MAXPHYADDR is 48: CPUID 0x80000008).
 * A WRMSR that sets any of them #GPs (SDM Vol. 3A §10.4.4, Figure 10-5).
 */
const APIC_BASE_RESERVED = 0xffff_0000_0000_02ffn;

/** The x2APIC MSR range the MSR map covers (§10.12.1.2); 0x900-0xBFF are reserved too. */
export const X2APIC_MSR_FIRST = 0x800;
export const X2APIC_MSR_LAST = 0x8ff;

/**
 * Where a fixed IPI goes besides this LAPIC (self delivery is done locally):
 * a physical APIC ID, every other LAPIC ('others'), or a logical destination (8 bits from an
 * xAPIC sender, 32 bits from an x2APIC one; each receiver matches it in its own mode).
 */
export type IpiDestination = number | 'others' | { logical: number };

export interface LocalApicOptions {
  /** This vCPU's APIC ID (0..254; 255 is the physical broadcast address). */
  apicId: number;
  /** Modeled cycles now (the vCPU's TSC). Without it, time moves only by advanceTo. */
  clock?: () => number;
  /** Called for a fixed IPI that targets other vCPUs (synchronously, during the ICR write). */
  onIpi?: (dest: IpiDestination, vector: number) => void;
  /** Modeled cycles per timer count before the divider (the "bus clock" ratio); default 1. */
  timerCyclesPerCount?: number;
  /** Guest-physical base of the MMIO window; default LAPIC_BASE. */
  base?: number;
}

/** One register as the UI shows it. Matches the worker protocol's `lapic` rows. */
export interface LapicRegisterView {
  name: string;
  offset: number;
  value: number;
}

/** Counters for the UI and tests. */
export interface LapicStats {
  /** Interrupts accepted into the IRR (any source). */
  accepted: number;
  /** Interrupts moved IRR -> ISR by acknowledge (injected). */
  delivered: number;
  eois: number;
  ipisSent: number;
  /** IPIs with a delivery mode this model does not deliver (NMI, SMI, INIT, SIPI). */
  ipisIgnored: number;
  /** Accesses to the MMIO page while it does not reach the APIC (x2APIC mode or disabled). */
  mmioIgnored: number;
  /** x2APIC register accesses through RDMSR/WRMSR (0x800-0x8FF), #GP ones included. */
  x2apicMsrAccesses: number;
  /** Timer expirations (a periodic timer skipped over counts every period). */
  timerExpirations: number;
}

type RegAccess = 'rw' | 'ro' | 'wo';
interface RegDef {
  name: string;
  offset: number;
  access: RegAccess;
}

/** Every implemented register, in address order (SDM Table 11-1). */
export const LAPIC_REGISTERS: readonly RegDef[] = (() => {
  const regs: RegDef[] = [
    { name: 'ID', offset: LAPIC_ID, access: 'rw' },
    { name: 'VERSION', offset: LAPIC_VERSION, access: 'ro' },
    { name: 'TPR', offset: LAPIC_TPR, access: 'rw' },
    { name: 'APR', offset: LAPIC_APR, access: 'ro' },
    { name: 'PPR', offset: LAPIC_PPR, access: 'ro' },
    { name: 'EOI', offset: LAPIC_EOI, access: 'wo' },
    { name: 'RRD', offset: LAPIC_RRD, access: 'ro' },
    { name: 'LDR', offset: LAPIC_LDR, access: 'rw' },
    { name: 'DFR', offset: LAPIC_DFR, access: 'rw' },
    { name: 'SVR', offset: LAPIC_SVR, access: 'rw' },
  ];
  for (let i = 0; i < 8; i++) regs.push({ name: `ISR${i}`, offset: LAPIC_ISR + i * 16, access: 'ro' });
  for (let i = 0; i < 8; i++) regs.push({ name: `TMR${i}`, offset: LAPIC_TMR + i * 16, access: 'ro' });
  for (let i = 0; i < 8; i++) regs.push({ name: `IRR${i}`, offset: LAPIC_IRR + i * 16, access: 'ro' });
  regs.push(
    { name: 'ESR', offset: LAPIC_ESR, access: 'rw' },
    { name: 'ICR_LO', offset: LAPIC_ICR_LO, access: 'rw' },
    { name: 'ICR_HI', offset: LAPIC_ICR_HI, access: 'rw' },
    { name: 'LVT_TIMER', offset: LAPIC_LVT_TIMER, access: 'rw' },
    { name: 'LVT_THERMAL', offset: LAPIC_LVT_THERMAL, access: 'rw' },
    { name: 'LVT_PERF', offset: LAPIC_LVT_PERF, access: 'rw' },
    { name: 'LVT_LINT0', offset: LAPIC_LVT_LINT0, access: 'rw' },
    { name: 'LVT_LINT1', offset: LAPIC_LVT_LINT1, access: 'rw' },
    { name: 'LVT_ERROR', offset: LAPIC_LVT_ERROR, access: 'rw' },
    { name: 'TIMER_ICR', offset: LAPIC_TIMER_ICR, access: 'rw' },
    { name: 'TIMER_CCR', offset: LAPIC_TIMER_CCR, access: 'ro' },
    { name: 'TIMER_DCR', offset: LAPIC_TIMER_DCR, access: 'rw' },
  );
  return regs;
})();

const REG_BY_OFFSET: ReadonlyMap<number, RegDef> = new Map(LAPIC_REGISTERS.map((r) => [r.offset, r]));

/**
 * xAPIC offsets of the registers readable through x2APIC MSRs (Table 10-6, besides the ICR,
 * which is handled whole): no APR, RRD, DFR or ICR high exist in x2APIC mode; EOI is write-only.
 */
const X2APIC_READABLE: ReadonlySet<number> = new Set([
  LAPIC_ID, LAPIC_VERSION, LAPIC_TPR, LAPIC_PPR, LAPIC_LDR, LAPIC_SVR,
  ...Array.from({ length: 8 }, (_, i) => LAPIC_ISR + i * 16),
  ...Array.from({ length: 8 }, (_, i) => LAPIC_TMR + i * 16),
  ...Array.from({ length: 8 }, (_, i) => LAPIC_IRR + i * 16),
  LAPIC_ESR, LAPIC_LVT_TIMER, LAPIC_LVT_THERMAL, LAPIC_LVT_PERF, LAPIC_LVT_LINT0, LAPIC_LVT_LINT1,
  LAPIC_LVT_ERROR, LAPIC_TIMER_ICR, LAPIC_TIMER_CCR, LAPIC_TIMER_DCR,
]);

/** Offsets whose x2APIC MSR takes a plain 32-bit write (TPR, EOI, ESR, ICR, SELF IPI are special). */
const X2APIC_WRITABLE: ReadonlySet<number> = new Set([
  LAPIC_SVR, LAPIC_LVT_TIMER, LAPIC_LVT_THERMAL, LAPIC_LVT_PERF, LAPIC_LVT_LINT0, LAPIC_LVT_LINT1,
  LAPIC_LVT_ERROR, LAPIC_TIMER_ICR, LAPIC_TIMER_DCR,
]);

// Writable bits of each LVT (11.5.1, Figure 11-8): vector, delivery mode where it exists,
// polarity/trigger for LINT, timer mode for the timer, mask. Delivery status and remote IRR
// are read-only (and always 0 here: delivery is instantaneous).
const LVT_TIMER_WMASK = 0x000700ff;
const LVT_LINT_WMASK = 0x0001a7ff;
const LVT_ERROR_WMASK = 0x000100ff;
const LVT_THERMAL_PERF_WMASK = 0x000107ff;
// ICR low (11.6.1, Figure 11-12): vector, delivery mode, destination mode, level, trigger,
// shorthand; bit 12 (delivery status) reads 0 because an IPI is delivered at once.
const ICR_LO_WMASK = 0x000ccfff;

/** Highest set bit of a 256-bit vector register set, or -1. */
function highestBit(regs: Uint32Array): number {
  for (let i = 7; i >= 0; i--) {
    const w = regs[i];
    if (w !== 0) return i * 32 + 31 - Math.clz32(w);
  }
  return -1;
}

function testBit(regs: Uint32Array, v: number): boolean {
  return ((regs[v >>> 5] >>> (v & 31)) & 1) === 1;
}
function setBit(regs: Uint32Array, v: number): void {
  regs[v >>> 5] |= 1 << (v & 31);
}
function clearBit(regs: Uint32Array, v: number): void {
  regs[v >>> 5] &= ~(1 << (v & 31));
}

/** Divide Configuration Register -> divisor (11.5.4, Figure 11-10): bits 3,1:0. */
export function timerDivisor(dcr: number): number {
  const v = ((dcr & 0x8) >>> 1) | (dcr & 0x3);
  return 1 << ((v + 1) & 7); // 000 -> 2, 001 -> 4, ... 110 -> 128, 111 -> 1
}

export class LocalApic implements MmioDevice {
  readonly base: number;
  readonly size = LAPIC_SIZE;
  readonly apicId: number;
  readonly stats: LapicStats = {
    accepted: 0, delivered: 0, eois: 0, ipisSent: 0, ipisIgnored: 0, timerExpirations: 0,
    mmioIgnored: 0, x2apicMsrAccesses: 0,
  };

  private readonly clock: (() => number) | undefined;
  private readonly onIpi: ((dest: IpiDestination, vector: number) => void) | undefined;
  private readonly cyclesPerCount: number;

  // Architectural state. Vector registers are 8 x 32 bits, bit v = vector v.
  private modeNow: ApicMode = 'xapic';
  private readonly irr = new Uint32Array(8);
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private tpr = 0;
  private ldr = 0;
  private dfr = 0xffffffff;
  private svr = 0xff;
  /** ESR as last latched by a write to it (what reads return). */
  private esr = 0;
  /** Errors detected since the last ESR write (11.5.3). */
  private esrPending = 0;
  private icrLo = 0;
  private icrHi = 0;
  private lvtTimer = LVT_MASKED;
  private lvtThermal = LVT_MASKED;
  private lvtPerf = LVT_MASKED;
  private lvtLint0 = LVT_MASKED;
  private lvtLint1 = LVT_MASKED;
  private lvtError = LVT_MASKED;
  private timerInitial = 0;
  private dcr = 0;
  private tscDeadline = 0n;

  // Timer state. `timerDeadline` is the modeled cycle of the next expiry while armed.
  private now = 0;
  private timerArmed = false;
  private timerDeadline = Infinity;
  /**
   * The guest has seen time pass through this LAPIC (armed its timer or read the current
   * count): its run then depends on the modeled cycles, so other costs would change what it
   * does, not only what it costs (the what-if view re-runs such a guest).
   */
  timeObserved = false;
  /** Modeled cycles per count at the current divisor. */
  private timerTick: number;

  constructor(opts: LocalApicOptions) {
    if (!(Number.isInteger(opts.apicId) && opts.apicId >= 0 && opts.apicId < 0xff)) {
      throw new RangeError(`APIC ID must be 0..254, got ${opts.apicId}`);
    }
    const cpc = opts.timerCyclesPerCount ?? 1;
    if (!(cpc > 0 && Number.isFinite(cpc))) {
      throw new RangeError(`timerCyclesPerCount must be positive, got ${cpc}`);
    }
    this.apicId = opts.apicId;
    this.base = opts.base ?? LAPIC_BASE;
    this.clock = opts.clock;
    this.onIpi = opts.onIpi;
    this.cyclesPerCount = cpc;
    this.timerTick = timerDivisor(this.dcr) * cpc;
    this.now = this.clock ? this.clock() : 0;
  }

  /** Power-on/INIT state (11.4.7.1): xAPIC mode, LVTs masked, SVR 0xFF (software-disabled), DFR all 1s. */
  reset(): void {
    this.resetRegisters();
    this.modeNow = 'xapic';
    for (const k of Object.keys(this.stats) as (keyof LapicStats)[]) this.stats[k] = 0;
  }

  /** The register state of 11.4.7.1, without touching the mode or the counters. */
  private resetRegisters(): void {
    this.irr.fill(0);
    this.isr.fill(0);
    this.tmr.fill(0);
    this.tpr = this.ldr = this.esr = this.esrPending = this.icrLo = this.icrHi = 0;
    this.dfr = 0xffffffff;
    this.svr = 0xff;
    this.lvtTimer = this.lvtThermal = this.lvtPerf = LVT_MASKED;
    this.lvtLint0 = this.lvtLint1 = this.lvtError = LVT_MASKED;
    this.timerInitial = 0;
    this.dcr = 0;
    this.tscDeadline = 0n;
    this.timerArmed = false;
    this.timerDeadline = Infinity;
    this.timerTick = timerDivisor(0) * this.cyclesPerCount;
  }

  // ---- state queries -------------------------------------------------------------------

  /** xAPIC, x2APIC or disabled, as IA32_APIC_BASE says. */
  get mode(): ApicMode {
    return this.modeNow;
  }

  /** True while the MMIO page reaches the registers (xAPIC mode only, §10.12.2). */
  get mmioEnabled(): boolean {
    return this.modeNow === 'xapic';
  }

  /** x2APIC logical ID (§10.12.10.2): cluster ID[19:4] in bits 31:16, bit ID[3:0] below. */
  private x2apicLdr(): number {
    return (((this.apicId >>> 4) << 16) | (1 << (this.apicId & 0xf))) >>> 0;
  }

  /** SVR bit 8 (11.4.7.2). */
  get softwareEnabled(): boolean {
    return (this.svr & SVR_APIC_ENABLE) !== 0;
  }

  get timerMode(): TimerMode {
    const m = (this.lvtTimer >>> LVT_TIMER_MODE_SHIFT) & 3;
    // Mode 11b is reserved; it counts like one-shot here (a documented, deterministic choice).
    return m === 1 ? 'periodic' : m === 2 ? 'tsc-deadline' : 'one-shot';
  }

  /** Last modeled time this LAPIC was synced to. */
  get time(): number {
    return this.now;
  }

  /**
   * Processor priority (11.8.3.1): PPR = TPR when TPR[7:4] >= ISRV[7:4], otherwise
   * ISRV[7:4] with the low nibble 0 (ISRV = highest in-service vector, 0 if none).
   */
  ppr(): number {
    const isrv = Math.max(0, highestBit(this.isr));
    return (this.tpr & 0xf0) >= (isrv & 0xf0) ? this.tpr : isrv & 0xf0;
  }

  /**
   * Arbitration priority (11.6.2.4 Figure 11-15): TPR when TPR[7:4] >= IRRV[7:4] and
   * TPR[7:4] > ISRV[7:4]; otherwise the largest of the three classes with the low nibble 0.
   */
  apr(): number {
    const isrv = Math.max(0, highestBit(this.isr));
    const irrv = Math.max(0, highestBit(this.irr));
    const t = this.tpr & 0xf0;
    if (t >= (irrv & 0xf0) && t > (isrv & 0xf0)) return this.tpr;
    return Math.max(t, isrv & 0xf0, irrv & 0xf0);
  }

  /**
   * The vector the processor would accept now (11.8.4 "Interrupt Acceptance for Fixed
   * Interrupts"): the highest IRR vector whose priority class is above PPR[7:4], or -1.
   * It does not look at RFLAGS.IF or interrupt shadows: that is the vCPU's side.
   * Interrupts already in the IRR stay deliverable while the APIC is software-disabled
   * (11.4.7.2 "pending interrupts in the IRR and ISR registers are held").
   */
  pendingVector(): number {
    const v = highestBit(this.irr);
    if (v < 0) return -1;
    return (v & 0xf0) > (this.ppr() & 0xf0) ? v : -1;
  }

  /** Moves `vector` from IRR to ISR: the processor accepted it (INTA). Precondition: in IRR. */
  acknowledge(vector: number): void {
    if (!(vector >= 0 && vector < 256 && testBit(this.irr, vector))) {
      throw new Error(`LAPIC ${this.apicId}: acknowledge(${vector}) but the vector is not in the IRR`);
    }
    clearBit(this.irr, vector);
    setBit(this.isr, vector);
    this.stats.delivered++;
  }

  /** True when the vector is requested (IRR) or in service (ISR): for tests and the UI. */
  isRequested(vector: number): boolean {
    return testBit(this.irr, vector);
  }
  isInService(vector: number): boolean {
    return testBit(this.isr, vector);
  }

  /**
   * A fixed, edge-triggered interrupt arrives (LVT, IPI). A software-disabled APIC ignores it
   * (as bhyve's vlapic_set_intr_ready does; 11.4.7.2 lists only INIT/NMI/SMI/SIPI as still
   * accepted). Vectors 0-15 are illegal: ESR "receive illegal vector", nothing is set (11.5.3).
   * Returns true when the vector was set in the IRR.
   */
  acceptInterrupt(vector: number, level = false): boolean {
    if (!this.softwareEnabled || this.modeNow === 'disabled') return false;
    const v = vector & 0xff;
    if (v < 16) {
      this.signalError(ESR_RECEIVE_ILLEGAL_VECTOR);
      return false;
    }
    setBit(this.irr, v);
    if (level) setBit(this.tmr, v);
    else clearBit(this.tmr, v);
    this.stats.accepted++;
    return true;
  }

  /**
   * True when a fixed IPI sent to `dest` by another LAPIC targets this one. Physical mode
   * (11.6.2.1): the APIC ID, or 0xFF broadcast. Logical mode (11.6.2.2): flat model (DFR model
   * 1111b) when LDR[31:24] & MDA != 0; cluster model (0000b) when LDR[31:28] = MDA[7:4] and
   * LDR[27:24] & MDA[3:0] != 0; MDA 0xFF is a broadcast in both.
   */
  isIpiTarget(dest: IpiDestination): boolean {
    if (this.modeNow === 'disabled') return false;
    if (dest === 'others') return true;
    const x2 = this.modeNow === 'x2apic';
    if (typeof dest === 'number') return dest === this.apicId || (!x2 && dest === 0xff);
    if (x2) {
      // x2APIC logical mode is always clustered (§10.12.10.2): 16-bit cluster, 16-bit mask.
      const mda = dest.logical >>> 0;
      if (mda === 0xffffffff) return true;
      const ldr = this.x2apicLdr();
      return mda >>> 16 === ldr >>> 16 && (mda & ldr & 0xffff) !== 0;
    }
    const mda = dest.logical & 0xff;
    if (mda === 0xff) return true;
    const ld = this.ldr >>> 24;
    if ((this.dfr >>> 28) === 0xf) return (ld & mda) !== 0;
    return ld >>> 4 === mda >>> 4 && (ld & mda & 0xf) !== 0;
  }

  // ---- time -------------------------------------------------------------------------------

  /**
   * Moves this LAPIC's time to `nowCycles` (never backwards) and raises every timer interrupt
   * due by then. A periodic timer that missed several periods raises one interrupt (the IRR
   * holds one bit per vector) and counts every expiration.
   */
  advanceTo(nowCycles: number): void {
    if (nowCycles > this.now) this.now = nowCycles;
    if (!this.timerArmed || this.timerDeadline > this.now) return;
    const mode = this.timerMode;
    if (mode === 'tsc-deadline') {
      // 11.5.4.1: the timer fires once when TSC >= deadline; the MSR then reads 0 (KVM does
      // the same in apic_timer_expired).
      this.timerArmed = false;
      this.timerDeadline = Infinity;
      this.tscDeadline = 0n;
      this.stats.timerExpirations++;
      this.fireTimer();
      return;
    }
    if (mode === 'periodic') {
      const k = this.periodsDue(this.now);
      this.timerDeadline += k * this.timerInitial * this.timerTick;
      this.stats.timerExpirations += k;
    } else {
      this.timerArmed = false;
      this.timerDeadline = Infinity;
      this.stats.timerExpirations++;
    }
    this.fireTimer();
  }

  /**
   * Modeled cycle at which the next interrupt of this LAPIC's own (the timer) is due, or
   * Infinity. A masked timer still counts but raises nothing, so it is not an event.
   */
  nextEventAt(): number {
    if (!this.timerArmed || (this.lvtTimer & LVT_MASKED) !== 0) return Infinity;
    return this.timerDeadline;
  }

  /** Timer current count at this LAPIC's time (11.5.4): 0 when idle or in TSC-deadline mode. */
  currentCount(): number {
    return this.countAt(this.now);
  }

  /** Periods of a periodic timer that end by cycle `at`, its deadline being due (<= at). */
  private periodsDue(at: number): number {
    return Math.floor((at - this.timerDeadline) / (this.timerInitial * this.timerTick)) + 1;
  }

  /**
   * Timer current count at cycle `at` (at or after this LAPIC's time): as after advanceTo(at),
   * without it: an expired one-shot reads 0, a periodic timer counts from its last reload.
   */
  private countAt(at: number): number {
    if (!this.timerArmed || this.timerMode === 'tsc-deadline') return 0;
    let deadline = this.timerDeadline;
    if (deadline <= at) {
      if (this.timerMode !== 'periodic') return 0;
      deadline += this.periodsDue(at) * this.timerInitial * this.timerTick;
    }
    return Math.min(this.timerInitial, Math.ceil((deadline - at) / this.timerTick));
  }

  /** The vector a timer due by cycle `at` raises (what advanceTo(at) would accept), or null. */
  private timerVectorDue(at: number): number | null {
    if (!this.timerArmed || this.timerDeadline > at || (this.lvtTimer & LVT_MASKED) !== 0) return null;
    const v = this.lvtTimer & 0xff;
    return this.softwareEnabled && this.modeNow !== 'disabled' && v >= 16 ? v : null;
  }

  private sync(): void {
    this.advanceTo(this.clock ? this.clock() : this.now);
  }

  private fireTimer(): void {
    if ((this.lvtTimer & LVT_MASKED) === 0) this.acceptInterrupt(this.lvtTimer & 0xff);
  }

  /** Starts a one-shot/periodic count of `count` from now at the current divisor. */
  private startCount(count: number): void {
    if (count === 0) {
      this.timerArmed = false;
      this.timerDeadline = Infinity;
      return;
    }
    this.timerArmed = true;
    this.timeObserved = true;
    this.timerDeadline = this.now + count * this.timerTick;
  }

  // ---- MMIO -------------------------------------------------------------------------------

  read(gpa: number, size: AccessSize): bigint {
    const off = this.offsetOf(gpa, size);
    if (!this.mmioEnabled) {
      this.stats.mmioIgnored++;
      return (1n << BigInt(size * 8)) - 1n;
    }
    this.sync();
    if (size === 4 && (off & 0xf) === 0) {
      if (!REG_BY_OFFSET.has(off)) this.signalError(ESR_ILLEGAL_REGISTER);
      return BigInt(this.readReg(off));
    }
    // Irregular access: bytes of the 16-byte-slot image, see the file comment.
    this.signalError(ESR_ILLEGAL_REGISTER);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) {
      const a = off + i;
      const inReg = (a & 0xf) < 4;
      const byte = inReg ? (this.readReg(a & ~0xf) >>> ((a & 3) * 8)) & 0xff : 0;
      v = (v << 8n) | BigInt(byte);
    }
    return v;
  }

  write(gpa: number, size: AccessSize, value: bigint): void {
    const off = this.offsetOf(gpa, size);
    if (!this.mmioEnabled) {
      this.stats.mmioIgnored++;
      return;
    }
    this.sync();
    if (size !== 4 || (off & 0xf) !== 0 || !REG_BY_OFFSET.has(off)) {
      this.signalError(ESR_ILLEGAL_REGISTER);
      return;
    }
    this.writeReg(off, Number(BigInt.asUintN(32, value)));
  }

  /** The 32-bit value of the register at `offset` (0 for reserved offsets); no side effects. */
  readReg(offset: number): number {
    switch (offset) {
      case LAPIC_ID: return this.modeNow === 'x2apic' ? this.apicId : (this.apicId << 24) >>> 0;
      case LAPIC_VERSION: return LAPIC_VERSION_VALUE;
      case LAPIC_TPR: return this.tpr;
      case LAPIC_APR: return this.apr();
      case LAPIC_PPR: return this.ppr();
      case LAPIC_LDR: return this.modeNow === 'x2apic' ? this.x2apicLdr() : this.ldr;
      case LAPIC_DFR: return this.dfr;
      case LAPIC_SVR: return this.svr;
      case LAPIC_ESR: return this.esr;
      case LAPIC_ICR_LO: return this.icrLo;
      case LAPIC_ICR_HI: return this.icrHi;
      case LAPIC_LVT_TIMER: return this.lvtTimer;
      case LAPIC_LVT_THERMAL: return this.lvtThermal;
      case LAPIC_LVT_PERF: return this.lvtPerf;
      case LAPIC_LVT_LINT0: return this.lvtLint0;
      case LAPIC_LVT_LINT1: return this.lvtLint1;
      case LAPIC_LVT_ERROR: return this.lvtError;
      case LAPIC_TIMER_ICR: return this.timerInitial;
      case LAPIC_TIMER_CCR: this.timeObserved = true; return this.currentCount();
      case LAPIC_TIMER_DCR: return this.dcr;
    }
    if (offset >= LAPIC_ISR && offset < LAPIC_ISR + 0x80 && (offset & 0xf) === 0) {
      return this.isr[(offset - LAPIC_ISR) >>> 4] >>> 0;
    }
    if (offset >= LAPIC_TMR && offset < LAPIC_TMR + 0x80 && (offset & 0xf) === 0) {
      return this.tmr[(offset - LAPIC_TMR) >>> 4] >>> 0;
    }
    if (offset >= LAPIC_IRR && offset < LAPIC_IRR + 0x80 && (offset & 0xf) === 0) {
      return this.irr[(offset - LAPIC_IRR) >>> 4] >>> 0;
    }
    return 0; // EOI (write-only), RRD (not supported since the Pentium 4), reserved
  }

  /** An aligned 32-bit write to the register at `offset`, after sync. */
  private writeReg(offset: number, value: number): void {
    switch (offset) {
      case LAPIC_ID:
        // 11.4.6: software-writable APIC IDs are model specific. Like bhyve, the ID is fixed:
        // the machine routes IPIs by the ID it assigned.
        return;
      case LAPIC_TPR:
        this.tpr = value & 0xff;
        return;
      case LAPIC_EOI:
        this.eoi();
        return;
      case LAPIC_LDR:
        this.ldr = (value & 0xff000000) >>> 0;
        return;
      case LAPIC_DFR:
        // Bits 27:0 are reserved and read as 1s (11.6.2.2, Figure 11-14).
        this.dfr = ((value & 0xf0000000) | 0x0fffffff) >>> 0;
        return;
      case LAPIC_SVR:
        this.writeSvr(value);
        return;
      case LAPIC_ESR:
        // 11.5.3: a write latches the errors detected since the previous write and clears them.
        this.esr = this.esrPending;
        this.esrPending = 0;
        return;
      case LAPIC_ICR_HI:
        this.icrHi = (value & 0xff000000) >>> 0;
        return;
      case LAPIC_ICR_LO:
        this.icrLo = value & ICR_LO_WMASK;
        this.sendIpi();
        return;
      case LAPIC_LVT_TIMER:
        this.writeLvtTimer(value);
        return;
      case LAPIC_LVT_THERMAL:
        this.lvtThermal = this.lvtValue(value, LVT_THERMAL_PERF_WMASK);
        return;
      case LAPIC_LVT_PERF:
        this.lvtPerf = this.lvtValue(value, LVT_THERMAL_PERF_WMASK);
        return;
      case LAPIC_LVT_LINT0:
        this.lvtLint0 = this.lvtValue(value, LVT_LINT_WMASK);
        return;
      case LAPIC_LVT_LINT1:
        this.lvtLint1 = this.lvtValue(value, LVT_LINT_WMASK);
        return;
      case LAPIC_LVT_ERROR:
        this.lvtError = this.lvtValue(value, LVT_ERROR_WMASK);
        return;
      case LAPIC_TIMER_ICR:
        // 11.5.4.1: in TSC-deadline mode writes to the initial count are ignored.
        if (this.timerMode === 'tsc-deadline') return;
        this.timerInitial = value >>> 0;
        this.startCount(this.timerInitial);
        return;
      case LAPIC_TIMER_DCR: {
        // The count continues from its current value at the new rate (the partial count is
        // dropped: a deterministic simplification).
        const running = this.timerArmed && this.timerMode !== 'tsc-deadline';
        const count = running ? this.currentCount() : 0;
        this.dcr = value & 0xb;
        this.timerTick = timerDivisor(this.dcr) * this.cyclesPerCount;
        if (running) this.startCount(count);
        return;
      }
      default:
        return; // read-only registers: writes are ignored
    }
  }

  /** A masked LVT stays masked while the APIC is software-disabled (11.4.7.2). */
  private lvtValue(value: number, wmask: number): number {
    const v = value & wmask;
    return this.softwareEnabled ? v : v | LVT_MASKED;
  }

  private writeSvr(value: number): void {
    // Bits 7:0 vector, 8 APIC software enable, 9 focus processor checking (11.9, Figure
    // 11-23); bit 12 (EOI-broadcast suppression) is reserved because VERSION bit 24 is 0.
    this.svr = value & 0x3ff;
    if (!this.softwareEnabled) {
      // 11.4.7.2: software-disabling sets the mask bit of every LVT entry.
      this.lvtTimer |= LVT_MASKED;
      this.lvtThermal |= LVT_MASKED;
      this.lvtPerf |= LVT_MASKED;
      this.lvtLint0 |= LVT_MASKED;
      this.lvtLint1 |= LVT_MASKED;
      this.lvtError |= LVT_MASKED;
    }
  }

  private writeLvtTimer(value: number): void {
    const oldMode = this.timerMode;
    this.lvtTimer = this.lvtValue(value, LVT_TIMER_WMASK);
    const newMode = this.timerMode;
    // 11.5.4.1: a write that moves into or out of TSC-deadline mode disarms the timer.
    // Between one-shot and periodic the running count continues (the new mode applies at
    // expiry), as in KVM's apic_update_lvtt.
    if ((oldMode === 'tsc-deadline') !== (newMode === 'tsc-deadline')) {
      this.timerArmed = false;
      this.timerDeadline = Infinity;
      this.timerInitial = 0;
      this.tscDeadline = 0n;
    }
  }

  /** EOI (11.8.5): clears the highest-priority ISR bit; nothing in service is a no-op. */
  private eoi(): void {
    const v = highestBit(this.isr);
    if (v < 0) return;
    clearBit(this.isr, v);
    clearBit(this.tmr, v);
    this.stats.eois++;
  }

  /**
   * A write to ICR low sends an IPI (11.6.1). Fixed (000b) and lowest-priority (001b, which
   * this model delivers like fixed to every destination, without arbitration) are delivered;
   * SMI, NMI, INIT, SIPI are counted in stats.ipisIgnored and dropped: no guest here needs
   * them (every vCPU starts in long mode).
   */
  private sendIpi(): void {
    const lo = this.icrLo;
    const vector = lo & 0xff;
    const mode = (lo >>> 8) & 7;
    const logical = (lo & (1 << 11)) !== 0;
    const shorthand = (lo >>> 18) & 3;
    const x2 = this.modeNow === 'x2apic';
    if (mode !== 0 && mode !== 1) {
      this.stats.ipisIgnored++;
      return;
    }
    if (vector < 16) {
      this.signalError(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    this.stats.ipisSent++;
    let self = false;
    let others: IpiDestination | null = null;
    switch (shorthand) {
      case 1: // self
        self = true;
        break;
      case 2: // all including self
        self = true;
        others = 'others';
        break;
      case 3: // all excluding self
        others = 'others';
        break;
      default: {
        // xAPIC: destination in ICR bits 63:56; x2APIC: all of bits 63:32 (§10.12.9).
        const dest = x2 ? this.icrHi >>> 0 : this.icrHi >>> 24;
        const broadcast = x2 ? 0xffffffff : 0xff;
        if (logical) {
          const d: IpiDestination = { logical: dest };
          self = this.isIpiTarget(d);
          others = d;
        } else if (dest === broadcast) {
          self = true;
          others = 'others';
        } else if (dest === this.apicId) {
          self = true;
        } else {
          others = dest;
        }
      }
    }
    if (self) this.acceptInterrupt(vector);
    if (others !== null && this.onIpi) this.onIpi(others, vector);
  }

  /** Records an error (11.5.3) and raises the LVT error interrupt for a new one. */
  private signalError(bit: number): void {
    if ((this.esrPending & bit) !== 0) return;
    this.esrPending |= bit;
    if ((this.lvtError & LVT_MASKED) === 0) this.acceptInterrupt(this.lvtError & 0xff);
  }

  private offsetOf(gpa: number, size: number): number {
    const off = gpa - this.base;
    if (!(off >= 0 && off + size <= LAPIC_SIZE)) {
      throw new RangeError(
        `LAPIC access of ${size} bytes at 0x${gpa.toString(16)} is outside its page ` +
          `0x${this.base.toString(16)}`,
      );
    }
    return off;
  }

  // ---- MSRs and CR8 -------------------------------------------------------------------------

  /**
   * RDMSR of a LAPIC MSR, or null when `msr` is not one or the read #GPs (the caller injects
   * #GP). IA32_APIC_BASE (0x1B): the base, EN (bit 11), EXTD (bit 10), BSP (bit 8) for APIC
   * ID 0 (§10.4.4, §10.12.1). IA32_TSC_DEADLINE (0x6E0): reads 0 outside TSC-deadline mode.
   * 0x800-0x8FF: the x2APIC registers, only in x2APIC mode (§10.12.2).
   */
  readMsr(msr: number): bigint | null {
    if (msr === MSR_IA32_APIC_BASE) {
      const { APIC_BASE_EN, APIC_BASE_EXTD, APIC_BASE_BSP } = APIC_BASE_BITS;
      const bits = (this.modeNow === 'disabled' ? 0 : APIC_BASE_EN) | (this.modeNow === 'x2apic' ? APIC_BASE_EXTD : 0) |
        (this.apicId === 0 ? APIC_BASE_BSP : 0);
      return BigInt(this.base) | BigInt(bits);
    }
    if (msr === MSR_IA32_TSC_DEADLINE) {
      this.sync();
      return this.timerMode === 'tsc-deadline' ? this.tscDeadline : 0n;
    }
    if (msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST) return this.readX2apicMsr(msr);
    return null;
  }

  /**
   * WRMSR of a LAPIC MSR; false when `msr` is not one or the write #GPs. IA32_TSC_DEADLINE
   * outside TSC-deadline mode is ignored (11.5.4.1); 0 disarms; a deadline already past fires
   * at once. IA32_APIC_BASE: see writeApicBase. 0x800-0x8FF: writeX2apicMsr.
   */
  writeMsr(msr: number, value: bigint): boolean {
    if (msr === MSR_IA32_APIC_BASE) return this.writeApicBase(value);
    if (msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST) return this.writeX2apicMsr(msr, value);
    if (msr !== MSR_IA32_TSC_DEADLINE) return false;
    this.sync();
    if (this.timerMode !== 'tsc-deadline') return true;
    this.tscDeadline = BigInt.asUintN(64, value);
    if (this.tscDeadline === 0n) {
      this.timerArmed = false;
      this.timerDeadline = Infinity;
    } else {
      this.timerArmed = true;
      this.timeObserved = true;
      // A deadline beyond 2^53 cycles is never reached by any run: keep it armed forever.
      this.timerDeadline =
        this.tscDeadline <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(this.tscDeadline) : Infinity;
      this.advanceTo(this.now);
    }
    return true;
  }

  /**
   * IA32_APIC_BASE write (§10.12.5, Figure 10-27): xAPIC -> x2APIC, xAPIC -> disabled,
   * x2APIC -> disabled and disabled -> xAPIC are legal; x2APIC -> xAPIC, (EN=0, EXTD=1) and
   * reserved bits #GP; disabled -> x2APIC in one write #GPs too (KVM kvm_apic_set_base).
   * Disabling returns the registers to their reset state (§10.4.3 "may return to the state
   * described in Section 10.4.7.1": this model always does). Entering x2APIC keeps the ID and
   * derives the LDR (§10.12.5.1). The base address and BSP bits are not writable here:
   * relocating the APIC is not modeled.
   */
  private writeApicBase(value: bigint): boolean {
    if ((value & APIC_BASE_RESERVED) !== 0n) return false;
    const en = (value & BigInt(APIC_BASE_BITS.APIC_BASE_EN)) !== 0n;
    const extd = (value & BigInt(APIC_BASE_BITS.APIC_BASE_EXTD)) !== 0n;
    if (!en && extd) return false;
    const next: ApicMode = !en ? 'disabled' : extd ? 'x2apic' : 'xapic';
    const from = this.modeNow;
    if (next === from) return true;
    if (from === 'x2apic' && next === 'xapic') return false;
    if (from === 'disabled' && next === 'x2apic') return false;
    this.sync();
    if (next === 'disabled') this.resetRegisters();
    this.modeNow = next;
    return true;
  }

  /**
   * RDMSR of an x2APIC register (§10.12.1.2 Table 10-6), or null for #GP: outside x2APIC mode,
   * reserved addresses (no ICR high 0x831, no DFR 0x80E, no APR, RRD or CMCI here), and the
   * write-only EOI and SELF IPI (as KVM's kvm_lapic_readable_reg_mask and illumos vlapic_rdmsr).
   */
  readX2apicMsr(msr: number): bigint | null {
    this.stats.x2apicMsrAccesses++;
    if (this.modeNow !== 'x2apic') return null;
    const M = X2APIC_MSRS;
    if (msr === M.MSR_X2APIC_ICR) return (BigInt(this.icrHi >>> 0) << 32n) | BigInt(this.icrLo >>> 0);
    const offset = (msr - X2APIC_MSR_FIRST) << 4;
    if (!X2APIC_READABLE.has(offset)) return null;
    this.sync();
    return BigInt(this.readReg(offset) >>> 0);
  }

  /**
   * WRMSR of an x2APIC register (§10.12.1.2, §10.12.1.3), false for #GP: outside x2APIC mode,
   * reserved or read-only addresses, bits 63:32 set on anything but the ICR, non-zero EOI or
   * ESR writes, TPR bits 31:8, reserved ICR bits (bit 12, Delivery Status, is ignored: the
   * x2APIC ICR has none), SELF IPI bits 31:8.
   */
  writeX2apicMsr(msr: number, value: bigint): boolean {
    this.stats.x2apicMsrAccesses++;
    if (this.modeNow !== 'x2apic') return false;
    const M = X2APIC_MSRS;
    const v = BigInt.asUintN(64, value);
    const lo = Number(v & 0xffff_ffffn) >>> 0;
    const hi = Number(v >> 32n) >>> 0;
    if (msr === M.MSR_X2APIC_ICR) {
      if ((lo & ~(ICR_LO_WMASK | LVT_DELIVERY_STATUS)) !== 0) return false;
      this.sync();
      this.icrHi = hi;
      this.icrLo = lo & ICR_LO_WMASK;
      this.sendIpi();
      return true;
    }
    if (hi !== 0) return false;
    this.sync();
    switch (msr) {
      case M.MSR_X2APIC_TPR:
        if (lo > 0xff) return false;
        this.tpr = lo;
        return true;
      case M.MSR_X2APIC_EOI:
        if (lo !== 0) return false;
        this.eoi();
        return true;
      case M.MSR_X2APIC_ESR:
        if (lo !== 0) return false;
        this.writeReg(LAPIC_ESR, 0);
        return true;
      case M.MSR_X2APIC_SELF_IPI: {
        // §10.12.11: the same as an ICR write with the self shorthand, fixed, edge.
        if (lo > 0xff) return false;
        if (lo < 16) {
          this.signalError(ESR_SEND_ILLEGAL_VECTOR);
          return true;
        }
        this.stats.ipisSent++;
        this.acceptInterrupt(lo);
        return true;
      }
    }
    const offset = (msr - X2APIC_MSR_FIRST) << 4;
    if (!X2APIC_WRITABLE.has(offset)) return false;
    this.writeReg(offset, lo);
    return true;
  }

  /** The register an x2APIC MSR names (`ICR`, `EOI`, ...), or null for a reserved address. */
  static x2apicRegisterName(msr: number): string | null {
    if (msr === X2APIC_MSRS.MSR_X2APIC_SELF_IPI) return 'SELF_IPI';
    if (msr === X2APIC_MSRS.MSR_X2APIC_ICR) return 'ICR';
    if (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST) return null;
    const off = (msr - X2APIC_MSR_FIRST) << 4;
    if (!X2APIC_READABLE.has(off) && !X2APIC_WRITABLE.has(off) && off !== LAPIC_EOI) return null;
    return REG_BY_OFFSET.get(off)?.name ?? null;
  }

  /** CR8 reads TPR[7:4] (SDM Vol. 3A 11.8.6). */
  readCr8(): number {
    return this.tpr >>> 4;
  }
  /** MOV to CR8 sets TPR[7:4] and clears TPR[3:0]. */
  writeCr8(value: number): void {
    this.tpr = (value & 0xf) << 4;
  }

  // ---- UI ----------------------------------------------------------------------------------

  /** Every implemented register as a read at the vCPU's time would find it, with no side effect. */
  snapshot(): LapicRegisterView[] {
    // This LAPIC syncs lazily (at the guest's next access, or when its timer is due), so its own
    // time may lag the vCPU's: a current count taken at it was stale, and read differently
    // after a step than after a run to the same instruction. A view must not sync (raising an
    // interrupt sooner would change the run): it shows what a read at the vCPU's time would,
    // a timer due by then counting from its reload, its vector requested in IRR.
    const at = Math.max(this.now, this.clock ? this.clock() : this.now);
    const due = this.timerVectorDue(at);
    const irr = due === null ? null : { offset: LAPIC_IRR + (due >>> 5) * 16, value: (this.irr[due >>> 5] | (1 << (due & 31))) >>> 0 };
    return LAPIC_REGISTERS.map((r) => ({
      name: r.name,
      offset: r.offset,
      value: r.offset === LAPIC_TIMER_CCR ? this.countAt(at) : r.offset === irr?.offset ? irr.value : this.readReg(r.offset),
    }));
  }
}
