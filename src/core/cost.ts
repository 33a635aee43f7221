/**
 * Modeled cycle costs of every step of an exit, grouped into host presets.
 *
 * Each constant cites where its number comes from: the public source beside it ("cost-sources
 * <topic>" names the measurement it was taken from). Where no public figure was found the comment says
 * "estimate" and shows the derivation. The constants are NEVER tuned to reproduce the seed's
 * 35-40 % result: the bench shows how close an honest model comes.
 *
 * Everything here is plain data and pure functions: the VMM charges stages with the helpers
 * below, the UI shows the numbers, the worker sends the preset's name.
 */

/** The named host presets. */
export type CostPresetName = 'nehalem-2014' | 'skylake-2020' | 'zen2';

export const COST_PRESET_NAMES: readonly CostPresetName[] = ['nehalem-2014', 'skylake-2020', 'zen2'];

/**
 * Modeled cycles of each step. Plain numbers only (structured-clone safe). All are positive
 * and finite; `guestInsn` may be a binary fraction (0.75), so sums stay exact in doubles.
 */
export interface CostModel {
  /** VM exit + VM entry round trip including the hypervisor's common exit dispatch. */
  exit: number;
  /** Memory latency of one page-walk reference made by the VMM's software walk. */
  walkRefLatency: number;
  /** Software work per walk reference: index extraction, present/permission checks, loop. */
  walkRefOverhead: number;
  /**
   * vm_gpa_hold + vm_gpa_release of one guest page: each guest page-table page the walk reads
   * (bhyve's _vm_gla2gpa holds it with ptp_hold) and each page the bytes are copied from
   * (vm_copy_setup). Without the host walk's references: those are the walk's EPT references.
   */
  mapPage: number;
  /** Fixed cost of copying fetched instruction bytes out of a held page (bcopy start-up). */
  copyBase: number;
  /** Per fetched byte copied. */
  copyPerByte: number;
  /** Software decode, fixed part per instruction (vie_init, opcode table lookup, verify_gla). */
  decodeBase: number;
  /** Software decode, per instruction byte consumed (vie_peek/vie_advance and the switch). */
  decodePerByte: number;
  /** Emulating the access against the device: emulate_<op> + the device read/write callback. */
  emulate: number;
  /** Instruction-cache hash lookup keyed by (vm, rip, cr3), with its lock. */
  icacheLookup: number;
  /** Instruction-cache insert: allocate the entry, link it in the hash and the reverse map. */
  icacheInsert: number;
  /** Changing the write permission of one 4 KiB EPT leaf (either direction). */
  eptProtectPage: number;
  /** INVEPT (single context) after EPT permissions were tightened or relaxed. */
  invept: number;
  /** Write-protect fault handling beyond the exit: reverse-map lookup of the faulting page. */
  invalidateBase: number;
  /** Per cache entry dropped by an invalidation (unlink from hash and reverse map, free). */
  invalidatePerEntry: number;
  /** APICv: an APIC-access-page read/EOI/TPR write virtualized by the CPU, no exit. */
  apicvAccess: number;
  /** APICv: handler of a trap-like APIC-write exit (no walk, no fetch, no decode). */
  apicWriteHandler: number;
  /** One retired guest instruction (1 / assumed IPC). */
  guestInsn: number;
  /** Injecting an interrupt on VM entry and its delivery through the guest IDT. */
  injectInterrupt: number;
  /** Device work of sending an IPI to another vCPU beyond the exit (vlapic + host IPI). */
  ipiSend: number;
  /** Device work of arming the LAPIC timer (host timer callout/hrtimer) beyond the exit. */
  timerArm: number;
}

/**
 * Skylake-SP, the "current host" (skylake-2020). Most sourced numbers were measured there.
 */
