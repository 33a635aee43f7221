/** Test helper: build a Machine from a program's source, run it to its end, and keep every exit. */
import type { ExitEvent } from '../core/events';
import { buildMachine, type Machine, type MachineConfig } from '../core/machine';

export function runLogged(source: string, config: Partial<MachineConfig>, file = 't.s'): { machine: Machine; exits: ExitEvent[] } {
  const built = buildMachine(source, config, file);
  if (!built.ok) throw new Error(built.diagnostics.map((d) => `${file}:${d.line}:${d.col}: ${d.message}`).join('\n'));
  const exits: ExitEvent[] = [];
  built.machine.onExit = (e) => exits.push(e); // onExit hands over a copy of its own
  built.machine.runToEnd();
  return { machine: built.machine, exits };
}
