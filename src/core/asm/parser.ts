/**
 * Source text -> a flat list of items (labels, instructions, data, directives), each tagged
 * with its line and column. Parsing happens once; the passes in assembler.ts only evaluate
 * and encode. A line with a syntax error yields a diagnostic and no item, and parsing goes on.
 */
import { AsmError, ExprParser, containsReg, type Expr } from './expr';
import { LexError, stripBlockComments, tokenize, unescape, type Token } from './lexer';
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
  /** The segment was written before the brackets (GNU `ds:[rax]`, `ds:0x10`): GNU drops a default one. */
  readonly segOutside?: boolean;
}

export type DataValue = { readonly expr: Expr } | { readonly bytes: Uint8Array };

interface Base { readonly line: number; readonly col: number; }
export type Item = Base & (
  | { readonly t: 'label'; readonly name: string }
  | { readonly t: 'equ'; readonly name: string; readonly expr: Expr }
  | { readonly t: 'insn'; readonly mnemonic: string; readonly written: string; readonly prefixes: readonly string[]; readonly operands: readonly Operand[]; readonly times?: Expr }
  | { readonly t: 'data'; readonly width: 1 | 2 | 4 | 8; readonly values: readonly DataValue[]; readonly times?: Expr }
  | { readonly t: 'reserve'; readonly count: Expr; readonly fill?: Expr; readonly times?: Expr }
  /** gnu: a GNU directive (.align/.balign/.p2align): code is padded with GNU's long NOPs; maxSkip: GNU's third argument. */
  | { readonly t: 'align'; readonly boundary: Expr; readonly pow2: boolean; readonly fill?: Expr; readonly gnu?: boolean; readonly maxSkip?: Expr }
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
/**
 * GNU prefixes written as words or in braces. The braced ones are encoding hints: {disp8} and
 * {disp32} pick the displacement (or branch) size, {load}/{store} the direction of a reg,reg
 * ModRM form. addr32 makes addresses 32-bit; data16, rex*, segment names, notrack and bnd are
 * emitted as written.
 */
const GNU_PREFIXES = new Set(['{disp8}', '{disp32}', '{load}', '{store}', 'addr32', 'data16', 'cs', 'ds', 'es', 'fs', 'gs', 'ss', 'notrack', 'bnd']);
/** The byte a word prefix stands for (rex.* are computed). */
export const PREFIX_BYTES: Record<string, number> = {
  rep: 0xf3, repe: 0xf3, repz: 0xf3, repne: 0xf2, repnz: 0xf2, lock: 0xf0, o16: 0x66, data16: 0x66, addr32: 0x67,
  cs: 0x2e, ds: 0x3e, es: 0x26, fs: 0x64, gs: 0x65, ss: 0x36, notrack: 0x3e, bnd: 0xf2,
};
/** `rex`, `rex.w`, `rex.wrxb`, ... (any subset of w, r, x, b in that order): the REX byte, else undefined. */
export function rexByte(word: string): number | undefined {
  const m = word.toLowerCase().match(/^rex(?:\.(w?)(r?)(x?)(b?))?$/);
  if (!m || (word.includes('.') && !(m[1] || m[2] || m[3] || m[4]))) return undefined;
  return 0x40 | (m[1] ? 8 : 0) | (m[2] ? 4 : 0) | (m[3] ? 2 : 0) | (m[4] ? 1 : 0);
}
export function isPrefixWord(w: string): boolean {
  return PREFIXES.has(w) || GNU_PREFIXES.has(w) || rexByte(w) !== undefined;
}
/** Branches: a bare symbol operand is the target, never a memory operand (GNU). */
function isBranch(mn: string): boolean {
  return /^(j[a-z]+|call|callq|loop[a-z]*|xbegin)$/.test(mn);
}
const DATA_WIDTH: Record<string, 1 | 2 | 4 | 8> = {
  db: 1, dw: 2, dd: 4, dq: 8, '.byte': 1, '.word': 2, '.short': 2, '.value': 2, '.2byte': 2, '.long': 4, '.int': 4, '.4byte': 4, '.quad': 8, '.8byte': 8,
};
const RES_WIDTH: Record<string, number> = { resb: 1, resw: 2, resd: 4, resq: 8 };
const IGNORED = new Set(['global', 'extern', 'cpu', '.globl', '.global', '.extern', '.type', '.size', '.file', '.ident', '.intel_syntax', '.code64', '.local', '.weak', '.hidden', '.end', 'use64',
  '.cfi_startproc', '.cfi_endproc', '.cfi_def_cfa_offset', '.cfi_offset', '.cfi_def_cfa_register', '.cfi_def_cfa', '.loc', '.protected', '.internal', '.sleb128_ignored']);

/** Directive spellings, offered as suggestions next to mnemonics. */
export const DIRECTIVES = [
  'bits', 'org', 'section', 'segment', 'default', 'align', 'alignb', 'times', 'equ', 'db', 'dw', 'dd', 'dq', 'resb', 'resw', 'resd', 'resq',
  ...Object.keys(DATA_WIDTH).filter((k) => k.startsWith('.')), '.ascii', '.asciz', '.string', '.zero', '.skip', '.space', '.align', '.balign', '.p2align', '.org',
  '.text', '.data', '.bss', '.section', '.equ', '.set', '.fill', ...IGNORED,
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
    const p = new ExprParser(this.toks, this.pos, (t) => this.ctx.resolveIdent(t), this.endCol, (t) => this.ctx.localRef(t));
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
    // Labels: `name:` (any number on a line, GNU style), and GNU numeric labels `1:`.
    for (;;) {
      const t = this.peek();
      if (!t || !this.at('punct', ':', 1)) break;
      let name: string;
      if (t.kind === 'ident' && !this.ctx.isRegister(t.text) && !isPrefixWord(t.text.toLowerCase())) name = this.ctx.defineLabel(t.text, t.col);
      else if (t.kind === 'number' && /^[0-9]+$/.test(t.text)) name = this.ctx.defineNumeric(t.text);
      else break;
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
      out.push({ t: 'equ', name: this.ctx.defineEqu(first.text, first.col, expr), expr, line: this.lineNo, col: first.col });
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
    if (word === '.fill') {
      // .fill repeat[, size[, value]]: `repeat` copies of `value` in `size` bytes (at most 4 of them significant).
      const repeat = this.valueExpr();
      let size = 1;
      let value: Expr = { k: 'num', v: 0n, col };
      if (this.at('punct', ',')) {
        this.pos++;
        if (!this.at('punct', ',')) {
          const e = this.valueExpr();
          if (e.k !== 'num' || ![1, 2, 4, 8].includes(Number(e.v))) throw new AsmError('.fill size must be 1, 2, 4 or 8', e.col);
          size = Number(e.v);
        }
      }
      if (this.at('punct', ',')) { this.pos++; value = this.valueExpr(); }
      this.expectEnd();
      const mask: Expr = { k: 'num', v: (1n << BigInt(8 * Math.min(size, 4))) - 1n, col };
      out.push({ ...base, t: 'data', width: size as 1 | 2 | 4 | 8, values: [{ expr: { k: 'bin', op: '&', a: value, b: mask, col } }], times: repeat });
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
        let maxSkip: Expr | undefined;
        if (this.at('punct', ',')) {
          this.pos++;
          // NASM's second argument is an instruction to pad with; only `nop` and `db N` are common.
          if (this.at('ident', 'nop')) { this.pos++; fill = { k: 'num', v: 0x90n, col }; }
          else if (this.at('ident', 'db')) { this.pos++; fill = this.valueExpr(); }
          else if (!this.at('punct', ',')) fill = this.valueExpr(); // GNU `.p2align 4,,10`: no fill
        }
        if (this.at('punct', ',')) { this.pos++; maxSkip = this.valueExpr(); }
        this.expectEnd();
        out.push({ ...base, t: 'align', boundary, pow2: word === '.p2align', fill, gnu: word.startsWith('.'), maxSkip });
        return;
      }
      case '.equ': case '.set': {
        const t = this.peek();
        if (!t || t.kind !== 'ident' || !this.at('punct', ',', 1)) throw new AsmError(`${word} needs a name and a value`, this.colHere());
        this.pos += 2;
        const expr = this.valueExpr();
        this.expectEnd();
        out.push({ ...base, t: 'equ', name: this.ctx.defineEqu(t.text, t.col, expr), expr });
        return;
      }
      case '.att_syntax':
        throw new AsmError('AT&T syntax is not supported; write Intel syntax (.intel_syntax noprefix)', col);
      case '.intel_syntax': {
        const t = this.peek();
        if (t && t.text.toLowerCase() === 'prefix') throw new AsmError("'.intel_syntax prefix' (registers written %rax) is not supported; write '.intel_syntax noprefix'", t.col);
        this.ctx.gnu = true;
        this.pos = this.toks.length;
        return;
      }
    }
    if (IGNORED.has(word)) { this.pos = this.toks.length; return; }
    if (word.startsWith('.')) throw new AsmError(`unknown directive '${first.text}'`, col);

    // An instruction: prefixes, mnemonic, operands.
    const prefixes: string[] = [];
    let mn = word;
    let mnCol = col;
    let written = first.text;
    while (isPrefixWord(mn)) {
      if (mn === 'data32' || mn === 'addr16') throw new AsmError(`'${mn}' is not supported in 64-bit mode`, mnCol);
      prefixes.push(mn);
      const t = this.peek();
      if (!t) { mn = ''; break; }
      if (t.kind !== 'ident') throw new AsmError(`expected an instruction after '${prefixes[prefixes.length - 1]}'`, t.col);
      this.pos++;
      mn = t.text.toLowerCase();
      written = t.text;
      mnCol = t.col;
    }
    if (mn === 'data32' || mn === 'addr16') throw new AsmError(`'${mn}' is not supported in 64-bit mode`, mnCol);
    if (mn === '') {
      // A prefix on its own (`rep` on one line, `lock; add ...` in GNU): just its bytes, as in NASM and GNU.
      const bytes = prefixes.map((p) => PREFIX_BYTES[p] ?? rexByte(p));
      const bad = prefixes.find((_, i) => bytes[i] === undefined);
      if (bad) throw new AsmError(`'${bad}' must be followed by an instruction`, col);
      out.push({ ...base, t: 'data', width: 1, values: [{ bytes: Uint8Array.from(bytes as number[]) }], times });
      return;
    }
    this.mnemonic = mn;
    const operands: Operand[] = [];
    if (this.peek()) {
      for (;;) {
        operands.push(this.operand());
        if (!this.peek()) break;
        if (!this.at('punct', ',')) throw new AsmError(`expected ',' or end of line, found '${this.peek()!.text}'`, this.colHere());
        this.pos++;
      }
    }
    // GNU as assembles `int 3` as the one-byte int3 (NASM keeps CD 03).
    const op0 = operands[0];
    if (this.ctx.gnu && mn === 'int' && operands.length === 1 && op0.t === 'imm' && op0.expr.k === 'num' && op0.expr.v === 3n) {
      out.push({ t: 'insn', line, col: mnCol, mnemonic: 'int3', written, prefixes, operands: [], times });
      return;
    }
    out.push({ t: 'insn', line, col: mnCol, mnemonic: mn, written, prefixes, operands, times });
  }

  private mnemonic = '';

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
      else if (w === 'offset') {
        offset = true;
        this.pos++;
        if (this.at('ident', 'flat') && this.at('punct', ':', 1)) this.pos += 2; // GNU `OFFSET FLAT:sym`
      } else break;
    }
    const t = this.peek();
    if (!t) throw new AsmError('expected an operand', this.endCol);
    // Segment override outside the brackets: fs:[rax], gs:0x28.
    if (t.kind === 'ident' && this.at('punct', ':', 1)) {
      const r = this.ctx.register(t.text);
      if (!r || r.cls !== 'seg') throw new AsmError(`'${t.text}' is not a segment register`, t.col);
      this.pos += 2;
      if (this.at('punct', '[')) return this.memory(col, size, far, r.reg, undefined, true);
      const e = this.expr();
      if (this.at('punct', '[')) return this.memory(col, size, far, r.reg, e, true);
      return this.memFromExpr(col, size, far, r.reg, e, true);
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
    // GNU reads `dword ptr label` as a memory operand; a bare `label` stays an immediate (NASM),
    // except after .intel_syntax, where (as in GNU as) a bare operand naming a label, or a
    // symbol not yet defined as a constant, is memory too. `lea` has only a memory form.
    if (size !== undefined && !offset) return this.memFromExpr(col, size, far, undefined, e);
    if (!offset && !jump && !far && (this.mnemonic === 'lea' || (this.ctx.gnu && !isBranch(this.mnemonic) && !this.ctx.isAbsolute(e)))) {
      return this.memFromExpr(col, size, far, undefined, e);
    }
    if (far) throw new AsmError('far jumps and calls are not supported', col);
    return { t: 'imm', expr: e, col, jump };
  }

  private memory(col: number, size: number | undefined, far: boolean, segOut: Register | undefined, pre: Expr | undefined, segOutside = false): MemOperand {
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
    // GNU `[rax][rbx*4]` and `[rax+8][rbx]`: several bracket groups add up.
    while (this.at('punct', '[')) {
      const open2 = this.peek()!;
      this.pos++;
      const more = this.expr();
      if (!this.at('punct', ']')) throw new AsmError(`expected ']', found '${this.peek()?.text ?? 'end of line'}'`, this.colHere());
      this.pos++;
      e = { k: 'bin', op: '+', a: e, b: more, col: open2.col };
    }
    if (pre) e = { k: 'bin', op: '+', a: pre, b: e, col: pre.col };
    const m = linearize(e);
    return this.buildMem(col, size, far, seg, m, rel, abs, segOutside);
  }

  private memFromExpr(col: number, size: number | undefined, far: boolean, seg: Register | undefined, e: Expr, segOutside = false): MemOperand {
    if (containsReg(e)) throw new AsmError('registers in a memory operand must be inside [ ]', e.col);
    return this.buildMem(col, size, far, seg, { regs: [], disp: e }, false, false, segOutside);
  }

  private buildMem(col: number, size: number | undefined, far: boolean, seg: Register | undefined, m: Linear, relKw: boolean, abs: boolean, segOutside = false): MemOperand {
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
    return { t: 'mem', col, size, far, seg, base, index, scale, disp: m.disp, rel, ripReg: m.regs.some((r) => r.reg.cls === 'ip'), abs, segOutside };
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

/** GNU numeric labels get these internal names: `1:` defined for the 3rd time is `1:3`. */
export function isNumericLabel(name: string): boolean { return /^[0-9]+:[0-9]+$/.test(name); }

class ParseContext {
  lastGlobal = '';
  readonly declared = new Map<string, { line: number; kind: 'label' | 'equ' }>();
  readonly diags: ParseDiag[] = [];
  line = 0;
  /** After `.intel_syntax`: GNU as's meaning where it differs from NASM's. */
  gnu = false;
  private readonly regs = tables().registers;
  /** Numeric labels defined anywhere in the file (`1b` is a label reference only if `1:` exists). */
  numericDefined = new Set<string>();
  private readonly numericCount = new Map<string, number>();
  /** Equ's whose value is a plain number (GNU: a bare operand naming one is an immediate). */
  private readonly absoluteEqus = new Set<string>();
  constructor(private readonly predefined: ReadonlySet<string>) {}

  defineNumeric(digits: string): string {
    const n = String(BigInt(digits));
    const k = (this.numericCount.get(n) ?? 0) + 1;
    this.numericCount.set(n, k);
    const name = `${n}:${k}`;
    this.declared.set(name, { line: this.line, kind: 'label' });
    return name;
  }

  /** `1b`: the nearest `1:` before; `1f`: the nearest after. NASM `101b` (binary) if no `101:` exists. */
  localRef(t: Token): Expr {
    const digits = String(BigInt(t.text.slice(0, -1)));
    const dir = t.text.slice(-1).toLowerCase();
    if (!this.numericDefined.has(digits)) {
      if (dir === 'b' && t.value !== undefined) return { k: 'num', v: t.value, col: t.col };
      throw new AsmError(`no '${digits}:' label for '${t.text}' to refer to`, t.col);
    }
    const k = this.numericCount.get(digits) ?? 0;
    if (dir === 'b') {
      if (k === 0) throw new AsmError(`no '${digits}:' label before '${t.text}' (write ${digits}f for the next one)`, t.col);
      return { k: 'sym', name: `${digits}:${k}`, col: t.col };
    }
    return { k: 'sym', name: `${digits}:${k + 1}`, col: t.col };
  }

  /** GNU: an expression of numbers and constant equ's defined before (not labels, not `.`). */
  isAbsolute(e: Expr): boolean {
    switch (e.k) {
      case 'num': return true;
      case 'sym': return this.absoluteEqus.has(e.name) || (this.predefined.has(e.name) && !this.declared.has(e.name));
      case 'un': return this.isAbsolute(e.a);
      case 'bin': return this.isAbsolute(e.a) && this.isAbsolute(e.b);
      default: return false;
    }
  }

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

  defineEqu(raw: string, col: number, expr: Expr): string {
    const name = this.qualify(raw);
    this.declare(name, 'equ', col);
    if (this.isAbsolute(expr)) this.absoluteEqus.add(name);
    return name;
  }

  resolveIdent(t: Token): Expr {
    const r = this.register(t.text);
    if (r) return { k: 'reg', reg: r, col: t.col };
    return { k: 'sym', name: this.qualify(t.text), col: t.col };
  }
}

/** Words that begin a statement, for GNU's `;` separator (`nop; nop`, but `; a comment`). */
function startsStatement(word: string): boolean {
  if (word.startsWith('.') || word.startsWith('{') || isPrefixWord(word) || DIRECTIVES.includes(word)) return true;
  const t = tables();
  if (t.byMnemonic.has(word) || t.aliases.has(word) || word === 'movabs') return true;
  return /^[a-z]+[bwlq]$/.test(word) && t.byMnemonic.has(word.slice(0, -1));
}

/** Numeric labels (`1:`) defined at the start of a line or statement, found before parsing. */
function numericLabels(lines: readonly string[]): Set<string> {
  const out = new Set<string>();
  const re = /^\s*((?:[A-Za-z_.$?@][\w.$?@]*\s*:\s*|[0-9]+\s*:(?!:)\s*)+)/;
  for (const line of lines) {
    for (const stmt of line.split(';')) {
      const m = stmt.match(re);
      if (!m) continue;
      for (const d of m[1].matchAll(/(?:^|:)\s*([0-9]+)\s*:/g)) out.add(String(BigInt(d[1])));
    }
  }
  return out;
}

export function parse(source: string, predefined: ReadonlySet<string> = new Set()): Parsed {
  const ctx = new ParseContext(predefined);
  const items: Item[] = [];
  const lines = stripBlockComments(source).split('\n');
  ctx.numericDefined = numericLabels(lines);
  for (let i = 0; i < lines.length; i++) {
    ctx.line = i + 1;
    const text = lines[i];
    try {
      const toks = tokenize(text, { gnu: ctx.gnu, startsStatement });
      if (toks.length === 0) continue;
      const endCol = text.replace(/\s+$/, '').length + 1;
      // GNU `;` separates statements; each is parsed on its own (an error in one spares the rest).
      let start = 0;
      for (let j = 0; j <= toks.length; j++) {
        if (j < toks.length && !(toks[j].kind === 'punct' && toks[j].text === ';')) continue;
        const part = toks.slice(start, j);
        const end = j < toks.length ? toks[j].col : endCol;
        start = j + 1;
        if (part.length === 0) continue;
        try {
          // Items go straight into the list so a label before a bad instruction is still defined.
          new LineParser(part, i + 1, end, ctx).parseLine(items);
        } catch (e) {
          // Text after a `;` that GNU reads as a statement may have been meant as a comment.
          const hint = part[0].col > 1 && toks.some((t) => t.kind === 'punct' && t.text === ';' && t.col < part[0].col)
            ? " (after .intel_syntax a ';' separates statements, as in GNU as; comments start with '#')" : '';
          if (e instanceof AsmError || e instanceof LexError) ctx.diags.push({ line: i + 1, col: e.col, message: e.message + hint });
          else ctx.diags.push({ line: i + 1, col: 1, message: `internal error: ${String(e)}` });
        }
      }
    } catch (e) {
      if (e instanceof AsmError || e instanceof LexError) ctx.diags.push({ line: i + 1, col: e.col, message: e.message });
      else ctx.diags.push({ line: i + 1, col: 1, message: `internal error: ${String(e)}` });
    }
  }
  return { items, diags: ctx.diags, declared: ctx.declared };
}
