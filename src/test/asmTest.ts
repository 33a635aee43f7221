/** Test helper: assemble an Intel-syntax snippet (src/core/asm) into a ready test vCPU. */
import { assemble } from '../core/asm';
import { CODE_ADDR, createTestMachine, type TestMachine } from './testEnv';

export function asmMachine(source: string, opts: { origin?: number; ramSize?: number } = {}): TestMachine {
  const origin = opts.origin ?? CODE_ADDR;
  const r = assemble(source, { origin });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n'));
  const [first, ...rest] = r.segments;
  const m = createTestMachine({
    code: first?.bytes ?? new Uint8Array(), codeAddr: first?.addr ?? origin,
    data: rest.map((s) => ({ addr: s.addr, bytes: s.bytes })), ramSize: opts.ramSize,
  });
  m.vcpu.rip = r.entry;
  return m;
}

export function symbolOf(source: string, name: string, origin = CODE_ADDR): number {
  const r = assemble(source, { origin });
  const v = r.symbols.get(name);
  if (v === undefined) throw new Error(`no symbol ${name}`);
  return Number(v);
}
