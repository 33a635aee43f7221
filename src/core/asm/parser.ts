/**
 * Source text -> a flat list of items (labels, instructions, data, directives), each tagged
 * with its line and column. Parsing happens once; the passes in assembler.ts only evaluate
 * and encode. A line with a syntax error yields a diagnostic and no item, and parsing goes on.
 */
import { AsmError, ExprParser, containsReg, type Expr } from './expr';
import { LexError, tokenize, unescape, type Token } from './lexer';
import { tables, type RegInfo } from './tables';
import type { Register } from '../iced';

export type SectionName = '.text' | '.data';

export type Operand =
  | { readonly t: 'reg'; readonly reg: RegInfo; readonly col: number }
  | { readonly t: 'imm'; readonly expr: Expr; readonly col: number; readonly jump?: 'short' | 'near' }
  | MemOperand;

export interface MemOperand {
  readonly t: 'mem';
  readonly col: number;
  /** Bytes given by byte/word/dword/qword/...; undefined when the source names no size. */
  readonly size?: number;
  readonly far: boolean;
  readonly seg?: Register;
  readonly base?: RegInfo;
  readonly index?: RegInfo;
  readonly scale: number;
  readonly disp?: Expr;
  /** RIP-relative: `rel` (NASM) or `rip` written as the base (GNU). */
  readonly rel: boolean;
  /** `rip` written as a register: a plain-number displacement is then raw (GNU), not a target. */
  readonly ripReg: boolean;
  /** `abs` written: never RIP-relative, even under `default rel`. */
  readonly abs: boolean;
}

export type DataValue = { readonly expr: Expr } | { readonly bytes: Uint8Array };

interface Base { readonly line: number; readonly col: number; }
export type Item = Base & (
  | { readonly t: 'label'; readonly name: string }
  | { readonly t: 'equ'; readonly name: string; readonly expr: Expr }
  | { readonly t: 'insn'; readonly mnemonic: string; readonly written: string; readonly prefixes: readonly string[]; readonly operands: readonly Operand[]; readonly times?: Expr }
  | { readonly t: 'data'; readonly width: 1 | 2 | 4 | 8; readonly values: readonly DataValue[]; readonly times?: Expr }
  | { readonly t: 'reserve'; readonly count: Expr; readonly fill?: Expr; readonly times?: Expr }
  | { readonly t: 'align'; readonly boundary: Expr; readonly pow2: boolean; readonly fill?: Expr }
  /** NASM `org` is an address; GNU `.org` is an offset from the section start. */
  | { readonly t: 'org'; readonly expr: Expr; readonly offset: boolean }
  | { readonly t: 'section'; readonly name: SectionName }
  | { readonly t: 'default'; readonly rel: boolean }
);

export interface ParseDiag { readonly line: number; readonly col: number; readonly message: string; }

export interface Parsed {
  readonly items: Item[];
  readonly diags: ParseDiag[];
  /** Every label and equ name defined anywhere, with its first definition line. */
  readonly declared: Map<string, { line: number; kind: 'label' | 'equ' }>;
}

const SIZES: Record<string, number> = { byte: 1, word: 2, dword: 4, fword: 6, qword: 8, tword: 10, tbyte: 10, oword: 16, xmmword: 16, dqword: 16, ymmword: 32 };
const PREFIXES = new Set(['rep', 'repe', 'repz', 'repne', 'repnz', 'lock', 'o16', 'o32', 'o64']);
const DATA_WIDTH: Record<string, 1 | 2 | 4 | 8> = {
  db: 1, dw: 2, dd: 4, dq: 8, '.byte': 1, '.word': 2, '.short': 2, '.value': 2, '.2byte': 2, '.long': 4, '.int': 4, '.4byte': 4, '.quad': 8, '.8byte': 8,
};
const RES_WIDTH: Record<string, number> = { resb: 1, resw: 2, resd: 4, resq: 8 };
const IGNORED = new Set(['global', 'extern', 'cpu', '.globl', '.global', '.extern', '.type', '.size', '.file', '.ident', '.intel_syntax', '.code64', '.local', '.weak', '.hidden', '.end', 'use64']);

/** Directive spellings, offered as suggestions next to mnemonics. */
export const DIRECTIVES = [
  'bits', 'org', 'section', 'segment', 'default', 'align', 'alignb', 'times', 'equ', 'db', 'dw', 'dd', 'dq', 'resb', 'resw', 'resd', 'resq',
  ...Object.keys(DATA_WIDTH).filter((k) => k.startsWith('.')), '.ascii', '.asciz', '.string', '.zero', '.skip', '.space', '.align', '.balign', '.p2align', '.org',
  '.text', '.data', '.bss', '.section', '.equ', '.set', ...IGNORED,
];

