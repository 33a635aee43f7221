import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from './run';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'exitscope-run-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LOOP = `_start:
  mov rbx, LAPIC_BASE
  mov ecx, 50
again:
  mov eax, [rbx + LAPIC_VERSION]
  dec ecx
  jnz again
  hlt
`;

function run(args: string[]): { status: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const status = runCommand(args, (l) => out.push(l), (l) => err.push(l));
  return { status, out, err };
}

describe('run --trace / --csv', () => {
  it('writes the run\'s exits as Chrome trace JSON and CSV, one exit event and one CSV line per exit', () => {
    const prog = join(dir, 'loop.s');
    writeFileSync(prog, LOOP);
    const trace = join(dir, 'loop.json');
    const csv = join(dir, 'loop.csv');
    const r = run([prog, '--json', '--trace', trace, '--csv', csv]);
    expect(r.status).toBe(0);
    const total = (JSON.parse(r.out[0]) as { exits: { total: number } }).exits.total;
    expect(total).toBe(51); // 50 LAPIC reads and the hlt
    const t = JSON.parse(readFileSync(trace, 'utf8')) as { traceEvents: { ph: string; cat?: string }[] };
    expect(t.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'exit')).toHaveLength(total);
    expect(readFileSync(csv, 'utf8').trimEnd().split('\n')).toHaveLength(total + 1);
  });

  it('refuses --trace with several programs', () => {
    expect(() => run(['a.s', 'b.s', '--trace', 'x.json'])).toThrow(/one program/);
  });
});
