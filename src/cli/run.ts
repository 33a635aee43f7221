/**
 * `exitscope run A.s [B.s ...] [--max-insns N] [--json] [--strategy S] [--preset P] [--icache-size N]
 *  [--trace OUT.json] [--csv OUT.csv] [--at-exit K]`
 * Runs each program on a fresh machine and prints its final state: one JSON object per line
 * with --json, a readable summary otherwise. A program that does not assemble prints its
 * diagnostics on stderr and makes the exit status 1. --trace writes the run's exits as Chrome
 * trace-event JSON (Perfetto, chrome://tracing), --csv as CSV (one program only), at most
 * EXPORT_MAX_EXITS of them (past it stderr says how many are not in the files). --at-exit K
 * prints the state at the moment exit K is taken, before the VMM handles it (exits.total = K),
 * as the app's timeline shows it; the files then hold exits #0 to #K-1, and the trace says atExit.
 */
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { formatDiagnostic } from '../core/asm';
import { GPR_NAMES } from '../core/events';
import { buildMachine, DEFAULT_MACHINE_CONFIG, type MachineConfig } from '../core/machine';
import { isCostPresetName, COST_PRESET_NAMES } from '../core/cost';
import { isStrategy, STRATEGIES, type ExitEvent } from '../core/events';
import { exitsToChromeTrace, exitsToCsv, programTitle } from '../core/exitExport';
import { hex64 } from '../core/hex';
import { plural } from '../core/plural';
import { commandUsage } from './usage';

/** Exits kept for --trace/--csv; past it the files hold the first ones and say how many are missing. */
export const EXPORT_MAX_EXITS = 200_000;

export interface RunOptions {
  files: string[];
  json: boolean;
  config: MachineConfig;
  /** Write the exits as Chrome trace JSON / CSV to these files. */
  trace?: string;
  csv?: string;
  /** Stop at this exit (0-based), before the VMM handles it. */
  atExit?: number;
}

export class UsageError extends Error {}

/** The command's usage, for --help (stdout) and for a usage error's hint. */
export const RUN_USAGE = commandUsage('run');

/** Diagnostics printed per program: past them a count (a binary file made thousands). */
export const DIAGNOSTICS_SHOWN = 20;

