/**
 * The glossary: the words the app uses, each with a short definition (shown on hover and on
 * keyboard focus of any element carrying data-term="<term>") and where it shows up.
 */
import type { ExitReason } from '../../core/events';

export interface GlossaryTerm {
  /** The data-term value. */
  term: string;
  /** At most two sentences. */
  definition: string;
  /** Where on the page the term shows up. */
  where: string;
}

export const GLOSSARY: readonly GlossaryTerm[] = [
  { term: 'VM exit', definition: 'The CPU leaves the guest and hands control to the hypervisor (VMM), saving the guest state; the VMM handles the cause and re-enters. A round trip costs well over a thousand cycles.',
    where: 'Exit pipeline (first stage), the "exits" counter, the event log, the experiment\'s "exits / 1k insns" column.' },
  { term: 'VMCS/VMCB', definition: 'The in-memory structure that holds a vCPU\'s guest and host state and the exit information: VMCS on Intel VT-x, VMCB on AMD SVM. On AMD the VMCB also carries the faulting instruction\'s bytes (decode assist).',
    where: 'Not named in the panels; under the decode-assist strategy the pipeline\'s guest walk, EPT walks and fetch read "skipped: bytes handed over (decode assist)".' },
  { term: 'EPT', definition: 'Extended Page Tables: the second level of translation, from guest-physical to host-physical addresses, set up by the VMM. A page it marks not-present makes the guest exit on any access; a read-only one only on a write, reads go through (how the instruction cache write-protects pages).',
    where: 'Exit pipeline ("EPT walks"), the 2D page walk\'s columns, the memory map\'s write-protected pages.' },
  { term: 'GLA', definition: 'Guest linear address: the address the guest program uses (its virtual address, RIP included), translated by the guest\'s own page tables.',
    where: 'The exit pipeline\'s title: hover the access\'s gpa for its linear address, which decode checks the decoded operand against (verify_gla); shown beside the gpa when the guest maps it elsewhere. RIP is one too: the 2D page walk translates it.' },
  { term: 'GPA', definition: 'Guest-physical address: what the guest believes is physical memory. The EPT maps it to a host-physical address.',
    where: 'Memory map (pages by guest-physical address), the exit pipeline\'s title and the event log\'s gpa column (the access that exited), the 2D page walk\'s rows.' },
  { term: 'HPA', definition: 'Host-physical address: where the data really is in the host\'s RAM. Every guest page-table reference needs one, found through the EPT.',
    where: 'The 2D page walk: every EPT step ends in a host-physical address.' },
  { term: 'gla2gpa', definition: 'bhyve\'s software walk of the guest page tables, from CR3, to turn the faulting RIP into a guest-physical address so the instruction can be fetched. It holds each table page before reading its entry (ptp_hold → vm_gpa_hold, which finds the page through the EPT), then holds the page found: 5 holds for a 4-level walk, each with its locks, charged with the EPT walks.',
    where: 'Exit pipeline ("guest walk"; the holds in "EPT walks"), the 2D page walk panel.' },
  { term: '2D walk', definition: 'A translation through two sets of page tables: each of the guest\'s 4 table references is itself a guest-physical address that needs a 4-level EPT walk, plus the final page: up to 24 memory references.',
    where: '2D page walk panel (guest levels × EPT levels), the experiment\'s walk+fetch+decode share.' },
  { term: 'TLB', definition: 'Translation lookaside buffer: the CPU\'s cache of recent address translations. A miss means a page walk; the VMM\'s software walk of an exit has no TLB to help it.',
    where: 'Lesson 2 (24 references per TLB miss), the editor\'s hover on invlpg. The cost model charges the guest\'s own translations nothing.' },
  { term: 'struct vie', definition: 'bhyve\'s decoded-instruction record (opcode, operand size, ModRM, base, index, scale, displacement, immediate, length). The seed caches it so a later exit at the same RIP skips walk, fetch and decode.',
    where: 'Exit pipeline ("decode"), the instruction cache\'s entries.' },
  { term: 'instruction cache', definition: 'The seed\'s idea: keep each decoded instruction (struct vie) keyed by (VM, RIP, CR3); a hit skips the walk, the fetch and the decode. Write-protecting the code and page-table pages keeps it honest.',
    where: 'Instruction cache panel, the "hit rate" counter, the icache strategy.' },
  { term: 'decode assist', definition: 'AMD SVM hands the VMM up to 15 bytes of the faulting instruction with the exit, so there is no walk and no fetch, only the decode.',
    where: 'The decode-assist strategy, the experiment table\'s decode-assist column.' },
  { term: 'APICv', definition: 'Intel APIC virtualization: the CPU completes most guest accesses to the local APIC itself (most reads, TPR and EOI writes) without any exit; writes the VMM must act on trap after the fact (an APIC-write exit, no decode). Reads of the current count (0x390) or the PPR, and unaligned accesses, still take an APIC-access exit with the full walk, fetch, decode and emulate.',
    where: 'The apicv strategy, the experiment table\'s apicv column.' },
  { term: 'TPR', definition: 'Task Priority Register of the local APIC (offset 0x80): the priority at or below which interrupts are held back. The LAPIC microbenchmark reads and writes it.',
    where: 'Registers & LAPIC panel, the scenarios\' LAPIC_TPR accesses.' },
  { term: 'EOI', definition: 'End Of Interrupt register of the local APIC (offset 0xB0): the guest writes it to say it has handled an interrupt, once per timer tick.',
    where: 'Registers & LAPIC panel, the CPU-bound loop\'s timer handler.' },
  { term: 'ICR', definition: 'Interrupt Command Register of the local APIC (offsets 0x300/0x310): writing it sends an inter-processor interrupt (IPI).',
    where: 'Registers & LAPIC panel, the IPI ping-pong scenario.' },
  { term: 'write-protect fault', definition: 'An EPT violation on a write to a page the VMM made read-only to guard cached instructions: the VMM drops the entries that depend on the page, lifts the protection and lets the write complete.',
    where: 'Exit pipeline ("invalidate"), the event log (ept-violation), the memory map: the page written flashes red (its hatching marks the pages protected).' },
  { term: 'EPT violation', definition: 'The exit taken when the guest touches a guest-physical page the EPT does not map, or in a way it does not allow: in bhyve every access to the local APIC page (the event log\'s mmio, see MMIO exit) and every write-protect fault (a write to a page the VMM made read-only). An access where neither memory nor a device is behind the address is one the VMM cannot handle: the run stops.',
    where: 'Event log (ept-violation), the exit pipeline ("invalidate"), and the stop banner when no memory is behind the address.' },
  { term: 'MMIO exit', definition: 'The exit taken when the guest reads or writes device memory, such as the local APIC page. In bhyve that page is not mapped in the EPT, so the access takes an EPT violation (KVM instead marks the entry misconfigured). It says which address (guest-physical, and the guest-linear one), not which instruction: the VMM must find and decode the instruction itself.',
    where: 'Event log (mmio), the exit pipeline\'s walk, fetch and decode stages.' },
  { term: 'MSR exit', definition: 'RDMSR or WRMSR of a model-specific register the VMM intercepts. The exit reason names only the instruction; the MSR number (ECX) and the value (EDX:EAX) are guest registers the VMM has already saved, so nothing is walked, fetched or decoded: how x2APIC reaches the APIC.',
    where: 'Event log (rdmsr, wrmsr), the x2APIC scenario and lesson 7.' },
  { term: 'interrupt window', definition: 'An exit the VMM asks for when an interrupt is pending but the guest cannot take it yet (IF = 0): the CPU exits as soon as the guest can, and the VMM injects the interrupt.',
    where: 'Event log (interrupt-window): the x2APIC scenario sends itself an IPI while IF = 0.' },
  { term: 'external interrupt', definition: 'An exit a host interrupt causes while the guest runs (VMMs keep external-interrupt exiting on). Here it is the LAPIC timer\'s tick: bhyve\'s timer callout kicks the computing vCPU out with an IPI, and the VMM injects the tick at the next VM entry. Under APICv, posted interrupts deliver the tick without an exit.',
    where: 'Event log (external-interrupt): the CPU-bound timer scenario takes one per tick, beside the handler\'s EOI write.' },
  { term: 'event delivery', definition: 'The CPU taking an interrupt or exception through the IDT: it reads the gate, may switch stacks through the TSS, and pushes a frame, each through the page tables. An exit during it (an accessed bit set on a write-protected table page) is not the instruction\'s own access, and the event is delivered again after the VMM resumes (IDT-vectoring information, SDM Vol. 3C §27.2.4).',
    where: 'The pipeline of a write-protect fault ("while delivering interrupt 32"), and the editor\'s "(delivery)" marks: the CPU-bound timer scenario\'s ticks.' },
  { term: 'triple fault', definition: 'A fault while the CPU delivers a double fault (#DF): the guest cannot go on. In a VM it is a VM exit (basic reason 2), and bhyve suspends the VM, so the run ends there.',
    where: 'Event log (triple-fault) and the stop banner: a program that faults with no handler, say a jump to an address its page tables do not map.' },
  { term: 'CR3', definition: 'The control register that points at the current top-level guest page table: it names the address space, which is why the instruction cache\'s key holds it.',
    where: 'Registers panel, the instruction cache\'s cr3 column (its key: VM, RIP, CR3), the 2D page walk\'s top row "PML4 (CR3)".' },
];

