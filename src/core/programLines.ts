/**
 * What the editor can know about a program's lines before it runs, from its assembled .text:
 * which lines always exit, and which memory accesses bhyve's decoder would refuse.
 */
import type { AsmResult } from './asm';
import { Decoder, DecoderOptions, Instruction, Mnemonic, OpKind } from './iced';
import { hexBytes } from './hex';
import { bhyveDecode } from './vmm/decode';
import { newVie, vieInit } from './vmm/vie';

/** Decode the instruction of every .text line (one decoder per segment, freed after). */
function forEachTextInstruction(program: AsmResult, visit: (line: number, insn: Instruction, bytes: Uint8Array) => void): void {
  const insn = new Instruction();
  try {
    for (const seg of program.segments) {
      if (seg.name !== '.text') continue;
      const decoder = new Decoder(64, seg.bytes, DecoderOptions.None);
      try {
        for (const e of program.lineMap) {
          if (e.addr < seg.addr || e.addr >= seg.addr + seg.bytes.length) continue;
          const off = e.addr - seg.addr;
          decoder.position = off;
          decoder.ip = BigInt(e.addr);
          decoder.decodeOut(insn);
          visit(e.line, insn, seg.bytes.subarray(off, off + insn.length));
        }
      } finally {
        decoder.free();
      }
    }
  } finally {
    insn.free();
  }
}

const ALWAYS_EXITING = new Set<number>([Mnemonic.Hlt, Mnemonic.In, Mnemonic.Out, Mnemonic.Insb, Mnemonic.Insw, Mnemonic.Insd,
  Mnemonic.Outsb, Mnemonic.Outsw, Mnemonic.Outsd, Mnemonic.Cpuid, Mnemonic.Vmcall]);

/**
 * Lines of instructions that always exit (HLT, I/O, CPUID, VMCALL), known before running.
 * RDMSR/WRMSR are not among them: only some MSRs are intercepted (msrIntercepted: APIC base,
 * TSC deadline, x2APIC), and which one is in ECX is known only when it runs; such a line is
 * marked once it has exited.
 */
export function predictedExitLines(program: AsmResult): number[] {
  const lines = new Set<number>();
  forEachTextInstruction(program, (line, insn) => {
    if (ALWAYS_EXITING.has(insn.mnemonic)) lines.add(line);
  });
  return [...lines].sort((a, b) => a - b);
}

const MEMORY_OPERANDS = new Set<number>([OpKind.Memory, OpKind.MemorySegSI, OpKind.MemorySegESI, OpKind.MemorySegRSI, OpKind.MemorySegDI,
  OpKind.MemorySegEDI, OpKind.MemorySegRDI, OpKind.MemoryESDI, OpKind.MemoryESEDI, OpKind.MemoryESRDI]);
/** Memory operands that are not accesses. */
const NO_ACCESS = new Set<number>([Mnemonic.Lea, Mnemonic.Nop, Mnemonic.Invlpg]);
const LEGACY_PREFIXES = new Set([0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x64, 0x65, 0x36, 0xf0]);

/**
 * The lines whose instruction accesses memory but which bhyve's decoder refuses (its opcode is
 * not in one_byte_opcodes[] / two_byte_opcodes[]): if such an access exits (MMIO), the VMM
 * cannot emulate it and the run stops 'unsupported'. The editor's hover says so; everything
 * else with a memory operand is in bhyve's table (whether its emulate_* handles the exact
 * form is decided at run time).
 */
export function unemulableLines(program: AsmResult): { line: number; why: string }[] {
  const out: { line: number; why: string }[] = [];
  const vie = newVie();
  forEachTextInstruction(program, (line, insn, bytes) => {
    if (insn.length === 0 || NO_ACCESS.has(insn.mnemonic)) return;
    let mem = false;
    for (let i = 0; i < insn.opCount; i++) if (MEMORY_OPERANDS.has(insn.opKind(i))) mem = true;
    if (!mem) return;
    vieInit(vie, bytes, bytes.length);
    if (bhyveDecode(vie) === 0) return;
    // The opcode: the first byte after the legacy and REX prefixes (two bytes after 0x0f).
    let k = 0;
    while (k < bytes.length - 1 && ((bytes[k] >= 0x40 && bytes[k] <= 0x4f) || LEGACY_PREFIXES.has(bytes[k]))) k++;
    const opHex = hexBytes(bytes.subarray(k, bytes[k] === 0x0f ? k + 2 : k + 1));
    out.push({ line, why: `opcode ${opHex} (${insn.toString()}) is not in bhyve's opcode table` });
  });
  return out;
}
