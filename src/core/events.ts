/**
 * The event and counter types shared by the core, the Worker, the stores and the UI.
 * Plain data only (structured-clone safe): numbers, strings, arrays, plain objects.
 * 64-bit guest values travel as bigint inside the core and as "0x..." strings across the Worker.
 */

/** The kinds of memory access a walk or an exit is about. */
export type AccessKind = 'read' | 'write' | 'fetch';

/**
 * One memory reference of a (two-dimensional) page walk.
 * `dim: 'guest'` is a read of a guest page-table entry (its address is guest-physical);
 * `dim: 'ept'` is a read of an EPT entry made to translate the guest-physical address of
 * the guest reference in `row` (rows: 4 = the PML4 entry's page ... 1 = the PT entry's page,
 * 0 = the final data page). A full 4 KiB walk on 4-level/4-level paging records 24 steps:
 * 5 rows x 4 EPT references + 4 guest references.
 */
export interface WalkStep {
  dim: 'guest' | 'ept';
  /** Row of the 2D grid: which guest reference this step serves (4..1 tables, 0 data). */
  row: number;
  /** Table level read: 4 = PML4 / EPT PML4 ... 1 = PT / EPT PT. */
  level: number;
  /** Index of the entry in its table (0..511). */
  index: number;
  /** Address of the entry: guest-physical for guest steps, host-physical for EPT steps. */
  entryAddr: number;
  /** The entry's value as read (after any A/D update for guest steps). */
  entryValue: bigint;
  /** What the walk concluded at this step. */
  outcome: 'next' | 'leaf' | 'not-present' | 'reserved' | 'denied';
}

/** Why the emulated hardware left the guest (VMX basic exit reasons, by name). */
export type ExitReason =
  | 'mmio' // an EPT violation at an MMIO page the VMM emulates (LAPIC, IORAM): bhyve's inst_emul exit
  | 'ept-violation' // a write to a page the VMM write-protected in the EPT (or an access with no memory behind it)
  | 'apic-write' // APICv: trap-like exit after a virtualized APIC write (no decode)
  | 'hlt'
  | 'io'
  | 'cpuid'
  | 'rdmsr'
  | 'wrmsr'
  | 'vmcall'
  | 'external-interrupt'
  | 'interrupt-window'
  | 'triple-fault'; // an exception the CPU could not deliver, even as #DF (basic reason 2): the VM is done

export const EXIT_REASONS: readonly ExitReason[] = [
  'mmio', 'ept-violation', 'apic-write', 'hlt', 'io', 'cpuid', 'rdmsr', 'wrmsr', 'vmcall',
  'external-interrupt', 'interrupt-window', 'triple-fault',
];

/** The stages of the VMM's handling of an exit, in the order they run. */
export type StageName =
  | 'exit' // hardware VM exit + entry round trip
  | 'icache' // instruction-cache lookup
  | 'insert' // a miss: the decoded record inserted into the cache
  | 'protect' // a miss: the pages the new entry depends on write-protected in the EPT (+ INVEPT)
  | 'walk' // gla2gpa: guest page walk with every reference through the EPT, each page held (two stages: guest entries, then EPT refs + holds)
  | 'fetch' // copy up to 15 bytes out of the page(s) the walk held (vm_copyin)
  | 'decode' // decode into the vie record
  | 'emulate' // run the instruction against the device
  | 'invalidate' // write-protect fault: drop dependent cache entries, lift protection
  | 'device'; // device work that is not emulation (timer, IPI, EOI)

export interface Stage {
  name: StageName;
  /** Modeled cycles charged for this stage (cost.ts). */
  cycles: number;
  /** Stage-specific detail for people, e.g. 'hit', 'miss', '4 guest refs', 'mov dword [rax], ecx'. */
  detail?: string;
  /**
   * A 'walk' stage's memory references, for code that counts them (its detail says the same in
   * words): the guest entries read (the first walk stage), or the EPT entries read to translate
   * them and the pages found (the second).
   */
  refs?: number;
  /** The second 'walk' stage's pages held (vm_gpa_hold: each guest table page read, then each page found). */
  held?: number;
  /**
   * An 'emulate' stage's walk (refs and held as above) or copy of the instruction's memory
   * operand in guest RAM (movs, push, pop against a device), not RIP's: no cache saves it.
   */
  operand?: 'walk' | 'copy';
}

