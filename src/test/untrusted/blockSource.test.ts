/**
 * Untrusted programs (share links carry guest code from strangers) are compiled by the vCPU
 * with `new Function`. These properties check that a generated block's source never carries
 * guest-controlled text: only numbers and codegen.ts's fixed templates, by an allow-list
 * grammar, for random instruction bytes (decoded at random RIPs and run on a real vCPU), for
 * bytes chosen to look like JS (quotes, backslashes, comment markers, identifiers) in
 * immediates and displacements, and for generated guest programs (differential cases and
 * stress programs, assembled, decoded at every instruction and run).
 *
 * The grammar, token by token:
 *   - the first line is exactly `"use strict";` (the one string literal, fixed);
 *   - number literals: decimal (optionally with a fraction and exponent) or 0x hex, `NaN`;
 *   - identifiers from a closed set: the JS keywords the templates use, the block function's
 *     parameters and locals, `D` (the block's decoded instructions, indexed by number),
 *     `Math.floor`, the RAM DataView's get/set methods after `dv.`, and after `c.` only a
 *     member of the real vCPU;
 *   - punctuators from a closed set; `/` only as division (after a number, a name, `)` or
 *     `]`), so no comment or regular expression can start.
 * Quotes, backquotes, backslashes, `#`, `@`, `$` and non-ASCII characters never pass.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../core/asm';
import { PREDEFINED_SYMBOLS, PROGRAM_ORIGIN } from '../../core/guestAbi';
import { generateProgram } from '../invariants/generator';
import { genBlock } from '../../core/cpu/codegen';
import { type DInsn, decodeBlock } from '../../core/cpu/decode';
import { DEFAULT_SEED, generateCases } from '../differential/generator';
import { caseProgram, programmable } from '../differential/program';
import { createTestMachine, runUntilHalt, type TestMachine } from '../testEnv';

const KEYWORDS = new Set(['return', 'function', 'let', 'try', 'catch', 'throw', 'if', 'else', 'for', 'continue', 'break', 'while', 'do', 'switch', 'case', 'default', 'true', 'false', 'null', 'undefined']);
/** The generated function's name, parameters and locals (codegen.ts genBlock's template). */
const LOCALS = new Set([
  'block', 'c', 'R', 'budget', 'a0', 'a1', 'b0', 'b1', 'r0', 'r1', 't', 'u', 'ea', 'i', 'k', 'e', 'D', 'inHelper',
  // the block's one exit: the label, the next RIP and the instructions retired in this pass
  'out', 'rp', 'nx',
  // set on an inlined access's slow path: the instruction's end-of-block check reads c.endBlock
  'sw',
  // the lazy flag record, the inlined TLB check, the guest registers held in locals (g0..g31)
  'lzOp', 'lzR', 'lzRH', 'lzA', 'lzAH', 'lzB', 'lzBH', 'lzC', 'rt', 'wt', 'td', 'dv', 'mp', 'mx', 'mh',
  ...Array.from({ length: 32 }, (_, r) => `g${r}`),
  // the page each access of a loop block remembers (codegen.ts MAX_PAGE_SLOTS = 16)
  ...Array.from({ length: 16 }, (_, j) => `pb${j}`), ...Array.from({ length: 16 }, (_, j) => `ph${j}`),
  // the halves of a loop access's address and the high half of its remembered page
  'el', 'eh', ...Array.from({ length: 16 }, (_, j) => `px${j}`),
]);
const GLOBAL_MEMBERS: Record<string, ReadonlySet<string>> = {
  Math: new Set(['floor']),
  // the vCPU's RAM DataView (c.ramView), cached in the local dv
  dv: new Set(['getUint8', 'getUint16', 'getInt32', 'setUint8', 'setUint16', 'setInt32']),
};
const PUNCT = '{}()[];,.=+-*/%&|^~!<>?:';

const PREFIX = '"use strict";\n';