const SKYLAKE_2020: CostModel = {
  // cost-sources "VM exit + entry": Skylake-SP vmcall round trip ~1,530-1,560 cycles as timed
  // by kvm-unit-tests x86/vmexit.c (KVM PMU micro-optimization patch, Mar 2020). Midpoint.
  exit: 1545,
  // cost-sources "memory latency": Skylake-SP L2 11-13 cycles; 12 is the midpoint. Why L2:
  // the software walk touches the same 24 table lines on every exit, so they stay warm in the
  // cache hierarchy, but the exit path itself (VMCS save/restore, host stack, dispatch, the
  // handler's data) runs between two walks and pushes them out of the 32 KiB L1D. L3 (~77)
  // would model a cold walk, L1 (4) a walk with nothing in between; L2 is the steady state
  // of a loop that hammers the LAPIC.
  walkRefLatency: 12,
  // estimate: bhyve's _vm_gla2gpa loop per level does a shift + mask for the index, a load,
  // present/RW/US/PS/NX checks and an A/D test-and-set branch: ~15-25 instructions at IPC ~1.3
  // -> ~15 cycles. Used for EPT references too (bhyve resolves them in software as well).
  walkRefOverhead: 15,
  // estimate: vm_gpa_hold -> vm_fault_quick_hold_pages (pmap lock, pmap_extract_and_hold,
  // vm_page_hold: 2 atomics) and vm_gpa_release (vm_page_unhold: lock + atomic). ~6 atomic/lock
  // operations at ~20 cycles (Skylake locked RMW latency) + ~100 cycles of call/branch work
  // -> ~220. pmap_extract_and_hold's 4 table reads walk the guest's vmspace pmap, which in
  // bhyve is the EPT (ept_vmspace_alloc, pmap type PT_EPT): they are the walk's EPT
  // references, charged there, not again here.
  mapPage: 220,
  // estimate: vm_copyin -> bcopy of <= 15 bytes. Short `rep movs` copies pay a fixed
  // microcode start-up of a few tens of cycles (no sourced figure here), so 30.
  copyBase: 30,
  // estimate: short copies move ~1 byte per cycle once started.
  copyPerByte: 1,
  // cost-sources "software decode": XED decodes ~55 MB/s on an i5-6600K, i.e. ~70 ns or ~250
  // cycles at 3.5 GHz for a ~4-byte instruction. Split (estimate) as 90 fixed (vie_init,
  // table lookups, verify_gla's canonical/alignment checks) + 40 per byte -> 250 at 4 bytes.
  // bhyve's decoder handles far fewer opcodes than XED, but it is byte-at-a-time with a call
  // per byte (vie_peek/vie_advance), so XED's rate is the closest sourced figure.
  decodeBase: 90,
  decodePerByte: 40,
  // estimate: emulate_mov -> vie_read_register/vm_get_register (VMCS read ~ 50 cycles),
  // the mmio callback -> lapic_mmio_read/vlapic_read (switch on the offset, vlapic lock for the
  // timer registers), vm_set_register: ~10 calls and 2 VMCS accesses -> ~300.
  emulate: 300,
  // estimate: hash of (vm, rip, cr3) ~10 cycles, bucket head load that usually misses L1
  // (L2 12), a compare per chained entry, and a mutex enter/exit (2 locked RMW ~40) -> ~80.
  icacheLookup: 80,
  // estimate: uma_zalloc (~100), copy of the 64-byte struct vie (~20), hash + reverse-map link
  // under the lock (~80) -> ~200. The EPT write-protect is charged separately per page.
  icacheInsert: 200,
  // estimate: in bhyve, EPT permissions change through vm_map_protect/pmap_protect on the
  // guest vmspace: map lock, map-entry lookup, pmap walk of 4 levels, PTE update with an
  // atomic, pv bookkeeping: ~1,000 cycles per 4 KiB page.
  eptProtectPage: 1000,
  // estimate: no figure found for INVEPT itself. Its direct cost is a few hundred cycles; the
  // guest then refills the combined TLB entries it lost (each a 2D walk of up to 24 refs).
  // 800 = ~300 direct + ~500 of refills charged here because the guest model has no TLB cost.
  invept: 800,
  // estimate: reverse-map lookup (hash of the GPA page, L2 miss, lock) ~100, plus deciding to
  // lift the protection; the exit itself is charged as 'exit'.
  invalidateBase: 100,
  // estimate: unlink from two lists and free (uma_zfree ~60) -> ~100 per entry.
  invalidatePerEntry: 100,
  // estimate: an APIC-access-page read or a virtualized EOI/TPR write is a microcode assist
  // (SDM Vol. 3C ch. 30 "APIC Virtualization and Virtual Interrupts": the CPU redirects the
  // access to the virtual-APIC page and may evaluate pending virtual interrupts): ~ 100 cycles,
  // the order of other microcode assists, far below an exit.
  apicvAccess: 100,
  // derived from cost-sources "TSC-deadline timer": 4,781 cycles without APICv vs 2,919 with
  // it (Skylake-SP). The difference, 1,862, is one EOI exit without a decode (x2APIC MSR
  // write), i.e. exit (1,545) + ~320 of handler; an APIC-write exit runs the same vlapic write.
  apicWriteHandler: 320,
  // estimate: scenario guest code is short integer loops and loads/stores that hit L1; Skylake
  // sustains IPC ~1.3 on such code -> 0.75 cycles per instruction (a binary fraction).
  guestInsn: 0.75,
  // estimate: VMM side vlapic_pending_intr + vmx_inject_interrupt (VMWRITE of the entry
  // interruption-information field, ~50) ~150, plus the guest's IDT delivery (microcoded
  // interrupt gate: stack switch, 5 pushes) ~150 -> 300.
  injectInterrupt: 300,
  // derived from cost-sources "Cross-CPU IPI": 4,238 cycles without fastpaths (Skylake-SP),
  // minus the exit round trip (1,545) -> ~2,700 of vlapic ICR handling, target lookup and the
  // host IPI that kicks the target vCPU.
  ipiSend: 2700,
  // derived from cost-sources "TSC-deadline timer, immediate": 2,919 with APICv = exit (1,545)
  // + injection (300) + arming and firing the timer -> ~1,070; round to 1,000.
  timerArm: 1000,
};

