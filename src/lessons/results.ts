/**
 * What each lesson's run shows: pure functions from the run's own counters and exit records to
 * the right answer, the figures behind it and why. Nothing here is canned: every number comes
 * from the run, and the answer is the choice those numbers support.
 */
import type { ExitEvent, StageName, StopInfo } from '../core/events';
import { percent } from '../core/percent';
import { plural } from '../core/plural';
import type { Counters, PageRole } from '../worker/protocol';

/** One finished run, as the page (or a test running the Machine in Node) has it. */
export interface LessonRun {
  counters: Counters;
  /** The exits the page received, oldest first (all of them for a small run; a sample for a big one). */
  exits: readonly ExitEvent[];
  /** Guest-physical pages by role (the machine view). */
  pages: readonly { vm: number; gpa: number; role: PageRole }[];
  /** Instruction-cache entries at the end (the machine view). */
  icache: readonly { vm: number; rip: number; cr3: number; hits: number; line?: number }[];
  console: string;
  stop: StopInfo | null;
}

export interface Figure {
  label: string;
  value: string;
}

export interface LessonOutcome {
  /** The choice id the run supports; null when the run shows nothing to judge by. */
  answer: string | null;
  figures: Figure[];
  /** Why, with the run's numbers. */
  why: string;
  /** The exit (seq) the panels should show next to the result, if one tells the story. */
  focus?: number;
}

export type LessonResultFn = (run: LessonRun) => LessonOutcome;

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const pct = (x: number) => percent(x, x > 0.99 && x < 1 ? 2 : 1);
const hex = (n: number) => `0x${n.toString(16)}`;

/** The last of `exits` at the RIP most of them share (the exit that recurs), or undefined. */
function lastAtCommonestRip(exits: readonly ExitEvent[]): ExitEvent | undefined {
  const n = new Map<number, number>();
  for (const e of exits) n.set(e.rip, (n.get(e.rip) ?? 0) + 1);
  const [rip] = [...n].reduce((m, x) => (x[1] > m[1] ? x : m), [NaN, 0]);
  return exits.findLast((e) => e.rip === rip);
}

function stage(e: ExitEvent, name: StageName): number {
  let c = 0;
  for (const s of e.stages) if (s.name === name) c += s.cycles;
  return c;
}

/** The sum of a count its walk stages carry (exitPath.ts walkStages: the guest part, then the EPT part). */
function walkSum(e: ExitEvent, count: 'refs' | 'held'): number {
  let sum = 0;
  for (const s of e.stages) if (s.name === 'walk') sum += s[count] ?? 0;
  return sum;
}

/** Memory references of an exit's walk: its guest part's and its EPT part's. */
const walkRefs = (e: ExitEvent) => walkSum(e, 'refs');
/** Guest pages an exit's walk held (vm_gpa_hold: each table page read, then the page found). */
const walkHolds = (e: ExitEvent) => walkSum(e, 'held');

const mmioExits = (run: LessonRun) => run.exits.filter((e) => e.reason === 'mmio');

const nothing = (why: string): LessonOutcome => ({ answer: null, figures: [], why });

/** Lesson 1: finding the instruction (walk + fetch + decode) against emulating it. */
const vmExit: LessonResultFn = (run) => {
  const e = mmioExits(run)[0];
  if (!e) return nothing('This run made no MMIO exit, so there is no emulation path to look at.');
  const find = stage(e, 'walk') + stage(e, 'fetch') + stage(e, 'decode');
  const emulate = stage(e, 'emulate');
  const ratio = emulate > 0 ? find / emulate : Infinity;
  const answer = ratio > 1.25 ? 'find' : ratio < 0.8 ? 'emulate' : 'even';
  return {
    answer,
    focus: e.seq,
    figures: [
      { label: 'exit round trip', value: `${fmt(stage(e, 'exit'))} cycles` },
      { label: `walk (${walkRefs(e)} references, ${walkHolds(e)} pages held)`, value: `${fmt(stage(e, 'walk'))} cycles` },
      { label: 'fetch', value: `${fmt(stage(e, 'fetch'))} cycles` },
      { label: 'decode', value: `${fmt(stage(e, 'decode'))} cycles` },
      { label: `emulate ${e.insn ?? ''}`.trim(), value: `${fmt(emulate)} cycles` },
    ],
    why: `Finding the instruction took ${fmt(find)} cycles (walk ${fmt(stage(e, 'walk'))} + fetch ${fmt(stage(e, 'fetch'))} + decode ${fmt(stage(e, 'decode'))}), ` +
      `${fmt(ratio, 1)}× the ${fmt(emulate)} cycles of emulating it. The exit itself cost ${fmt(stage(e, 'exit'))} more, whatever the VMM does.`,
  };
};

