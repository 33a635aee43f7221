/**
 * The passes. Parsing happens once; then each pass walks the items, gives every label the
 * current address, evaluates expressions and encodes. A reference to a symbol not yet seen
 * in this pass uses its value from the previous pass. When a pass ends with every symbol
 * equal to the previous pass's, every encoding in it used final values: that pass is the
 * output. Instruction lengths only grow from pass to pass (short jumps relax to near ones,
 * never back), which makes the iteration converge.
 */
import { AsmError, evaluate, type EvalEnv, type Expr, type Value } from './expr';
import { encodeInstruction, isKnownMnemonic, unknownMnemonicMessage, type ROperand } from './encode';
import { DIRECTIVES, isNumericLabel, parse, type Item, type Operand, type SectionName } from './parser';
import { closest } from './suggest';
import { equCycles } from './equCycles';
import { tables } from './tables';
import type { AsmOptions, AsmResult, Diagnostic, LineMapEntry, Segment } from './index';
import { hexLiteral } from '../hex';

const MAX_PASSES = 40;
const MAX_OUTPUT = 16 * 1024 * 1024;
const PAGE = 0x1000;

class Bytes {
  buf = new Uint8Array(256);
  len = 0;
  push(b: Uint8Array | number[]): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  fill(value: number, n: number): void {
    this.reserve(n);
    this.buf.fill(value & 0xff, this.len, this.len + n);
    this.len += n;
  }
  private reserve(n: number): void {
    if (this.len + n > MAX_OUTPUT) throw new AsmError(`program is larger than ${MAX_OUTPUT >> 20} MiB`, 1);
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }
}

interface Section {
  start: bigint;
  explicitStart: boolean;
  bytes: Bytes;
}

interface PassResult {
  values: Map<string, bigint>;
  sections: Record<SectionName, Section>;
  diags: { line: number; col: number; message: string }[];
  lineMap: LineMapEntry[];
  lengths: Map<Item, number>;
  usedEstimate: boolean;
}

/** Unknown mnemonics that get a "did you mean" (each searches every mnemonic). */
const SUGGESTED_MNEMONICS = 200;