/** One VM exit, as the UI and the bench see it. */
export interface ExitEvent {
  /** Sequence number of the exit in this run (0-based, per machine). */
  seq: number;
  vm: number;
  vcpu: number;
  reason: ExitReason;
  rip: number;
  cr3: number;
  /** Guest-linear and guest-physical address of the access, where there is one. */
  gla?: number;
  gpa?: number;
  access?: AccessKind;
  /**
   * 'ept-violation' only: true when the write was the CPU's own, to a guest paging-structure
   * entry during its page walk (setting an accessed/dirty bit), not a guest store: exit
   * qualification bit 8 clear (SDM Vol. 3C §27.2.1, Table 27-7).
   */
  pagingEntry?: boolean;
  /** Guest instructions retired by this vCPU before the exit. */
  retired: number;
  stages: Stage[];
  /** Sum of stages[].cycles. */
  cycles: number;
  /** The vCPU's modeled clock (cycles) when it exited: where the exit starts on a trace's time axis. */
  atCycle?: number;
  /** Instruction-cache outcome when the strategy consulted the cache. */
  icache?: 'hit' | 'miss' | 'bypass';
  /** Disassembly of the emulated instruction (Intel syntax), where one was decoded or cached. */
  insn?: string;
  /** Walk steps of the RIP translation, recorded only when asked for (step mode, sampling). */
  walk?: WalkStep[];
  /** Cache entries this exit invalidated (write-protect faults). */
  invalidated?: number;
  /** A write-protect fault's cause and what it invalidated ('ept-violation' exits). */
  wp?: WpFaultInfo;
  /** Source line of the instruction at `rip` (1-based), where the program has one. */
  line?: number;
  /** The run stopped at this exit: the VMM could not emulate the instruction (the last stage refused it). */
  stop?: StopInfo;
  /** Measured host time of the VMM's handling of this exit, in nanoseconds. */
  hostNs?: number;
}

/**
 * Why a write-protected page was written:
 * - 'code-store': the guest's own store to a page holding a cached instruction,
 * - 'table-store': the guest's own store to a guest page-table page a cached RIP was walked through,
 * - 'ad-update': the CPU setting an accessed/dirty bit in a page-table entry during a page walk
 *   (the instruction did not write that page; an interrupt's delivery may be what walked).
 */
export type WpCause = 'code-store' | 'table-store' | 'ad-update';

/** An event being delivered when its delivery's page walk set an A/D bit on a protected table page. */
export interface EventDelivery {
  /** The vector (the IDT-vectoring information's). */
  vector: number;
  /** An external interrupt (the LAPIC's), or an exception the instruction at RIP raised. */
  kind: 'interrupt' | 'exception';
  /**
   * Which of the delivery's accesses walked, told from the exit's linear address and the
   * guest's IDTR and TR: reading the IDT gate, reading a stack pointer from the TSS, or pushing
   * the frame (the model's delivery makes no other access).
   */
  access: 'gate' | 'tss' | 'stack';
}

export interface WpFaultInfo {
  cause: WpCause;
  /** The guest-physical page written. */
  page: number;
  /** For 'ad-update' during an event's delivery: the event, and which of its accesses walked. */
  delivering?: EventDelivery;
  /**
   * The instruction-cache entries the fault invalidated, oldest first. (The vCPUs' translated
   * blocks it dropped are the emulator's, not the modeled machine's: they depend on the host
   * cache's history, flushes and time-travel restores, so an exit does not carry them.)
   */
  entries: { rip: number; insn: string }[];
}

/** Modeled cycles split by where they went. */
export interface CycleCounters {
  total: number;
  guest: number;
  exit: number;
  walk: number;
  fetch: number;
  decode: number;
  emulate: number;
  /** Device models' handlers run by an exit without emulation (APICv's trap-like APIC-write exits). */
  device: number;
  /** The instruction cache's whole cost: lookup + insert + protect + invalidate. */
  icache: number;
  /** Its parts: lookups, inserts on a miss, write-protecting pages for new entries, write-protect faults' invalidations. */
  lookup: number;
  insert: number;
  protect: number;
  invalidate: number;
}

export interface ICacheCounters {
  lookups: number;
  hits: number;
  misses: number;
  inserts: number;
  evictions: number;
  invalidations: number;
  wpFaults: number;
}

/** Why a run stopped. */
export type StopReason =
  | 'halted' // hlt with IF = 0 on every vCPU: the normal end
  | 'limit' // the instruction limit was reached
  | 'triple-fault' // an exception with no way to deliver it
  | 'unsupported' // an instruction the vCPU or the VMM's emulator does not support
  | 'ran-off-end' // the program fell through its last instruction into zeroed memory (no hlt)
  | 'error'; // an emulator bug or a bad configuration, with a message

export interface StopInfo {
  reason: StopReason;
  message: string;
}

/** Segment registers by name (in 64-bit mode only FS and GS have a base). */
export type SegName = 'es' | 'cs' | 'ss' | 'ds' | 'fs' | 'gs';

export const GPR_NAMES = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
] as const;
export type GprName = (typeof GPR_NAMES)[number];

// ---------------------------------------------------------------------------------------------
// The machine as the UI sees it: strategy, counters and the view model. The Worker sends these
// (src/worker/protocol.ts re-exports them); 64-bit values travel as "0x..." strings.

