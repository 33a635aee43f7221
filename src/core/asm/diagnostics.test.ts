import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble, formatDiagnostic } from './index';

function errors(src: string, runnable = false): string[] {
  const r = assemble(src, { file: 'prog.s', runnable });
  expect(r.ok).toBe(false);
  return r.diagnostics.map(formatDiagnostic);
}

describe('diagnostics', () => {
  it('formats as file:line:col: error: message', () => {
    expect(errors('  nop\n  mvo eax, 1')).toEqual(["prog.s:2:3: error: unknown instruction 'mvo'; did you mean 'mov'?"]);
  });

  it('reports every error in the file, not just the first', () => {
    const e = errors('mvo eax, 1\nnop\nmov eax, rbx\nadd [rax], 1\nmov al, 300\njmp nowhere');
    expect(e.map((s) => s.split(':')[1])).toEqual(['1', '3', '4', '5', '6']);
  });

  it('suggests the register meant by a misspelt name', () => {
    expect(errors('mov rxa, 1')).toEqual(["prog.s:1:5: error: undefined symbol 'rxa'; did you mean 'rax'?"]);
    expect(errors('mov eax, [rbxx]')[0]).toMatch(/did you mean 'rbx'/);
  });

  it('suggests a label for a misspelt label', () => {
    expect(errors('start: nop\njmp strat')[0]).toMatch(/undefined symbol 'strat'; did you mean 'start'\?/);
  });

  it('suggests a mnemonic for a misspelt instruction, or none when nothing is close', () => {
    expect(errors('pusj rax')[0]).toMatch(/did you mean 'push'/);
    expect(errors('cmovzz eax, ebx')[0]).toMatch(/did you mean 'cmovz'/);
    expect(errors('frobnicate')[0]).toBe("prog.s:1:1: error: unknown instruction 'frobnicate'");
  });

  it('rejects an immediate that does not fit the operand', () => {
    expect(errors('mov al, 256')[0]).toMatch(/value 0x100 does not fit in an 8-bit immediate/);
    expect(errors('add rax, 0x80000000')[0]).toMatch(/does not fit in a 32-bit immediate/);
    expect(errors('mov ax, 0x10000')[0]).toMatch(/16-bit/);
    expect(errors('shl eax, 256')[0]).toMatch(/8-bit/);
    expect(errors('db 256')[0]).toMatch(/does not fit in 8 bits/);
    expect(errors('dd 0x100000000')[0]).toMatch(/does not fit in 32 bits/);
  });

  it('rejects a memory operand whose size no register fixes', () => {
    for (const src of ['add [rax], 1', 'inc [rbx]', 'mov [rax], 5', 'movzx eax, [rax]', 'shl [rax], 1']) {
      expect(errors(src)[0]).toMatch(/operand size not specified/);
    }
  });

  it('rejects mismatched sizes instead of guessing', () => {
    expect(errors('mov eax, rbx')[0]).toMatch(/register size mismatch: eax is 32-bit, rbx is 64-bit/);
    expect(errors('mov byte [rax], ebx')[0]).toMatch(/operand size mismatch/);
  });

  it('rejects bad addressing', () => {
    expect(errors('mov eax, [rax*3]')[0]).toMatch(/scale must be 1, 2, 4 or 8/);
    expect(errors('mov eax, [rsp*2]')[0]).toMatch(/cannot be an index/);
    expect(errors('mov eax, [rax+rbx+rcx]')[0]).toMatch(/too many registers/);
    expect(errors('mov eax, [ax]')[0]).toMatch(/cannot address memory/);
    expect(errors('mov eax, [rax - rbx]')[0]).toMatch(/cannot be subtracted/);
    expect(errors('mov eax, [0x100000000]')[0]).toMatch(/does not fit in 32 bits/);
  });

  it('rejects prefixes on instructions that cannot take them', () => {
    expect(errors('lock mov eax, ebx')[0]).toMatch(/lock prefix is not allowed/);
    expect(errors('lock add eax, ebx')[0]).toMatch(/lock prefix is not allowed/);
    expect(errors('rep add eax, ebx')[0]).toMatch(/'rep' prefix is not allowed/);
  });

  it('reports duplicate labels, bad directives and syntax errors', () => {
    expect(errors('a: nop\na: nop')[0]).toBe("prog.s:2:1: error: 'a' is already defined on line 1");
    expect(errors('bits 32')[0]).toMatch(/only bits 64/);
    expect(errors('.frob 1')[0]).toMatch(/unknown directive/);
    expect(errors('mov eax, (1 + 2')[0]).toMatch(/expected '\)'/);
    expect(errors('db "abc')[0]).toMatch(/unterminated string/);
    expect(errors('mov eax, 1 / 0')[0]).toMatch(/division by zero/);
    expect(errors('times -1 nop')[0]).toMatch(/negative/);
    expect(errors('inc')[0]).toMatch(/'inc' takes 1 operand, not 0/);
  });

  it('explains GNU numeric label references that have nothing to refer to', () => {
    expect(errors('jmp 1f')[0]).toBe("prog.s:1:5: error: no '1:' label for '1f' to refer to");
    expect(errors('jmp 1b\n1: nop')[0]).toBe("prog.s:1:5: error: no '1:' label before '1b' (write 1f for the next one)");
    expect(errors('1: nop\njmp 1f')[0]).toBe("prog.s:2:5: error: no '1:' label after '1f'");
  });

  it('rejects GNU prefixes and syntax that do not apply, with the reason', () => {
    expect(errors('.att_syntax\nmov %eax, %ebx')[0]).toBe('prog.s:1:1: error: AT&T syntax is not supported; write Intel syntax (.intel_syntax noprefix)');
    expect(errors('.intel_syntax prefix')[0]).toMatch(/not supported; write '.intel_syntax noprefix'/);
    expect(errors('data32 nop')[0]).toBe("prog.s:1:1: error: 'data32' is not supported in 64-bit mode");
    expect(errors('addr32 mov eax, [rax]')[0]).toMatch(/addr32 needs 32-bit address registers/);
    expect(errors('rex.w vaddps xmm0, xmm1, xmm2')[0]).toMatch(/rex prefix cannot be used with a VEX/);
    expect(errors('{disp32 nop')[0]).toMatch(/expected a pseudo-prefix such as '\{disp32\}'/);
    expect(errors('lods [rsi]')[0]).toMatch(/operand size not specified for 'lods'/);
    expect(errors('.intel_syntax noprefix\nnop ; add one to the counter')[0])
      .toBe("prog.s:2:15: error: expected ',' or end of line, found 'to' (after .intel_syntax a ';' separates statements, as in GNU as; comments start with '#')");
  });

  it('does not allow redefining a predefined symbol', () => {
    const r = assemble('LAPIC_BASE equ 5', { predefined: new Map([['LAPIC_BASE', 0xfee00000n]]) });
    expect(r.diagnostics[0].message).toMatch(/predefined/);
  });

  it('refuses a program with nothing to run, which the guest would have run as zeros to a triple fault', () => {
    expect(errors('', true)).toEqual(['prog.s:1:1: error: nothing to run: the program has no instructions (the guest starts at _start, or at the first instruction)']);
    expect(errors('; only a comment\nLOOPS equ 5\n', true)).toEqual(['prog.s:1:1: error: nothing to run: the program has no instructions (the guest starts at _start, or at the first instruction)']);
    expect(errors('  nop\n  hlt\n_start:\n', true)).toEqual(['prog.s:3:1: error: _start is after the last instruction: the guest would run past the end of the program']);
    expect(assemble('_start:\n  hlt', { runnable: true }).ok).toBe(true);
    // Only bytes (the asm command, a data-only file): nothing asks for an entry.
    expect(assemble('LOOPS equ 5', { runnable: false }).ok).toBe(true);
  });

  it('refuses an equ defined through itself, which the passes had settled on a guess for', () => {
    // `a equ a+1` assembled as 1, and `a equ b` / `b equ a` as 0.
    expect(errors('a equ a+1\n_start: mov eax, a\n hlt')).toEqual(["prog.s:1:1: error: 'a' is defined through itself: a → a"]);
    expect(errors('x equ 3\n  a equ b*x\nb equ a\n_start: mov eax, a\n hlt')).toEqual(["prog.s:2:3: error: 'a' is defined through itself: a → b → a"]);
    // A chain, and an equ defined after its use, are fine.
    expect(assemble('_start: mov eax, a\n hlt\na equ b\nb equ 5').ok).toBe(true);
  });

  it('says which symbol never settled, where it is defined, not at 1:1', () => {
    expect(errors('_start: mov eax, n\n times n nop\nend:\nn equ end - _start\n hlt')).toEqual([
      "prog.s:3:1: error: 'end' did not settle after 40 passes: its value depends on the size of code that depends on it (a times or align count that uses a label after it?)"]);
  });

  it('keeps assembling the rest of the file after an error', () => {
    const r = assemble('mvo eax, 1\nfoo: nop\njmp foo');
    expect(r.ok).toBe(false);
    expect(r.symbols.get('foo')).toBe(0x100000n);
    expect(r.lineMap.map((e) => e.line)).toEqual([2, 3]);
  });
});