/** Lesson 2: references of the RIP walk under 4 KiB pages, then under 2 MiB pages in both dimensions. */
const walk2d: LessonResultFn = (run) => {
  const walks = mmioExits(run).filter((e) => walkRefs(e) > 0);
  if (walks.length < 2) return nothing('This run needs two MMIO exits that walk (strategy none) to compare.');
  const first = walks[0];
  const last = walks[walks.length - 1];
  const a = walkRefs(first);
  const b = walkRefs(last);
  return {
    answer: String(b),
    focus: last.seq,
    figures: [
      { label: `RIP ${hex(first.rip)}: 4 KiB guest pages, 4 KiB EPT leaves`, value: `${a} refs, ${fmt(stage(first, 'walk'))} cyc` },
      { label: `RIP ${hex(last.rip)}: 2 MiB guest page, 2 MiB EPT leaves`, value: `${b} refs, ${fmt(stage(last, 'walk'))} cyc` },
      { label: 'walk cycles saved', value: pct(1 - stage(last, 'walk') / Math.max(1, stage(first, 'walk'))) },
    ],
    why: `The first walk read ${a} entries: 4 guest levels, each found through a 4-level EPT walk, plus one EPT walk for the code page, (4+1)×(4+1)−1. ` +
      `With a 2 MiB guest page the guest walk stops at the PD (3 levels) and with 2 MiB EPT leaves each EPT walk reads 3 entries: (3+1)×(3+1)−1 = ${b} in this run. ` +
      `The cycles also count the pages the VMM held to read them (vm_gpa_hold, each table page and the page found): ${walkHolds(first)}, then ${walkHolds(last)}.`,
  };
};

/** Lesson 3: a fetch window (15 bytes from RIP) that crosses a page boundary needs two translations. */
const fetchDecode: LessonResultFn = (run) => {
  const walks = mmioExits(run).filter((e) => walkRefs(e) > 0);
  if (walks.length === 0) return nothing('This run made no MMIO exit that walked (strategy none).');
  const straddler = walks.reduce((m, e) => (walkRefs(e) > walkRefs(m) ? e : m));
  const plain = walks.reduce((m, e) => (walkRefs(e) < walkRefs(m) ? e : m));
  const refs = walkRefs(straddler);
  const fetchDetail = straddler.stages.find((s) => s.name === 'fetch')?.detail ?? '';
  return {
    answer: String(refs),
    focus: straddler.seq,
    figures: [
      { label: `${straddler.insn ?? 'straddling instruction'} at ${hex(straddler.rip)}`, value: `${refs} refs; fetch: ${fetchDetail.replace(/^\d+ bytes?, /, '')}` },
      { label: `${plain.insn ?? 'one-page instruction'} at ${hex(plain.rip)}`, value: `${walkRefs(plain)} refs; fetch: ${(plain.stages.find((st) => st.name === 'fetch')?.detail ?? '').replace(/^\d+ bytes?, /, '')}` },
      { label: 'decode of each', value: `${fmt(stage(straddler, 'decode'))} / ${fmt(stage(plain, 'decode'))} cycles` },
    ],
    why: `The instruction at ${hex(straddler.rip)} starts ${4096 - (straddler.rip & 0xfff)} bytes before a page boundary, so its bytes live on two pages ` +
      `that need not be adjacent in guest-physical memory. The VMM cannot know the length before decoding, so it translates the whole 15-byte fetch window: ${refs} references against ${walkRefs(plain)} for an instruction whose window stays inside one page. ` +
      'The second walk is due whenever the 15 bytes from RIP cross a page boundary: an instruction that fits in its page but starts within 14 bytes of the end pays it too.',
  };
};

