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
 *   virtualization; §30.1.2, §30.1.3): no exit. Other virtualized registers cause a
 *   trap-like APIC-write exit after the instruction (§30.4.3.3): no decode needed, the VMM
 *   reads the offset from the exit qualification. Anything else is an APIC-access exit.
 *
 * The LAPIC device is the virtual-APIC page here: the fast path reads and writes it
 * directly, so a trap-like write's side effects have happened when the 'apic-write' exit is
 * handled (Vmm charges the handler).
 */
import { chargeCycles, type CostModel, type CostUnits } from '../cost';
import type { MmioDevice } from '../devices/mmio';
import type { AccessSize } from '../devices/mmio';

/** The vCPU's hook (src/core/cpu Vcpu.mmioFastPath). */
export type MmioFastPathFn = (gpa: number, size: number, isWrite: boolean, value: bigint) => bigint | boolean | null;

/** Register offsets whose reads are virtualized (§30.4.2, "APIC-register virtualization"). */
export function apicvReadVirtualized(offset: number): boolean {
  const reg = offset & ~0xf;
  switch (reg) {
    case 0x020: case 0x030: case 0x080: case 0x0b0: case 0x0d0: case 0x0e0: case 0x0f0:
    case 0x280: case 0x300: case 0x310: case 0x320: case 0x330: case 0x340: case 0x350:
    case 0x360: case 0x370: case 0x380: case 0x3e0:
      return true;
    default:
      return reg >= 0x100 && reg <= 0x270; // ISR 100H-170H, TMR 180H-1F0H, IRR 200H-270H
  }
}

/** Register offsets whose 32-bit writes are virtualized (§30.4.3.1). */
export function apicvWriteVirtualized(offset: number): boolean {
  switch (offset) {
    case 0x020: case 0x080: case 0x0b0: case 0x0d0: case 0x0e0: case 0x0f0: case 0x280:
    case 0x300: case 0x310: case 0x320: case 0x330: case 0x340: case 0x350: case 0x360:
    case 0x370: case 0x380: case 0x3e0:
      return true;
    default:
      return false;
  }
}

export const APICV_EXIT = 0;
export const APICV_NO_EXIT = 1;
export const APICV_TRAP = 2;

/** What the CPU does with an access to the APIC-access page at `offset` (0..0xfff). */
export function apicvClassify(offset: number, size: number, isWrite: boolean): number {
  if (!isWrite) {
    if (size > 4 || (offset & 0xf) + size > 4) return APICV_EXIT;
    return apicvReadVirtualized(offset) ? APICV_NO_EXIT : APICV_EXIT;
  }
  if (size !== 4 || !apicvWriteVirtualized(offset)) return APICV_EXIT;
  // TPR virtualization and EOI virtualization complete in the CPU; the rest trap.
  return offset === 0x080 || offset === 0x0b0 ? APICV_NO_EXIT : APICV_TRAP;
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
    const kind = apicvClassify(offset, size, isWrite);
    if (kind === APICV_EXIT) {
      counters.exits++;
      return null;
    }
    counters.virtualized++;
    counters.cycles += chargeCycles('apicvAccess', 1, cost, units);
    if (!isWrite) return lapic.read(gpa, size as AccessSize);
    lapic.write(gpa, size as AccessSize, value);
    if (kind === APICV_TRAP) {
      counters.traps++;
      requestTrap();
    }
    return true;
  };
}

export function newApicvCounters(): ApicvCounters {
  return { virtualized: 0, traps: 0, exits: 0, cycles: 0 };
}
