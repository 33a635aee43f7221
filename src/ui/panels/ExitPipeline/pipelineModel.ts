/**
 * The exit pipeline as data: which stages one exit went through, which it skipped and why,
 * with its modeled cycles; and the run-wide proportions shown at full speed. Pure.
 */
import type { CycleCounters, ExitEvent, Stage, StageName } from '../../../core/events';
import type { Counters } from '../../../worker/protocol';
import { cyclesPerExitHandled, exitShare, hitRate } from '../lib/runFigures';
import { counted, int } from '../lib/format';
import { STAGE_LABEL } from '../../../core/stageNames';

export type NodeId =
  | 'exit' | 'icache' | 'walk-guest' | 'walk-ept' | 'fetch' | 'decode' | 'insert' | 'protect' | 'emulate' | 'invalidate' | 'device' | 'resume'
  | 'stop';

export interface PipelineNode {
  id: NodeId;
  label: string;
  /** Stage colour key. */
  stage: StageName | 'resume';
  /** Modeled cycles of this node, or null when it did not run. */
  cycles: number | null;
  detail: string;
  /**
   * 'ran' lit in order; 'hit'/'miss' for the lookup; 'skipped' greyed with the reason in detail;
   * 'refused' for the stage that could not handle the instruction and the run's stop after it.
   */
  state: 'ran' | 'hit' | 'miss' | 'skipped' | 'refused';
}

/** Short full names: a card is ~100 px wide at 1280x720 and its name must never be cut off. */
const BASE: { id: NodeId; label: string; stage: StageName | 'resume' }[] = [
  { id: 'exit', label: 'VM exit', stage: 'exit' },
  { id: 'icache', label: 'lookup', stage: 'icache' },
  { id: 'walk-guest', label: 'guest walk', stage: 'walk' },
  { id: 'walk-ept', label: 'EPT walks', stage: 'walk' },
  { id: 'fetch', label: 'fetch', stage: 'fetch' },
  { id: 'decode', label: 'decode', stage: 'decode' },
  { id: 'insert', label: 'insert', stage: 'insert' },
  { id: 'protect', label: 'write-protect', stage: 'protect' },
  { id: 'emulate', label: 'emulate', stage: 'emulate' },
  { id: 'invalidate', label: 'invalidate', stage: 'invalidate' },
  { id: 'device', label: 'device', stage: 'device' },
  { id: 'resume', label: 'resume', stage: 'resume' },
];

/** Stages drawn only on the exits that ran them (a miss inserts and protects; a fault invalidates). */
const ONLY_WHEN_RAN: ReadonlySet<NodeId> = new Set<NodeId>(['insert', 'protect', 'invalidate', 'device']);

/** Why a stage of the instruction-emulation path did not run for this exit. */
function skipReason(exit: ExitEvent, id: NodeId): string {
  if (exit.reason !== 'mmio') return `not needed for ${exit.reason}`;
  if (exit.icache === 'hit' && (id === 'walk-guest' || id === 'walk-ept' || id === 'fetch' || id === 'decode')) return 'skipped: cache hit';
  if (id === 'icache') return exit.icache === 'bypass' ? 'bypassed' : 'no cache (strategy)';
  if ((id === 'walk-guest' || id === 'walk-ept' || id === 'fetch') && exit.stages.some((s) => s.name === 'decode')) return 'skipped: bytes handed over (decode assist)';
  return 'skipped';
}

/** A walk card's detail, from its stage's counts: "4 refs", "20 refs, 5 pages held". */
function walkCardDetail(s: Stage): string {
  if (s.refs === undefined) return s.detail ?? '';
  return counted(s.refs, 'ref') + (s.held === undefined ? '' : `, ${counted(s.held, 'page')} held`);
}

/** The cycles of an exit's emulate stage spent walking and copying its memory operand (0 for none). */
export function operandCycles(exit: ExitEvent): number {
  let sum = 0;
  for (const s of exit.stages) if (s.operand !== undefined) sum += s.cycles;
  return sum;
}