/** Lesson 4: the instruction cache's misses, hits and what a hit saves. */
const icacheHits: LessonResultFn = (run) => {
  const c = run.counters;
  const ic = c.icache;
  if (ic.lookups === 0) return nothing('The cache was not consulted in this run (strategy icache is needed).');
  const wfd = c.cycles.walk + c.cycles.fetch + c.cycles.decode;
  const perMiss = ic.misses > 0 ? wfd / ic.misses : 0;
  const perLookup = c.cycles.icache / ic.lookups;
  // What a hit pays: the lookup alone (insert, protect and invalidate are a miss's and a fault's).
  const perHit = c.cycles.lookup / ic.lookups;
  return {
    answer: ic.misses * 100 <= ic.lookups ? 'few' : 'many',
    // A hit, for the pipeline to show (lookup, then emulate); it had shown the final hlt.
    focus: run.exits.findLast((e) => e.icache === 'hit')?.seq,
    figures: [
      { label: 'lookups', value: fmt(ic.lookups) },
      { label: 'misses (then inserts)', value: fmt(ic.misses) },
      { label: 'hit rate', value: pct(ic.hits / ic.lookups) },
      { label: 'walk + fetch + decode per miss', value: `${fmt(perMiss)} cycles` },
      { label: 'cache cost per lookup (insert, protect and invalidate included)', value: `${fmt(perLookup, 1)} cycles` },
      { label: "saved per hit (a miss's walk + fetch + decode, less the lookup)", value: `${fmt(perMiss - perHit)} cycles` },
    ],
    why: `${fmt(ic.misses)} of ${fmt(ic.lookups)} lookups missed: each distinct (VM, RIP, CR3) misses once and is inserted, every later exit at it hits. ` +
      `A hit skips the walk, fetch and decode a miss paid (${fmt(perMiss)} cycles) for a lookup of ${fmt(perHit, 1)}.`,
  };
};

/**
 * Lesson 5: every write to a page a cached entry depends on faults and invalidates. Which
 * writes: the program patching its code, the program rewriting a PTE (a remap), and the CPU's
 * own accessed/dirty-bit updates during its walks (`pagingEntry`, SDM exit qualification bit 8).
 */
const keepHonest: LessonResultFn = (run) => {
  const ic = run.counters.icache;
  const role = new Map(run.pages.map((p) => [`${p.vm}:${p.gpa}`, p.role]));
  let onCode = 0, tableStores = 0, adUpdates = 0;
  let lastFault: ExitEvent | null = null;
  /** The instruction each (VM, CR3, RIP) decoded at its last miss. */
  const decoded = new Map<string, string>();
  let remap: { fault: ExitEvent; miss: ExitEvent; before: string } | null = null;
  for (const e of run.exits) {
    if (e.reason === 'ept-violation' && e.gpa !== undefined) {
      const r = role.get(`${e.vm}:${e.gpa - (e.gpa % 4096)}`);
      if (e.pagingEntry) adUpdates++;
      else if (r === 'pagetable') tableStores++;
      else if (r === 'code') onCode++;
      lastFault = e;
      continue;
    }
    if (e.reason !== 'mmio' || e.icache !== 'miss' || e.insn === undefined) continue;
    const key = `${e.vm}:${e.cr3}:${e.rip}`;
    const before = decoded.get(key);
    // Same RIP and CR3, other bytes, right after a guest store to a page-table page: a remap.
    if (remap === null && before !== undefined && before !== e.insn && lastFault !== null && !lastFault.pagingEntry &&
        role.get(`${lastFault.vm}:${(lastFault.gpa ?? 0) - ((lastFault.gpa ?? 0) % 4096)}`) === 'pagetable') {
      remap = { fault: lastFault, miss: e, before };
    }
    decoded.set(key, e.insn);
  }
  const honest = ic.wpFaults > 0 && ic.invalidations > 0;
  const figures: Figure[] = [
    { label: 'write-protect faults (EPT violations)', value: fmt(ic.wpFaults) },
    { label: '… the program patching its code (code pages)', value: fmt(onCode) },
    { label: '… the program rewriting a PTE (page-table pages)', value: fmt(tableStores) },
    { label: '… the CPU setting accessed/dirty bits (page-table pages)', value: fmt(adUpdates) },
    { label: 'cache entries invalidated', value: fmt(ic.invalidations) },
  ];
  if (remap !== null) {
    figures.push({
      label: `RIP ${hex(remap.miss.rip)}, CR3 ${hex(remap.miss.cr3)}, after the PTE write (exit ${remap.fault.seq})`,
      value: `${remap.before} → ${remap.miss.insn}`,
    });
  }
  const remapWhy = remap !== null
    ? ` The PTE write at exit ${remap.fault.seq} remapped RIP ${hex(remap.miss.rip)}: it dropped ${fmt(remap.fault.invalidated ?? 0)} ${plural(remap.fault.invalidated ?? 0, 'entry', 'entries')} keyed to the old mapping, and the next exit there, same RIP and CR3, decoded \`${remap.miss.insn}\` instead of \`${remap.before}\`.`
    : '';
  return {
    answer: honest ? 'fault' : 'stale',
    focus: remap?.fault.seq,
    figures,
    why: honest
      ? `Every write to a page a cached entry depends on faulted (${fmt(ic.wpFaults)} times) and dropped the entries built from it (${fmt(ic.invalidations)}), so the next exit missed and decoded the bytes as they are now.${remapWhy} ` +
        `${fmt(adUpdates)} of the faults ${adUpdates === 1 ? 'was' : 'were'} no guest store at all: the CPU's own accessed/dirty-bit update in a write-protected page-table page.`
      : 'No write hit a protected page in this run, so nothing had to be invalidated.',
  };
};