export function sectionFor(name: string): SectionName | undefined {
  const n = name.toLowerCase();
  if (n === '.text' || n === 'text' || n === '.code') return '.text';
  if (n === '.data' || n === 'data' || n === '.rodata' || n === '.bss' || n === 'bss' || n === 'rodata') return '.data';
  return undefined;
}

class LineParser {
  private pos = 0;
  constructor(private readonly toks: Token[], private readonly lineNo: number, private readonly endCol: number, private readonly ctx: ParseContext) {}

  private peek(o = 0): Token | undefined { return this.toks[this.pos + o]; }
  private at(kind: Token['kind'], text?: string, o = 0): boolean {
    const t = this.peek(o);
    return !!t && t.kind === kind && (text === undefined || t.text.toLowerCase() === text);
  }
  private colHere(): number { return this.peek()?.col ?? this.endCol; }
  private expectEnd(): void {
    const t = this.peek();
    if (t) throw new AsmError(`unexpected '${t.text}'`, t.col);
  }

  private expr(): Expr {
    const p = new ExprParser(this.toks, this.pos, (t) => this.ctx.resolveIdent(t), this.endCol);
    const e = p.parse();
    this.pos = p.pos;
    return e;
  }

  /** A value expression: a register inside it is an error. */
  private valueExpr(): Expr {
    const e = this.expr();
    if (containsReg(e)) throw new AsmError('a register is not allowed in this expression', e.col);
    return e;
  }

  parseLine(out: Item[]): void {
    // Labels: `name:` (any number on a line, GNU style).
    while (this.at('ident') && this.at('punct', ':', 1) && !this.ctx.isRegister(this.peek()!.text)) {
      const t = this.peek()!;
      const name = this.ctx.defineLabel(t.text, t.col);
      out.push({ t: 'label', name, line: this.lineNo, col: t.col });
      this.pos += 2;
    }
    if (!this.peek()) return;
    // NASM's "[bits 64]" / "[org 0x1000]" / "[section .text]" bracket forms.
    if (this.at('punct', '[') && this.toks[this.toks.length - 1].text === ']' && this.at('ident', undefined, 1)) {
      const d = this.peek(1)!.text.toLowerCase();
      if (['bits', 'org', 'section', 'segment', 'default'].includes(d)) {
        this.toks.pop();
        this.pos++;
      }
    }
    const first = this.peek()!;
    if (first.kind !== 'ident') throw new AsmError(`expected an instruction, directive or label, found '${first.text}'`, first.col);
    // `name equ expr` and GNU `name = expr`.
    if (this.at('ident', 'equ', 1) || this.at('punct', '=', 1)) {
      this.pos += 2;
      const expr = this.valueExpr();
      this.expectEnd();
      out.push({ t: 'equ', name: this.ctx.defineEqu(first.text, first.col), expr, line: this.lineNo, col: first.col });
      return;
    }
    this.statement(out, undefined);
  }

