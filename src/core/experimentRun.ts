/**
 * Run one workload of the experiment to its end (experiment.ts says what is kept and why).
 * Separate from experiment.ts because it builds machines (iced-x86): the Worker and the bench
 * import it, the page's main thread does not.
 */
import type { CostModel } from './cost';
import type { Strategy } from './events';
import type { RunRecord } from './experiment';
import { buildMachine } from './machine';

export interface RunOptions {
  /** The preset's name (the machine's config) and, optionally, a model that replaces it. */
  preset: string;
  costModel?: Readonly<CostModel>;
  /** A millisecond clock to time the run with (the bench passes performance.now). */
  clock?: () => number;
}

/** Run `source` under `strategy` to its end. Throws when the program does not assemble. */
export function runWorkload(name: string, source: string, strategy: Strategy, opts: RunOptions): RunRecord {
  const built = buildMachine(source, { strategy, preset: opts.preset, costModel: opts.costModel }, `${name}.s`);
  if (!built.ok) throw new Error(`${name}: ${built.diagnostics.map((d) => d.message).join('; ')}`);
  const m = built.machine;
  const t0 = opts.clock?.() ?? 0;
  m.runToEnd();
  const hostMs = opts.clock ? opts.clock() - t0 : 0;
  const c = m.counters();
  const stop = m.stopInfo();
  return {
    scenario: name,
    strategy,
    stop: stop?.reason ?? '?',
    stopMessage: stop?.message ?? '',
    retired: c.retired,
    exits: c.exits.total,
    hitRate: c.icache.lookups ? c.icache.hits / c.icache.lookups : null,
    cycles: c.cycles,
    units: { ...m.units },
    operandUnits: { ...m.operandUnits },
    sawTime: m.guestSawTime(),
    hostNsPerExit: c.hostNsPerExit,
    hostMs,
  };
}