/** Lesson 6: why a CPU-bound guest gains nothing: exits per 1,000 instructions and the share of cycles a cache can save. */
const realWorkloads: LessonResultFn = (run) => {
  const c = run.counters;
  const wfd = c.cycles.walk + c.cycles.fetch + c.cycles.decode;
  const share = c.cycles.total > 0 ? wfd / c.cycles.total : 0;
  const best = c.cycles.total > wfd ? c.cycles.total / (c.cycles.total - wfd) - 1 : 0;
  return {
    // The question's 35%: the gain a perfect cache could bring, as the seed's figure.
    answer: best >= 0.35 ? 'yes' : 'no',
    // One of the exits that recur (the timer's EOI, the commonest MMIO RIP), for the pipeline:
    // it had shown the final hlt, and then the one-off write that masks the timer.
    focus: lastAtCommonestRip(run.exits.filter((e) => e.reason === 'mmio'))?.seq,
    figures: [
      { label: 'guest instructions', value: fmt(c.retired) },
      { label: 'VM exits', value: fmt(c.exits.total) },
      { label: 'exits per 1,000 instructions', value: fmt((1000 * c.exits.total) / Math.max(1, c.retired), 3) },
      { label: 'share of modeled cycles in walk + fetch + decode', value: pct(share) },
      { label: 'the most any instruction cache could gain', value: `+${pct(best)}` },
    ],
    why: `A cache can only remove walk, fetch and decode. Here they are ${pct(share)} of all cycles (${fmt(c.exits.total)} exits in ${fmt(c.retired)} instructions), ` +
      `so even a perfect cache gains at most +${pct(best)}, far from the seed's 35–40% on its LAPIC microbenchmark.`,
  };
};