export function buildPipeline(exit: ExitEvent): PipelineNode[] {
  const byName = new Map<StageName, { cycles: number; detail: string }>();
  for (const s of exit.stages) {
    const prev = byName.get(s.name);
    byName.set(s.name, { cycles: (prev?.cycles ?? 0) + s.cycles, detail: [prev?.detail, s.detail].filter(Boolean).join(', ') });
  }
  const walk = byName.get('walk');
  // The VMM charges the walk as two stages: the guest entries read, then the EPT references
  // and the pages held (exitPath.ts walkStages).
  const walkParts = exit.stages.filter((s) => s.name === 'walk');
  const nodes: PipelineNode[] = [];
  // Only an MMIO exit goes through the instruction-emulation path; other exits show just the
  // stages they ran, so a hlt or an EPT violation is not drawn as a row of skipped boxes.
  const emulationPath = exit.reason === 'mmio';
  // A run that stopped at this exit shows it up to the stage that refused the instruction (a
  // triple fault's exit refused nothing: the VM is done, and the exit stage ran as any does).
  const refusedAt = exit.stop ? exit.stages.at(-1)?.name : undefined;
  const refuses = exit.reason !== 'triple-fault';
  for (const b of BASE) {
    if (refusedAt !== undefined && b.id === 'resume') {
      nodes.push({ id: 'stop', label: 'run stops', stage: 'resume', cycles: null, detail: exit.stop!.reason, state: 'refused' });
      break;
    }
    if (ONLY_WHEN_RAN.has(b.id) && !byName.has(b.stage as StageName)) continue;
    if (!emulationPath && b.id !== 'exit' && b.id !== 'resume') {
      const has = b.id === 'walk-guest' || b.id === 'walk-ept' ? !!walk : byName.has(b.stage as StageName);
      if (!has) continue;
    }
    let node: PipelineNode;
    if (b.id === 'resume') {
      node = { ...b, cycles: null, detail: `${int(exit.cycles)} cycles in all`, state: 'ran' };
    } else if (b.id === 'walk-guest' || b.id === 'walk-ept') {
      if (!walk) {
        node = { ...b, cycles: null, detail: skipReason(exit, b.id), state: 'skipped' };
      } else {
        const part = walkParts[b.id === 'walk-guest' ? 0 : 1];
        // The card's name says which dimension: its detail does not ("20 refs, 5 pages held").
        node = part
          ? { ...b, cycles: part.cycles, detail: walkCardDetail(part), state: 'ran' }
          : { ...b, cycles: null, detail: 'counted in the guest walk', state: 'ran' };
      }
    } else {
      const s = byName.get(b.stage as StageName);
      if (!s) node = { ...b, cycles: null, detail: skipReason(exit, b.id), state: 'skipped' };
      else if (b.id === 'icache') node = { ...b, cycles: s.cycles, detail: s.detail || exit.icache || '', state: exit.icache === 'hit' ? 'hit' : exit.icache === 'miss' ? 'miss' : 'ran' };
      // The exit stage's cycles are the round trip (cost.ts `exit`: VM exit and VM entry), as the
      // charts and the trace name it; its card had read "VM exit 1,850 cyc" beside a "resume" of none.
      else node = {
        ...b, cycles: s.cycles, detail: b.id === 'exit' ? [STAGE_LABEL.exit, s.detail].filter(Boolean).join(' · ') : s.detail ?? '',
        state: b.stage === refusedAt && refuses ? 'refused' : 'ran',
      };
    }
    nodes.push(node);
    if (refusedAt !== undefined && b.stage === refusedAt) {
      nodes.push({ id: 'stop', label: 'run stops', stage: 'resume', cycles: null, detail: exit.stop!.reason, state: 'refused' });
      break;
    }
  }
  return nodes;
}

export type ShareKey = Exclude<keyof CycleCounters, 'total' | 'icache'>;

export interface Share {
  key: ShareKey;
  cycles: number;
  share: number;
}

/** The stage (colour, name) each part of the run's cycles belongs to. */
export const SHARE_STAGE: Record<ShareKey, StageName | 'guest'> = {
  guest: 'guest', exit: 'exit', lookup: 'icache', walk: 'walk', fetch: 'fetch', decode: 'decode',
  insert: 'insert', protect: 'protect', emulate: 'emulate', device: 'device', invalidate: 'invalidate',
};

/**
 * Run-wide modeled cycles by where they went, as shares of the total (the stacked bar). The
 * cache's cost is shown in its parts (lookup, insert, write-protect, invalidate), never as one.
 */
export function cycleShares(c: CycleCounters, includeGuest: boolean): Share[] {
  const keys: ShareKey[] = ['exit', 'lookup', 'walk', 'fetch', 'decode', 'insert', 'protect', 'emulate', 'device', 'invalidate'];
  if (includeGuest) keys.unshift('guest');
  const total = keys.reduce((a, k) => a + c[k], 0);
  return keys.map((k) => ({ key: k, cycles: c[k], share: total > 0 ? c[k] / total : 0 }));
}

export interface RunSummary {
  exits: number;
  /** Modeled cycles per exit handled (exit + entry and the VMM's work; see runFigures); null before the first exit. */
  cyclesPerExit: number | null;
  /** Modeled cycles per guest instruction, to say what an exit costs in instructions. */
  cyclesPerInsn: number;
  /** Share of the run's modeled cycles spent handling exits; null before any cycle. */
  overhead: number | null;
  hits: number;
  misses: number;
  hitRate: number | null;
  /** Mean walk + fetch + decode cycles of a miss: what each hit saves (before the lookup's own cost). */
  savedPerHit: number | null;
}

export function summarize(c: Counters): RunSummary {
  return {
    exits: c.exits.total,
    cyclesPerExit: cyclesPerExitHandled(c),
    cyclesPerInsn: c.retired ? c.cycles.guest / c.retired : 0,
    overhead: exitShare(c),
    hits: c.icache.hits,
    misses: c.icache.misses,
    hitRate: hitRate(c),
    savedPerHit: c.icache.misses ? (c.cycles.walk + c.cycles.fetch + c.cycles.decode) / c.icache.misses : null,
  };
}