describe('robustness', () => {
  const VOCAB = ['mov', 'add', 'jmp', 'db', 'times', 'equ', 'rax', 'eax', 'al', '[', ']', '+', '-', '*', ',', ':', 'qword', 'ptr', 'fs',
    '1', '0x10', "'a'", '"s"', '$', '$$', 'lbl', '.l', 'lock', 'rep', 'section', '.data', 'org', 'align', '(', ')', '<<', '~', 'rip', 'rel', 'byte'];

  it('never throws on random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
      const r = assemble(s);
      expect(Array.isArray(r.diagnostics)).toBe(true);
    }), { numRuns: 300 });
  });

  it('never throws on random token soup, and every diagnostic is well formed', () => {
    const line = fc.array(fc.constantFrom(...VOCAB), { maxLength: 8 }).map((ts) => ts.join(' '));
    fc.assert(fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
      const r = assemble(lines.join('\n'));
      for (const d of r.diagnostics) {
        expect(d.line).toBeGreaterThanOrEqual(1);
        expect(d.col).toBeGreaterThanOrEqual(1);
        expect(d.message).not.toMatch(/internal error/);
      }
      expect(r.ok).toBe(r.diagnostics.length === 0);
    }), { numRuns: 300 });
  });

  it('stops a runaway times instead of hanging', () => {
    const r = assemble('times 100000000 db 0');
    expect(r.ok).toBe(false);
  });

  it('settles when a padding depends on the size of the jump over it', () => {
    // A short jump makes the padding 130 bytes (too far for rel8); a near one makes it 40
    // (short would do). Lengths only grow between passes, so this ends with a near jump.
    const r = assemble('jmp e\nx: times 130 - 30 * (x - $$ - 2) nop\ne: hlt');
    expect(r.diagnostics).toEqual([]);
    expect(r.lineMap[0].length).toBe(5);
  });
});
