/**
 * Run one program under several strategies and compare the guest state each run ends in:
 * every GPR, RIP and RFLAGS of every vCPU of every VM, the console output and the stop reason.
 * The program is assembled once; each strategy gets a fresh Machine built from that result.
 */
import { assemble, formatDiagnostic, type AsmResult } from '../../core/asm';
import type { GprName, ICacheCounters, StopInfo, Strategy } from '../../core/events';
import { GPR_NAMES } from '../../core/events';
import { hex64 } from '../../core/hex';
import { PREDEFINED_SYMBOLS, PROGRAM_ORIGIN } from '../../core/guestAbi';
import { DEFAULT_MACHINE_CONFIG, Machine, type MachineConfig } from '../../core/machine';
import { parseTopology, type Topology } from '../../core/topology';

export type RegName = GprName | 'rip' | 'rflags';
export const REG_NAMES: readonly RegName[] = [...GPR_NAMES, 'rip', 'rflags'];

export interface VcpuRegisters {
  vm: number;
  vcpu: number;
  regs: Record<RegName, bigint>;
}

export interface GuestState {
  strategy: Strategy;
  vcpus: VcpuRegisters[];
  console: string;
  stop: StopInfo | null;
  retired: number;
  /** Not part of the guest state: what the run cost (for plausibility checks). */
  exits: number;
  icache: ICacheCounters;
}

export interface RunOptions {
  config?: Partial<MachineConfig>;
  /** Called on the built machine before it runs (e.g. to break the cache on purpose). */
  prepare?: (m: Machine) => void;
}

/** Assembled program, ready to be instantiated once per strategy. */
export interface Prepared {
  program: AsmResult;
  topology: Topology;
}

/** Assemble as buildMachine does (same origin and predefined symbols), once for all strategies. */
export function prepare(source: string, file: string): Prepared {
  const program = assemble(source, { file, origin: PROGRAM_ORIGIN, predefined: PREDEFINED_SYMBOLS });
  if (!program.ok) throw new Error(`${file} does not assemble:\n${program.diagnostics.map(formatDiagnostic).join('\n')}`);
  return { program, topology: parseTopology(source) };
}

export function runStrategy(p: Prepared, strategy: Strategy, opts: RunOptions = {}): GuestState {
  const cfg: MachineConfig = { ...DEFAULT_MACHINE_CONFIG, ...opts.config, strategy };
  const m = new Machine(p.program, cfg, p.topology);
  opts.prepare?.(m);
  m.runToEnd();
  return captureState(m, strategy, p.topology);
}

export function captureState(m: Machine, strategy: Strategy, topology: Topology): GuestState {
  const vcpus: VcpuRegisters[] = [];
  for (let vm = 0; vm < topology.vms; vm++) {
    for (let vcpu = 0; vcpu < topology.vcpusPerVm; vcpu++) vcpus.push({ vm, vcpu, regs: m.vcpuRegs(vm, vcpu) });
  }
  const stop = m.stopInfo();
  const c = m.counters();
  return { strategy, vcpus, console: m.consoleText(), stop: stop ? { ...stop } : null, retired: c.retired, exits: c.exits.total, icache: { ...c.icache } };
}


/**
 * The differences between a reference state and another, one line each, naming the vCPU and
 * register; empty when they agree. `retired` is compared only when asked (a program whose
 * vCPUs spin on each other retires a schedule-dependent number of instructions).
 */
export function diffStates(ref: GuestState, got: GuestState, opts: { retired?: boolean; consoleOrder?: boolean } = {}): string[] {
  const out: string[] = [];
  const where = `${got.strategy} vs ${ref.strategy}`;
  if ((ref.stop?.reason ?? 'none') !== (got.stop?.reason ?? 'none') || (ref.stop?.message ?? '') !== (got.stop?.message ?? '')) {
    out.push(`${where}: stop ${JSON.stringify(got.stop)} != ${JSON.stringify(ref.stop)}`);
  }
  const sameConsole = opts.consoleOrder === false
    ? [...got.console].sort().join('') === [...ref.console].sort().join('')
    : got.console === ref.console;
  if (!sameConsole) out.push(`${where}: console ${JSON.stringify(got.console)} != ${JSON.stringify(ref.console)}`);
  for (const r of ref.vcpus) {
    const g = got.vcpus.find((v) => v.vm === r.vm && v.vcpu === r.vcpu);
    if (!g) {
      out.push(`${where}: vm ${r.vm} vcpu ${r.vcpu} missing`);
      continue;
    }
    for (const name of REG_NAMES) {
      if (g.regs[name] !== r.regs[name]) out.push(`${where}: vm ${r.vm} vcpu ${r.vcpu} ${name} = ${hex64(g.regs[name], 16)}, expected ${hex64(r.regs[name], 16)}`);
    }
  }
  if (opts.retired && got.retired !== ref.retired) out.push(`${where}: retired ${got.retired} != ${ref.retired}`);
  return out;
}
