/**
 * Mutated and hostile guest programs for the soak (deterministic for a seed): what a stranger's
 * share link or a beginner's typo can hand the assembler and the machine. Half are mutations of
 * real programs (lines dropped, duplicated, swapped or cut; numbers replaced by extreme values;
 * registers and mnemonics swapped; `hlt` removed; junk bytes inserted into the code), half are
 * written to be hostile (random bytes as code, jumps into data or unmapped memory, stack and
 * page-table smashing, self-modifying loops, huge `times`, deep expressions, odd characters).
 */
import type { Prng } from '../differential/prng';

export interface HostileProgram {
  source: string;
  /** What was done to it (printed with a failure). */
  how: string;
}

const EXTREME = ['0', '-1', '0x7fffffffffffffff', '0x8000000000000000', '0xffffffffffffffff', '0x1ffffffffffffffff',
  '99999999999999999999999', '0xfee00000', '0xff000000', '0xff001ffc', '0x1000', '0x7ffff', '4096*4096*4096', '1/0', '-(-(-1))'];
const REGS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'r8', 'r15', 'eax', 'ax', 'al', 'ah', 'cr3', 'cr0', 'cs', 'ss', 'xmm0'];
const MNEMONICS = ['mov', 'add', 'sub', 'xor', 'cmp', 'lea', 'push', 'pop', 'jmp', 'call', 'ret', 'iretq', 'int3', 'ud2',
  'cli', 'sti', 'hlt', 'rep movsb', 'rep stosq', 'lidt', 'lgdt', 'invlpg', 'wrmsr', 'rdmsr', 'cpuid', 'syscall', 'sysretq',
  'div', 'idiv', 'bt', 'xchg', 'cmpxchg', 'lock add', 'in', 'out', 'vmcall', 'swapgs', 'mov cr3,', 'fld', 'movaps'];
const ODD = ['\u0000', '\t\t', '\r', '\u00e9', '\u200b', '\ud83d\ude00', '"', "'", '\\', ';;', '::', '[[', ']]', '$', '@', '`', '{', '%'];

