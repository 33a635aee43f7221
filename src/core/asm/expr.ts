/**
 * Expressions: NASM operators and precedence, evaluated exactly with bigint. A value also
 * says whether it depends on an address (a label, `$`, `$$`): such values can move between
 * passes, so the encoder gives them a full-width field instead of a size that could flip.
 */
import type { Token } from './lexer';
import type { RegInfo } from './tables';

export class AsmError extends Error {
  constructor(message: string, readonly col: number) { super(message); }
}

export type Expr =
  | { readonly k: 'num'; readonly v: bigint; readonly col: number }
  | { readonly k: 'sym'; readonly name: string; readonly col: number }
  | { readonly k: 'here'; readonly col: number }
  | { readonly k: 'base'; readonly col: number }
  | { readonly k: 'reg'; readonly reg: RegInfo; readonly col: number }
  | { readonly k: 'un'; readonly op: string; readonly a: Expr; readonly col: number }
  | { readonly k: 'bin'; readonly op: string; readonly a: Expr; readonly b: Expr; readonly col: number };

export interface Value { readonly value: bigint; readonly reloc: boolean; }

export interface EvalEnv {
  /** Current symbol value; throws AsmError if it is not defined anywhere. */
  lookup(name: string, col: number): Value;
  readonly here: bigint;
  readonly sectionBase: bigint;
}

/** Turns an identifier token into an expression leaf (symbol or register). */
export type IdentResolver = (tok: Token) => Expr;

/** Recursive-descent parser over a token list; `pos` is advanced past what it consumed. */
export class ExprParser {
  pos: number;
  constructor(private readonly toks: readonly Token[], start: number, private readonly ident: IdentResolver, private readonly endCol: number,
    private readonly local?: IdentResolver) {
    this.pos = start;
  }

  private peek(): Token | undefined { return this.toks[this.pos]; }
  private isPunct(...ops: string[]): string | undefined {
    const t = this.peek();
    return t && t.kind === 'punct' && ops.includes(t.text) ? t.text : undefined;
  }

  parse(): Expr { return this.binary(0); }

  private static readonly LEVELS: readonly (readonly string[])[] = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '//', '%']];

  private binary(level: number): Expr {
    if (level >= ExprParser.LEVELS.length) return this.unary();
    let a = this.binary(level + 1);
    for (;;) {
      const op = this.isPunct(...ExprParser.LEVELS[level]);
      if (!op) return a;
      const col = this.toks[this.pos].col;
      this.pos++;
      const b = this.binary(level + 1);
      a = { k: 'bin', op, a, b, col };
    }
  }

  private unary(): Expr {
    const op = this.isPunct('-', '+', '~', '!');
    if (op) {
      const col = this.toks[this.pos++].col;
      return { k: 'un', op, a: this.unary(), col };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    if (!t) throw new AsmError('expected an expression', this.endCol);
    this.pos++;
    switch (t.kind) {
      case 'number':
        if (t.localRef) {
          if (this.local) return this.local(t);
          if (t.value === undefined) throw new AsmError(`invalid number '${t.text}'`, t.col);
        }
        return { k: 'num', v: t.value ?? 0n, col: t.col };
      case 'string': {
        // A character constant: NASM packs up to 8 characters little-endian.
        if (t.text.length === 0 || t.text.length > 8) throw new AsmError('character constant must have 1 to 8 characters', t.col);
        let v = 0n;
        for (let i = t.text.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(t.text.charCodeAt(i) & 0xff);
        return { k: 'num', v, col: t.col };
      }
      case 'ident':
        if (t.text === '.') return { k: 'here', col: t.col }; // GNU spelling of `$`
        return this.ident(t);
      case 'punct':
        if (t.text === '$') return { k: 'here', col: t.col };
        if (t.text === '$$') return { k: 'base', col: t.col };
        if (t.text === '(') {
          const e = this.parse();
          if (!this.isPunct(')')) throw new AsmError("expected ')'", this.peek()?.col ?? this.endCol);
          this.pos++;
          return e;
        }
        throw new AsmError(`unexpected '${t.text}' in expression`, t.col);
    }
  }
}

export function containsReg(e: Expr): boolean {
  switch (e.k) {
    case 'reg': return true;
    case 'un': return containsReg(e.a);
    case 'bin': return containsReg(e.a) || containsReg(e.b);
    default: return false;
  }
}

/** Names of the symbols an expression refers to. */
export function symbolsOf(e: Expr, out: string[] = []): string[] {
  if (e.k === 'sym') out.push(e.name);
  else if (e.k === 'un') symbolsOf(e.a, out);
  else if (e.k === 'bin') { symbolsOf(e.a, out); symbolsOf(e.b, out); }
  return out;
}

export function evaluate(e: Expr, env: EvalEnv): Value {
  switch (e.k) {
    case 'num': return { value: e.v, reloc: false };
    case 'sym': return env.lookup(e.name, e.col);
    case 'here': return { value: env.here, reloc: true };
    case 'base': return { value: env.sectionBase, reloc: true };
    case 'reg': throw new AsmError(`register '${e.reg.name}' is not allowed here`, e.col);
    case 'un': {
      const a = evaluate(e.a, env);
      const v = e.op === '-' ? -a.value : e.op === '~' ? ~a.value : e.op === '!' ? (a.value === 0n ? 1n : 0n) : a.value;
      return { value: v, reloc: a.reloc };
    }
    case 'bin': {
      const a = evaluate(e.a, env);
      const b = evaluate(e.b, env);
      const reloc = a.reloc || b.reloc;
      const x = a.value;
      const y = b.value;
      switch (e.op) {
        case '+': return { value: x + y, reloc };
        case '-': return { value: x - y, reloc };
        case '*': return { value: x * y, reloc };
        case '/': case '//': case '%':
          if (y === 0n) throw new AsmError('division by zero', e.col);
          return { value: e.op === '%' ? x % y : x / y, reloc };
        case '<<':
          if (y < 0n || y > 64n) throw new AsmError('shift count must be 0 to 64', e.col);
          return { value: BigInt.asIntN(128, x << y), reloc };
        case '>>':
          if (y < 0n || y > 64n) throw new AsmError('shift count must be 0 to 64', e.col);
          return { value: x >> y, reloc };
        case '&': return { value: x & y, reloc };
        case '|': return { value: x | y, reloc };
        case '^': return { value: x ^ y, reloc };
      }
      throw new AsmError(`unknown operator '${e.op}'`, e.col);
    }
  }
}
