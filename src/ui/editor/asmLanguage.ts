/**
 * The x86-64 assembly language of the editor, as plain data and pure functions (no Monaco at
 * run time, so vitest can check it in Node): Monarch tokens, completion words, hover docs, and
 * what a line does to the VMM.
 */
import { IORAM_BASE, IORAM_SIZE, LAPIC_BASE, LAPIC_SIZE, SYMBOL_GROUPS, type PredefinedSymbol } from '../../core/guestAbi';
import type { languages } from './monacoLean';

export const LANGUAGE_ID = 'x86asm';

export const MNEMONICS: readonly string[] = [
  'mov', 'movzx', 'movsx', 'movsxd', 'movabs', 'lea', 'xchg', 'push', 'pop', 'add', 'adc', 'sub', 'sbb', 'inc', 'dec',
  'neg', 'not', 'and', 'or', 'xor', 'test', 'cmp', 'shl', 'shr', 'sar', 'sal', 'rol', 'ror', 'rcl', 'rcr', 'imul', 'mul',
  'idiv', 'div', 'bt', 'bts', 'btr', 'btc', 'bsf', 'bsr', 'bswap', 'cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo',
  'jmp', 'call', 'ret', 'je', 'jne', 'jz', 'jnz', 'ja', 'jae', 'jb', 'jbe', 'jg', 'jge', 'jl', 'jle', 'js', 'jns',
  'jo', 'jno', 'jc', 'jnc', 'jp', 'jnp', 'loop', 'jrcxz', 'sete', 'setne', 'setz', 'setnz', 'setb', 'seta', 'setl', 'setg',
  'cmove', 'cmovne', 'cmovz', 'cmovnz', 'cmovb', 'cmova', 'cmovl', 'cmovg',
  'stosb', 'stosw', 'stosd', 'stosq', 'movsb', 'movsw', 'movsd', 'movsq', 'lodsb', 'lodsq', 'cmpsb', 'scasb', 'rep', 'repe', 'repne', 'lock',
  'nop', 'pause', 'hlt', 'cli', 'sti', 'cld', 'std', 'clc', 'stc', 'cmc', 'pushfq', 'popfq', 'int', 'int3', 'iretq',
  'syscall', 'sysret', 'sysretq', 'cpuid', 'rdtsc', 'rdtscp', 'rdmsr', 'wrmsr', 'in', 'out', 'invlpg', 'lidt', 'lgdt',
  'mfence', 'lfence', 'sfence', 'vmcall', 'ud2', 'xadd', 'cmpxchg', 'leave', 'enter',
];

export const REGISTERS: readonly string[] = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
  'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d',
  'ax', 'bx', 'cx', 'dx', 'si', 'di', 'bp', 'sp', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w',
  'al', 'bl', 'cl', 'dl', 'ah', 'bh', 'ch', 'dh', 'sil', 'dil', 'bpl', 'spl', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b',
  'rip', 'cr0', 'cr2', 'cr3', 'cr4', 'cs', 'ds', 'es', 'fs', 'gs', 'ss',
];

export const DIRECTIVES: readonly string[] = [
  'org', 'bits', 'section', 'align', 'times', 'equ', 'db', 'dw', 'dd', 'dq', 'resb', 'resq', 'global',
];

export const SIZE_WORDS: readonly string[] = ['byte', 'word', 'dword', 'qword', 'ptr', 'rel', 'abs'];

export interface SymbolDoc {
  name: string;
  value: number;
  doc: string;
}

