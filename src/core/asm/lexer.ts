/**
 * Splits one source line into tokens. Comments start at `#` (GNU), at `//` first on a line, and
 * at `;` outside strings; after `.intel_syntax` a `;` followed by a statement separates
 * statements instead, as in GNU as (see LexOptions). Block comments are removed before lines
 * are split (stripBlockComments). Columns are 1-based, as in diagnostics.
 */

export type TokenKind = 'ident' | 'number' | 'string' | 'punct';

export interface Token {
  readonly kind: TokenKind;
  /** ident: as written; punct: the operator; string: decoded contents. */
  readonly text: string;
  readonly col: number;
  /** number literals and character constants. */
  readonly value?: bigint;
  /** string: the quote character it was written with. */
  readonly quote?: string;
  /** number: written `1f`/`1b`, a GNU numeric local label reference (or NASM binary `1b`). */
  readonly localRef?: boolean;
}

export interface LexOptions {
  /** GNU dialect (after `.intel_syntax`): `017` is octal; `;` may separate statements. */
  readonly gnu?: boolean;
  /** In GNU dialect: does this word start a statement (mnemonic, prefix, directive)? */
  readonly startsStatement?: (word: string) => boolean;
}

export class LexError extends Error {
  constructor(message: string, readonly col: number) { super(message); }
}

const PUNCT2 = ['<<', '>>', '//', '$$'];
const PUNCT1 = '[](),:+-*/%&|^~!=$';

function isIdentStart(c: string): boolean { return /[A-Za-z_.?@]/.test(c); }
function isIdentChar(c: string): boolean { return /[A-Za-z0-9_.?@$]/.test(c); }

/** Parses a NASM/GNU number literal: 0x1F, 1Fh, 0b101, 101b, 0o17, 17q, 1_000. */
export function parseNumber(raw: string, gnu = false): bigint | undefined {
  const s = raw.replace(/_/g, '').toLowerCase();
  if (s.length === 0) return undefined;
  let m: RegExpMatchArray | null;
  // GNU as: a leading 0 means octal (NASM: decimal).
  if (gnu && (m = s.match(/^0([0-7]+)$/))) return BigInt('0o' + m[1]);
  if ((m = s.match(/^0[xh]([0-9a-f]+)$/))) return BigInt('0x' + m[1]);
  if ((m = s.match(/^([0-9][0-9a-f]*)h$/))) return BigInt('0x' + m[1]);
  if ((m = s.match(/^0[by]([01]+)$/))) return BigInt('0b' + m[1]);
  if ((m = s.match(/^([01]+)[by]$/))) return BigInt('0b' + m[1]);
  if ((m = s.match(/^0[oq]([0-7]+)$/))) return BigInt('0o' + m[1]);
  if ((m = s.match(/^([0-7]+)[oq]$/))) return BigInt('0o' + m[1]);
  if ((m = s.match(/^0d([0-9]+)$/))) return BigInt(m[1]);
  if ((m = s.match(/^([0-9]+)d?$/))) return BigInt(m[1]);
  return undefined;
}

const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, '"': 34, "'": 39, '`': 96, a: 7, b: 8, f: 12, v: 11, e: 27 };

/** Decodes backslash escapes (NASM backquote strings, GNU .ascii strings) into bytes. */
export function unescape(s: string, col: number): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') { out += c; continue; }
    const n = s[++i];
    if (n === undefined) throw new LexError('backslash at end of string', col);
    if (n === 'x') {
      const hex = s.slice(i + 1).match(/^[0-9a-fA-F]{1,2}/);
      if (!hex) throw new LexError('\\x needs hex digits', col);
      out += String.fromCharCode(parseInt(hex[0], 16));
      i += hex[0].length;
    } else if (/[0-7]/.test(n)) {
      const oct = s.slice(i).match(/^[0-7]{1,3}/);
      out += String.fromCharCode(parseInt(oct ? oct[0] : '0', 8) & 0xff);
      i += (oct ? oct[0].length : 1) - 1;
    } else if (n in ESCAPES) {
      out += String.fromCharCode(ESCAPES[n]);
    } else {
      out += n;
    }
  }
  return out;
}

