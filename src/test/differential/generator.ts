/**
 * The seeded case generator: every case is one to three instructions with random initial
 * GPRs, RFLAGS (status flags and DF) and buffer contents. The first instruction of case i comes
 * from template i mod T, so every template appears about count/T times; the others are random.
 */
import { CaseBuilder, type Insn } from './builder.ts';
import { Prng } from './prng.ts';
import { TEMPLATES, type Template } from './templates.ts';

export interface DiffCase {
  id: number;
  /** Assembly lines (GNU as, .intel_syntax noprefix), one entry per instruction or sequence. */
  lines: string[];
  /** Coverage keys of the instructions, e.g. "add m32,r32". */
  forms: string[];
  /** The templates that made them. */
  templates: string[];
  /** Initial GPRs, hardware order (rax rcx rdx rbx rsp rbp rsi rdi r8..r15). */
  gpr: bigint[];
  /** Initial RFLAGS: bit 1, IF, the status flags and DF. */
  rflags: number;
  /** Initial contents of the buffer at MEM_ADDR. */
  mem: Uint8Array;
  /** Flags undefined after the last instruction (not compared). */
  undefFlags: number;
  /** Flags undefined at any point of the case (not compared when the case faults midway). */
  undefFlagsAny: number;
  /** Per GPR, the bits left undefined (not compared). */
  undefRegs: bigint[];
  /** The case raises an exception on purpose (other than #DE, which any DIV may raise). */
  raises: boolean;
}

/** The default seed of `npm test`; DIFF_SEED overrides it. */
export const DEFAULT_SEED = 20240611;

/**
 * Generates `count` cases. `exclude` names templates to leave out (instructions this CPU lacks,
 * which would run natively as something else: LZCNT as BSR without ABM, for instance).
 */
export function generateCases(seed: number, count: number, exclude: ReadonlySet<string> = new Set(), opts: { long?: boolean } = {}): DiffCase[] {
  const rng = new Prng(seed);
  const templates = TEMPLATES.filter((t) => !exclude.has(t.name));
  const cases: DiffCase[] = [];
  for (let id = 0; id < count; id++) cases.push(generateCase(rng, id, templates, opts.long ?? false));
  return cases;
}

/**
 * One case: one to three instructions, or with `long` four to eight (sequences that exercise
 * the vCPU's lazy flags and flag liveness across a block).
 */
function generateCase(rng: Prng, id: number, templates: readonly Template[], long: boolean): DiffCase {
  for (;;) {
    const b = new CaseBuilder(rng);
    const names: string[] = [];
    const n = long ? rng.range(4, 8) : rng.weighted([[40, 1], [35, 2], [25, 3]] as const);
    let ended = false;
    for (let k = 0; k < n && !ended; k++) {
      let added: Insn | null = null;
      for (let attempt = 0; attempt < 30 && !added; attempt++) {
        const t = k === 0 && attempt < 20 ? (templates[id % templates.length] as Template) : rng.pick(templates);
        const insn = t.gen(b);
        if (insn && b.accept(insn)) {
          added = insn;
          names.push(t.name);
        }
      }
      if (added?.endsCase) ended = true;
    }
    if (b.lines.length === 0) continue;
    return {
      id,
      lines: b.lines,
      forms: b.forms,
      templates: names,
      gpr: b.gpr,
      rflags: b.rflags,
      mem: b.mem,
      undefFlags: b.undef,
      undefFlagsAny: b.undefAny,
      undefRegs: b.undefRegs,
      raises: b.raises,
    };
  }
}

/** The case as readable text: its instructions, one per line. */
export function caseText(c: DiffCase): string {
  return c.lines.flatMap((l) => l.split('\n')).map((l) => l.trim()).join('\n');
}