/**
 * A Westmere/Nehalem host of 2014, like the seed's (nehalem-2014).
 */
const NEHALEM_2014: CostModel = {
  // estimate: no kvm-unit-tests figure for Westmere was found. Intel cut the VMX transition
  // latency generation over generation (Agesen et al., USENIX ATC 2012; their per-generation
  // table was not found), so Westmere's round trip is taken as ~1.2x Skylake-SP's 1,545
  // (whose 2020 KVM already paid some speculation-mitigation cost) -> ~1,850.
  exit: 1850,
  // cost-sources "memory latency": Nehalem L2 ~10 cycles (L1D 4, L3 30-40). L2 for the same
  // reason as skylake-2020: the walk is warm but the exit path evicts it from L1D.
  walkRefLatency: 10,
  // estimate: same per-level work as skylake-2020 at IPC ~1.0 instead of ~1.3 -> ~20.
  walkRefOverhead: 20,
  // estimate: skylake-2020's derivation with Nehalem's slower locked RMW (~25-30 cycles: ~165)
  // and IPC ~1.0 (~130 of call/branch work) -> ~295; round to 280 (no table reads, as there).
  mapPage: 280,
  // estimate: pre-ERMSB `rep movsb` has a longer start-up on Nehalem -> ~40.
  copyBase: 40,
  copyPerByte: 1,
  // estimate: skylake-2020's XED-derived 90 + 40/byte scaled by the IPC ratio (~1.3x).
  decodeBase: 115,
  decodePerByte: 50,
  // estimate: skylake-2020's 300 scaled by the IPC ratio (~1.3x) -> ~400.
  emulate: 400,
  // estimate: skylake-2020's 80 with slower locks -> 100.
  icacheLookup: 100,
  // estimate: skylake-2020's 200 scaled by ~1.3 -> 260.
  icacheInsert: 260,
  // estimate: skylake-2020's 1,000 scaled by ~1.3 -> 1,300.
  eptProtectPage: 1300,
  // estimate: no INVEPT figure found; Westmere has VPIDs but a smaller STLB (512 entries) than
  // Skylake (1,536), so refills after INVEPT weigh more -> 1,000.
  invept: 1000,
  invalidateBase: 130,
  invalidatePerEntry: 130,
  // Westmere has no APICv (it arrived with Ivy Bridge-EP). The number is kept so every preset
  // has every constant: it is skylake-2020's microcode-assist estimate, for "what if" runs.
  apicvAccess: 100,
  // estimate: skylake-2020's derived 320 scaled by ~1.3 (no APICv on this host: "what if").
  apicWriteHandler: 420,
  // estimate: Nehalem sustains IPC ~1.0 on simple integer loops -> 1 cycle per instruction.
  guestInsn: 1,
  // estimate: skylake-2020's 300 scaled by ~1.3 -> ~400.
  injectInterrupt: 400,
  // estimate: skylake-2020's derived 2,700 scaled by ~1.2 (slower exits and IPIs) -> 3,200.
  ipiSend: 3200,
  // estimate: skylake-2020's derived 1,000 scaled by ~1.2 -> 1,200.
  timerArm: 1200,
};

/**
 * An AMD Zen 2 host (zen2): the context for the decode-assist strategy, where the CPU hands
 * the VMM the instruction bytes with the #NPF exit.
 */
