import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand, runFile } from './run';
import { DEFAULT_MACHINE_CONFIG } from '../core/machine';

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

  it('says which export it cannot write, before running, and fails', () => {
    const prog = join(dir, 'loop.s');
    writeFileSync(prog, LOOP);
    const r = run([prog, '--json', '--csv', join(dir, 'no-such-dir', 'loop.csv')]);
    expect(r.status).toBe(1);
    expect(r.out).toEqual([]);
    expect(r.err).toEqual([expect.stringMatching(/^run: --csv: cannot write .*no-such-dir\/loop\.csv: ENOENT/)]);
  });

  it('a run past the export cap: stderr says which files lack exits and how many; the CSV stays a plain table, the trace has no hit rate', () => {
    const prog = join(dir, 'cap.s');
    writeFileSync(prog, LOOP);
    const trace = join(dir, 'cap.json');
    const csv = join(dir, 'cap.csv');
    const err: string[] = [];
    const r = runFile(prog, { ...DEFAULT_MACHINE_CONFIG, strategy: 'icache' }, (l) => err.push(l), { trace, csv, maxExits: 20 });
    expect(r?.exits.total).toBe(51);
    expect(err).toEqual([`${prog}: ${trace} and ${csv} hold the first 20 of 51 exits (the export keeps at most 20); 31 more are not in them`]);
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(21);
    expect(lines.filter((l) => l.startsWith('#'))).toEqual([]);
    const t = JSON.parse(readFileSync(trace, 'utf8')) as { otherData: Record<string, unknown>; traceEvents: { ph: string }[] };
    expect(t.otherData.missingExits).toBe(31);
    expect(t.otherData.hitRateOmitted).toMatch(/31 of the run's exits are not in this file/);
    expect(t.traceEvents.filter((e) => e.ph === 'C')).toEqual([]);
  });

  it('--at-exit K --trace writes exits #0 to #K-1, says atExit, and its hit rate is the one at K', () => {
    const prog = join(dir, 'at-trace.s');
    writeFileSync(prog, LOOP);
    const trace = join(dir, 'at.json');
    const r = run([prog, '--json', '--strategy', 'icache', '--at-exit', '10', '--trace', trace]);
    expect(r.status).toBe(0);
    expect(r.err).toEqual([]);
    const t = JSON.parse(readFileSync(trace, 'utf8')) as { otherData: Record<string, unknown>; traceEvents: { ph: string; cat?: string; args?: Record<string, number> }[] };
    expect(t.otherData.atExit).toBe(10);
    expect(t.traceEvents.filter((e) => e.cat === 'exit').map((e) => e.args?.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // One miss (the first read) in 10 lookups.
    expect(t.traceEvents.filter((e) => e.ph === 'C').at(-1)?.args?.['hit %']).toBe(90);
  });

  it('refuses --trace with several programs', () => {
    expect(() => run(['a.s', 'b.s', '--trace', 'x.json'])).toThrow(/one program/);
  });
});

describe('run --at-exit', () => {
  it('prints the run JSON with the state when exit K is taken: K exits, RIP at the exiting instruction', () => {
    const prog = join(dir, 'at.s');
    writeFileSync(prog, LOOP);
    const full = JSON.parse(run([prog, '--json']).out[0]) as { exits: { total: number }; regs: Record<string, string> };
    const at = run([prog, '--json', '--at-exit', '10']);
    expect(at.status).toBe(0);
    const r = JSON.parse(at.out[0]) as { exits: { total: number }; regs: Record<string, string>; stop: { reason: string }; retired: number };
    expect(r.exits.total).toBe(10);
    expect(r.stop.reason).toBe('at-exit');
    // The 11th exit is the 11th LAPIC read: the loop ran 10 times, ecx counted down 10.
    expect(r.regs.rcx).toBe('0x28');
    expect(r.regs.rip).not.toBe(full.regs.rip);
    const past = run([prog, '--json', '--at-exit', String(full.exits.total + 5)]);
    expect(past.status).toBe(1);
    expect(past.err.join('\n')).toMatch(/ended after 51 exits/);
  });
});

describe('run, as text', () => {
  it('sums up a run that did not halt: its exits by reason, or none, with no trailing space', () => {
    const prog = join(dir, 'fault.s');
    writeFileSync(prog, '_start:\n  nop\n  vzeroupper\n'); // an instruction the vCPU lacks: it stops, no exit
    expect(run([prog]).out[1]).toBe('  retired 1 instruction, 0 exits');
    writeFileSync(prog, '_start:\n  mov rax, 0x40000000\n  jmp rax\n'); // unmapped: #PF, #DF, a triple fault, which exits
    expect(run([prog]).out[1]).toBe('  retired 2 instructions, 1 exit triple-fault=1');
    writeFileSync(prog, '_start:\n  mov rbx, LAPIC_BASE\n  jmp rbx\n'); // code run from the LAPIC page
    const r = run([prog]);
    expect(r.out[0]).toMatch(/: error: instruction fetch at 0xfee00000 failed: the instruction is on a device page/);
    expect(r.out[1]).toBe('  retired 2 instructions, 1 exit mmio=1');
  });
});

describe('run, given bad or odd input', () => {
  const prog = () => {
    const p = join(dir, 'odd.s');
    writeFileSync(p, LOOP);
    return p;
  };

  it('takes no option as an option\'s value, and knows --name=value', () => {
    // `--trace --json` had written the trace to a file named "--json" and printed text.
    expect(() => run([prog(), '--trace', '--json'])).toThrow(/--trace needs a value/);
    expect(() => run([prog(), '-v'])).toThrow(/unknown option -v/);
    const r = run([prog(), '--json', '--strategy=none']);
    expect(r.status).toBe(0);
    expect((JSON.parse(r.out[0]) as { icache: { lookups: number } }).icache.lookups).toBe(0);
    expect(() => run([prog(), '--strategy', 'fast'])).toThrow(/'fast' is not one of none, icache/);
  });

  it('refuses an empty exit number (an unset "$K" read as 0) and one file for both exports', () => {
    expect(() => run([prog(), '--at-exit', ''])).toThrow(/expected an exit number/);
    expect(() => run([prog(), '--trace', 'x', '--csv', 'x'])).toThrow(/name the same file/);
  });

  it('a run that fails leaves an export file that was there as it was, and makes none', () => {
    const kept = join(dir, 'kept.json');
    writeFileSync(kept, 'keep');
    const made = join(dir, 'made.csv');
    const r = run([prog(), '--at-exit', '500', '--trace', kept, '--csv', made]);
    expect(r.status).toBe(1);
    // The exits are numbered from 0, and the stop that ended the run is named.
    expect(r.err).toEqual([expect.stringMatching(/the run ended after 51 exits \(#0 to #50\), before exit 500 \(halted: /)]);
    expect(readFileSync(kept, 'utf8')).toBe('keep');
    expect(existsSync(made)).toBe(false);
  });

  it('a binary file is one error, not a flood; thousands of errors print 20 and a count', () => {
    const bin = join(dir, 'a.out');
    writeFileSync(bin, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2, 10, 0, 0]));
    expect(run([bin]).err).toEqual([`${bin}:1:1: error: not a text file (it holds NUL bytes)`]);
    const bad = join(dir, 'bad.s');
    writeFileSync(bad, Array.from({ length: 1000 }, (_, i) => `  bogus${i} eax`).join('\n'));
    const r = run([bad]);
    expect(r.status).toBe(1);
    expect(r.err).toHaveLength(21);
    expect(r.err[20]).toBe(`${bad}: and 980 more diagnostics`);
  });

  it('a UTF-8 byte-order mark is no character of the program', () => {
    const p = join(dir, 'bom.s');
    writeFileSync(p, '\uFEFF' + LOOP);
    expect(run([p, '--json']).status).toBe(0);
  });

  it('a stop names its line (file:line) and the instruction limit says how to raise it', () => {
    const p = join(dir, 'stops.s');
    writeFileSync(p, '_start:\n  nop\n  ud2\n'); // #UD, no handler: a triple fault at the ud2
    expect(run([p]).out[0]).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: triple-fault: ud2 at rip 0x`));
    writeFileSync(p, '_start:\n  jmp _start\n');
    expect(run([p, '--max-insns', '1000']).out[0]).toMatch(/: limit: .*; raise it with --max-insns N$/);
  });
});