  private statement(out: Item[], times: Expr | undefined): void {
    const first = this.peek();
    if (!first) throw new AsmError('expected an instruction after times', this.endCol);
    if (first.kind !== 'ident') throw new AsmError(`expected an instruction or directive, found '${first.text}'`, first.col);
    const word = first.text.toLowerCase();
    const line = this.lineNo;
    const col = first.col;
    const base = { line, col };
    this.pos++;

    if (word === 'times') {
      if (times) throw new AsmError('nested times', col);
      const count = this.valueExpr();
      this.statement(out, count);
      return;
    }
    if (word in DATA_WIDTH) {
      out.push({ ...base, t: 'data', width: DATA_WIDTH[word], values: this.dataValues(DATA_WIDTH[word], word.startsWith('.')), times });
      return;
    }
    if (word === '.ascii' || word === '.asciz' || word === '.string') {
      const values: DataValue[] = [];
      for (;;) {
        const t = this.peek();
        if (!t || t.kind !== 'string') throw new AsmError(`${word} needs a string`, this.colHere());
        this.pos++;
        const s = t.quote === '"' ? unescape(t.text, t.col) : t.text;
        values.push({ bytes: strBytes(word === '.ascii' ? s : s + '\0') });
        if (!this.at('punct', ',')) break;
        this.pos++;
      }
      this.expectEnd();
      out.push({ ...base, t: 'data', width: 1, values, times });
      return;
    }
    if (word in RES_WIDTH || word === '.zero' || word === '.skip' || word === '.space') {
      let count = this.valueExpr();
      let fill: Expr | undefined;
      if (word in RES_WIDTH && RES_WIDTH[word] !== 1) count = { k: 'bin', op: '*', a: count, b: { k: 'num', v: BigInt(RES_WIDTH[word]), col }, col };
      if (word !== '.zero' && this.at('punct', ',')) { this.pos++; fill = this.valueExpr(); }
      this.expectEnd();
      out.push({ ...base, t: 'reserve', count, fill, times });
      return;
    }
    if (times) {
      if (word.startsWith('.') || DIRECTIVES.includes(word)) throw new AsmError(`times cannot repeat '${first.text}'`, col);
    }
    switch (word) {
      case 'bits': {
        const e = this.valueExpr();
        this.expectEnd();
        if (e.k !== 'num' || e.v !== 64n) throw new AsmError('only bits 64 is supported', e.col);
        return;
      }
      case 'org': case '.org': {
        const expr = this.valueExpr();
        this.expectEnd();
        out.push({ ...base, t: 'org', expr, offset: word === '.org' });
        return;
      }
      case 'section': case 'segment': case '.section': {
        const t = this.peek();
        if (!t || t.kind !== 'ident') throw new AsmError('section needs a name', this.colHere());
        const name = sectionFor(t.text);
        if (!name) throw new AsmError(`unknown section '${t.text}' (use .text or .data)`, t.col);
        this.pos = this.toks.length; // NASM section attributes (align=, progbits) are ignored
        out.push({ ...base, t: 'section', name });
        return;
      }
      case '.text': case '.data': case '.bss': case '.rodata':
        this.expectEnd();
        out.push({ ...base, t: 'section', name: sectionFor(word)! });
        return;
      case 'default': {
        const t = this.peek();
        const w = t?.text.toLowerCase();
        if (!t || (w !== 'rel' && w !== 'abs')) throw new AsmError('default needs rel or abs', this.colHere());
        this.pos++;
        this.expectEnd();
        out.push({ ...base, t: 'default', rel: w === 'rel' });
        return;
      }
      case 'align': case 'alignb': case '.align': case '.balign': case '.p2align': {
        const boundary = this.valueExpr();
        let fill: Expr | undefined;
        if (this.at('punct', ',')) {
          this.pos++;
          // NASM's second argument is an instruction to pad with; only `nop` and `db N` are common.
          if (this.at('ident', 'nop')) { this.pos++; fill = { k: 'num', v: 0x90n, col }; }
          else if (this.at('ident', 'db')) { this.pos++; fill = this.valueExpr(); }
          else fill = this.valueExpr();
        }
        if (this.at('punct', ',')) { this.pos++; this.valueExpr(); } // GNU max-skip: ignored
        this.expectEnd();
        out.push({ ...base, t: 'align', boundary, pow2: word === '.p2align', fill });
        return;
      }
      case '.equ': case '.set': {
        const t = this.peek();
        if (!t || t.kind !== 'ident' || !this.at('punct', ',', 1)) throw new AsmError(`${word} needs a name and a value`, this.colHere());
        this.pos += 2;
        const expr = this.valueExpr();
        this.expectEnd();
        out.push({ ...base, t: 'equ', name: this.ctx.defineEqu(t.text, t.col), expr });
        return;
      }
      case '.att_syntax':
        throw new AsmError('AT&T syntax is not supported; write Intel syntax', col);
    }
    if (IGNORED.has(word)) { this.pos = this.toks.length; return; }
    if (word.startsWith('.')) throw new AsmError(`unknown directive '${first.text}'`, col);

    // An instruction: prefixes, mnemonic, operands.
    const prefixes: string[] = [];
    let mn = word;
    let mnCol = col;
    let written = first.text;
    while (PREFIXES.has(mn)) {
      prefixes.push(mn);
      const t = this.peek();
      if (!t) { mn = ''; break; }
      if (t.kind !== 'ident') throw new AsmError(`expected an instruction after '${prefixes[prefixes.length - 1]}'`, t.col);
      this.pos++;
      mn = t.text.toLowerCase();
      written = t.text;
      mnCol = t.col;
    }
    if (mn === '') {
      // A lone prefix is NASM's way to emit just the prefix byte; we don't: say so.
      throw new AsmError(`'${prefixes[0]}' must be followed by an instruction`, col);
    }
    const operands: Operand[] = [];
    if (this.peek()) {
      for (;;) {
        operands.push(this.operand());
        if (!this.peek()) break;
        if (!this.at('punct', ',')) throw new AsmError(`expected ',' or end of line, found '${this.peek()!.text}'`, this.colHere());
        this.pos++;
      }
    }
    out.push({ t: 'insn', line, col: mnCol, mnemonic: mn, written, prefixes, operands, times });
  }

