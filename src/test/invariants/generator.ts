/**
 * Seeded generator of small guest programs that stress the instruction cache's write-protect
 * and invalidation: MMIO instructions of bhyve's set in loops (so they get cached),
 * patched by self-modifying code, executed through linear pages that get remapped, under two
 * CR3 trees mapping the same RIPs to different code, straddling page boundaries, patched or
 * remapped by the other vCPU, in one or two VMs.
 *
 * Every program is race-free and never relies on a stale TLB (each PTE edit is followed by
 * invlpg or a CR3 reload on the vCPU that runs the code), so its final guest state is fully
 * determined by the architecture: any strategy must end in the state the `none` run ends in.
 *
 * Register conventions of the generated code:
 *   rbx = IORAM_BASE, rbp = LAPIC_BASE, r15 = checksum of everything read, r12 = loop counter,
 *   r13 = temporary, r14 = linear address of window slot w0, r8/r9 = CR3 of trees a/b;
 *   rax rcx rdx rsi rdi r10 r11 are scratch for the MMIO instructions.
 *
 * Each mutation runs exactly once (in iteration j of a loop that counts r12d down), so the
 * generator knows the dynamic order of all mutations and the value of every patched field.
 */
import { hexLiteral } from '../../core/hex';
import { Prng } from '../differential/prng';
import {
  IO_STAGING, IO_WINDOWS, RAM_SCRATCH, RAM_SCRATCH_SIZE, SCRATCH, SIZE_KW, mayChangeFlags, randomMmioInsn, signed,
  type Field, type MmioInsn, type Owner,
} from './mmioInsn';

export interface StressFeatures {
  vms: 1 | 2;
  vcpus: 1 | 2;
  /** The program builds two page-table trees (a, b) with window slots, and runs under them. */
  ownTables: boolean;
  /** Switch CR3 between trees a and b inside loops. */
  cr3: boolean;
  /** Remap window slots (PTE writes + invlpg). */
  remap: boolean;
  /** Self-modifying code: patch cached MMIO instructions. */
  smc: boolean;
  /** MMIO instructions that straddle a page boundary. */
  straddle: boolean;
  /** Loop variables share a page with a page table the cache protects. */
  dataInTablePage: boolean;
}

export interface StressConfig {
  sliceInsns: number;
  icacheSize: number;
  icacheBuckets: number;
  maxInsns: number;
}

export interface StressProgram {
  /** "stress seed=S #I": reproduce with STRESS_SEED=S and this index. */
  name: string;
  seed: number;
  index: number;
  source: string;
  features: StressFeatures;
  config: StressConfig;
  /** Mutations that run (patches, remaps, CR3 switches excluded). */
  mutations: number;
  /** MMIO instruction sites in the program text. */
  sites: number;
}