const BY_TERM = new Map(GLOSSARY.map((t) => [t.term.toLowerCase(), t]));

/** The entry for a data-term value (case-insensitive), or undefined for an unknown term. */
export function glossaryEntry(term: string): GlossaryTerm | undefined {
  return BY_TERM.get(term.trim().toLowerCase());
}

/** The glossary term for each exit-pipeline node and machine panel (their data-term). */
export const PIPELINE_NODE_TERMS: Readonly<Record<string, string>> = {
  exit: 'VM exit', icache: 'instruction cache', 'walk-guest': 'gla2gpa', 'walk-ept': 'EPT', decode: 'struct vie', insert: 'instruction cache', protect: 'EPT', invalidate: 'write-protect fault',
};
export const PANEL_TERMS: Readonly<Record<string, string>> = {
  pipeline: 'VM exit', walk: '2D walk', icache: 'instruction cache', memory: 'GPA', registers: 'CR3',
};

/** The glossary term for each exit reason (the event log's reason column and filter chips). */
export const EXIT_REASON_TERMS: Readonly<Record<ExitReason, string>> = {
  mmio: 'MMIO exit', 'ept-violation': 'EPT violation', 'apic-write': 'APICv', hlt: 'VM exit', io: 'VM exit', cpuid: 'VM exit',
  rdmsr: 'MSR exit', wrmsr: 'MSR exit', vmcall: 'VM exit', 'external-interrupt': 'external interrupt', 'interrupt-window': 'interrupt window', 'triple-fault': 'triple fault',
};

/** The glossary term of a local APIC register, by the name the Registers panel shows (or undefined). */
export function lapicRegisterTerm(name: string): string | undefined {
  return name === 'TPR' || name === 'EOI' ? name : name.startsWith('ICR') ? 'ICR' : undefined;
}