function blockSourceViolation(src: string, vcpuMembers: ReadonlySet<string>): string | null {
  if (!src.startsWith(PREFIX)) return 'does not start with the fixed "use strict"; line';
  let i = PREFIX.length;
  /** Kind of the previous significant token: operand (number/name/closing bracket) or not. */
  let prevOperand = false;
  let prevName = '';
  let afterDot = false;
  const at = (p: number) => `at offset ${p}: ${JSON.stringify(src.slice(Math.max(0, p - 20), p + 20))}`;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\n' || ch === '\t') { i++; continue; }
    if (/[0-9]/.test(ch)) {
      const m = /^(0x[0-9a-fA-F]+|[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?)/.exec(src.slice(i, i + 40))!;
      const next = src[i + m[0].length];
      if (next !== undefined && /[A-Za-z_$0-9]/.test(next)) return `malformed number ${at(i)}`;
      if (afterDot) return `number after '.' ${at(i)}`;
      i += m[0].length;
      prevOperand = true; prevName = ''; afterDot = false;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 64))!;
      const name = m[0];
      if (afterDot) {
        const owner = prevName;
        const allowed = owner === 'c' ? vcpuMembers : GLOBAL_MEMBERS[owner];
        if (!allowed || !allowed.has(name)) return `member '${owner}.${name}' is not allowed ${at(i)}`;
      } else if (!KEYWORDS.has(name) && !LOCALS.has(name) && !(name in GLOBAL_MEMBERS) && name !== 'NaN') {
        return `identifier '${name}' is not allowed ${at(i)}`;
      }
      i += name.length;
      prevOperand = !KEYWORDS.has(name) || name === 'true' || name === 'false' || name === 'null' || name === 'undefined';
      prevName = afterDot ? '' : name;
      afterDot = false;
      continue;
    }
    if (PUNCT.includes(ch)) {
      if (afterDot) return `'${ch}' after '.' ${at(i)}`;
      if (ch === '/') {
        if (!prevOperand) return `'/' where a comment or regular expression could start ${at(i)}`;
        if (src[i + 1] === '/' || src[i + 1] === '*') return `comment ${at(i)}`;
      }
      if (ch === '.') {
        if (!(prevName in GLOBAL_MEMBERS) && prevName !== 'c') return `'.' after '${prevName || src[i - 1]}' ${at(i)}`;
        afterDot = true;
        i++;
        continue;
      }
      prevOperand = ch === ')' || ch === ']';
      prevName = '';
      i++;
      continue;
    }
    return `character ${JSON.stringify(ch)} is not in the grammar ${at(i)}`;
  }
  return null;
}

/** Every member name (own fields and prototype chain methods) of an object: the vCPU's. */
function memberNames(o: object): Set<string> {
  const out = new Set<string>();
  for (let p: object | null = o; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const k of Object.getOwnPropertyNames(p)) if (k !== 'constructor') out.add(k);
  }
  return out;
}

const VCPU_MEMBERS = memberNames(createTestMachine({ code: new Uint8Array([0xf4]) }).vcpu);

/** Decode a block at `rip` from `bytes` and generate its source (what Vcpu.translate does). */
function sourceAt(bytes: Uint8Array, rip: number, max: number): string | null {
  const insns: DInsn[] = [];
  decodeBlock(bytes, rip, max, insns);
  if (insns.length === 0) return null;
  return genBlock(insns).src;
}

function expectInGrammar(src: string, what: string): void {
  const v = blockSourceViolation(src, VCPU_MEMBERS);
  if (v !== null) throw new Error(`${what}: ${v}`);
  // And it is valid JS of the expected shape (compiles; nothing runs).
  expect(typeof new Function('D', src)([])).toBe('function');
}

/** Run a test vCPU a little and check every block its code cache holds. */
function runAndCheck(m: TestMachine, maxInsns: number, what: string): number {
  runUntilHalt(m.vcpu, maxInsns);
  let n = 0;
  for (const b of m.codeCache.blocks()) {
    expectInGrammar(b.src, `${what}, block at 0x${b.rip.toString(16)}`);
    n++;
  }
  return n;
}

/** Canonical RIPs: low half and upper half (sign-extended 48-bit numbers). */
const canonicalRip = fc.oneof(fc.integer({ min: 0, max: 2 ** 47 - 16 }), fc.integer({ min: -(2 ** 47), max: -16 }));

/** Byte strings that look like JavaScript: what a hostile program would put in its immediates. */
const JS_TEXT = ['"', "'", '`', '\\', '*/', '/*', '//', '${', '\n', ');', 'eval', 'alert(1)', '");fetch("//x', 'constructor', '__proto__'];
const jsBytes = fc.array(fc.constantFrom(...JS_TEXT), { minLength: 1, maxLength: 6 })
  .map((parts) => new TextEncoder().encode(parts.join('')));

