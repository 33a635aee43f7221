/**
 * The determinism check behind time travel's tests: record a whole run, go back to a few exits
 * (and one instruction), run forward again, and compare the exits and the final state.
 */
import type { ExitEvent } from '../../core/events';
import { buildMachine, type Machine, type MachineConfig } from '../../core/machine';
import { machineView } from '../../worker/view';

export function build(source: string, config: Partial<MachineConfig>, file = 'test.s'): Machine {
  const built = buildMachine(source, config, file);
  if (!built.ok) throw new Error(built.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n'));
  return built.machine;
}

/** Everything the machine shows, host time left out. */
export function fingerprint(m: Machine): string {
  const { hostNsPerExit: _host, ...counters } = m.counters();
  return JSON.stringify({ counters, view: machineView(m), stop: m.stopInfo() });
}

/** An exit's record, host time and walk left out, and what the VMM did next (onExit hands on its own record; an exit's detail is the exit alone). */
const exitKey = (e: ExitEvent) => JSON.stringify({ ...e, hostNs: undefined, walk: undefined, action: undefined, injected: undefined });

/** Run to the end collecting the exits. */
export function runCollecting(m: Machine): string[] {
  const out: string[] = [];
  m.onExit = (e) => out.push(exitKey(e));
  m.runToEnd();
  m.onExit = null;
  return out;
}

/**
 * At exit k (after a seek): exit k's detail (handled, so the machine is past k) is the recorded
 * exit and seeking k again stands where it stood; a seek to a later exit that runs on from
 * here stands where restoring a snapshot and re-running stands. Leaves the machine at exit k.
 */
function checkRunOn(m: Machine, exits: readonly string[], k: number): string[] {
  const problems: string[] = [];
  const atK = fingerprint(m);
  const detail = m.exitDetailAt(k);
  if (detail === false) return [`no detail of exit ${k}`];
  if (exitKey(detail) !== exits[k]) problems.push(`the detail of exit ${k} differs:\n  ${exits[k]}\n  ${exitKey(detail)}`);
  if (m.counters().exits.total !== k + 1) problems.push(`after the detail of exit ${k}: ${m.counters().exits.total} exits handled`);
  for (const j of [...new Set([k + 1, k + 5, k + 1500].map((x) => Math.min(exits.length - 1, x)))]) {
    if (j <= k) continue;
    m.seekExit(j); // runs on from here
    const on = fingerprint(m);
    m.exitDetailAt(j); // past j, so the next seek to j restores a snapshot
    m.seekExit(j);
    if (fingerprint(m) !== on) problems.push(`exit ${j} reached by running on from exit ${k} differs from exit ${j} restored`);
    m.seekExit(k);
  }
  m.seekExit(k);
  if (fingerprint(m) !== atK) problems.push(`exit ${k} again after its detail differs`);
  return problems;
}

export interface DeterminismOptions {
  /** Where to go back to, as fractions of the exits the timeline reaches (default 0, 1/2, 1). */
  exits?: readonly number[];
  /** Also back one instruction, to the middle of what it reaches (default true). */
  retired?: boolean;
  /** The timeline's memory budget (default the Worker's); a small one thins the snapshots. */
  budgetBytes?: number;
}

/**
 * Record a whole run (and fill in a few snapshots, as the Worker does while idle), then go back
 * to a few exits and instructions and run forward again: the exits after the point and the
 * final state must be the original ones. A budget the run outgrows thins the snapshots: the
 * recording must then hold at most the budget (or the newest snapshot alone, which may hold
 * more), the points are taken within the reach left, and the exit before it must be refused.
 * Returns the problems.
 */
export function checkDeterminism(m: Machine, opts: DeterminismOptions = {}): string[] {
  const problems: string[] = [];
  const tl = m.attachTimeline(opts.budgetBytes);
  const exits = runCollecting(m);
  const end = fingerprint(m);
  // As the Worker does while idle: fill in a few of the snapshots the recording skipped.
  for (let i = 0; i < 3 && m.canFillSnapshot(); i++) if (!m.fillSnapshot()) problems.push('a snapshot could not be filled in');
  const n = exits.length;
  const retiredEnd = m.retired;
  const { first: reach, bytes, budget, snapshots } = tl.info();
  // Over the budget only with the newest snapshot alone left (its RAM pages are what they are).
  if (bytes > budget && snapshots > 1) problems.push(`the timeline holds ${bytes} bytes in ${snapshots} snapshots, over its budget of ${budget}`);
  if (reach > 0 && m.seekExit(reach - 1) !== false) problems.push(`exit ${reach - 1}, before the reach (${reach}), was shown`);
  const span = n - reach;
  const ks = [...new Set((opts.exits ?? [0, 0.5, 1]).map((f) => Math.min(n - 1, reach + Math.floor(f * span))).filter((k) => k >= reach))];
  for (const k of ks) {
    if (m.seekExit(k) === false) { problems.push(`cannot go to exit ${k}`); continue; }
    if (m.counters().exits.total !== k) problems.push(`at exit ${k}: ${m.counters().exits.total} exits handled`);
    // One point per run is enough for the run-on and detail paths (the long scenarios are slow).
    if (k === ks[ks.length >> 1]) problems.push(...checkRunOn(m, exits, k));
    const again = runCollecting(m);
    if (again.length !== n - k) problems.push(`from exit ${k}: ${again.length} exits, expected ${n - k}`);
    const first = again.findIndex((e, i) => e !== exits[k + i]);
    if (first >= 0) problems.push(`from exit ${k}: exit ${k + first} differs:\n  ${exits[k + first]}\n  ${again[first]}`);
    if (fingerprint(m) !== end) problems.push(`from exit ${k}: the final state differs`);
  }
  if (opts.retired === false) return problems;
  // The instructions it reaches start at the oldest snapshot's.
  let retiredFirst = 0;
  if (reach > 0) {
    if (m.seekExit(reach) === false) return [...problems, `cannot go to exit ${reach}, the reach`];
    retiredFirst = m.retired;
  }
  const r = Math.max(retiredFirst, retiredFirst + ((retiredEnd - retiredFirst) >> 1) - 1);
  if (!m.seekRetired(r)) problems.push(`cannot go back to instruction ${r}`);
  else {
    if (m.retired !== r) problems.push(`back to instruction ${r}: at ${m.retired}`);
    runCollecting(m);
    if (fingerprint(m) !== end) problems.push(`from instruction ${r}: the final state differs`);
  }
  return problems;
}