/** How the VMM handles an exit that needs instruction emulation (DESIGN.md "The exit path"). */
export type Strategy = 'none' | 'icache' | 'decode-assist' | 'apicv';
export const STRATEGIES: readonly Strategy[] = ['none', 'icache', 'decode-assist', 'apicv'];

/**
 * The exit walked (a walk stage) but carries none of its walk steps: a full-speed run records
 * 1 walk in 64, and only such an exit has anything to gain from handling it again for its detail.
 */
export function walkUnrecorded(e: ExitEvent): boolean {
  return (!e.walk || e.walk.length === 0) && e.stages.some((s) => s.name === 'walk');
}

export function isStrategy(x: unknown): x is Strategy {
  return typeof x === 'string' && (STRATEGIES as readonly string[]).includes(x);
}

export interface Counters {
  retired: number;
  exits: { total: number; byReason: Partial<Record<ExitReason, number>> };
  icache: ICacheCounters;
  /** Modeled cycles; `emulate` and `total` include `apicv.cycles` (accesses that did not exit). */
  cycles: CycleCounters;
  /** APICv: LAPIC accesses the CPU virtualized without an exit, and their modeled cycles. */
  apicv: { virtualized: number; cycles: number };
  /**
   * Measured host nanoseconds of this VMM's own handling per exit it emulated (mmio, write-protect
   * faults, APIC writes; 1 in 16 timed), mean over the run; 0 when none was. The platform's exits
   * (I/O, hlt, MSRs, ...) are not timed, and no longer count in the mean as zeros.
   */
  hostNsPerExit: number;
}

/** Host time of a VMM exit is measured for 1 in HOST_SAMPLE exits (a power of 2): `hostNsPerExit`. */
export const HOST_SAMPLE = 16;

/**
 * The exits' own modeled cycles: `Counters.cycles` less the LAPIC accesses APICv completed
 * without an exit, which `emulate` and `total` count too (Machine.counters).
 */
export function exitCycles(c: Counters): CycleCounters {
  return { ...c.cycles, emulate: c.cycles.emulate - c.apicv.cycles, total: c.cycles.total - c.apicv.cycles };
}

/**
 * What the vCPUs' code caches did over all VMs (host work, not modeled): translations,
 * invalidations by guest writes, flushes, and their size now.
 */
export interface CodeCacheCounters {
  translated: number;
  invalidated: number;
  flushes: number;
  blocks: number;
  insns: number;
  /** Guest-physical pages the VMs' page trackers hold something for. */
  trackedPages: number;
}

/** The registers a vCPU snapshot reports. */
export type VcpuRegName = GprName | 'rip' | 'rflags' | 'cr0' | 'cr2' | 'cr3' | 'cr4' | 'efer';

/**
 * One vCPU as the machine reports it: V is bigint in the core (64-bit values), a hex string in
 * the view the Worker sends.
 */
export interface VcpuSnapshot<V extends bigint | string> {
  vm: number;
  vcpu: number;
  regs: Record<VcpuRegName, V>;
  /** Not runnable: waiting in HLT or stopped. */
  halted: boolean;
  retired: number;
  lapic: { name: string; offset: number; value: number }[];
  /** The program's source line its RIP is on (Machine.ripLine); null on none. */
  line: number | null;
}

export type VcpuView = VcpuSnapshot<string>;

/** One instruction-cache entry, as plain data. */
export interface IcacheEntryView {
  vm: number;
  rip: number;
  cr3: number;
  bucket: number;
  /** Instruction bytes as hex. */
  bytes: string;
  insn: string;
  hits: number;
  /** Insert sequence number (older entries have smaller numbers). */
  age: number;
  /** Guest-physical pages this entry depends on (code and page-table pages). */
  pages: number[];
  /**
   * The program's line of the cached instruction, found by its code's guest-physical address
   * (as an exit's line is): two entries at one RIP under two CR3s name the two lines they ran.
   * Absent when no line of the program is there.
   */
  line?: number;
}

export type PageRole = 'code' | 'data' | 'stack' | 'pagetable' | 'mmio' | 'firmware' | 'free';

export interface PageView {
  vm: number;
  gpa: number;
  role: PageRole;
  writeProtected: boolean;
}

/** Exit and cache-hit counts per source line, for editor decorations. */
export interface LineStat {
  line: number;
  /** Exits this line's instruction took (a LAPIC timer's kick, an 'external-interrupt' exit, is no line's). */
  exits: number;
  /** Of `exits`, those that looked their instruction up in the instruction cache (icache's emulated exits). */
  lookups: number;
  /** Of `lookups`, those that found it. */
  hits: number;
  /** Of `exits`, those taken while delivering an interrupt before this instruction ran (not by it). */
  delivery?: number;
}

export interface MachineView {
  vcpus: VcpuView[];
  icache: IcacheEntryView[];
  /** Entries per hash bucket, for the heatmap. */
  buckets: number[];
  pages: PageView[];
  lines: LineStat[];
  console: string;
}
