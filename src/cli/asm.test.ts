import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from './asm';
import { dispatch } from './main';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'exitscope-cli-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function capture(): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out.push(a.join(' ')); });
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.join(' ')); });
  return { out, err };
}

describe('asm command', () => {
  const good = '_start:\n  mov eax, 1\n  jmp _start\nsection .data\nmsg: db "hi", 0\n';

  it('prints a summary by default', async () => {
    const c = capture();
    expect(await main([file('a.s', good)])).toBe(0);
    expect(c.out.join('\n')).toMatch(/\.text 0x100000 7 bytes, \.data 0x101000 3 bytes; 3 statements, 2 symbols; entry 0x100000/);
  });

  it('prints the bytes with --hex', async () => {
    const c = capture();
    expect(await main([file('a.s', good), '--hex'])).toBe(0);
    expect(c.out.join('\n')).toBe('.text 0x100000\nb8 01 00 00 00 eb f9\n.data 0x101000\n68 69 00');
  });

  it('prints address, bytes and source line with --list', async () => {
    const c = capture();
    expect(await main([file('a.s', good), '--list'])).toBe(0);
    expect(c.out.join('\n').split('\n')[1]).toMatch(/^00100005 {2}eb f9\s+3 {2}jmp _start$/);
  });

  it('prints diagnostics on stderr and exits 1 for a bad program', async () => {
    const c = capture();
    const p = file('bad.s', 'mvo eax, 1\nadd [rax], 1\n');
    expect(await main([p])).toBe(1);
    expect(c.err).toEqual([`${p}:1:1: error: unknown instruction 'mvo'; did you mean 'mov'?`,
      `${p}:2:5: error: operand size not specified: write byte, word, dword or qword before the memory operand`]);
    expect(c.out).toEqual([]);
  });

  it('exits 2 on bad usage, saying what is wrong; --help is no error', async () => {
    const io = capture();
    expect(await main([])).toBe(2);
    expect(await main([file('a.s', good), '--hex', '--list'])).toBe(2);
    expect(await main([file('a.s', good), '-x'])).toBe(2);
    expect(io.err.join('\n')).toMatch(/asm: unknown option -x/);
    expect(await main(['--help'])).toBe(0);
    expect(io.out.at(-1)).toMatch(/^usage: .* asm FILE\.s/);
    expect(await dispatch(['run', '--help'])).toBe(0);
    expect(io.out.at(-1)).toMatch(/^usage: .* run A\.s/);
  });
});

describe('cli dispatch', () => {
  it('dispatches asm and run, and rejects an unknown command or a run without a program', async () => {
    const c = capture();
    expect(await dispatch(['asm', file('b.s', 'nop\n')])).toBe(0);
    expect(await dispatch(['run', file('h.s', '_start: hlt\n'), '--json'])).toBe(0);
    expect(JSON.parse(c.out.at(-1) ?? '{}')).toMatchObject({ stop: { reason: 'halted' }, retired: 1 });
    expect(await dispatch(['run'])).toBe(2);
    expect(await dispatch(['frob'])).toBe(2);
    expect(c.err.join('\n')).toMatch(/run: no program given[\s\S]*unknown command 'frob'/);
  });

  it("takes an Object property's name for no command (toString had thrown a TypeError)", async () => {
    const c = capture();
    for (const name of ['toString', 'constructor', '__proto__']) expect(await dispatch([name])).toBe(2);
    expect(c.err.join('\n')).toMatch(/unknown command 'toString'[\s\S]*unknown command '__proto__'/);
  });

  it('lists each command with the usage line the command prints on --help', async () => {
    const c = capture();
    expect(await dispatch(['--help'])).toBe(0);
    const listed = c.out.at(-1) ?? '';
    for (const cmd of ['asm', 'run']) {
      expect(await dispatch([cmd, '--help'])).toBe(0);
      const own = (c.out.at(-1) ?? '').replace(/^usage: npm run -s cli -- /, '');
      expect(listed).toContain(`  ${own}   `);
    }
  });

});