/** What the editor says about a predefined symbol, beyond its value (the ABI has the names and values). */
const SYMBOL_DOCS: Partial<Record<PredefinedSymbol, string>> = {
  LAPIC_BASE: 'Guest-physical base of the local APIC page. Not mapped in the EPT: every access takes an EPT violation (KVM instead marks the entry misconfigured) and goes through the instruction-emulation path.',
  IORAM_BASE: 'Two pages of MMIO scratch memory: keeps what is written, at any size and alignment, but every access exits and is emulated. An access can cross from one page to the next.',
  DEBUG_PORT: 'Debug console port: `out DEBUG_PORT, al` prints one byte. Each `out` is an I/O exit (no decode: the exit qualification says port, size and direction).',
  LAPIC_ID: 'Local APIC ID register (read-only here). Bits 31:24 hold the APIC ID.',
  LAPIC_VERSION: 'Local APIC version register (read-only): version and max LVT entry.',
  LAPIC_TPR: 'Task Priority Register: interrupts with priority class ≤ TPR[7:4] are held back. With APICv, reads and writes are virtualized (no exit; a write may trap after the fact).',
  LAPIC_EOI: 'End Of Interrupt: write 0 at the end of a handler to retire the in-service interrupt. With APICv the CPU completes the write itself (EOI virtualization): no exit, unless the vector\'s bit in the EOI-exit bitmap is set, which makes it an EOI-induced exit (never here: this model\'s interrupts are edge-triggered).',
  LAPIC_SVR: 'Spurious-Interrupt Vector Register: bit 8 enables the APIC, bits 7:0 the spurious vector.',
  LAPIC_ICR_LO: 'Interrupt Command Register, low half: writing it sends an IPI (vector, delivery mode, destination shorthand).',
  LAPIC_ICR_HI: 'Interrupt Command Register, high half: bits 31:24 are the destination APIC ID. Write it before ICR_LO.',
  LAPIC_LVT_TIMER: 'LVT Timer register: vector (7:0), mask (bit 16), mode (18:17: one-shot, periodic, TSC-deadline).',
  LAPIC_TIMER_ICR: 'Timer Initial Count: writing it (re)starts the timer. Counts down at the modeled bus clock / divide.',
  LAPIC_TIMER_CCR: 'Timer Current Count (read-only): what is left of the countdown, computed from modeled guest time.',
  LAPIC_TIMER_DCR: 'Timer Divide Configuration: the divisor of the timer clock (bits 3, 1:0).',
  MSR_EFER: 'IA32_EFER: SCE (syscall enable), LME/LMA (long mode), NXE.',
  MSR_STAR: 'IA32_STAR: segment selectors for syscall/sysret.',
  MSR_LSTAR: 'IA32_LSTAR: the 64-bit syscall entry point (RIP).',
  MSR_CSTAR: 'IA32_CSTAR: compatibility-mode syscall entry point.',
  MSR_FMASK: 'IA32_FMASK: RFLAGS bits cleared on syscall.',
  MSR_FS_BASE: 'IA32_FS_BASE: FS segment base.',
  MSR_GS_BASE: 'IA32_GS_BASE: GS segment base.',
  MSR_KERNEL_GS_BASE: 'IA32_KERNEL_GS_BASE: swapped with GS base by swapgs.',
  MSR_APIC_BASE: 'IA32_APIC_BASE: the APIC page address and enable bits.',
  MSR_TSC_DEADLINE: 'IA32_TSC_DEADLINE: arms the LAPIC timer in TSC-deadline mode.',
};

/** What a group of symbols is, for the ones without a doc of their own. */
const GROUP_DOCS: Record<keyof typeof SYMBOL_GROUPS, string> = {
  base: 'Guest environment constant.',
  lapic: 'Local APIC register offset (Intel SDM Vol. 3A, APIC chapter, table "Local APIC Register Address Map").',
  msr: 'MSR number (Intel SDM Vol. 4).',
  x2apic: 'x2APIC register MSR (Intel SDM Vol. 3A, table "Local APIC Register Address Map Supported by x2APIC"): 0x800 + (xAPIC offset >> 4).',
  apicBase: 'IA32_APIC_BASE bit (Intel SDM Vol. 3A, section "Detecting and Enabling x2APIC Mode").',
};

/** The predefined symbols, generated from the guest ABI (src/core/guestAbi.ts). */
export const SYMBOLS: readonly SymbolDoc[] = (Object.keys(SYMBOL_GROUPS) as (keyof typeof SYMBOL_GROUPS)[]).flatMap((group) =>
  (Object.entries(SYMBOL_GROUPS[group]) as [PredefinedSymbol, number][]).map(([name, value]) => ({
    name, value, doc: SYMBOL_DOCS[name] ?? GROUP_DOCS[group],
  })),
);

/** Symbols that are offsets into the LAPIC page. */
const LAPIC_OFFSET_NAMES: ReadonlySet<string> = new Set(Object.keys(SYMBOL_GROUPS.lapic));

/** Upper-case hex, as the SDM prints addresses: 0xFEE00080. */
const hexUpper = (n: number) => '0x' + n.toString(16).toUpperCase();

/** Markdown for a predefined symbol, or null. */
export function symbolHover(word: string): string | null {
  const s = SYMBOLS.find((x) => x.name === word.toUpperCase());
  if (!s) return null;
  const lapic = LAPIC_OFFSET_NAMES.has(s.name) ? ` (LAPIC_BASE + ${hexUpper(s.value)} = ${hexUpper(LAPIC_BASE + s.value)})` : '';
  return `**${s.name}** = \`${hexUpper(s.value)}\`${lapic}\n\n${s.doc}`;
}

/** Strips a `;` comment, minding quoted characters. */
export function stripComment(line: string): string {
  let q: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) { if (c === q) q = null; continue; }
    if (c === "'" || c === '"') q = c;
    else if (c === ';') return line.slice(0, i);
  }
  return line;
}

