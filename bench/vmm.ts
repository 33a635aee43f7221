/**
 * npm run bench: every scenario under every strategy. Prints a table (scenario × strategy:
 * guest instructions, exits, cache hit rate, modeled cycles total and per exit, speed-up
 * against `none`, host ns per exit) with the seed's figures beside it, and writes the same as
 * JSON to bench/results.json. Modeled cycles are deterministic; host times are this machine's.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { COST_PRESET_NAMES, isCostPresetName, type CostPresetName } from '../src/core/cost';
import { SEED_FIGURES, speedup } from '../src/core/experiment';
import { runWorkload } from '../src/core/experimentRun';
import { loadScenarios } from '../src/scenarios/loadFromDisk';
import { STRATEGIES, type Strategy } from '../src/core/events';
import { percent } from '../src/core/percent';
import { measureExitThroughput } from './exits';

const args = process.argv.slice(2);
const presetArg = args.includes('--preset') ? args[args.indexOf('--preset') + 1] : undefined;
const preset: CostPresetName = presetArg && isCostPresetName(presetArg) ? presetArg : 'nehalem-2014';
const only = args.filter((a) => !a.startsWith('--') && a !== presetArg);

interface Row {
  scenario: string;
  strategy: Strategy;
  stop: string;
  retired: number;
  exits: number;
  hitRate: number | null;
  cyclesTotal: number;
  cyclesPerExit: number;
  speedupVsNone: number;
  hostMs: number;
  hostNsPerExit: number;
  exitsPerSec: number;
  seed?: string;
}

// The same runs as the app's experiment page (src/core/experiment.ts: runWorkload).
const rows: Row[] = [];
for (const s of loadScenarios().filter((x) => only.length === 0 || only.includes(x.name))) {
  let noneCycles = 0;
  for (const strategy of STRATEGIES) {
    const r = runWorkload(s.name, s.source, strategy, { preset, clock: () => performance.now() });
    if (strategy === 'none') noneCycles = r.cycles.total;
    const exitCycles = r.cycles.total - r.cycles.guest;
    rows.push({
      scenario: s.name,
      strategy,
      stop: r.stop,
      retired: r.retired,
      exits: r.exits,
      hitRate: r.hitRate,
      cyclesTotal: Math.round(r.cycles.total),
      cyclesPerExit: r.exits ? Math.round(exitCycles / r.exits) : 0,
      speedupVsNone: speedup(noneCycles, r.cycles.total),
      hostMs: r.hostMs,
      hostNsPerExit: r.hostNsPerExit,
      exitsPerSec: r.exits / (r.hostMs / 1000),
      seed: strategy === 'icache' ? SEED_FIGURES[s.name]?.text : undefined,
    });
  }
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const header = ['scenario', 'strategy', 'stop', 'guest insns', 'exits', 'hit rate', 'cycles', 'cyc/exit', 'speed-up', 'host ns/exit', 'exits/s', 'seed'];
const table = rows.map((r) => [
  r.scenario, r.strategy, r.stop, r.retired.toLocaleString('en-US'), r.exits.toLocaleString('en-US'),
  r.hitRate === null ? '-' : percent(r.hitRate), r.cyclesTotal.toLocaleString('en-US'),
  r.cyclesPerExit.toLocaleString('en-US'), r.strategy === 'none' ? '' : pct(r.speedupVsNone),
  r.hostNsPerExit ? r.hostNsPerExit.toFixed(0) : '-', r.exits ? Math.round(r.exitsPerSec).toLocaleString('en-US') : '-', r.seed ?? '',
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
const line = (cells: string[]) => cells.map((c, i) => (i < 3 || i === 11 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`cost preset: ${preset} (presets: ${COST_PRESET_NAMES.join(', ')}); speed-up = modeled cycles of none / of the strategy - 1`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const t of table) console.log(line(t));
// Exit throughput (targets: >= 1,000,000 exits/s hit path, >= 200,000 miss path):
// the LAPIC microbenchmark scaled to 200,000 exits on a warm machine (bench/exits.ts).
const throughput = only.length === 0 || args.includes('--throughput')
  ? (['icache', 'none'] as Strategy[]).map((s) => measureExitThroughput(s))
  : [];
if (throughput.length) {
  console.log('\nexit throughput (lapic-microbench x10, warm, best of 3): icache = hit path, none = miss path (walk, fetch, decode)');
  for (const t of throughput) {
    console.log(`  ${t.strategy.padEnd(7)} ${Math.round(t.exitsPerSec).toLocaleString('en-US').padStart(10)} exits/s wall  ${Math.round(t.exitsPerCpuSec).toLocaleString('en-US').padStart(10)} exits/s of CPU time`);
  }
}
const out = { preset, generatedBy: 'npm run bench', rows, throughput };
// A filtered run (scenario names on the command line) prints but does not overwrite the record.
if (only.length === 0) writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
console.log('\n' + JSON.stringify(out));