const pick = <T>(rng: Prng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;

function mutate(rng: Prng, source: string): { source: string; how: string } {
  const lines = source.split('\n');
  const i = rng.int(Math.max(1, lines.length));
  const j = rng.int(Math.max(1, lines.length));
  switch (rng.int(10)) {
    case 0: lines.splice(i, 1); return { source: lines.join('\n'), how: `line ${i + 1} dropped` };
    case 1: lines.splice(i, 0, lines[j] ?? ''); return { source: lines.join('\n'), how: `line ${j + 1} duplicated before ${i + 1}` };
    case 2: [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? '']; return { source: lines.join('\n'), how: `lines ${i + 1} and ${j + 1} swapped` };
    case 3: return { source: source.slice(0, rng.int(source.length + 1)), how: 'cut short' };
    case 4: {
      const v = pick(rng, EXTREME);
      return { source: lines.map((l, k) => (k === i ? l.replace(/\b(0x[0-9a-f]+|\d+)\b/i, v) : l)).join('\n'), how: `a number on line ${i + 1} -> ${v}` };
    }
    case 5: {
      const r = pick(rng, REGS);
      return { source: lines.map((l, k) => (k === i ? l.replace(/\b(r[a-z0-9]+|e[a-z]x|[a-d][lhx])\b/, r) : l)).join('\n'), how: `a register on line ${i + 1} -> ${r}` };
    }
    case 6: {
      const m = pick(rng, MNEMONICS);
      return { source: lines.map((l, k) => (k === i ? l.replace(/^(\s*(?:[\w.]+:)?\s*)[a-z]+/, `$1${m}`) : l)).join('\n'), how: `the mnemonic on line ${i + 1} -> ${m}` };
    }
    case 7: return { source: source.replace(/\bhlt\b/g, 'nop'), how: 'every hlt -> nop' };
    case 8: {
      const bytes = Array.from({ length: rng.range(1, 12) }, () => rng.int(256));
      lines.splice(i, 0, `  db ${bytes.join(', ')}`);
      return { source: lines.join('\n'), how: `junk bytes ${bytes.join(',')} before line ${i + 1}` };
    }
    default: {
      const o = pick(rng, ODD);
      const l = lines[i] ?? '';
      const at = rng.int(l.length + 1);
      lines[i] = l.slice(0, at) + o + l.slice(at);
      return { source: lines.join('\n'), how: `${JSON.stringify(o)} inserted on line ${i + 1}` };
    }
  }
}

/** Programs written to be hostile; each is a fresh one for the rng. */
const HOSTILE: ((rng: Prng) => { source: string; how: string })[] = [
  (rng) => {
    const bytes = Array.from({ length: rng.range(16, 400) }, () => rng.int(256));
    return { source: `_start:\n  db ${bytes.join(', ')}\n`, how: 'random bytes as code' };
  },
  (rng) => {
    const target = pick(rng, ['0', '0x1000', '0x7ff000', '0x3ffffff0', '0xfee00000', '0xff000000', '0x800000000000', '-1', '0x4000000']);
    return { source: `_start:\n  mov rax, ${target}\n  jmp rax\n`, how: `jump to ${target}` };
  },
  (rng) => {
    const target = pick(rng, ['0x200000', '0x500000', '0x1ff000']);
    return { source: `_start:\n  mov rax, ${target}\n  call rax\n  hlt\n`, how: `call into zeroed memory at ${target}` };
  },
  (rng) => ({ source: `_start:\n  mov rsp, ${pick(rng, ['0', '8', '0xfee00010', '0x100008', '0x7fffffffffff'])}\n  push rax\n  call f\n  hlt\nf:\n  ret\n`, how: 'a bad stack' }),
  (rng) => ({ source: `_start:\n  mov rax, cr3\n  mov qword [rax], ${pick(rng, ['0', '-1', '0x83', '0x100007'])}\n  mov rax, cr3\n  mov cr3, rax\n  nop\n  hlt\n`, how: 'the PML4 smashed' }),
  (rng) => ({ source: `_start:\n  lidt [rel idtr]\n  int ${rng.int(256)}\n  hlt\nidtr: dw ${rng.int(4096)}\n  dq ${pick(rng, ['0', '0x100000', '0xfee00000', '-16'])}\n`, how: 'a bad IDT' }),
  (rng) => {
    const n = rng.range(1, 100000);
    return {
      source: `_start:\n  mov ecx, ${n}\nl:\n  lea rdi, [rel patch]\n  mov byte [rdi + 1], cl\npatch:\n  mov al, 0\n  add rbx, rax\n  loop l\n  hlt\n`,
      how: `a self-patching loop of ${n}`,
    };
  },
  (rng) => ({ source: `_start:\n  lea rdi, [rel _start]\n  mov ecx, ${rng.range(1, 8192)}\n  mov al, ${rng.int(256)}\n  rep stosb\n  hlt\n`, how: 'the program overwrites itself' }),
  (rng) => ({ source: `_start:\n  times ${pick(rng, ['100000', '1000000', '5000000', '-1', '0x7fffffff'])} nop\n  hlt\n`, how: 'a huge times' }),
  (rng) => {
    const depth = rng.range(10, 3000);
    return { source: `x equ ${'('.repeat(depth)}1${')'.repeat(depth)}\n_start:\n  mov eax, x\n  hlt\n`, how: `nesting ${depth} deep` };
  },
  (rng) => {
    const n = rng.range(100, 5000);
    const out = ['_start:'];
    for (let k = 0; k < n; k++) out.push(`l${k}: jmp l${k + 1}`);
    out.push(`l${n}: hlt`);
    return { source: out.join('\n') + '\n', how: `${n} chained labels` };
  },
  (rng) => ({ source: `_start:\n  mov rbx, IORAM_BASE\n  mov rcx, ${rng.range(1, 5000)}\n  mov rsi, rbx\n  lea rdi, [rel buf]\n  rep movsb\n  mov rdi, rbx\n  rep stosq\n  hlt\nbuf: times 64 db 0\n`, how: 'rep string ops across IORAM' }),
  (rng) => ({ source: `_start:\n  mov ecx, ${pick(rng, ['0xc0000080', '0x1b', '0x12345678', '0x830', '0x80b'])}\n  rdmsr\n  wrmsr\n  hlt\n`, how: 'MSRs' }),
  (rng) => ({ source: `; exitscope: vms=${rng.range(1, 4)} vcpus=${rng.range(1, 4)}\n_start:\n  mov rbx, LAPIC_BASE\n  mov dword [rbx + LAPIC_ICR_LO], ${rng.int(0x100000)}\n  sti\n  hlt\n  jmp _start\nap_start:\n  hlt\n  jmp ap_start\n`, how: 'IPIs to anyone' }),
  (rng) => ({ source: 'x'.repeat(rng.range(1, 200_000)), how: 'one long token' }),
  (rng) => ({ source: Array.from({ length: rng.range(1, 400) }, () => String.fromCharCode(rng.int(0x3000))).join(''), how: 'random characters' }),
];

export function hostileProgram(rng: Prng, sources: readonly { name: string; source: string }[]): HostileProgram {
  if (rng.bool()) {
    const base = pick(rng, sources);
    let m = { source: base.source, how: '' };
    const steps = rng.range(1, 3);
    const hows: string[] = [];
    for (let k = 0; k < steps; k++) { m = mutate(rng, m.source); hows.push(m.how); }
    return { source: m.source, how: `${base.name}: ${hows.join(', ')}` };
  }
  const h = pick(rng, HOSTILE)(rng);
  return { source: h.source, how: h.how };
}