/** The mnemonic of a line (after any label and prefixes), lower-case, or null. */
export function lineMnemonic(line: string): string | null {
  let code = stripComment(line).trim();
  code = code.replace(/^[.\w$@]+:\s*/, '');
  const words = code.split(/\s+/).filter(Boolean).map((w) => w.toLowerCase());
  while (words.length && (words[0] === 'rep' || words[0] === 'repe' || words[0] === 'repne' || words[0] === 'lock')) words.shift();
  return words[0] ?? null;
}

/** The MMIO device at a guest-physical address, from the guest ABI; null for RAM. */
function mmioDeviceAt(addr: number): 'the local APIC' | 'IORAM' | null {
  if (addr >= LAPIC_BASE && addr < LAPIC_BASE + LAPIC_SIZE) return 'the local APIC';
  if (addr >= IORAM_BASE && addr < IORAM_BASE + IORAM_SIZE) return 'IORAM';
  return null;
}

/** The MMIO device a memory operand names, by symbol (`[LAPIC_BASE + ...]`) or by hex literal. */
function mmioDeviceOf(operand: string): 'the local APIC' | 'IORAM' | null {
  if (/\bIORAM_BASE\b/i.test(operand)) return 'IORAM';
  if (/\bLAPIC_BASE\b/i.test(operand)) return 'the local APIC';
  for (const m of operand.matchAll(/\b0x([0-9a-f_]+)\b/gi)) {
    const dev = mmioDeviceAt(parseInt(m[1].replace(/_/g, ''), 16));
    if (dev) return dev;
  }
  return null;
}

/** `mov reg, <an MMIO base>`, the base by name or as a hex literal. */
const MMIO_BASE_LOAD = new RegExp(
  `^\\s*(?:[.\\w$@]+:\\s*)?(?:mov|movabs|lea)\\s+([a-z0-9]+)\\s*,\\s*\\[?\\s*(LAPIC_BASE|IORAM_BASE|0x0*${LAPIC_BASE.toString(16)}|0x0*${IORAM_BASE.toString(16)})\\b`,
  'gim',
);

/**
 * Registers the program loads with an MMIO base (`mov rbx, LAPIC_BASE`): a memory operand
 * based on one of them is an MMIO access. A textual guess, good enough for a hover hint.
 */
export function mmioBaseRegisters(source: string): Set<string> {
  const regs = new Set<string>();
  for (const m of source.matchAll(MMIO_BASE_LOAD)) {
    const r = m[1].toLowerCase();
    if (REGISTERS.includes(r)) regs.add(r);
  }
  return regs;
}

/**
 * What a line does to the VMM, judged from its text (the assembler's `exitLines` and the run's
 * line counts are the authority; this is the teaching hint for the hover). `mmioRegs` are the
 * registers known to hold an MMIO base (see mmioBaseRegisters).
 */
export function vmmEffect(line: string, mmioRegs: ReadonlySet<string> = new Set()): string | null {
  const code = stripComment(line);
  const m = lineMnemonic(line);
  if (!m) return null;
  const memOperand = /\[[^\]]*\]/.exec(code)?.[0] ?? '';
  const viaRegister = memOperand !== '' && m !== 'lea' && (memOperand.toLowerCase().match(/[a-z][a-z0-9]*/g) ?? []).some((w) => mmioRegs.has(w));
  const named = memOperand === '' ? null : mmioDeviceOf(memOperand);
  if (memOperand && m !== 'lea' && (named !== null || viaRegister)) {
    const dev = named ?? 'an MMIO page (a register holding an MMIO base)';
    return `**exits: EPT violation → instruction emulation.** A memory operand on ${dev}: the VMM walks the guest page tables through the EPT (up to 24 references), fetches the bytes at RIP, decodes and emulates them. With \`icache\` a hit skips walk, fetch and decode; with \`decode-assist\` the hardware hands over the bytes (no walk, no fetch); with \`apicv\` most LAPIC accesses complete without an exit.`;
  }
  if (memOperand && m !== 'lea') {
    return `A memory operand: if its address is an MMIO page (a register holding LAPIC_BASE or IORAM_BASE), this line exits (EPT violation, the page is not mapped → instruction emulation). A write to a page the VMM write-protected for the instruction cache exits too (EPT violation, write) and invalidates the cached entries of that page.`;
  }
  switch (m) {
    case 'out': case 'in': case 'outsb': case 'insb':
      return '**exits: I/O instruction.** The exit qualification gives port, size and direction: no walk, no decode. `out DEBUG_PORT, al` prints a byte on the console.';
    case 'hlt':
      return '**exits: HLT.** With IF = 0 the run ends here; with IF = 1 the vCPU waits for the next interrupt (the LAPIC timer or an IPI).';
    case 'cpuid':
      return '**exits: CPUID** (always, under VMX). The VMM fills EAX..EDX and advances RIP.';
    case 'rdmsr': case 'wrmsr':
      return `**exits: ${m.toUpperCase()}** for MSRs the VMM intercepts (the MSR bitmap lets some through). ECX names the MSR.`;
    case 'vmcall':
      return '**exits: VMCALL** — a hypercall into the VMM.';
    case 'sti':
      return 'Enables interrupts (IF = 1). A pending interrupt may be delivered after the next instruction (interrupt shadow).';
    case 'invlpg':
      return 'Flushes one TLB entry. No exit with EPT; the VMM\'s instruction cache is kept honest by write-protecting page-table pages, not by trapping invlpg.';
    default:
      return null;
  }
}

