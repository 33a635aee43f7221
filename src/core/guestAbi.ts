/**
 * The guest environment contract (DESIGN.md "Guest environment"): where things are in guest
 * memory, the predefined symbols every program may use, and the firmware's initial state.
 * The one source of these names and numbers: the LAPIC, the vCPU's MSR table and the editor's
 * symbol list (completion, hover) take them from here.
 */

export const LAPIC_BASE = 0xfee0_0000;
/** The LAPIC's MMIO page. */
export const LAPIC_SIZE = 0x1000;
export const IORAM_BASE = 0xff00_0000;
export const IORAM_SIZE = 0x2000;
export const DEBUG_PORT = 0xe9;

/** Local APIC register offsets, SDM Vol. 3A Table 11-1 "Local APIC Register Address Map". */
export const LAPIC_OFFSETS = {
  LAPIC_ID: 0x20,
  LAPIC_VERSION: 0x30,
  LAPIC_TPR: 0x80,
  LAPIC_APR: 0x90,
  LAPIC_PPR: 0xa0,
  LAPIC_EOI: 0xb0,
  LAPIC_RRD: 0xc0,
  LAPIC_LDR: 0xd0,
  LAPIC_DFR: 0xe0,
  LAPIC_SVR: 0xf0,
  LAPIC_ISR: 0x100,
  LAPIC_TMR: 0x180,
  LAPIC_IRR: 0x200,
  LAPIC_ESR: 0x280,
  LAPIC_ICR_LO: 0x300,
  LAPIC_ICR_HI: 0x310,
  LAPIC_LVT_TIMER: 0x320,
  LAPIC_LVT_THERMAL: 0x330,
  LAPIC_LVT_PERF: 0x340,
  LAPIC_LVT_LINT0: 0x350,
  LAPIC_LVT_LINT1: 0x360,
  LAPIC_LVT_ERROR: 0x370,
  LAPIC_TIMER_ICR: 0x380,
  LAPIC_TIMER_CCR: 0x390,
  LAPIC_TIMER_DCR: 0x3e0,
} as const;

/** Architectural MSRs, SDM Vol. 4. */
export const MSRS = {
  MSR_APIC_BASE: 0x1b,
  MSR_TSC_DEADLINE: 0x6e0,
  MSR_EFER: 0xc000_0080,
  MSR_STAR: 0xc000_0081,
  MSR_LSTAR: 0xc000_0082,
  MSR_CSTAR: 0xc000_0083,
  MSR_FMASK: 0xc000_0084,
  MSR_FS_BASE: 0xc000_0100,
  MSR_GS_BASE: 0xc000_0101,
  MSR_KERNEL_GS_BASE: 0xc000_0102,
} as const;

/**
 * x2APIC MSRs, SDM Vol. 3A §10.12.1.2 Table 10-6 ("x2APIC register address space"):
 * MSR = 0x800 + (xAPIC MMIO offset >> 4). There is no ICR high (the ICR is one 64-bit MSR,
 * destination in bits 63:32), no DFR, and SELF IPI (0x83F) exists only here.
 */
export const X2APIC_MSRS = {
  MSR_X2APIC_ID: 0x802,
  MSR_X2APIC_VERSION: 0x803,
  MSR_X2APIC_TPR: 0x808,
  MSR_X2APIC_PPR: 0x80a,
  MSR_X2APIC_EOI: 0x80b,
  MSR_X2APIC_LDR: 0x80d,
  MSR_X2APIC_SVR: 0x80f,
  MSR_X2APIC_ISR0: 0x810,
  MSR_X2APIC_TMR0: 0x818,
  MSR_X2APIC_IRR0: 0x820,
  MSR_X2APIC_ESR: 0x828,
  MSR_X2APIC_ICR: 0x830,
  MSR_X2APIC_LVT_TIMER: 0x832,
  MSR_X2APIC_LVT_THERMAL: 0x833,
  MSR_X2APIC_LVT_PERF: 0x834,
  MSR_X2APIC_LVT_LINT0: 0x835,
  MSR_X2APIC_LVT_LINT1: 0x836,
  MSR_X2APIC_LVT_ERROR: 0x837,
  MSR_X2APIC_TIMER_ICR: 0x838,
  MSR_X2APIC_TIMER_CCR: 0x839,
  MSR_X2APIC_TIMER_DCR: 0x83e,
  MSR_X2APIC_SELF_IPI: 0x83f,
} as const;

/** IA32_APIC_BASE bits (SDM Vol. 3A §10.12.1, Figure 10-26): bit 11 EN, bit 10 EXTD, bit 8 BSP. */
export const APIC_BASE_BITS = {
  APIC_BASE_BSP: 0x100,
  APIC_BASE_EXTD: 0x400,
  APIC_BASE_EN: 0x800,
} as const;

/** Predefined symbols by group, in the order the editor lists them. */
export const SYMBOL_GROUPS = {
  base: { LAPIC_BASE, IORAM_BASE, DEBUG_PORT },
  lapic: LAPIC_OFFSETS,
  msr: MSRS,
  x2apic: X2APIC_MSRS,
  apicBase: APIC_BASE_BITS,
} as const;

type Groups = typeof SYMBOL_GROUPS;
/** The name of a predefined symbol. */
export type PredefinedSymbol = { [G in keyof Groups]: keyof Groups[G] }[keyof Groups];

/** Symbols every program can use without defining them. */
export const PREDEFINED_SYMBOLS: ReadonlyMap<string, bigint> = new Map<string, bigint>(
  Object.values(SYMBOL_GROUPS).flatMap((g) => Object.entries(g).map(([k, v]) => [k, BigInt(v)] as [string, bigint])),
);

/** Guest-physical layout the firmware uses; programs load at PROGRAM_ORIGIN and above. */
export const FIRMWARE_LAYOUT = {
  idt: 0x1000,
  gdt: 0x2000,
  /** Guest page tables: PML4, PDPT, PDs and PTs, built from here up. */
  pageTables: 0x10000,
  pageTablesEnd: 0x40000,
  /** vCPU i's stack grows down from stackTop - i * stackSize. */
  stackTop: 0x80000,
  stackSize: 0x4000,
  /** Everything below this belongs to the firmware. */
  end: 0x80000,
} as const;

export const PROGRAM_ORIGIN = 0x100000;

/** Selectors of the firmware GDT: kernel code/data, then user data/code in SYSRET order. */
export const SELECTORS = { kernelCode: 0x08, kernelData: 0x10, userData: 0x1b, userCode: 0x23 } as const;

/** Initial control state, SDM Vol. 3A §2.5 and §9.8.5 (long mode). */
export const INITIAL_CONTROL = {
  cr0: 0x8001_0033, // PG | WP | NE | ET | MP | PE
  cr4: 0x0000_00a0, // PGE | PAE
  efer: 0x0000_0d00, // NXE | LMA | LME
  rflags: 0x2,
} as const;