export function parseRunArgs(args: string[]): RunOptions {
  const files: string[] = [];
  const config: MachineConfig = { ...DEFAULT_MACHINE_CONFIG };
  let json = false;
  let trace: string | undefined;
  let csv: string | undefined;
  let atExit: number | undefined;
  for (let i = 0; i < args.length; i++) {
    // --name=value is --name value.
    const [a, inline] = /^--[^=]+=/.test(args[i]) ? [args[i].slice(0, args[i].indexOf('=')), args[i].slice(args[i].indexOf('=') + 1)] : [args[i], undefined];
    const value = () => {
      const v = inline ?? args[++i];
      // The next option is no value: `--trace --json` had written the trace to a file "--json".
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const count = (v: string) => {
      const n = Number(v.replace(/_/g, ''));
      if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${a}: expected a positive integer, got '${v}'`);
      return n;
    };
    switch (a) {
      case '--json': json = true; break;
      case '--trace': trace = value(); break;
      case '--csv': csv = value(); break;
      case '--at-exit': {
        const v = value();
        const n = Number(v.replace(/_/g, ''));
        // Number('') is 0: an unset "$K" is no exit number.
        if (v.replace(/_/g, '').trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new UsageError(`--at-exit: expected an exit number (0 or more), got '${v}'`);
        atExit = n;
        break;
      }
      case '--max-insns': config.maxInsns = count(value()); break;
      case '--icache-size': config.icacheSize = count(value()); break;
      case '--strategy': {
        const v = value();
        if (!isStrategy(v)) throw new UsageError(`--strategy: '${v}' is not one of ${STRATEGIES.join(', ')}`);
        config.strategy = v;
        break;
      }
      case '--preset': {
        const v = value();
        if (!isCostPresetName(v)) throw new UsageError(`--preset: '${v}' is not one of ${COST_PRESET_NAMES.join(', ')}`);
        config.preset = v;
        break;
      }
      default:
        // A program whose name starts with '-' is given as ./-name.
        if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
        files.push(a);
    }
  }
  if (files.length === 0) throw new UsageError('no program given');
  if ((trace || csv) && files.length > 1) throw new UsageError('--trace and --csv take one program');
  if (trace !== undefined && trace === csv) throw new UsageError(`--trace and --csv name the same file, ${trace}`);
  return { files, json, config, trace, csv, atExit };
}

export interface ExportFiles {
  trace?: string;
  csv?: string;
  atExit?: number;
  /** Exits kept for the files (EXPORT_MAX_EXITS; tests lower it). */
  maxExits?: number;
}

/**
 * Whether an export file can be written, found without truncating it: a run that then fails
 * leaves a file that was there as it was (and none that was not: `created`).
 */
function canWrite(flag: string, path: string, err: (line: string) => void): { created: boolean } | null {
  const existed = existsSync(path);
  try {
    closeSync(openSync(path, 'a'));
    return { created: !existed };
  } catch (e) {
    err(`run: ${flag}: cannot write ${path}: ${(e as Error).message}`);
    return null;
  }
}

/** Writes an export file; false after saying why it could not. */
function writeExport(flag: string, path: string, text: string, err: (line: string) => void): boolean {
  try {
    writeFileSync(path, text);
    return true;
  } catch (e) {
    err(`run: ${flag}: cannot write ${path}: ${(e as Error).message}`);
    return false;
  }
}

/** Runs one file; returns the JSON-ready result, or null after printing its diagnostics. */
export function runFile(file: string, config: MachineConfig, err: (line: string) => void, exportTo: ExportFiles = {}) {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    err(`${file}: cannot read: ${(e as Error).message}`);
    return null;
  }
  // A binary file is no program: one line, not thousands of diagnostics full of control bytes.
  if (source.includes('\0')) {
    err(`${file}:1:1: error: not a text file (it holds NUL bytes)`);
    return null;
  }
  const built = buildMachine(source, config, file);
  if (!built.ok) {
    for (const d of built.diagnostics.slice(0, DIAGNOSTICS_SHOWN)) err(formatDiagnostic(d));
    const more = built.diagnostics.length - DIAGNOSTICS_SHOWN;
    if (more > 0) err(`${file}: and ${more.toLocaleString('en-US')} more ${plural(more, 'diagnostic')}`);
    return null;
  }
  // An export path it cannot write fails now, not after the run.
  const exportsMade: string[] = [];
  for (const [flag, path] of [['--trace', exportTo.trace], ['--csv', exportTo.csv]] as const) {
    if (path === undefined) continue;
    const ok = canWrite(flag, path, err);
    if (!ok) return null;
    if (ok.created) exportsMade.push(path);
  }
  /** A run that does not get to its exports removes the empty files the check made. */
  const failed = () => {
    for (const path of exportsMade) unlinkSync(path);
    return null;
  };
  const m = built.machine;
  const exits: ExitEvent[] = [];
  const cap = exportTo.maxExits ?? EXPORT_MAX_EXITS;
  if (exportTo.trace || exportTo.csv) m.onExit = (e) => { if (exits.length < cap) exits.push(e); };
  if (exportTo.atExit !== undefined) {
    if (!m.runToExit(exportTo.atExit)) {
      const taken = m.counters().exits.total;
      const stop = m.stopInfo();
      const numbered = taken > 0 ? ` (#0 to #${(taken - 1).toLocaleString('en-US')})` : '';
      err(`${file}: the run ended after ${taken.toLocaleString('en-US')} ${plural(taken, 'exit')}${numbered}, before exit ${exportTo.atExit.toLocaleString('en-US')}${stop ? ` (${stop.reason}: ${stopText(stop)})` : ''}`);
      return failed();
    }
  } else {
    m.runToEnd();
  }
  const c = m.counters();
  // At --at-exit K the exits taken are #0 to #K-1 (exit K is not handled yet), as in the app.
  const missing = c.exits.total - exits.length;
  // The CSV is a plain table with no room to say it: the note on stderr does, for both files.
  if ((exportTo.trace || exportTo.csv) && missing > 0) {
    const files = [exportTo.trace, exportTo.csv].filter((f) => f !== undefined).join(' and ');
    err(`${file}: ${files} ${exportTo.trace && exportTo.csv ? 'hold' : 'holds'} the first ${exits.length.toLocaleString('en-US')} of ${c.exits.total.toLocaleString('en-US')} exits (the export keeps at most ${cap.toLocaleString('en-US')}); ${missing.toLocaleString('en-US')} more are not in ${exportTo.trace && exportTo.csv ? 'them' : 'it'}`);
  }
  if (exportTo.trace) {
    const title = programTitle(file, config.strategy, config.preset);
    const trace = exitsToChromeTrace(exits, { title, missingExits: missing, atExit: exportTo.atExit });
    if (!writeExport('--trace', exportTo.trace, JSON.stringify(trace), err)) return failed();
  }
  if (exportTo.csv && !writeExport('--csv', exportTo.csv, exitsToCsv(exits), err)) return failed();
  const state = m.vcpuRegs(0, 0);
  const regs: Record<string, string> = {};
  for (const name of GPR_NAMES) regs[name] = hex64(state[name]);
  regs.rip = hex64(state.rip);
  regs.rflags = hex64(state.rflags);
  const stopped = m.stopInfo();
  // Where vCPU 0 stopped, as file:line (a fault's RIP in the source): null on no line of it.
  const line = m.ripLine();
  return {
    file,
    line,
    stop: (stopped && { reason: stopped.reason, message: stopText(stopped) }) ?? (exportTo.atExit !== undefined
      ? { reason: 'at-exit', message: `at exit ${exportTo.atExit}, before the VMM handles it` }
      : { reason: 'limit', message: 'not stopped' }),
    regs,
    retired: c.retired,
    console: m.consoleText(),
    exits: { total: c.exits.total, byReason: c.exits.byReason },
    icache: c.icache,
    code: m.codeCounters(),
    cycles: c.cycles,
  };
}

/** A stop's message, and for the instruction limit how to raise it. */
function stopText(stop: { reason: string; message: string }): string {
  return stop.reason === 'limit' ? `${stop.message}; raise it with --max-insns N` : stop.message;
}

export function runCommand(args: string[], out: (line: string) => void, err: (line: string) => void): number {
  const opts = parseRunArgs(args);
  let status = 0;
  for (const file of opts.files) {
    const r = runFile(file, opts.config, err, { trace: opts.trace, csv: opts.csv, atExit: opts.atExit });
    if (!r) { status = 1; continue; }
    if (opts.json) {
      out(JSON.stringify(r));
      continue;
    }
    out(`${r.file}${r.line !== null ? `:${r.line}` : ''}: ${r.stop.reason}: ${r.stop.message}`);
    out([`  retired ${r.retired.toLocaleString('en-US')} ${plural(r.retired, 'instruction')}, ${r.exits.total.toLocaleString('en-US')} ${plural(r.exits.total, 'exit')}`,
      ...Object.entries(r.exits.byReason).map(([k, v]) => `${k}=${v}`)].join(' '));
    if (r.icache.lookups) out(`  icache: ${r.icache.hits}/${r.icache.lookups} hits, ${r.icache.wpFaults} write-protect ${plural(r.icache.wpFaults, 'fault')}`);
    out(`  modeled cycles ${Math.round(r.cycles.total).toLocaleString('en-US')} (guest ${Math.round(r.cycles.guest).toLocaleString('en-US')}, exits ${Math.round(r.cycles.total - r.cycles.guest).toLocaleString('en-US')})`);
    const names = [...GPR_NAMES, 'rip', 'rflags'];
    for (let i = 0; i < names.length; i += 4) {
      out('  ' + names.slice(i, i + 4).map((n) => `${n.padStart(6)}=${r.regs[n].padStart(18)}`).join(' '));
    }
    if (r.console) out(`  console: ${JSON.stringify(r.console)}`);
  }
  return status;
}

export async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(RUN_USAGE);
    return 0;
  }
  try {
    return runCommand(args, (l) => console.log(l), (l) => console.error(l));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`run: ${e.message}\n${RUN_USAGE}`);
      return 2;
    }
    throw e;
  }
}