export function assembleSource(source: string, options: AsmOptions): AsmResult {
  const file = options.file ?? 'input.s';
  const origin = BigInt(options.origin ?? 0x100000);
  const predefined = options.predefined ?? new Map<string, bigint>();
  const parsed = parse(source, new Set(predefined.keys()));
  const diag = (line: number, col: number, message: string): Diagnostic => ({ file, line, col, severity: 'error', message });
  const diagnostics: Diagnostic[] = parsed.diags.map((d) => diag(d.line, d.col, d.message));

  for (const [name, info] of parsed.declared) {
    if (predefined.has(name)) diagnostics.push(diag(info.line, 1, `'${name}' is a predefined symbol and cannot be redefined`));
    if (tables().registers.has(name.toLowerCase())) diagnostics.push(diag(info.line, 1, `'${name}' is a register name and cannot be a label`));
  }

  // Which equ's depend on an address (and so must get full-width fields)?
  const relocEqu = new Set<string>();
  const equExprs = new Map<string, Expr>();
  for (const it of parsed.items) if (it.t === 'equ') equExprs.set(it.name, it.expr);
  const exprIsReloc = (e: Expr): boolean => {
    switch (e.k) {
      case 'here': case 'base': return true;
      case 'sym': return parsed.declared.get(e.name)?.kind === 'label' || relocEqu.has(e.name);
      case 'un': return exprIsReloc(e.a);
      case 'bin': return exprIsReloc(e.a) || exprIsReloc(e.b);
      default: return false;
    }
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const [name, e] of equExprs) if (!relocEqu.has(name) && exprIsReloc(e)) { relocEqu.add(name); changed = true; }
  }
  // An equ defined through itself is reported once, here; the passes give it 0 and go on.
  const cyclicEqu = new Set<string>();
  for (const loop of equCycles(equExprs)) {
    const at = parsed.items.find((it) => it.t === 'equ' && it.name === loop[0])!;
    diagnostics.push(diag(at.line, at.col, `'${loop[0]}' is defined through itself: ${[...loop, loop[0]].join(' → ')}`));
    for (const name of loop) cyclicEqu.add(name);
  }

  // Unknown mnemonics are reported once, from the parse, not per pass. A "did you mean" for the
  // first SUGGESTED_MNEMONICS only: past them the text is not a program (a binary, a paste gone
  // wrong), and 20,000 searches took 6.6 s.
  const badMnemonic = new Set<Item>();
  for (const it of parsed.items) {
    if (it.t === 'insn' && !isKnownMnemonic(it.mnemonic)) {
      badMnemonic.add(it);
      diagnostics.push(diag(it.line, it.col, unknownMnemonicMessage(it.written, DIRECTIVES, badMnemonic.size <= SUGGESTED_MNEMONICS)));
    }
  }

  const symbolNames = (): string[] => [...parsed.declared.keys(), ...predefined.keys(), ...tables().registers.keys()];

  // Instructions whose operands name no symbol, no `$` and nothing RIP-relative encode the same
  // in every pass: encode them once.
  const constantBytes = new Map<Item, Uint8Array>();
  const isConstantInsn = (it: Item & { t: 'insn' }): boolean => it.operands.every((o) =>
    o.t === 'reg' || (o.t === 'imm' && !dependsOnAddress(o.expr)) ||
    (o.t === 'mem' && !o.rel && !(o.disp && dependsOnAddress(o.disp))));

  let prev: PassResult | undefined;
  let result: PassResult | undefined;
  let converged = false;
  for (let pass = 1; pass <= MAX_PASSES; pass++) {
    if (result) prev = result;
    result = runPass(parsed.items, prev);
    if (prev && !result.usedEstimate && sameValues(prev.values, result.values) && sameStarts(prev, result)) { converged = true; break; }
  }
  const r = result!;
  if (!converged) {
    const at = unsettledAt(prev!, r, parsed.declared);
    diagnostics.push(at
      ? diag(at.line, parsed.items.find((it) => (it.t === 'label' || it.t === 'equ') && it.name === at.name)?.col ?? 1,
        `'${at.name}' did not settle after ${MAX_PASSES} passes: its value depends on the size of code that depends on it (a times or align count that uses a label after it?)`)
      : diag(1, 1, `instruction sizes did not settle after ${MAX_PASSES} passes (a times/align count depends on a label after it?)`));
  }
  for (const d of r.diags) diagnostics.push(diag(d.line, d.col, d.message));
  diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);

  const segments: Segment[] = [];
  const text = r.sections['.text'];
  const data = r.sections['.data'];
  segments.push({ name: '.text', addr: Number(text.start), bytes: text.bytes.buf.slice(0, text.bytes.len) });
  if (data.bytes.len > 0) segments.push({ name: '.data', addr: Number(data.start), bytes: data.bytes.buf.slice(0, data.bytes.len) });
  const symbols = new Map<string, bigint>();
  for (const name of parsed.declared.keys()) {
    if (isNumericLabel(name)) continue; // GNU's `1:` labels are local, like GNU's .L symbols
    const v = r.values.get(name);
    if (v !== undefined) symbols.set(name, v);
  }
  const start = symbols.get('_start');
  // A guest starts at the entry and runs what lies there: with no code it ran zeros (an `add
  // [rax], al` into unmapped memory) to a triple fault, which said nothing about the program.
  if (options.runnable && diagnostics.length === 0) {
    const end = text.start + BigInt(text.bytes.len);
    if (text.bytes.len === 0) diagnostics.push(diag(1, 1, 'nothing to run: the program has no instructions (the guest starts at _start, or at the first instruction)'));
    else if (start === end) diagnostics.push(diag(parsed.declared.get('_start')?.line ?? 1, 1, '_start is after the last instruction: the guest would run past the end of the program'));
  }
  return {
    ok: !diagnostics.some((d) => d.severity === 'error'),
    segments,
    entry: Number(start ?? text.start),
    symbols,
    lineMap: r.lineMap.sort((a, b) => a.addr - b.addr),
    diagnostics,
  };

  function runPass(items: readonly Item[], prevPass: PassResult | undefined): PassResult {
    const values = new Map<string, bigint>();
    const prevText = prevPass?.sections['.text'];
    // .data goes on the page after .text, so guest writes to data never share a code page.
    const textEndGuess = prevText ? prevText.start + BigInt(prevText.bytes.len) : origin;
    const sections: Record<SectionName, Section> = {
      '.text': { start: origin, explicitStart: false, bytes: new Bytes() },
      // Until `org` in .data says otherwise (it is processed in order, like everything else).
      '.data': { start: alignUp(textEndGuess, PAGE), explicitStart: false, bytes: new Bytes() },
    };
    const res: PassResult = { values, sections, diags: [], lineMap: [], lengths: new Map(), usedEstimate: false };
    let cur: SectionName = '.text';
    let defaultRel = false;
    const pc = (): bigint => sections[cur].start + BigInt(sections[cur].bytes.len);

    const env = (here: bigint): EvalEnv => ({
      here,
      sectionBase: sections[cur].start,
      lookup(name: string, col: number): Value {
        const reloc = relocEqu.has(name) || parsed.declared.get(name)?.kind === 'label';
        const v = values.get(name) ?? prevPass?.values.get(name);
        if (v !== undefined) return { value: v, reloc };
        const p = predefined.get(name);
        if (p !== undefined) return { value: p, reloc: false };
        const decl = parsed.declared.get(name);
        if (decl) {
          // First pass, forward reference: guess "here" for labels so jumps start short.
          res.usedEstimate = true;
          return { value: decl.kind === 'label' ? here : 0n, reloc };
        }
        if (isNumericLabel(name)) {
          const n = name.split(':')[0];
          throw new AsmError(`no '${n}:' label after '${n}f'`, col);
        }
        const hint = closest(name, symbolNames(), false) ?? closest(name, symbolNames());
        throw new AsmError(`undefined symbol '${name}'` + (hint ? `; did you mean '${hint}'?` : ''), col);
      },
    });
    const ev = (e: Expr, here = pc()): Value => evaluate(e, env(here));
    const count = (e: Expr | undefined): number => {
      if (!e) return 1;
      const v = ev(e).value;
      if (v < 0n) throw new AsmError(`repeat count is negative (${v})`, e.col);
      if (v > BigInt(MAX_OUTPUT)) throw new AsmError(`repeat count ${v} is too large: a program is at most ${MAX_OUTPUT >> 20} MiB`, e.col);
      return Number(v);
    };

    for (const it of items) {
      try {
        switch (it.t) {
          case 'label':
            values.set(it.name, pc());
            break;
          case 'equ': {
            // Set before evaluating: on error the symbol still exists (value 0), so uses of it
            // do not add a second, misleading "undefined symbol".
            values.set(it.name, 0n);
            if (!cyclicEqu.has(it.name)) values.set(it.name, ev(it.expr).value);
            break;
          }
          case 'section':
            cur = it.name;
            break;
          case 'default':
            defaultRel = it.rel;
            break;
          case 'org': {
            const v = ev(it.expr).value;
            const s = sections[cur];
            const target = it.offset ? s.start + v : v;
            if (s.bytes.len === 0 && !it.offset) {
              if (v < 0n || v >= 1n << 52n) throw new AsmError('org address out of range', it.expr.col);
              s.start = v;
              s.explicitStart = true;
            } else if (target >= pc()) {
              s.bytes.fill(cur === '.text' ? 0x90 : 0, Number(target - pc()));
            } else {
              throw new AsmError(`org ${hexLiteral(target)} is behind the current address ${hexLiteral(pc())}`, it.expr.col);
            }
            break;
          }
          case 'align': {
            let b = ev(it.boundary).value;
            if (it.pow2) {
              if (b < 0n || b > 30n) throw new AsmError('.p2align needs 0..30', it.boundary.col);
              b = 1n << b;
            }
            if (b <= 0n || (b & (b - 1n)) !== 0n || b > 1n << 30n) throw new AsmError('alignment must be a power of two', it.boundary.col);
            const fill = it.fill ? Number(BigInt.asUintN(8, ev(it.fill).value)) : cur === '.text' ? 0x90 : 0;
            const at = pc();
            const pad = Number((b - (at % b)) % b);
            const maxSkip = it.maxSkip ? ev(it.maxSkip).value : undefined;
            if (pad > 0 && (maxSkip === undefined || BigInt(pad) <= maxSkip)) {
              // GNU pads code with long NOPs (and a jump over long runs); NASM with 90s.
              if (it.gnu && cur === '.text' && fill === 0x90) sections[cur].bytes.push(gnuNops(pad));
              else sections[cur].bytes.fill(fill, pad);
              res.lineMap.push({ addr: Number(at), length: pad, line: it.line });
            }
            break;
          }
          case 'reserve': {
            const reps = count(it.times);
            const n = ev(it.count).value;
            if (n < 0n || n > BigInt(MAX_OUTPUT)) throw new AsmError(`bad size ${n}`, it.count.col);
            const fill = it.fill ? Number(BigInt.asUintN(8, ev(it.fill).value)) : 0;
            const at = pc();
            sections[cur].bytes.fill(fill, Number(n) * reps);
            if (Number(n) * reps > 0) res.lineMap.push({ addr: Number(at), length: Number(n) * reps, line: it.line });
            break;
          }
          case 'data': {
            const reps = count(it.times);
            const at = pc();
            const out: number[] = [];
            for (let r = 0; r < reps; r++) {
              for (const v of it.values) {
                if ('bytes' in v) { for (const b of v.bytes) out.push(b); continue; }
                const x = ev(v.expr, at + BigInt(out.length)).value;
                if (!fitsData(x, it.width)) throw new AsmError(`value ${hexLiteral(x)} does not fit in ${it.width * 8} bits`, v.expr.col);
                let u = BigInt.asUintN(it.width * 8, x);
                for (let i = 0; i < it.width; i++) { out.push(Number(u & 0xffn)); u >>= 8n; }
              }
              if (out.length > MAX_OUTPUT) throw new AsmError('data is too large', it.col);
            }
            sections[cur].bytes.push(out);
            if (out.length) res.lineMap.push({ addr: Number(at), length: out.length, line: it.line });
            break;
          }
          case 'insn': {
            if (badMnemonic.has(it)) break;
            const reps = count(it.times);
            let maxLen = 0;
            const constant = !defaultRel && isConstantInsn(it);
            for (let r = 0; r < reps; r++) {
              const at = pc();
              let bytes = constant ? constantBytes.get(it) : undefined;
              if (!bytes) {
                const ops = it.operands.map((o) => resolveOperand(o, at));
                bytes = encodeInstruction({
                  mnemonic: it.mnemonic, prefixes: it.prefixes, operands: ops, rip: at,
                  minLen: prevPass?.lengths.get(it) ?? 0, defaultRel, col: it.col, key: it,
                });
                if (constant) constantBytes.set(it, bytes);
              }
              sections[cur].bytes.push(bytes);
              res.lineMap.push({ addr: Number(at), length: bytes.length, line: it.line });
              maxLen = Math.max(maxLen, bytes.length);
            }
            res.lengths.set(it, maxLen);
            break;
          }
        }
      } catch (e) {
        if (e instanceof AsmError) res.diags.push({ line: it.line, col: e.col, message: e.message });
        else res.diags.push({ line: it.line, col: it.col, message: `internal error: ${e instanceof Error ? e.message : String(e)}` });
        if (e instanceof AsmError && /larger than/.test(e.message)) break;
      }
    }
    return res;

    function resolveOperand(o: Operand, at: bigint): ROperand {
      switch (o.t) {
        case 'reg': return o;
        case 'imm': {
          const v = ev(o.expr, at);
          return { t: 'imm', value: v.value, reloc: v.reloc, col: o.col, jump: o.jump };
        }
        case 'mem': {
          const v = o.disp ? ev(o.disp, at) : { value: 0n, reloc: false };
          return { t: 'mem', m: o, disp: v.value, reloc: v.reloc, col: o.col };
        }
      }
    }
  }
}