/** Lesson 7: x2APIC MSR exits against MMIO exits doing the same work. */
const x2apic: LessonResultFn = (run) => {
  const c = run.counters;
  const mmio = c.exits.byReason.mmio ?? 0;
  const msr = (c.exits.byReason.rdmsr ?? 0) + (c.exits.byReason.wrmsr ?? 0);
  if (mmio === 0 || msr === 0) return nothing('This run needs both MMIO and MSR exits (strategy none or icache) to compare.');
  const wfd = c.cycles.walk + c.cycles.fetch + c.cycles.decode;
  const perMmio = wfd / mmio;
  const roundTrip = c.cycles.exit / Math.max(1, c.exits.total);
  const loggedMsr = run.exits.filter((e) => e.reason === 'rdmsr' || e.reason === 'wrmsr');
  const msrFind = loggedMsr.reduce((a, e) => a + stage(e, 'walk') + stage(e, 'fetch') + stage(e, 'decode'), 0);
  return {
    answer: perMmio > 0 && msrFind === 0 ? 'msr' : perMmio > 0 ? 'mmio' : 'same',
    focus: loggedMsr.find((e) => e.reason === 'wrmsr')?.seq,
    figures: [
      // Whole-run counts: the switch to x2APIC and the setup take an MMIO read and 6 MSR exits besides the 3,000 TPR rounds of each phase.
      { label: 'MMIO exits, whole run', value: fmt(mmio) },
      { label: 'RDMSR/WRMSR exits, whole run', value: fmt(msr) },
      { label: 'walk + fetch + decode per MMIO exit, on average', value: `${fmt(perMmio)} cycles` },
      { label: `walk + fetch + decode in the ${fmt(loggedMsr.length)} MSR exits logged`, value: `${fmt(msrFind)} cycles` },
      { label: 'exit round trip, every exit', value: `${fmt(roundTrip)} cycles` },
    ],
    why: `The MMIO exits spent ${fmt(perMmio)} cycles each on average finding and decoding their instruction; an MSR exit spends none: its exit reason names the instruction (RDMSR/WRMSR), and the MSR number (ECX) and the value (EDX:EAX) are guest registers the VMM has already saved, so there is nothing to fetch or decode. ` +
      'KVM\'s fast MMIO path gets the same saving for any access to an address registered with a zero-length ioeventfd (one with a length or a data match is emulated, with a decode): KVM\'s EPT-misconfig exit gives the address, no decode follows.',
  };
};

/** Lesson 8: entries for one RIP across VMs and address spaces. */
const twoVms: LessonResultFn = (run) => {
  const byRip = new Map<number, { vm: number; cr3: number; hits: number; line?: number }[]>();
  for (const e of run.icache) {
    const list = byRip.get(e.rip) ?? [];
    list.push(e);
    byRip.set(e.rip, list);
  }
  if (byRip.size === 0) return nothing('The cache holds no entries at the end of this run (strategy icache is needed).');
  const [rip, list] = [...byRip].reduce((m, x) => (x[1].length > m[1].length ? x : m));
  const vms = new Set(list.map((e) => e.vm)).size;
  const cr3s = new Set(list.map((e) => e.cr3)).size;
  // The code each entry holds, by its source line (the cache panel's line column).
  const lines = [...new Set(list.flatMap((e) => (e.line === undefined ? [] : [e.line])))].sort((a, b) => a - b);
  const code = lines.length > 1 ? `: the code on lines ${lines.slice(0, -1).join(', ')} and ${lines[lines.length - 1]}, cached once in each VM` : '';
  const many = (n: number, what: string) => `${n} ${plural(n, what)}`;
  return {
    answer: String(list.length),
    // A hit at that RIP, for the pipeline: it had shown the final hlt.
    focus: run.exits.findLast((e) => e.rip === rip && e.icache === 'hit')?.seq,
    figures: [
      { label: `cache entries for RIP ${hex(rip)}`, value: fmt(list.length) },
      ...list.map((e) => ({ label: `VM ${e.vm}, CR3 ${hex(e.cr3)}${e.line === undefined ? '' : `, line ${e.line}`}`, value: `${fmt(e.hits)} ${plural(e.hits, 'hit')}` })),
      { label: 'hit rate, whole run', value: pct(run.counters.icache.hits / Math.max(1, run.counters.icache.lookups)) },
    ],
    why: `One RIP, ${list.length} entries, ${many(vms, 'VM')} × ${many(cr3s, 'CR3 value')}${code}. The two VMs even use the same CR3 values, so only the VM in the key keeps them apart; ` +
      'without CR3 in the key one address space would run the other\'s decoded instruction.',
  };
};

export const LESSON_RESULTS: Readonly<Record<string, LessonResultFn>> = {
  vmExit, walk2d, fetchDecode, icacheHits, keepHonest, realWorkloads, x2apic, twoVms,
};