  private dataValues(width: number, gnu: boolean): DataValue[] {
    const values: DataValue[] = [];
    if (!this.peek()) throw new AsmError('expected data values', this.endCol);
    for (;;) {
      const t = this.peek();
      const next = this.peek(1);
      if (t && t.kind === 'string' && (!next || (next.kind === 'punct' && next.text === ','))) {
        this.pos++;
        const s = gnu && t.quote === '"' ? unescape(t.text, t.col) : t.text;
        // A string in dw/dd/dq is padded with zeros to a whole number of units (NASM).
        if (t.text.length <= 1 && width > 1) values.push({ expr: { k: 'num', v: BigInt(s.charCodeAt(0) || 0), col: t.col } });
        else {
          const b = strBytes(s);
          const padded = new Uint8Array(Math.ceil(b.length / width) * width);
          padded.set(b);
          values.push({ bytes: padded });
        }
      } else {
        values.push({ expr: this.valueExpr() });
      }
      if (!this.peek()) break;
      if (!this.at('punct', ',')) throw new AsmError(`expected ',' between data values, found '${this.peek()!.text}'`, this.colHere());
      this.pos++;
    }
    return values;
  }

  private operand(): Operand {
    const col = this.colHere();
    let size: number | undefined;
    let far = false;
    let jump: 'short' | 'near' | undefined;
    let offset = false;
    for (;;) {
      const t = this.peek();
      if (!t || t.kind !== 'ident') break;
      const w = t.text.toLowerCase();
      if (w in SIZES && size === undefined) {
        size = SIZES[w];
        this.pos++;
        if (this.at('ident', 'ptr')) this.pos++;
      } else if (w === 'short' || w === 'near') { jump = w; this.pos++; }
      else if (w === 'far') { far = true; this.pos++; }
      else if (w === 'offset') { offset = true; this.pos++; }
      else break;
    }
    const t = this.peek();
    if (!t) throw new AsmError('expected an operand', this.endCol);
    // Segment override outside the brackets: fs:[rax], gs:0x28.
    if (t.kind === 'ident' && this.at('punct', ':', 1)) {
      const r = this.ctx.register(t.text);
      if (!r || r.cls !== 'seg') throw new AsmError(`'${t.text}' is not a segment register`, t.col);
      this.pos += 2;
      if (this.at('punct', '[')) return this.memory(col, size, far, r.reg, undefined);
      return this.memFromExpr(col, size, far, r.reg, this.expr());
    }
    if (this.at('punct', '[')) return this.memory(col, size, far, undefined, undefined);
    if (t.kind === 'ident' && (!this.peek(1) || this.at('punct', ',', 1))) {
      const r = this.ctx.register(t.text);
      if (r) {
        this.pos++;
        if (size !== undefined && !offset) throw new AsmError(`a size keyword cannot apply to register '${t.text}'`, col);
        return { t: 'reg', reg: r, col };
      }
    }
    const e = this.expr();
    // GNU `disp[base + index*scale]` and `label[rip]`.
    if (this.at('punct', '[')) return this.memory(col, size, far, undefined, e);
    if (containsReg(e)) throw new AsmError('a register in an expression must be inside [ ]', e.col);
    // GNU reads `dword ptr label` as a memory operand; a bare `label` stays an immediate (NASM).
    if (size !== undefined && !offset) return this.memFromExpr(col, size, far, undefined, e);
    if (far) throw new AsmError('far jumps and calls are not supported', col);
    return { t: 'imm', expr: e, col, jump };
  }