/** Any symbol (labels and equ's alike: an equ may be defined later) or `$`/`$$`. */
function dependsOnAddress(e: Expr): boolean {
  switch (e.k) {
    case 'here': case 'base': case 'sym': return true;
    case 'un': return dependsOnAddress(e.a);
    case 'bin': return dependsOnAddress(e.a) || dependsOnAddress(e.b);
    default: return false;
  }
}

/** GNU as's x86-64 code padding: NOPs of up to 11 bytes, a jump over the run when 8 or more would be needed. */
const GNU_NOPS: readonly (readonly number[])[] = [
  [], [0x90], [0x66, 0x90], [0x0f, 0x1f, 0x00], [0x0f, 0x1f, 0x40, 0x00], [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00], [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00], [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00], [0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];
function gnuNops(pad: number): number[] {
  const out: number[] = [];
  let n = pad;
  if (Math.floor(pad / 11) > 7) {
    if (pad - 2 <= 127) { out.push(0xeb, pad - 2); n -= 2; }
    else { const d = pad - 5; out.push(0xe9, d & 0xff, (d >> 8) & 0xff, (d >> 16) & 0xff, (d >>> 24) & 0xff); n -= 5; }
  }
  while (n >= 11) { out.push(...GNU_NOPS[11]); n -= 11; }
  out.push(...GNU_NOPS[n]);
  return out;
}

function alignUp(v: bigint, a: number): bigint {
  const b = BigInt(a);
  return ((v + b - 1n) / b) * b;
}

function fitsData(v: bigint, width: number): boolean {
  const bits = BigInt(width * 8);
  return v >= -(1n << (bits - 1n)) && v < 1n << bits;
}


/**
 * Why the passes did not settle, where: at the first-defined symbol whose value still moved in
 * the last pass (`n equ end - start` used by `times n nop` between them moves `end` and `n` each
 * pass), or at the file's start when only a section's start moved.
 */
function unsettledAt(before: PassResult, last: PassResult, declared: ReadonlyMap<string, { line: number }>): { name: string; line: number } | null {
  let at: { name: string; line: number } | null = null;
  for (const [name, v] of last.values) {
    const line = declared.get(name)?.line;
    if (line !== undefined && before.values.get(name) !== v && (at === null || line < at.line)) at = { name, line };
  }
  return at;
}

function sameValues(a: Map<string, bigint>, b: Map<string, bigint>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function sameStarts(a: PassResult, b: PassResult): boolean {
  return a.sections['.data'].start === b.sections['.data'].start && a.sections['.text'].start === b.sections['.text'].start;
}
