/**
 * APICv (Intel APIC virtualization, SDM Vol. 3C ch. 30 "APIC Virtualization and Virtual
 * Interrupts"), as the 'apicv' strategy models it: with "virtualize APIC accesses",
 * "APIC-register virtualization" and "virtual-interrupt delivery", most accesses to the APIC
 * page complete inside the CPU:
 *
 * - Reads (§30.4.2): a read of at most 32 bits within bytes 3:0 of a register on the list
 *   below is served from the virtual-APIC page: no exit. Other reads (current count 390H,
 *   PPR, unaligned or wider reads, other offsets) cause an APIC-access exit (fault-like),
 *   which our VMM handles like any MMIO exit (walk, fetch, decode, emulate).
 * - Writes (§30.4.3): a 32-bit write to offset 0 of a virtualized register goes to the
 *   virtual-APIC page; TPR and EOI are then emulated by the CPU (TPR virtualization, EOI
 *   virtualization; §30.1.2, §30.1.3), a self-IPI by self-IPI virtualization (§30.1.5), and
 *   ICR high needs nothing (§30.4.3.2): no exit. Other virtualized registers, and ICR low for
 *   any other IPI, cause a trap-like APIC-write exit after the instruction (§30.4.3.3): no
 *   decode needed, the VMM reads the offset from the exit qualification. Anything else is an
 *   APIC-access exit.
 *
 * The LAPIC device is the virtual-APIC page here: the fast path reads and writes it
 * directly, so a trap-like write's side effects have happened when the 'apic-write' exit is
 * handled (Vmm charges the handler).
 */
import { chargeCycles, type CostModel, type CostUnits } from '../cost';
import type { MmioDevice } from '../devices/mmio';
import type { AccessSize } from '../devices/mmio';
import {
  LAPIC_DFR, LAPIC_EOI, LAPIC_ESR, LAPIC_ICR_HI, LAPIC_ICR_LO, LAPIC_ID, LAPIC_IRR, LAPIC_ISR, LAPIC_LDR,
  LAPIC_LVT_ERROR, LAPIC_LVT_LINT0, LAPIC_LVT_LINT1, LAPIC_LVT_PERF, LAPIC_LVT_THERMAL, LAPIC_LVT_TIMER, LAPIC_SVR,
  LAPIC_TIMER_DCR, LAPIC_TIMER_ICR, LAPIC_TMR, LAPIC_TPR, LAPIC_VERSION,
} from '../devices/lapic';
import { X2APIC_MSRS } from '../guestAbi';

/** The vCPU's hooks (src/core/cpu Vcpu.mmioFastPath, Vcpu.msrFastPath). */
export type MmioFastPathFn = (gpa: number, size: number, isWrite: boolean, value: bigint) => bigint | boolean | null;
export type MsrFastPathFn = (msr: number, isWrite: boolean, value: bigint) => bigint | boolean | null;

/**
 * Offsets whose reads the CPU serves from the virtual-APIC page without an exit when "APIC-
 * register virtualization" is on (30.4.2 "Virtualizing Reads from the APIC-Access Page"):
 * ID, version, TPR, EOI, LDR, DFR, SVR, ISR, TMR, IRR, ESR, ICR, the LVTs, initial count and
 * divide configuration. Not APR, PPR, RRD or the current count: those reads still exit
 * (APIC-access exit, fault-like: the VMM decodes and emulates them).
 */
const APICV_READ_OFFSETS: ReadonlySet<number> = new Set([
  LAPIC_ID, LAPIC_VERSION, LAPIC_TPR, LAPIC_EOI, LAPIC_LDR, LAPIC_DFR, LAPIC_SVR,
  ...Array.from({ length: 8 }, (_, i) => LAPIC_ISR + i * 16),
  ...Array.from({ length: 8 }, (_, i) => LAPIC_TMR + i * 16),
  ...Array.from({ length: 8 }, (_, i) => LAPIC_IRR + i * 16),
  LAPIC_ESR, LAPIC_ICR_LO, LAPIC_ICR_HI, LAPIC_LVT_TIMER, LAPIC_LVT_THERMAL, LAPIC_LVT_PERF,
  LAPIC_LVT_LINT0, LAPIC_LVT_LINT1, LAPIC_LVT_ERROR, LAPIC_TIMER_ICR, LAPIC_TIMER_DCR,
]);

/**
 * Offsets whose writes are virtualized and then emulated by the CPU's APIC-write emulation
 * with a trap-like APIC-write VM exit (30.4.3.2 "APIC-Write Emulation"): the VMM applies the
 * value from the virtual-APIC page without any decode.
 */
