/**
 * Architectural constants of x86-64 the vCPU uses (SDM Vol. 2-3): exception vectors, MSR
 * numbers, CR0/CR4/EFER bits, and which MSRs our VMM intercepts.
 */

import { MSRS } from '../guestAbi';

/** Exception vectors (SDM Vol. 3A Table 6-1). */
export const DE = 0, DB = 1, BP = 3, OFV = 4, UD = 6, DF_V = 8, TS = 10, NP = 11, SS = 12, GP = 13, PFV = 14;

/** The MSRs the vCPU implements; those in the guest ABI come from it (guestAbi.ts MSRS). */
export const MSR = {
  TSC: 0x10, APIC_BASE: MSRS.MSR_APIC_BASE, MISC_ENABLE: 0x1a0, PAT: 0x277, TSC_DEADLINE: MSRS.MSR_TSC_DEADLINE,
  EFER: MSRS.MSR_EFER, STAR: MSRS.MSR_STAR, LSTAR: MSRS.MSR_LSTAR, CSTAR: MSRS.MSR_CSTAR, FMASK: MSRS.MSR_FMASK,
  FS_BASE: MSRS.MSR_FS_BASE, GS_BASE: MSRS.MSR_GS_BASE, KERNEL_GS_BASE: MSRS.MSR_KERNEL_GS_BASE, TSC_AUX: 0xc0000103,
} as const;

export const EFER_SCE = 1, EFER_LME = 0x100, EFER_LMA = 0x400, EFER_NXE = 0x800;
export const CR0_PE = 1, CR0_MP = 2, CR0_ET = 0x10, CR0_NE = 0x20, CR0_WP = 0x10000, CR0_PG = 0x80000000;
export const CR4_PAE = 0x20, CR4_PGE = 0x80, CR4_TSD = 0x4, CR4_OSFXSR = 0x200;

/** Which MSRs exit to the VMM (SDM Vol. 3C §25.1.3 MSR bitmaps, as our VMM configures them). */
export function msrIntercepted(msr: number): boolean {
  return msr === MSR.APIC_BASE || msr === MSR.TSC_DEADLINE || (msr >= 0x800 && msr <= 0x8ff);
}

/** Segment-register names for segBase (ES CS SS DS FS GS), defined with the core's model. */
export type { SegName } from '../events';

/** IDT gate types (SDM Vol. 3A §6.14.1). */
export const GATE_INTR = 0xe, GATE_TRAP = 0xf;

/** Contributory exceptions (SDM Vol. 3A Table 6-4), for the #DF rules. */
export function isContributory(v: number): boolean { return v === DE || v === TS || v === NP || v === SS || v === GP; }

/** Linear addresses are canonical when in [-CANON, CANON) (48-bit, SDM Vol. 1 §3.3.7.1). */
export const CANON = 2 ** 47;
export const TWO32 = 4294967296;

export function toU64(lo: number, hi: number): bigint { return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0); }