export const MNEMONIC_DOCS: Readonly<Record<string, string>> = {
  mov: 'Copy a value (`mov dst, src`). On an MMIO address it is the instruction the VMM emulates most.',
  movzx: 'Copy with zero extension. Emulated by bhyve (movzx r, r/m8|16).',
  movsx: 'Copy with sign extension. Emulated by bhyve.',
  stosb: 'Store AL at [RDI], advance RDI. `rep stos` on MMIO is emulated one iteration per exit.',
  stosd: 'Store EAX at [RDI], advance RDI.',
  stosq: 'Store RAX at [RDI], advance RDI.',
  movsb: 'Copy a byte from [RSI] to [RDI]. bhyve emulates movs with MMIO on either side.',
  bt: 'Bit test: CF = the selected bit. bhyve emulates bt on MMIO.',
  lea: 'Load effective address: computes an address, never touches memory (no exit).',
  hlt: 'Halt until the next interrupt.',
  out: 'Write AL/AX/EAX to an I/O port.',
  wrmsr: 'Write EDX:EAX to the MSR named by ECX.',
  rdmsr: 'Read the MSR named by ECX into EDX:EAX.',
};

/** Monarch tokenizer: mnemonics, registers, directives, numbers, labels, comments, symbols. */
export const monarchLanguage: languages.IMonarchLanguage = {
  ignoreCase: true,
  defaultToken: '',
  mnemonics: MNEMONICS,
  registers: REGISTERS,
  directives: DIRECTIVES,
  sizes: SIZE_WORDS,
  symbols: SYMBOLS.map((s) => s.name),
  tokenizer: {
    root: [
      [/;.*$/, 'comment'],
      [/^\s*[.\w$@]+:/, 'type.identifier'], // label definition
      [/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/, 'string'],
      [/\b0[xX][0-9a-fA-F_]+\b|\b[0-9][0-9a-fA-F_]*[hH]\b|\b0[bB][01_]+\b|\b[0-9][0-9_]*\b/, 'number'],
      [/%?[A-Za-z_.$@][\w.$@]*/, {
        cases: {
          '@mnemonics': 'keyword',
          '@registers': 'variable.predefined',
          '@directives': 'keyword.directive',
          '@sizes': 'type',
          '@symbols': 'constant',
          '@default': 'identifier',
        },
      }],
      [/[[\]]/, '@brackets'],
      [/[+\-*,:]/, 'delimiter'],
    ],
  },
};

export const languageConfiguration: languages.LanguageConfiguration = {
  comments: { lineComment: ';' },
  brackets: [['[', ']'], ['(', ')']],
  autoClosingPairs: [{ open: '[', close: ']' }, { open: '(', close: ')' }, { open: "'", close: "'" }, { open: '"', close: '"' }],
  wordPattern: /[.\w$@]+/,
};

/** The completion words, with their kinds, for the editor's suggest widget. */
export interface CompletionWord {
  label: string;
  kind: 'mnemonic' | 'register' | 'directive' | 'symbol';
  detail: string;
  doc?: string;
}

export function completionWords(): CompletionWord[] {
  return [
    ...MNEMONICS.map((m): CompletionWord => ({ label: m, kind: 'mnemonic', detail: 'instruction', doc: MNEMONIC_DOCS[m] })),
    ...REGISTERS.map((r): CompletionWord => ({ label: r, kind: 'register', detail: 'register' })),
    ...DIRECTIVES.map((d): CompletionWord => ({ label: d, kind: 'directive', detail: 'directive' })),
    ...SYMBOLS.map((s): CompletionWord => ({ label: s.name, kind: 'symbol', detail: hexUpper(s.value), doc: s.doc })),
  ];
}