const ZEN2: CostModel = {
  // Everything not named here is skylake-2020's, for the reasons given there: the same VMM
  // code runs on a core of similar IPC and cache latencies (Zen 2's L2 hit is commonly
  // reported as ~12 cycles, not in cost-sources). invept: INVLPGA / the TLB control of VMRUN
  // plays INVEPT's role; apicvAccess: AVIC plays APICv's role; both keep skylake's estimates.
  ...SKYLAKE_2020,
  // cost-sources "AMD SVM": ~1,350 cycles around VMRUN, ~2,550 for the whole KVM_RUN ioctl
  // (LKML, Dec 2020). The ioctl includes the return to user space that an in-kernel exit does
  // not take; 1,350 plus ~200 of in-kernel exit dispatch (as included in Intel's vmcall
  // figure) -> 1,550.
  exit: 1550,
};

export const COST_PRESETS: Readonly<Record<CostPresetName, Readonly<CostModel>>> = {
  'nehalem-2014': NEHALEM_2014,
  'skylake-2020': SKYLAKE_2020,
  zen2: ZEN2,
};

/** One line per preset for the UI and the bench. */
export const COST_PRESET_TITLES: Readonly<Record<CostPresetName, string>> = {
  'nehalem-2014': 'Nehalem/Westmere host, 2014 (like the seed\'s)',
  'skylake-2020': 'Skylake-SP host, 2020',
  zen2: 'AMD Zen 2 host (decode assists)',
};

export const DEFAULT_COST_PRESET: CostPresetName = 'nehalem-2014';

export function isCostPresetName(name: string): name is CostPresetName {
  return (COST_PRESET_NAMES as readonly string[]).includes(name);
}

/** The preset's model; an unknown name is a configuration error. */
export function costPreset(name: string): Readonly<CostModel> {
  if (!isCostPresetName(name)) {
    throw new Error(`unknown cost preset '${name}' (known: ${COST_PRESET_NAMES.join(', ')})`);
  }
  return COST_PRESETS[name];
}

// ---- cost units: what a run charged, per constant --------------------------------------------

/** The constants a run charges: every field of the model. */
export type CostConstant = keyof CostModel;

export const COST_CONSTANTS: readonly CostConstant[] = [
  'exit', 'walkRefLatency', 'walkRefOverhead', 'mapPage', 'copyBase', 'copyPerByte',
  'decodeBase', 'decodePerByte', 'emulate', 'icacheLookup', 'icacheInsert', 'eptProtectPage',
  'invept', 'invalidateBase', 'invalidatePerEntry', 'apicvAccess', 'apicWriteHandler',
  'guestInsn', 'injectInterrupt', 'ipiSend', 'timerArm',
];

/**
 * How many units of each constant a run charged (a walk of 24 references is 24 units of
 * walkRefLatency and of walkRefOverhead; a 7-byte decode one decodeBase and 7 decodePerByte).
 * Every modeled cycle is some constant times its units, so the run's cycles under ANY model
 * are `cyclesOfUnits(units, model)`: the what-if view recomputes a run without running it.
 * That holds exactly as long as the run itself does not depend on the cycles (a guest that
 * sees time pass, through the LAPIC timer or the TSC, takes other paths under other costs).
 */
export type CostUnits = Record<CostConstant, number>;

export function newCostUnits(): CostUnits {
  const u = {} as CostUnits;
  for (const k of COST_CONSTANTS) u[k] = 0;
  return u;
}

/** Modeled cycles of `units` under `m`: the sum of units × constant. */
export function cyclesOfUnits(units: Readonly<CostUnits>, m: Readonly<CostModel>, keys: readonly CostConstant[] = COST_CONSTANTS): number {
  let sum = 0;
  for (const k of keys) sum += units[k] * m[k];
  return sum;
}

/**
 * Which constants each stage charges. The walk, fetch and decode stages charge theirs and no
 * others (the why-column's "share of cycles on walk + fetch + decode" reads them from units,
 * less the walk and copy of memory operands the emulate stage charges: `operandWalkCycles`).
 * The walk is bhyve's vm_copy_setup: gla2gpa, which holds each guest page-table page it reads,
 * and the hold of each page the bytes are in; the fetch is vm_copyin, the copy.
 */
export const STAGE_CONSTANTS = {
  walk: ['walkRefLatency', 'walkRefOverhead', 'mapPage'],
  fetch: ['copyBase', 'copyPerByte'],
  decode: ['decodeBase', 'decodePerByte'],
} as const satisfies Record<string, readonly CostConstant[]>;

/** `n` units of one constant, recorded into `units` when given. */
export function chargeCycles(key: CostConstant, n: number, m: CostModel, units?: CostUnits): number {
  if (units) units[key] += n;
  return n * m[key];
}

// ---- stage helpers (pure apart from recording into the optional units) ----------------------

