/**
 * The seams of the VMM: what it needs from the vCPU, the VM and the devices, as structural
 * types, so the exit path can be driven by the real Vcpu (src/core/cpu) or by a small fake in
 * tests. Memory types are the real ones from src/core/mem (DESIGN.md "Core contracts").
 */
import type { AccessKind, ExitReason, SegName } from '../events';
import type { MmioDevice } from '../devices/mmio';
import type { Ept, GuestRam } from '../mem';
import type { ICachePages } from './icache';

export type { MmioDevice };

/**
 * The vCPU's slow-path accessors the VMM uses (DESIGN.md "Core contracts", cpu). Registers are
 * read and written whole (64 bits, bigint); the VMM applies x86 width rules itself, the way
 * bhyve's vie_update_register / vie_read_bytereg do, so it does not depend on readReg's
 * conventions for AH..BH.
 */
export interface VcpuPort {
  /** vCPU index inside its VM. */
  readonly id: number;
  /** Sign-extended 48-bit canonical RIP. */
  rip: number;
  readonly cr0: number;
  readonly cr3: number;
  readonly cr4: number;
  readonly efer: number;
  readonly cpl: number;
  /** IDTR and TR bases and the IDT's limit (the VMCS guest-state area, SDM Vol. 3C §24.4.1). */
  readonly idtBase: number;
  readonly idtLimit: number;
  readonly tssBase: number;
  /** GPR 0..15 (x86 numbering), 64 bits. */
  getGpr(i: number): bigint;
  setGpr(i: number, v: bigint): void;
  /** RFLAGS (fits in a number: bits 21:0). */
  getRflags(): number;
  setRflags(v: number): void;
  /** Base of a segment register (in 64-bit mode only FS and GS have one). */
  segBase(seg: SegName): number;
  /** Queue an exception for delivery at the next VM entry (bhyve's vm_inject_fault). */
  injectException(vector: number, errorCode?: number, cr2?: number): void;
}

/** What the VMM reads from the vCPU's exit record (`Vcpu.run()`'s reused VmExit). */
export interface VmExitPort {
  reason: ExitReason | 'budget' | 'stop';
  /** RIP of the exiting instruction (fault-like exits) or of the next one (trap-like). */
  rip: number;
  insnLength: number;
  /** Guest-linear / guest-physical address of the access ('mmio', 'ept-violation', 'apic-write'). */
  gla: number;
  gpa: number;
  access: AccessKind;
  /** 'ept-violation' on a guest paging-structure entry during the CPU's own walk (A/D update). */
  pagingEntry?: boolean;
  /** The event vector whose delivery the exit cut short, or -1 (VmExit.vectoring). */
  readonly vectoring?: number;
  /** Whether that event is an external interrupt (else an exception) (VmExit.vectoringExternal). */
  readonly vectoringExternal?: boolean;
  /** Intel-syntax text of the exiting instruction, where the vCPU decoded one ('' otherwise). */
  readonly insnText?: string;
  /** Up to 15 instruction bytes, as AMD decode assists hand them over (decode-assist only). */
  insnBytes: Uint8Array;
  insnByteCount: number;
}

/**
 * One VM as the VMM sees it. `mmio` routes an access to the device that owns it: the LAPIC is
 * per vCPU (every vCPU sees its own at LAPIC_BASE), IORAM per VM; null when nothing does.
 */
export interface VmContext {
  id: number;
  ram: GuestRam;
  ept: Ept;
  /** The VM's page tracker: the vCPU's translated code and this VMM's cached instructions. */
  pages: ICachePages;
  mmio(vcpu: number, gpa: number, size: number): MmioDevice | null;
}

/** A simple `VmContext.mmio`: per-vCPU devices (the LAPIC) first, then the VM's own. */
export function mmioRouter(
  perVcpu: readonly (readonly MmioDevice[])[], shared: readonly MmioDevice[],
): VmContext['mmio'] {
  return (vcpu, gpa, size) => {
    const own = perVcpu[vcpu];
    if (own !== undefined) {
      for (const d of own) if (gpa >= d.base && gpa + size <= d.base + d.size) return d;
    }
    for (const d of shared) if (gpa >= d.base && gpa + size <= d.base + d.size) return d;
    return null;
  };
}
