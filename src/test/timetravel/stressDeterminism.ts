/** Time travel over generated stress programs (src/core/invariants/generator.ts), every strategy. */
import { generateProgram } from '../invariants/generator';
import { STRATEGIES } from '../../core/events';
import { build, checkDeterminism } from './determinism';

/** Stress seed of these tests (fixed: a failure names the program to regenerate). */
export const TIMETRAVEL_STRESS_SEED = 20261203;

/**
 * Programs [from, from + count): under every strategy, back to exit 3n/4 and forward; under
 * one strategy per program (in turn), back one instruction at the half and forward. Checkpoints
 * every 16 exits, so going back replays a little and many snapshots are restored.
 */
export function stressProblems(from: number, count: number): string[] {
  const problems: string[] = [];
  for (let i = from; i < from + count && problems.length === 0; i++) {
    const p = generateProgram(TIMETRAVEL_STRESS_SEED, i);
    STRATEGIES.forEach((strategy, s) => {
      const m = build(p.source, { ...p.config, strategy, maxInsns: 300_000, ramBytes: 4 * 1024 * 1024, checkpointEvery: 16 }, `${p.name}.s`);
      m.vmm.disassemble = false;
      problems.push(...checkDeterminism(m, { exits: [0.75], retired: s === i % STRATEGIES.length }).map((x) => `${p.name} ${strategy}: ${x}`));
    });
  }
  return problems;
}