/**
 * A software page walk of `refs` memory references (24 for a full 4-level/4-level walk) that
 * holds `pages` guest pages: the page-table pages read and the page(s) it found (5 for a full
 * walk of one page).
 */
export function walkCycles(refs: number, pages: number, m: CostModel, units?: CostUnits): number {
  if (units) { units.walkRefLatency += refs; units.walkRefOverhead += refs; units.mapPage += pages; }
  return refs * (m.walkRefLatency + m.walkRefOverhead) + pages * m.mapPage;
}

/** Copying `bytes` fetched bytes out of the held pages. */
export function fetchCycles(bytes: number, m: CostModel, units?: CostUnits): number {
  if (units) { units.copyBase++; units.copyPerByte += bytes; }
  return m.copyBase + bytes * m.copyPerByte;
}

/** Decoding one instruction of `length` bytes. */
export function decodeCycles(length: number, m: CostModel, units?: CostUnits): number {
  if (units) { units.decodeBase++; units.decodePerByte += length; }
  return m.decodeBase + length * m.decodePerByte;
}

/**
 * An emulated instruction's memory-operand walk (vm_copy_setup, vm_gla2gpa): the constants of
 * RIP's walk, counted into `operand` as well. A cache saves RIP's walk, not this one (the
 * operand's address is the guest's registers at each exit), so the share of walk + fetch +
 * decode leaves `operand` out (experiment.ts whyFigures).
 */
export function operandWalkCycles(refs: number, pages: number, m: CostModel, units?: CostUnits, operand?: CostUnits): number {
  walkCycles(refs, pages, m, operand);
  return walkCycles(refs, pages, m, units);
}

/** An emulated instruction's `copies` copies of its memory operand (vm_copyin, vm_copyout), `bytes` in all; as above. */
export function operandCopyCycles(copies: number, bytes: number, m: CostModel, units?: CostUnits, operand?: CostUnits): number {
  for (const u of [units, operand]) if (u) { u.copyBase += copies; u.copyPerByte += bytes; }
  return copies * m.copyBase + bytes * m.copyPerByte;
}

// The charges every exit makes, each with its constant named: chargeCycles' `units[key]` and
// `m[key]` with a key that varies are megamorphic keyed accesses, ~5% of the hit path's time.

/** One exit's round trip (VM exit + VM entry). */
export function exitCycles(m: CostModel, units?: CostUnits): number {
  if (units) units.exit++;
  return m.exit;
}

/** One instruction-cache lookup. */
export function icacheLookupCycles(m: CostModel, units?: CostUnits): number {
  if (units) units.icacheLookup++;
  return m.icacheLookup;
}

/** Emulating one instruction against the device. */
export function emulateCycles(m: CostModel, units?: CostUnits): number {
  if (units) units.emulate++;
  return m.emulate;
}

/** Inserting one instruction-cache entry (allocation, copy of the record, hash and reverse-map links). */
export function insertEntryCycles(m: CostModel, units?: CostUnits): number {
  if (units) units.icacheInsert++;
  return m.icacheInsert;
}

/** Write-protecting `pages` guest pages in the EPT, and one INVEPT when any was protected. */
export function protectPagesCycles(pages: number, m: CostModel, units?: CostUnits): number {
  if (units) {
    units.eptProtectPage += pages;
    if (pages > 0) units.invept++;
  }
  return pages * m.eptProtectPage + (pages > 0 ? m.invept : 0);
}

/** Inserting a cache entry and write-protecting `newlyProtectedPages` pages: the two above. */
export function icacheInsertCycles(newlyProtectedPages: number, m: CostModel, units?: CostUnits): number {
  return insertEntryCycles(m, units) + protectPagesCycles(newlyProtectedPages, m, units);
}

/**
 * Handling a write-protect fault beyond its exit: find the dependents, drop `entries` of them,
 * lift the protection of `unprotectedPages` pages (+ one INVEPT when any was lifted).
 */
export function invalidateCycles(entries: number, unprotectedPages: number, m: CostModel, units?: CostUnits): number {
  if (units) {
    units.invalidateBase++;
    units.invalidatePerEntry += entries;
    units.eptProtectPage += unprotectedPages;
    if (unprotectedPages > 0) units.invept++;
  }
  return (
    m.invalidateBase +
    entries * m.invalidatePerEntry +
    unprotectedPages * m.eptProtectPage +
    (unprotectedPages > 0 ? m.invept : 0)
  );
}

/** `insns` retired guest instructions. */
export function guestCycles(insns: number, m: CostModel, units?: CostUnits): number {
  if (units) units.guestInsn += insns;
  return insns * m.guestInsn;
}