const APICV_WRITE_TRAP_OFFSETS: ReadonlySet<number> = new Set([
  LAPIC_ID, LAPIC_LDR, LAPIC_DFR, LAPIC_SVR, LAPIC_ESR, LAPIC_LVT_TIMER, LAPIC_LVT_THERMAL,
  LAPIC_LVT_PERF, LAPIC_LVT_LINT0, LAPIC_LVT_LINT1, LAPIC_LVT_ERROR, LAPIC_TIMER_ICR,
  LAPIC_TIMER_DCR,
]);

/**
 * How APICv handles an access to the APIC-access page, with "use TPR shadow", "APIC-register
 * virtualization" and "virtual-interrupt delivery" all on (KVM's and bhyve's setting):
 * - 'virtualized': the CPU completes it with no exit (cost.apicvAccess);
 * - 'apic-write': trap-like APIC-write exit after the write, no decode (exit + apicWriteHandler);
 * - 'apic-access': a fault-like APIC-access exit: the full instruction-emulation path.
 */
export type ApicvOutcome = 'virtualized' | 'apic-write' | 'apic-access';

/**
 * Does APICv serve this read without an exit? 30.4.2: only accesses of at most 32 bits that do
 * not cross a 32-bit boundary and fall in the first 4 bytes of a listed register.
 */
export function isVirtualizableRead(offset: number, size: number = 4): boolean {
  if (size > 4 || (offset & ~3) !== ((offset + size - 1) & ~3) || (offset & 0xf) >= 4) return false;
  return APICV_READ_OFFSETS.has(offset & 0xff0);
}

export function apicvReadOutcome(offset: number, size: number = 4): ApicvOutcome {
  return isVirtualizableRead(offset, size) ? 'virtualized' : 'apic-access';
}

/**
 * What APICv does with a write of `value` (30.4.3). Only aligned 32-bit writes are considered
 * (narrower LAPIC writes are illegal anyway and take the emulation path here: a simplification).
 * - TPR: TPR virtualization, no exit (the TPR-threshold exit cannot happen with
 *   virtual-interrupt delivery on).
 * - EOI: EOI virtualization, no exit (our interrupts are edge-triggered, so no vector is in the
 *   EOI-exit bitmap).
 * - ICR low: self-IPI virtualization, no exit, for a fixed, edge, physical-mode IPI with the
 *   "self" shorthand and a vector >= 16 (reserved bits 0); any other IPI is an APIC-write exit.
 * - ICR high: virtualized, no exit (the CPU clears bits 23:0; the IPI is sent by the ICR low
 *   write).
 * - ID, LDR, DFR, SVR, ESR, LVTs, initial count, divide: APIC-write exit.
 * - Anything else (read-only registers, reserved offsets): APIC-access exit.
 */
export function apicvWriteOutcome(offset: number, size: number, value: number): ApicvOutcome {
  if (size !== 4 || (offset & 0xf) !== 0) return 'apic-access';
  switch (offset) {
    case LAPIC_TPR:
    case LAPIC_EOI:
    case LAPIC_ICR_HI:
      return 'virtualized';
    case LAPIC_ICR_LO: {
      const shorthand = (value >>> 18) & 3;
      const vector = value & 0xff;
      return (value & 0xfff3b700) === 0 && shorthand === 1 && vector >= 16
        ? 'virtualized'
        : 'apic-write';
    }
  }
  return APICV_WRITE_TRAP_OFFSETS.has(offset) ? 'apic-write' : 'apic-access';
}

export interface ApicvCounters {
  /** Accesses completed without an exit. */
  virtualized: number;
  /** Writes followed by a trap-like APIC-write exit. */
  traps: number;
  /** Accesses left to a full APIC-access exit. */
  exits: number;
  /** Modeled cycles of the virtualized accesses (the machine adds them to guest time). */
  cycles: number;
}

/**
 * The fast-path handler for one vCPU: install as `vcpu.mmioFastPath`. `lapic` is that vCPU's
 * LAPIC (base = the APIC page); `requestTrap` asks the vCPU for an 'apic-write' exit after
 * the instruction (the machine passes `() => { vcpu.apicWritePending = true; }`).
 */
export function createApicvFastPath(
  lapic: MmioDevice, cost: Readonly<CostModel>, requestTrap: () => void, counters: ApicvCounters, units?: CostUnits,
): MmioFastPathFn {
  return (gpa, size, isWrite, value) => {
    const offset = gpa - lapic.base;
    if (offset < 0 || offset >= 0x1000) return null;
    const kind = isWrite ? apicvWriteOutcome(offset, size, Number(value & 0xffff_ffffn)) : apicvReadOutcome(offset, size);
    if (kind === 'apic-access') {
      counters.exits++;
      return null;
    }
    counters.virtualized++;
    counters.cycles += chargeCycles('apicvAccess', 1, cost, units);
    if (!isWrite) return lapic.read(gpa, size as AccessSize);
    lapic.write(gpa, size as AccessSize, value);
    if (kind === 'apic-write') {
      counters.traps++;
      requestTrap();
    }
    return true;
  };
}