  private memory(col: number, size: number | undefined, far: boolean, segOut: Register | undefined, pre: Expr | undefined): MemOperand {
    const open = this.peek()!;
    this.pos++;
    let seg = segOut;
    let rel = false;
    let abs = false;
    for (;;) {
      if (this.at('ident', 'rel')) { rel = true; this.pos++; continue; }
      if (this.at('ident', 'abs')) { abs = true; this.pos++; continue; }
      // NASM puts the segment inside: [fs:rax].
      if (this.at('ident') && this.at('punct', ':', 1)) {
        const r = this.ctx.register(this.peek()!.text);
        if (!r || r.cls !== 'seg') throw new AsmError(`'${this.peek()!.text}' is not a segment register`, this.colHere());
        if (seg !== undefined) throw new AsmError('two segment overrides', this.colHere());
        seg = r.reg;
        this.pos += 2;
        continue;
      }
      break;
    }
    if (this.at('punct', ']')) throw new AsmError('empty memory operand', open.col);
    let e = this.expr();
    if (!this.at('punct', ']')) throw new AsmError(`expected ']', found '${this.peek()?.text ?? 'end of line'}'`, this.colHere());
    this.pos++;
    // `[rax] + 8` and `[rax]+8`: GNU allows a displacement after the brackets.
    if (this.at('punct', '+') || this.at('punct', '-')) {
      const op = this.peek()!;
      this.pos++;
      e = { k: 'bin', op: op.text, a: e, b: this.valueExpr(), col: op.col };
    }
    if (pre) e = { k: 'bin', op: '+', a: pre, b: e, col: pre.col };
    const m = linearize(e);
    return this.buildMem(col, size, far, seg, m, rel, abs);
  }

  private memFromExpr(col: number, size: number | undefined, far: boolean, seg: Register | undefined, e: Expr): MemOperand {
    if (containsReg(e)) throw new AsmError('registers in a memory operand must be inside [ ]', e.col);
    return this.buildMem(col, size, far, seg, { regs: [], disp: e }, false, false);
  }

  private buildMem(col: number, size: number | undefined, far: boolean, seg: Register | undefined, m: Linear, relKw: boolean, abs: boolean): MemOperand {
    let base: RegInfo | undefined;
    let index: RegInfo | undefined;
    let scale = 1;
    let rel = relKw;
    // Registers with an explicit scale are indexes; the first plain one is the base.
    const scaled = m.regs.filter((r) => r.explicitScale);
    const plain = m.regs.filter((r) => !r.explicitScale);
    if (scaled.length > 1 || m.regs.length > 2) throw new AsmError('too many registers in memory operand', col);
    for (const r of m.regs) {
      if (r.reg.cls === 'ip') {
        if (m.regs.length > 1) throw new AsmError('rip cannot be combined with another register', col);
        rel = true;
        continue;
      }
      if (r.reg.cls !== 'r64' && r.reg.cls !== 'r32') throw new AsmError(`'${r.reg.name}' cannot address memory (use a 64-bit register)`, col);
    }
    if (rel && m.regs.some((r) => r.reg.cls !== 'ip')) throw new AsmError('a RIP-relative operand cannot have base or index registers', col);
    if (!m.regs.some((r) => r.reg.cls === 'ip')) {
      if (scaled.length === 1) {
        index = scaled[0].reg;
        scale = scaled[0].scale;
        base = plain[0]?.reg;
      } else if (plain.length === 2) {
        base = plain[0].reg;
        index = plain[1].reg;
      } else if (plain.length === 1) {
        base = plain[0].reg;
      }
      // `[rax*1 + rsp]` or `[rax + rsp]`: rsp can only be a base; swap when that is legal.
      if (index && (index.name === 'rsp' || index.name === 'esp')) {
        if (scale === 1 && base && base.name !== 'rsp' && base.name !== 'esp') [base, index] = [index, base];
        else throw new AsmError(`'${index.name}' cannot be an index register`, col);
      }
      if (base && index && base.cls !== index.cls) throw new AsmError('base and index registers must have the same size', col);
      if (![1, 2, 4, 8].includes(scale)) throw new AsmError('scale must be 1, 2, 4 or 8', col);
    }
    if (abs && rel) throw new AsmError('an operand cannot be both rel and abs', col);
    return { t: 'mem', col, size, far, seg, base, index, scale, disp: m.disp, rel, ripReg: m.regs.some((r) => r.reg.cls === 'ip'), abs };
  }
}

interface Linear {
  regs: { reg: RegInfo; scale: number; explicitScale: boolean }[];
  disp?: Expr;
}

function constInt(e: Expr): bigint | undefined {
  if (e.k === 'num') return e.v;
  if (e.k === 'un' && e.op === '-') { const v = constInt(e.a); return v === undefined ? undefined : -v; }
  if (e.k === 'bin') {
    const a = constInt(e.a), b = constInt(e.b);
    if (a === undefined || b === undefined) return undefined;
    if (e.op === '+') return a + b;
    if (e.op === '-') return a - b;
    if (e.op === '*') return a * b;
    if (e.op === '<<') return a << b;
  }
  return undefined;
}