/** Opcode heads whose following bytes are immediates or displacements (SDM Vol. 2 encodings). */
const HEADS: readonly number[][] = [
  [0x48, 0xb8], // REX.W B8+r io: mov rax, imm64
  [0xb9], // B8+r id: mov ecx, imm32
  [0x48, 0x05], // REX.W 05 id: add rax, imm32
  [0xc7, 0x05], // C7 /0 id, [rip+disp32]: mov dword [rip+disp32], imm32
  [0x48, 0x8b, 0x80], // REX.W 8B /r, [rax+disp32]: mov rax, [rax+disp32]
  [0x81, 0x84, 0x24], // 81 /0 id, SIB [rsp+disp32]: add dword [rsp+disp32], imm32
  [0xe8], // E8 cd: call rel32
  [0x0f, 0x84], // 0F 84 cd: je rel32
  [0x68], // 68 id: push imm32
  [0xa2], // A2 moffs: mov [moffs64], al
];

describe('generated block source carries no guest text', () => {
  it('random instruction bytes at random RIPs, as one block and as single instructions', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 96 }), canonicalRip, fc.boolean(), (bytes, rip, single) => {
      const src = sourceAt(bytes, rip, single ? 1 : 64);
      if (src !== null) expectInGrammar(src, `bytes ${Buffer.from(bytes).toString('hex')} at ${rip}`);
    }), { numRuns: 1500, seed: 9001 });
  });

  it('JS-looking text in immediates, displacements and branch offsets', () => {
    fc.assert(fc.property(fc.constantFrom(...HEADS), jsBytes, fc.uint8Array({ maxLength: 16 }), canonicalRip, (head, text, tail, rip) => {
      const bytes = Uint8Array.from([...head, ...text, ...tail]);
      const src = sourceAt(bytes, rip, 64);
      if (src !== null) expectInGrammar(src, `bytes ${Buffer.from(bytes).toString('hex')}`);
    }), { numRuns: 800, seed: 9002 });
  });

  it('random bytes run on a real vCPU: every block it translated', () => {
    let blocks = 0;
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), (bytes) => {
      blocks += runAndCheck(createTestMachine({ code: bytes, ramSize: 4 << 20 }), 64, `code ${Buffer.from(bytes).toString('hex')}`);
    }), { numRuns: 60, seed: 9003 });
    expect(blocks).toBeGreaterThan(60);
  });

  it('generated guest programs: every instruction of the image as a block start, and the blocks of a run', () => {
    const programs: { name: string; source: string }[] = [];
    for (const c of generateCases(DEFAULT_SEED, 60)) if (programmable(c)) programs.push({ name: `differential case ${c.id}`, source: caseProgram(c) });
    for (let i = 0; i < 12; i++) {
      const p = generateProgram(DEFAULT_SEED, i);
      programs.push({ name: p.name, source: p.source });
    }
    expect(programs.length).toBeGreaterThan(50);
    let starts = 0;
    for (const p of programs) {
      const r = assemble(p.source, { origin: PROGRAM_ORIGIN, predefined: PREDEFINED_SYMBOLS });
      if (!r.ok) throw new Error(`${p.name} does not assemble: ${r.diagnostics[0]?.message}`);
      for (const seg of r.segments) {
        for (const e of r.lineMap) {
          if (e.addr < seg.addr || e.addr >= seg.addr + seg.bytes.length) continue;
          const src = sourceAt(seg.bytes.subarray(e.addr - seg.addr), e.addr, 64);
          if (src !== null) { expectInGrammar(src, `${p.name}, line ${e.line}`); starts++; }
        }
      }
      const [first, ...rest] = r.segments;
      const m = createTestMachine({ code: first!.bytes, codeAddr: first!.addr, data: rest.map((s) => ({ addr: s.addr, bytes: s.bytes })) });
      m.vcpu.rip = r.entry;
      // A stress program runs until its first MMIO exit here (this test VMM has no devices).
      runAndCheck(m, 20_000, p.name);
    }
    expect(starts).toBeGreaterThan(500);
  });

  it('the grammar rejects text a guest could smuggle in', () => {
    const ok = '"use strict";\nreturn function block(c, R, budget) {\nR[0]=5; c.rip=4096; return 1;\n};';
    expect(blockSourceViolation(ok, VCPU_MEMBERS)).toBeNull();
    for (const bad of ['R[0]="x";', "R[0]='x';", 'R[0]=`x`;', '// x', '/* x */', 'R[0]=/x/;', 'alert(1);', 'c.constructor;', 'R[0]=1\\u0061;', 'fetch(1);']) {
      expect(blockSourceViolation(ok.replace('R[0]=5;', bad), VCPU_MEMBERS), bad).not.toBeNull();
    }
  });
});