/**
 * x2APIC MSRs the guest reads without an exit: bhyve's `vmx_allow_x2apic_msrs` (FreeBSD r262281)
 * passes reads of ID, version, LDR, SVR, ISR/TMR/IRR, ESR, the LVTs, initial count, DCR and ICR,
 * and reads and writes of TPR, EOI and SELF IPI; with "virtualize x2APIC mode" and "APIC-register
 * virtualization" the CPU serves them from the virtual-APIC page (SDM Vol. 3C §29.5). PPR and
 * current-count reads and every other write (the ICR's too) still exit. Reads of EOI and SELF IPI
 * (write-only registers) exit here, to the #GP the LAPIC gives them: a simplification.
 */
const X2APIC_READS: ReadonlySet<number> = new Set([
  X2APIC_MSRS.MSR_X2APIC_ID, X2APIC_MSRS.MSR_X2APIC_VERSION, X2APIC_MSRS.MSR_X2APIC_TPR, X2APIC_MSRS.MSR_X2APIC_LDR,
  X2APIC_MSRS.MSR_X2APIC_SVR,
  ...Array.from({ length: 8 }, (_, i) => X2APIC_MSRS.MSR_X2APIC_ISR0 + i),
  ...Array.from({ length: 8 }, (_, i) => X2APIC_MSRS.MSR_X2APIC_TMR0 + i),
  ...Array.from({ length: 8 }, (_, i) => X2APIC_MSRS.MSR_X2APIC_IRR0 + i),
  X2APIC_MSRS.MSR_X2APIC_ESR, X2APIC_MSRS.MSR_X2APIC_ICR, X2APIC_MSRS.MSR_X2APIC_LVT_TIMER, X2APIC_MSRS.MSR_X2APIC_LVT_THERMAL,
  X2APIC_MSRS.MSR_X2APIC_LVT_PERF, X2APIC_MSRS.MSR_X2APIC_LVT_LINT0, X2APIC_MSRS.MSR_X2APIC_LVT_LINT1,
  X2APIC_MSRS.MSR_X2APIC_LVT_ERROR, X2APIC_MSRS.MSR_X2APIC_TIMER_ICR, X2APIC_MSRS.MSR_X2APIC_TIMER_DCR,
]);

/**
 * x2APIC MSRs the guest writes without an exit: TPR (TPR virtualization), EOI (EOI
 * virtualization: our interrupts are edge-triggered, none is in the EOI-exit bitmap) and SELF IPI
 * (self-IPI virtualization), with virtual-interrupt delivery on (SDM Vol. 3C §29.1.2-§29.1.5,
 * §29.5; bhyve `vmx_allow_x2apic_msrs`).
 */
const X2APIC_WRITES: ReadonlySet<number> = new Set([
  X2APIC_MSRS.MSR_X2APIC_TPR, X2APIC_MSRS.MSR_X2APIC_EOI, X2APIC_MSRS.MSR_X2APIC_SELF_IPI,
]);

/** The x2APIC registers the MSR fast path reads and writes. */
export interface X2apicRegisters {
  readonly mode: string;
  readX2apicMsr(msr: number): bigint | null;
  writeX2apicMsr(msr: number, value: bigint): boolean;
}

/**
 * The MSR fast path for one vCPU in x2APIC mode: install as `vcpu.msrFastPath`. An access the
 * bitmap passes completes in the CPU (cost.apicvAccess); one that would fault (#GP: a reserved
 * bit set, say) takes the exit, where the VMM injects the #GP, as it does for everything else.
 */
export function createApicvMsrFastPath(
  lapic: X2apicRegisters, cost: Readonly<CostModel>, counters: ApicvCounters, units?: CostUnits,
): MsrFastPathFn {
  return (msr, isWrite, value) => {
    if (lapic.mode !== 'x2apic' || !(isWrite ? X2APIC_WRITES : X2APIC_READS).has(msr)) return null;
    const done = isWrite ? (lapic.writeX2apicMsr(msr, value) ? true : null) : lapic.readX2apicMsr(msr);
    if (done === null) return null;
    counters.virtualized++;
    counters.cycles += chargeCycles('apicvAccess', 1, cost, units);
    return done;
  };
}

export function newApicvCounters(): ApicvCounters {
  return { virtualized: 0, traps: 0, exits: 0, cycles: 0 };
}