/** Tokenizes a line; the comment, if any, is dropped. Throws LexError on a malformed token. */
export function tokenize(line: string, opts: LexOptions = {}): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    const col = i + 1;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') { i++; continue; }
    if (c === '#') break;
    if (c === '/' && line[i + 1] === '/' && out.length === 0) break;
    if (c === ';') {
      // GNU: `mov eax, 1; mov ebx, 2` is two statements; `; text` is still a comment.
      const next = line.slice(i + 1).match(/^\s*(\{\w+\}|[A-Za-z_.][\w.]*)\s*(:?)/);
      if (opts.gnu && next && (next[2] === ':' || opts.startsStatement?.(next[1].toLowerCase()))) {
        out.push({ kind: 'punct', text: ';', col });
        i++;
        continue;
      }
      break;
    }
    if (c === '{') {
      // GNU pseudo-prefixes: {disp8}, {disp32}, {load}, {store}, ...
      const m = line.slice(i).match(/^\{\s*(\w+)\s*\}/);
      if (!m) throw new LexError("expected a pseudo-prefix such as '{disp32}'", col);
      out.push({ kind: 'ident', text: `{${m[1].toLowerCase()}}`, col });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      let raw = '';
      while (j < line.length && line[j] !== c) {
        // Backslash escapes the quote in backquoted and double-quoted (GNU) strings.
        if (line[j] === '\\' && c !== "'" && j + 1 < line.length) { raw += line[j] + line[j + 1]; j += 2; continue; }
        raw += line[j++];
      }
      if (j >= line.length) throw new LexError('unterminated string', col);
      const text = c === '`' ? unescape(raw, col) : raw;
      out.push({ kind: 'string', text, col, quote: c });
      i = j + 1;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i;
      while (j < line.length && /[0-9A-Za-z_]/.test(line[j])) j++;
      const raw = line.slice(i, j);
      if (/^[0-9]+[fb]$/i.test(raw)) {
        // `1f`/`1b`: a GNU local label reference, or NASM's binary `1b`: the parser decides.
        out.push({ kind: 'number', text: raw, col, value: parseNumber(raw), localRef: true });
        i = j;
        continue;
      }
      const value = parseNumber(raw, opts.gnu);
      if (value === undefined) throw new LexError(`invalid number '${raw}'`, col);
      out.push({ kind: 'number', text: raw, col, value });
      i = j;
      continue;
    }
    if (isIdentStart(c) || (c === '$' && i + 1 < line.length && isIdentStart(line[i + 1]))) {
      // `$name` is NASM's way to use a keyword (e.g. a register name) as a symbol.
      let j = c === '$' ? i + 1 : i;
      const start = j;
      while (j < line.length && isIdentChar(line[j])) j++;
      out.push({ kind: 'ident', text: line.slice(start, j), col });
      i = j;
      continue;
    }
    const two = line.slice(i, i + 2);
    if (PUNCT2.includes(two)) { out.push({ kind: 'punct', text: two, col }); i += 2; continue; }
    if (PUNCT1.includes(c)) { out.push({ kind: 'punct', text: c, col }); i++; continue; }
    throw new LexError(`unexpected character '${c}'`, col);
  }
  return out;
}

/**
 * Blanks out `/* ... *\/` comments (GNU as), keeping line breaks and columns, so the lines can
 * still be split and tokenized one by one. Strings and line comments are left alone.
 */
export function stripBlockComments(source: string): string {
  if (!source.includes('/*')) return source;
  let out = '';
  let i = 0;
  let quote = '';
  let lineComment = false;
  while (i < source.length) {
    const c = source[i];
    if (c === '\n') { quote = ''; lineComment = false; out += c; i++; continue; }
    if (lineComment) { out += c; i++; continue; }
    if (quote) {
      if (c === '\\' && quote !== "'" && i + 1 < source.length && source[i + 1] !== '\n') { out += c + source[i + 1]; i += 2; continue; }
      if (c === quote) quote = '';
      out += c;
      i++;
      continue;
    }
    if (c === '"' || c === '`' || c === "'") { quote = c; out += c; i++; continue; }
    if (c === '#' || c === ';') { lineComment = true; out += c; i++; continue; }
    if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += source.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}