/** Splits `base + index*scale + disp` (in any order) into registers and a displacement. */
function linearize(e: Expr): Linear {
  const out: Linear = { regs: [] };
  const parts: { e: Expr; neg: boolean }[] = [];
  const walk = (x: Expr, neg: boolean): void => {
    if (x.k === 'bin' && (x.op === '+' || x.op === '-') && containsReg(x)) {
      walk(x.a, neg);
      walk(x.b, x.op === '-' ? !neg : neg);
      return;
    }
    if (x.k === 'un' && x.op === '+' ) { walk(x.a, neg); return; }
    if (x.k === 'reg') {
      if (neg) throw new AsmError('a register cannot be subtracted', x.col);
      out.regs.push({ reg: x.reg, scale: 1, explicitScale: false });
      return;
    }
    if (x.k === 'bin' && x.op === '*' && (x.a.k === 'reg' || x.b.k === 'reg')) {
      const reg = x.a.k === 'reg' ? x.a : x.b;
      const other = x.a.k === 'reg' ? x.b : x.a;
      if (reg.k !== 'reg') return;
      if (neg) throw new AsmError('a register cannot be subtracted', x.col);
      const s = constInt(other);
      if (s === undefined) throw new AsmError('scale must be a constant', other.col);
      out.regs.push({ reg: reg.reg, scale: Number(s), explicitScale: true });
      return;
    }
    if (containsReg(x)) throw new AsmError('invalid memory operand expression', x.col);
    parts.push({ e: x, neg });
  };
  walk(e, false);
  for (const p of parts) {
    const term: Expr = p.neg ? { k: 'un', op: '-', a: p.e, col: p.e.col } : p.e;
    out.disp = out.disp ? { k: 'bin', op: '+', a: out.disp, b: term, col: term.col } : term;
  }
  return out;
}

function strBytes(s: string): Uint8Array {
  // Source text is Unicode: characters above 0xFF are written as UTF-8, like NASM and GNU.
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x100) out.push(c);
    else out.push(...new TextEncoder().encode(ch));
  }
  return Uint8Array.from(out);
}

class ParseContext {
  lastGlobal = '';
  readonly declared = new Map<string, { line: number; kind: 'label' | 'equ' }>();
  readonly diags: ParseDiag[] = [];
  line = 0;
  private readonly regs = tables().registers;

  register(name: string): RegInfo | undefined { return this.regs.get(name.toLowerCase()); }
  isRegister(name: string): boolean { return this.regs.has(name.toLowerCase()); }

  /** NASM local labels: `.x` belongs to the last label that does not start with a dot. */
  qualify(name: string): string {
    if (name.startsWith('.') && !name.startsWith('..') && name.length > 1) return this.lastGlobal + name;
    return name;
  }

  private declare(name: string, kind: 'label' | 'equ', col: number): void {
    const prev = this.declared.get(name);
    if (prev) this.diags.push({ line: this.line, col, message: `'${name}' is already defined on line ${prev.line}` });
    else this.declared.set(name, { line: this.line, kind });
  }

  defineLabel(raw: string, col: number): string {
    const name = this.qualify(raw);
    if (!raw.startsWith('.')) this.lastGlobal = raw;
    this.declare(name, 'label', col);
    return name;
  }

  defineEqu(raw: string, col: number): string {
    const name = this.qualify(raw);
    this.declare(name, 'equ', col);
    return name;
  }

  resolveIdent(t: Token): Expr {
    const r = this.register(t.text);
    if (r) return { k: 'reg', reg: r, col: t.col };
    return { k: 'sym', name: this.qualify(t.text), col: t.col };
  }
}

export function parse(source: string): Parsed {
  const ctx = new ParseContext();
  const items: Item[] = [];
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    ctx.line = i + 1;
    const text = lines[i];
    try {
      const toks = tokenize(text);
      if (toks.length === 0) continue;
      // Items go straight into the list so a label before a bad instruction is still defined.
      new LineParser(toks, i + 1, text.replace(/\s+$/, '').length + 1, ctx).parseLine(items);
    } catch (e) {
      if (e instanceof AsmError || e instanceof LexError) ctx.diags.push({ line: i + 1, col: e.col, message: e.message });
      else ctx.diags.push({ line: i + 1, col: 1, message: `internal error: ${String(e)}` });
    }
  }
  return { items, diags: ctx.diags, declared: ctx.declared };
}