/** A seed per program, so one program can be regenerated alone. */
export function programSeed(seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (index + 0x632be5ab), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const W0_VA = 0x4000_0000; // pt_lo[0]
const ALIAS_VA = 0x4000_1000; // pt_lo[1]
const ST_VA = 0x401f_f000; // pt_lo[511], and 0x40200000 = pt_hi[0]

interface Site {
  label: string;
  owner: Owner;
  fields: Field[];
  /** Current value of each field (by index), as the program has patched it so far. */
  current: number[];
}

type Slot = 'w0' | 'alias' | 'st';
type Tree = 'a' | 'b';

interface SlotInfo {
  /** Data expressions of the physical pages the slot may map (PTE = expr + 7). */
  variants: string[];
  /** PTE location: table label and index. */
  table: 'lo' | 'hi';
  index: number;
  /** Linear addresses to invlpg after remapping. */
  vas: number[];
}

type Item =
  | { kind: 'lines'; lines: string[] }
  | { kind: 'mut'; j: number; pos: number; who: Owner; resolve: (who: Owner) => Mutation };

interface Mutation {
  /** Lines the mutating vCPU runs. */
  lines: string[];
  /** Lines the BSP runs afterwards before it executes the changed code (TLB flush). */
  flush: string[];
}

/** Fold what an MMIO instruction produced (RFLAGS if it may change them, its destination) into r15. */
function fold(insn: MmioInsn): string[] {
  const l = mayChangeFlags(insn) ? ['pushfq', 'pop r13', 'xor r15, r13'] : [];
  l.push('rol r15, 7');
  if (insn.dst) l.push(`add r15, ${insn.dst}`);
  return l;
}

class ProgramGen {
  private n = 0;
  private readonly text: string[] = [];
  private readonly data: string[] = [];
  private readonly sites: Site[] = [];
  private readonly slots = new Map<Slot, SlotInfo>();
  /** Variant index each (tree, slot) currently maps. */
  private readonly mapped = new Map<string, number>();
  private mutations = 0;
  private syncRounds: Mutation[] = [];
  private readonly varsLabel: string;

  /** Flags of a non-leaf entry or 4 KiB leaf: present | writable | user (A clear: fetch walks set it on protected table pages). */
  private readonly PTE = 0x7;

  constructor(private readonly rng: Prng, private readonly f: StressFeatures) {
    this.varsLabel = f.ownTables && f.dataInTablePage ? 'pd_low + 0x800' : 'vars';
  }

  private label(prefix: string): string {
    return `${prefix}${this.n++}`;
  }

  /** An MMIO instruction with its label, end label and checksum fold. */
  private siteLines(owner: Owner, patchable: boolean, lapic = true): string[] {
    const insn: MmioInsn = randomMmioInsn(this.rng, owner, { lapic, patchable });
    const label = this.label('s');
    if (insn.fields.length > 0) this.sites.push({ label, owner, fields: insn.fields, current: insn.fields.map((fl) => fl.value) });
    return [...insn.pre, `${label}:`, `    ${insn.text}`, `${label}_end:`, ...insn.post, ...fold(insn)];
  }

  /** A function of 1-3 MMIO instructions ending in ret, placed in the text after main. */
  private fn(owner: Owner, placement: 'near' | 'page' | 'straddle'): string {
    const name = this.label(owner === 0 ? 'fn' : 'apfn');
    const body: string[] = [];
    if (placement === 'straddle') {
      const k = this.rng.range(1, 2);
      // The first MMIO instruction starts k bytes before a page boundary.
      body.push('align 4096', `resb ${4096 - k}`, `${name}:`);
      const insn = randomMmioInsn(this.rng, owner, { lapic: true, patchable: true });
      const label = this.label('s');
      this.sites.push({ label, owner, fields: insn.fields, current: insn.fields.map((fl) => fl.value) });
      // The string-op setup lines would land before the boundary: patchable forms have none.
      body.push(`${label}:`, `    ${insn.text}`, `${label}_end:`, ...insn.post, ...fold(insn));
    } else {
      if (placement === 'page') body.push('align 4096');
      body.push(`${name}:`);
      const count = this.rng.range(1, 2);
      for (let i = 0; i < count; i++) body.push(...this.siteLines(owner, this.rng.bool(0.6)));
    }
    body.push('ret');
    this.text.push(...body);
    return name;
  }

  /** A page of position-independent code (for a window slot): MMIO instructions and ret at offset 0. */
  private variantPage(): string {
    const name = this.label('vp');
    const body = ['align 4096', `${name}:`];
    const pad = this.rng.range(0, 2);
    for (let i = 0; i < pad; i++) body.push(this.rng.pick(['nop', 'add r13, 1', 'xor r13d, r13d']));
    const count = this.rng.range(1, 2);
    for (let i = 0; i < count; i++) body.push(...this.siteLines(0, true));
    body.push('ret');
    this.text.push(...body);
    return name;
  }

  /**
   * Variants of an instruction that straddles ST_VA's page boundary: page 1 holds its first
   * byte (the same in every variant: REX.W, or the opcode), page 2 the rest, which differs.
   * Returns the page-2 expressions and the page-1 expression.
   */
  private straddleVariants(count: number): { p1: string; p2: string[] } {
    const wide = this.rng.bool();
    const r = wide ? this.rng.pick(['rax', 'rcx', 'rdx', 'rsi', 'rdi']) : this.rng.pick(['eax', 'ecx', 'edx', 'esi', 'edi']);
    const fixedOp = this.rng.pick(['mov', 'add', 'or', 'and', 'sub', 'cmp']);
    const p2: string[] = [];
    let p1 = '';
    for (let i = 0; i < count; i++) {
      const name = this.label('sv');
      const op = wide ? this.rng.pick(['mov', 'add', 'or', 'and', 'sub', 'cmp']) : fixedOp;
      const disp = this.rng.range(0xfe0, 0x1020 - 8);
      const label = this.label('s');
      const text = `${op} ${r}, [rbx + ${hexLiteral(disp)}]`;
      const dst = wide ? r : r.replace(/^e/, 'r');
      this.text.push('align 4096', 'resb 4095', `${name}:`, `${label}:`, `    ${text}`, `${label}_end:`, ...fold({ pre: [], text, post: [], dst, fields: [] }), 'ret');
      this.sites.push({
        label, owner: 0, current: [disp],
        fields: [{ what: 'disp', tail: 4, size: 4, value: disp, alternatives: [0xfe0, 0xff8, 0xffc, 0x1000, 0x1018].filter((d) => d !== disp) }],
      });
      p2.push(`${name} + 1`);
      if (i === 0) p1 = `${name} + 1 - 4096`;
    }
    return { p1, p2 };
  }

  // ---- mutations ------------------------------------------------------------------------

  /** Patch a field of one of `candidates` (sites this phase executes), written by `who`. */
  private patch(candidates: Site[], who: Owner): Mutation | null {
    const targets = candidates.filter((s) => s.fields.length > 0);
    if (targets.length === 0) return null;
    const site = this.rng.pick(targets);
    const fi = this.rng.int(site.fields.length);
    const field = site.fields[fi];
    const cur = site.current[fi];
    const choices = [field.value, ...field.alternatives].filter((v) => v !== cur);
    if (choices.length === 0) return null;
    const next = this.rng.pick(choices);
    site.current[fi] = next;
    const at = `[rel ${site.label}_end - ${field.tail}]`;
    const kw = SIZE_KW[field.size];
    const val = signed(next, field.size);
    const bytes: number[] = [];
    for (let i = 0; i < field.size; i++) bytes.push(Math.floor(next / 2 ** (8 * i)) & 0xff);
    const acc = { 1: 'al', 2: 'ax', 4: 'eax' }[field.size];
    const strop = { 1: 'stosb', 2: 'stosw', 4: 'stosd' }[field.size];
    const writer = this.rng.pick(['mov', 'mov', 'xor', 'xchg', 'stos', 'movs-ram', 'movs-mmio'] as const);
    const lines: string[] = [];
    switch (writer) {
      case 'mov':
        lines.push(`mov ${kw} ${at}, ${val}`);
        break;
      case 'xor':
        lines.push(`lock xor ${kw} ${at}, ${signed(cur ^ next, field.size)}`);
        break;
      case 'xchg':
        lines.push(`mov eax, ${val}`, `xchg ${at}, ${acc}`, 'add r15, rax');
        break;
      case 'stos':
        lines.push(`lea rdi, ${at}`, `mov eax, ${val}`, strop);
        break;
      case 'movs-ram': {
        const t = this.label('tmpl');
        this.data.push(`${t}: db ${bytes.join(', ')}`);
        lines.push(`lea rsi, [rel ${t}]`, `lea rdi, ${at}`, `mov ecx, ${field.size}`, 'rep movsb');
        break;
      }
      case 'movs-mmio': {
        // Stage the bytes in IORAM (an MMIO store), then an emulated movs copies them into the
        // code page: the VMM's own write must invalidate what it caches and what the vCPU predecoded.
        const stage = IO_STAGING[who];
        lines.push(`mov ${kw} [rbx + ${hexLiteral(stage)}], ${val}`, `lea rsi, [rbx + ${hexLiteral(stage)}]`, `lea rdi, ${at}`, `mov ecx, ${field.size}`, 'rep movsb');
        break;
      }
    }
    this.mutations++;
    return { lines: [`; patch ${site.label} ${field.what} -> ${hexLiteral(next)} (${writer})`, ...lines], flush: [] };
  }

  /** Remap a window slot in tree `tree` to another variant, written by `who`. */
  private remap(slot: Slot, tree: Tree, who: Owner): Mutation | null {
    const info = this.slots.get(slot);
    if (!info || info.variants.length < 2) return null;
    const key = `${tree}:${slot}`;
    const cur = this.mapped.get(key) ?? 0;
    const choices = info.variants.map((_, i) => i).filter((i) => i !== cur);
    const next = this.rng.pick(choices);
    this.mapped.set(key, next);
    const pte = `[rel pt_${info.table}_${tree} + ${info.index * 8}]`;
    const v = info.variants[next];
    const lines = [`; remap ${slot} in tree ${tree} -> ${v}`];
    const writer = this.rng.pick(['mov', 'xchg', 'stos', 'movs-mmio'] as const);
    switch (writer) {
      case 'mov':
        lines.push(`mov qword ${pte}, ${v} + ${this.PTE}`);
        break;
      case 'xchg':
        lines.push(`mov eax, ${v} + ${this.PTE}`, `xchg ${pte}, rax`);
        break;
      case 'stos':
        lines.push(`mov eax, ${v} + ${this.PTE}`, `lea rdi, ${pte}`, 'stosq');
        break;
      case 'movs-mmio': {
        const stage = IO_STAGING[who] + 8;
        lines.push(`mov eax, ${v} + ${this.PTE}`, `mov [rbx + ${hexLiteral(stage)}], rax`, `lea rsi, [rbx + ${hexLiteral(stage)}]`, `lea rdi, ${pte}`, 'movsq');
        break;
      }
    }
    const flush = this.rng.bool(0.75) ? info.vas.map((va) => `invlpg [${hexLiteral(va)}]`) : ['mov rax, cr3', 'mov cr3, rax'];
    this.mutations++;
    return { lines, flush };
  }

  // ---- page tables ----------------------------------------------------------------------

  private buildTables(pageFns: string[]): void {
    const w0 = [this.variantPage(), this.variantPage(), ...(this.rng.bool() ? [this.variantPage()] : [])];
    this.slots.set('w0', { variants: w0, table: 'lo', index: 0, vas: [W0_VA] });
    if (pageFns.length > 0) this.slots.set('alias', { variants: pageFns, table: 'lo', index: 1, vas: [ALIAS_VA] });
    const st = this.straddleVariants(this.rng.range(2, 3));
    this.slots.set('st', { variants: st.p2, table: 'hi', index: 0, vas: [ST_VA + 0x1000] });
    const d = this.data;
    const large = this.PTE | 0x80; // 2 MiB leaf
    const mmio = large | 0x18; // uncached: PWT | PCD
    d.push('align 4096', `pd_low: dq ${hexLiteral(large)}, 0x200000 + ${hexLiteral(large)}`, 'align 4096');
    d.push('pd_mmio: resq 503', `dq 0xFEE00000 + ${hexLiteral(mmio)}, 0xFF000000 + ${hexLiteral(mmio)}`, 'align 4096');
    for (const t of ['a', 'b'] as const) {
      const pick = (slot: Slot): string => {
        const info = this.slots.get(slot)!;
        const i = t === 'a' ? 0 : this.rng.int(info.variants.length);
        this.mapped.set(`${t}:${slot}`, i);
        return `${info.variants[i]} + ${this.PTE}`;
      };
      d.push(`pml4_${t}: dq pdpt_${t} + ${this.PTE}`, 'align 4096');
      d.push(`pdpt_${t}: dq pd_low + ${this.PTE}, pd_win_${t} + ${this.PTE}, 0, pd_mmio + ${this.PTE}`, 'align 4096');
      d.push(`pd_win_${t}: dq pt_lo_${t} + ${this.PTE}, pt_hi_${t} + ${this.PTE}`, 'align 4096');
      const alias = this.slots.has('alias') ? pick('alias') : '0';
      d.push(`pt_lo_${t}: dq ${pick('w0')}, ${alias}`, 'resq 509', `dq ${st.p1} + ${this.PTE}`, 'align 4096');
      d.push(`pt_hi_${t}: dq ${pick('st')}`, 'align 4096');
    }
  }

  // ---- program --------------------------------------------------------------------------

  generate(): { source: string; mutations: number; sites: number } {
    const f = this.f;
    const rng = this.rng;
    const main: string[] = [];
    const pageFns: string[] = [];
    const fns: string[] = [];
    const nfn = rng.range(1, 2);
    for (let i = 0; i < nfn; i++) {
      const placement = f.straddle && rng.bool(0.4) ? 'straddle' : rng.pick(['near', 'page'] as const);
      const name = this.fn(0, placement);
      fns.push(name);
      if (placement === 'page') pageFns.push(name);
    }
    if (f.ownTables) this.buildTables(pageFns);

    main.push('_start:', 'cld', 'mov rbx, IORAM_BASE', 'mov rbp, LAPIC_BASE', 'xor r15d, r15d');
    main.push(...this.initRegs(0));
    if (f.ownTables) {
      main.push('mov r8d, pml4_a', 'mov r9d, pml4_b', 'mov cr3, r8', `mov r14d, ${hexLiteral(W0_VA)}`);
    }

    const phases = rng.range(1, 2);
    for (let p = 0; p < phases; p++) main.push(...this.phase(p, fns));

    main.push(...this.checksum(0));
    main.push('mov eax, r15d', 'shr eax, 7', 'xor eax, r15d', 'and al, 0x3f', 'add al, 0x30', 'out DEBUG_PORT, al', 'hlt');

    const ap: string[] = [];
    if (f.vcpus === 2) ap.push(...this.apProgram());

    const header = [
      `; stress program (src/test/invariants/generator.ts)`,
      `; exitscope: vms=${f.vms} vcpus=${f.vcpus}`,
      `; features: ${Object.entries(f).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    ];
    const data = [
      'section .data',
      'align 8',
      `${RAM_SCRATCH}: times ${RAM_SCRATCH_SIZE} db 0`,
      ...this.ioInitData(),
      ...this.data,
    ];
    if (this.varsLabel === 'vars') data.push('align 4096', 'vars: dq 0, 0');
    const indent = (l: string) => (l.endsWith(':') || l.startsWith(';') ? l : `    ${l}`);
    const source = [...header, ...main, ...ap, ...this.text, 'text_end:', ...data].map(indent).join('\n') + '\n';
    return { source, mutations: this.mutations, sites: this.sites.length };
  }

  private initRegs(owner: Owner): string[] {
    const out: string[] = [];
    for (const r of SCRATCH) out.push(`mov ${r}, 0x${this.rng.u64().toString(16)}`);
    // IORAM windows get random contents: rep movsq from RAM (one emulated exit per qword).
    const label = `ioinit${owner}`;
    out.push(`lea rsi, [rel ${label}]`);
    for (const [lo, hi] of IO_WINDOWS[owner]) out.push(`lea rdi, [rbx + ${hexLiteral(lo)}]`, `mov ecx, ${(hi - lo) / 8}`, 'rep movsq');
    return out;
  }

  private ioInitData(): string[] {
    const out: string[] = [];
    for (const owner of [0, 1] as const) {
      let q = 0;
      for (const [lo, hi] of IO_WINDOWS[owner]) q += (hi - lo) / 8;
      const vals: string[] = [];
      for (let i = 0; i < q; i++) vals.push(`0x${this.rng.u64().toString(16)}`);
      out.push(`ioinit${owner}: dq ${vals.join(', ')}`);
    }
    return out;
  }

  private checksum(owner: Owner): string[] {
    const out: string[] = [];
    for (const [lo, hi] of IO_WINDOWS[owner]) {
      const l = this.label('L_ck');
      out.push(`lea rsi, [rbx + ${hexLiteral(lo)}]`, `mov ecx, ${(hi - lo) / 8}`, `${l}:`, 'add r15, [rsi]', 'rol r15, 3', 'add rsi, 8', 'dec ecx', `jnz ${l}`);
    }
    // Only this vCPU's half of the RAM scratch buffer: the other half is the other vCPU's.
    const l = this.label('L_ckr');
    out.push(`lea rsi, [rel ${RAM_SCRATCH} + ${owner * (RAM_SCRATCH_SIZE / 2)}]`, `mov ecx, ${RAM_SCRATCH_SIZE / 16}`, `${l}:`, 'add r15, [rsi]', 'rol r15, 5', 'add rsi, 8', 'dec ecx', `jnz ${l}`);
    return out;
  }

  /** One loop: R iterations over a body of MMIO sites, calls and mutations at fixed iterations. */
  private phase(p: number, fns: string[]): string[] {
    const rng = this.rng;
    const f = this.f;
    const iters = rng.range(3, 5);
    const items: Item[] = [];
    const executed: Site[] = [];
    const calledFns = new Set<string>();
    const slotsUsed = new Set<Slot>();
    const nbody = rng.range(2, 4);
    for (let i = 0; i < nbody; i++) {
      const kind = rng.weighted<string>([
        [3, 'inline'], [3, 'call'], [f.ownTables ? 3 : 0, 'window'], [f.cr3 ? 2 : 0, 'cr3'],
      ]);
      if (kind === 'inline') {
        const before = this.sites.length;
        items.push({ kind: 'lines', lines: this.siteLines(0, rng.bool(0.6)) });
        executed.push(...this.sites.slice(before));
      } else if (kind === 'call') {
        const fn = rng.pick(fns);
        calledFns.add(fn);
        items.push({ kind: 'lines', lines: [`call ${fn}`] });
      } else if (kind === 'window') {
        const slot = rng.pick([...this.slots.keys()]);
        slotsUsed.add(slot);
        const va = slot === 'w0' ? null : slot === 'alias' ? ALIAS_VA : ST_VA + 0xfff;
        items.push({ kind: 'lines', lines: va === null ? ['call r14'] : [`mov r13d, ${hexLiteral(va)}`, 'call r13'] });
      } else {
        items.push({ kind: 'lines', lines: [`mov cr3, ${rng.pick(['r8', 'r9'])}`] });
      }
    }
    // Sites this phase runs: inline ones, those of called functions and of window variants.
    const siteSet = new Set(executed);
    for (const s of this.sites) {
      if ([...calledFns].some((fn) => this.text.indexOf(`${fn}:`) >= 0 && this.siteInFn(fn, s.label))) siteSet.add(s);
      if (slotsUsed.size > 0 && this.siteInSlots(slotsUsed, s.label)) siteSet.add(s);
    }
    const candidates = [...siteSet];
    const nmut = rng.range(1, 3);
    const apRounds = f.vcpus === 2;
    for (let m = 0; m < nmut; m++) {
      const j = rng.range(2, iters - 1);
      const pos = rng.range(0, items.length);
      const who: Owner = apRounds && rng.bool(0.4) ? 1 : 0;
      const mut: Item = {
        kind: 'mut', j, pos, who,
        resolve: (w: Owner) => {
          const options: (() => Mutation | null)[] = [];
          if (f.smc) options.push(() => this.patch(candidates.length > 0 && rng.bool(0.85) ? candidates : this.sites, w));
          if (f.remap && this.slots.size > 0) {
            options.push(() => this.remap(rng.pick([...(slotsUsed.size > 0 ? slotsUsed : this.slots.keys())]), f.cr3 ? rng.pick(['a', 'b']) : 'a', w));
          }
          for (let tries = 0; tries < 4 && options.length > 0; tries++) {
            const r = rng.pick(options)();
            if (r) return r;
          }
          return { lines: ['; no mutation'], flush: [] };
        },
      };
      items.splice(pos, 0, mut);
    }
    // Resolve mutations in the order they run: iteration r12d = iters down to 1, then position.
    const muts = items.map((it, i) => ({ it, i })).filter((x) => x.it.kind === 'mut');
    muts.sort((a, b) => {
      const ja = (a.it as { j: number }).j;
      const jb = (b.it as { j: number }).j;
      return jb - ja || a.i - b.i;
    });
    const rendered = new Map<number, string[]>();
    for (const { it, i } of muts) {
      if (it.kind !== 'mut') continue;
      const m = it.resolve(it.who);
      const skip = this.label('L_skip');
      const lines = [`cmp r12d, ${it.j}`, `jne ${skip}`];
      if (it.who === 1) {
        // The other vCPU makes the change while this one waits; then this one flushes its TLB.
        const round = this.syncRounds.length;
        this.syncRounds.push(m);
        const w = this.label('L_wait');
        lines.push(`mov qword [rel ${this.varsLabel}], ${2 * round + 1}`, `${w}:`, 'pause', `cmp qword [rel ${this.varsLabel}], ${2 * round + 2}`, `jne ${w}`, ...m.flush);
      } else {
        lines.push(...m.lines, ...m.flush);
      }
      lines.push(`${skip}:`);
      rendered.set(i, lines);
    }
    const loop = this.label('L_loop');
    const out = [`; phase ${p}: ${iters} iterations`, `mov r12d, ${iters}`, `${loop}:`];
    items.forEach((it, i) => out.push(...(it.kind === 'lines' ? it.lines : rendered.get(i)!)));
    out.push('dec r12d', `jnz ${loop}`);
    return out;
  }

  private siteInFn(fn: string, label: string): boolean {
    const start = this.text.indexOf(`${fn}:`);
    for (let i = start + 1; i < this.text.length; i++) {
      const l = this.text[i];
      if (l === 'ret') return false;
      if (l === `${label}:`) return true;
    }
    return false;
  }

  private siteInSlots(slots: Set<Slot>, label: string): boolean {
    for (const s of slots) {
      const info = this.slots.get(s)!;
      for (const v of info.variants) {
        const fn = v.split(' ')[0];
        if (this.siteInFn(fn, label)) return true;
      }
    }
    return false;
  }

  /** vCPU 1: its own MMIO work, then each sync round's mutation on request, then its checksum. */
  private apProgram(): string[] {
    const rng = this.rng;
    const out = ['ap_start:', 'cld', 'mov rbx, IORAM_BASE', 'mov rbp, LAPIC_BASE', 'xor r15d, r15d', ...this.initRegs(1)];
    if (this.f.ownTables && rng.bool()) out.push('mov eax, pml4_a', 'mov cr3, rax');
    const apfn = this.fn(1, rng.pick(['near', 'page'] as const));
    const work = (): string[] => {
      const l = this.label('L_apwork');
      return [`mov r12d, ${rng.range(2, 4)}`, `${l}:`, `call ${apfn}`, 'dec r12d', `jnz ${l}`];
    };
    out.push(...work());
    this.syncRounds.forEach((m, k) => {
      const w = this.label('L_apwait');
      out.push(`${w}:`, 'pause', `cmp qword [rel ${this.varsLabel}], ${2 * k + 1}`, `jne ${w}`, ...m.lines, `mov qword [rel ${this.varsLabel}], ${2 * k + 2}`);
      if (rng.bool(0.3)) out.push(`call ${apfn}`);
    });
    out.push(...work(), ...this.checksum(1), 'hlt');
    return out;
  }
}

export function randomFeatures(rng: Prng): StressFeatures {
  const ownTables = rng.bool(0.5);
  return {
    vms: rng.bool(0.25) ? 2 : 1,
    vcpus: rng.bool(0.3) ? 2 : 1,
    ownTables,
    cr3: ownTables && rng.bool(0.6),
    remap: ownTables && rng.bool(0.85),
    smc: !ownTables || rng.bool(0.8),
    straddle: rng.bool(0.35),
    dataInTablePage: ownTables && rng.bool(0.3),
  };
}

export function randomConfig(rng: Prng, vcpus: number): StressConfig {
  return {
    // Two vCPUs spin on each other: short slices keep the spinning short.
    sliceInsns: vcpus === 2 ? rng.range(1, 300) : rng.bool(0.35) ? rng.range(1, 40) : 10_000,
    icacheSize: rng.bool(0.2) ? rng.range(1, 6) : 1024,
    icacheBuckets: rng.bool(0.2) ? rng.range(1, 3) : 256,
    maxInsns: 2_000_000,
  };
}

/** Program `index` of the stream seeded by `seed`: the same pair always gives the same program. */
export function generateProgram(seed: number, index: number, override: Partial<StressFeatures> = {}): StressProgram {
  const rng = new Prng(programSeed(seed, index));
  const features = { ...randomFeatures(rng), ...override };
  if (!features.ownTables) {
    features.cr3 = false;
    features.remap = false;
    features.dataInTablePage = false;
  }
  if (!features.smc && !features.remap) features.smc = true;
  const config = randomConfig(rng, features.vcpus);
  const g = new ProgramGen(rng, features);
  const { source, mutations, sites } = g.generate();
  return { name: `stress seed=${seed} #${index}`, seed, index, source, features, config, mutations, sites };
}
