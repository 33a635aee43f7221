/**
 * Spellings GNU as accepts in `.intel_syntax noprefix` (and people and generators write), each
 * assembled by GNU as and by us: the bytes must be the same, up to the order of legacy prefixes
 * inside one instruction (GNU and iced order 66/67/F0/segment differently; the CPU does not care).
 * Every case is also assembled without the `.intel_syntax` line (the way the differential
 * cases arrive), except those marked `gnuMode`, whose meaning depends on it.
 */
import { describe, expect, it } from 'vitest';
import { Decoder, DecoderOptions } from '../iced';
import { gnuTry, haveBinutils, toHex } from '../../test/gnuHarness';
import { assemble, formatDiagnostic } from './index';

interface Case { src: string; gnuMode?: boolean; }
const c = (src: string, gnuMode = false): Case => ({ src, gnuMode });

const CASES: Record<string, Case[]> = {
  'numeric local labels': [
    c('1: nop\njmp 1b'),
    c('jmp 1f\nnop\n1: nop'),
    c('1:\n  dec ecx\n  jnz 1b\n1:\n  jmp 1b\n  jmp 1f\n1: nop'),
    c('call 1f\n  jmp 2f\n1:\n  ret\n2:'),
    c('lea r10, [rip + 1f]\n1:'),
    c('loop 1f\n  not eax\n1:'),
    c('1:\n  add eax, 1\n  loop 1b'),
    c('addr32 loopne 1f\n  not eax\n1:'),
    c('jrcxz 1f\n1:'),
    c('10: nop\n  jmp 10b\n  jmp 10f\n10: nop'),
    c('mov eax, offset 1f\n1:'),
    c('1: .quad 1f\n.long 1f - 1b\n1:'),
  ],
  'pseudo-prefixes': [
    c('{disp32} jne 1f\n  not eax\n1:'),
    c('{disp32} jmp 2f\n2:'),
    c('{disp32} mov eax, [rax+8]'),
    c('{disp32} mov eax, [rax]'),
    c('{disp32} mov eax, [rsp]'),
    c('{disp32} adc r9w, word ptr [rbx + 0x2b7]'),
    c('{disp32} cmp dword ptr [rcx + r10*1 - 0x24], eax'),
    c('{disp32} sete byte ptr [rsp + 0x46]'),
    c('{disp32} mov eax, [rax*2]'),
    c('{disp8} mov eax, [rax]'),
    c('{disp8} mov eax, [rbp]'),
    c('{disp8} mov eax, [rax+0x1000]'),
    c('{disp8} lea eax, [rax]'),
    c('{load} mov eax, ebx'),
    c('{store} mov eax, ebx'),
    c('{load} sub r8d, r13d'),
    c('{store} cmp rax, rcx'),
    c('{load} mov al, bl'),
    c('{load} xor eax, eax'),
    c('{load} mov eax, 5'),
    c('{store} mov eax, 5'),
    c('{load} xchg eax, ebx'),
    c('{store} xchg eax, ebx'),
    c('{load} xchg ecx, ebx'),
    c('{store} xchg ecx, ebx'),
    c('{load} test ecx, ebx'),
    c('{store} test ecx, ebx'),
    c('{load} movaps xmm0, xmm1'),
    c('{store} movaps xmm0, xmm1'),
    c('{load} {disp32} mov eax, [rax]'),
    c('{disp32} {load} mov eax, ebx'),
  ],
  'prefixes written as words': [
    c('addr32 lodsb'), c('addr32 stosq'), c('addr32 rep stosb'), c('addr32 repe scasq'), c('addr32 repne cmpsb'),
    c('addr32 rep movsd'), c('addr32 movsw'), c('rep addr32 stosb'),
    c('addr32 loop 1f\n1:'), c('addr32 loope 1f\n1:'),
    c('addr32 mov eax, [0x1000]'), c('addr32 lea eax, [ebx]'), c('addr32 nop'), c('addr32 xlat'),
    c('data16 nop'), c('data16 mov eax, ebx'), c('data16 lock add dword ptr [rax], 1'),
    c('rex nop'), c('rex.w nop'), c('rex.b nop'), c('rex.wb nop'), c('rex.W nop'), c('rex.w mov eax, ebx'),
    c('rex.w lock add dword ptr [rax], 1'), c('rex.w add word ptr [rax], 1'), c('data16 rex.w nop'), c('rex.w movaps xmm0, xmm1'),
    c('rep; movsb', true), c('repz ret'), c('rep ret'), c('cs nop'), c('ds mov eax, [rax]'), c('fs mov eax, [rax]'), c('fs lodsb'),
    c('cs nop word ptr [rax+rax*1+0x0]'), c('notrack jmp rax'), c('bnd jmp rax'), c('.byte 0x65\n  lodsb'),
  ],
  'suffixed and alternative mnemonics': [
    c('pushw -0x8000'), c('pushw 0x80'), c('pushw -1'), c('pushw ax'), c('pushw word ptr [rax]'), c('pushq 5'), c('pushq rax'),
    c('pushq 0x1000'), c('pushq qword ptr [rax]'), c('popw ax'), c('popq rax'), c('popq [rax]'), c('pushfw'), c('popfw'), c('pushfq'),
    c('popfq'), c('iretq'), c('iretd'), c('iretw'), c('lretq'), c('sysretq'), c('sysexitq'), c('retq'), c('retw'), c('leaveq'),
    c('callq 1f\n1:'), c('movabsq rax, 5'), c('movabs rax, 0x1122334455667788'), c('cqo'), c('cdq'), c('cwd'), c('cdqe'), c('cwde'),
    c('cbw'), c('cltq'), c('cqto'), c('cwtl'), c('cltd'), c('movsxd rax, ecx'), c('movsxd rax, dword ptr [rax]'),
    c('movsx rax, dword ptr [rax]'), c('movslq rax, ecx'), c('movzbw ax, al'), c('movsbq rax, al'), c('movzxw eax, word ptr [rax]'),
    c('incq rax'), c('leaq rax, [rax]'), c('testq rax, rax'), c('cmpq rax, 5'), c('movq rax, 5'), c('shlq rax'), c('shrb al'),
    c('ud2a'), c('ud1 eax, ebx'), c('int 3', true), c('xlat'), c('lods al, byte ptr [rsi]'), c('movs byte ptr [rdi], byte ptr [rsi]'),
    c('stos dword ptr [rdi], eax'), c('cmps byte ptr [rsi], byte ptr [rdi]'), c('scas al, byte ptr es:[rdi]'),
    c('movsd'), c('nop DWORD PTR [rax+0x0]'), c('nop word ptr [rax + rax*1 + 0x0]'), c('nopw [rax+rax*1+0x0]'), c('endbr64'),
    c('jecxz 1f\n1:'), c('setnae al'), c('cmovnae eax, ebx'), c('outb 0x80, al'), c('movq rax, xmm0'),
  ],
  'one-operand shifts and rotates': [
    c('shl eax'), c('sal eax'), c('shr rax'), c('sar rsi'), c('rol r13d'), c('ror dx'), c('rcl rbp'), c('rcr r13b'), c('shr r12b'),
    c('rol byte ptr [rbp + rdi*2 + 0x76]'), c('sal dword ptr [r9 + rax*1 - 0x73]'), c('shr qword ptr ds:0x300ffc'),
    c('sar dword ptr [r13*8 + 0x300e95]'), c('rcl byte ptr [rax]'), c('shl eax, 1'), c('shl eax, cl'),
  ],
  'operands': [
    c('mov rax, qword ptr fs:[rax]'), c('mov rax, fs:0x28'), c('mov eax, dword ptr fs:0x28'), c('mov eax, [rax+rbx*1]'),
    c('mov eax, [rbx*2]'), c('mov eax, dword ptr [rbx*2]'), c('lea eax, [ebx*2]'), c('mov al, BYTE PTR [rax]'),
    c('MOV EAX, DWORD PTR [RAX]'), c('movzx eax, BYTE PTR [rax+rbx*1]'), c('mov eax, [rax][rbx*4]'), c('mov eax, 8[rax]'),
    c('mov eax, [rax+8][rbx]'), c('mov eax, [rsp+rax]'), c('mov eax, [rax+rsp]'), c('lea rax, 1f[rip]\n1:'), c('lea rax, [rip]'),
    c('mov eax, OFFSET FLAT:1f\n1:'), c('mov al, byte ptr ds:0x12'), c('cmpxchg16b xmmword ptr [rax]'), c('fld tbyte ptr [rax]'),
    c('movups xmm0, xmmword ptr [rax]'), c('mov eax, 0b101'), c('mov eax, 017', true), c("mov eax, 'a'"), c('mov eax, 10/2'),
    c('mov eax, 7 & 3 | 8'), c('mov eax, ~5'), c('and rsp, -16'), c('jmp short 1f\n1:'), c('jmp qword ptr [rax]'),
    c('call qword ptr [rip+1f]\n1:'), c('push -1'), c('push 0x1000'), c('mov eax, lbl\nlbl: nop', true), c('mov rax, 1f\n1:', true),
    c('push 1f\n1:', true), c('lea rax, lbl\nlbl: nop'), c('mov eax, lbl+4\nlbl: nop', true), c('.set X, 5\nmov eax, X'),
    c('X = 5\nmov eax, X'), c('.equ X, 5\nmov eax, X'), c('mov eax, X\nX = 5', true), c('mov eax, offset lbl\nlbl: nop'),
  ],
  'directives and comments': [
    c('.text\nnop\n.data\n.long 1\n.text\nnop'), c('.section .text\nnop'), c('.section .text,"ax",@progbits\nnop'),
    c('.globl _start\n.global f\n.type _start, @function\n_start: nop\n.size _start, .-_start\nf: ret'),
    c('nop\n.align 8\nnop'), c('nop\n.balign 8\nnop'), c('nop\n.balign 8, 0xcc\nnop'), c('nop\n.balign 16, 0x90\nnop'),
    c('nop\n.p2align 4\nnop'), c('nop\n.p2align 4,,10\nnop'), c('nop\n.p2align 4,,15\nnop'), c('nop\n.p2align 3, 0xaa\nnop'),
    c('int3\n.align 16, 0xbb, 2\nint3'), c('.fill 200, 1, 0xcc\n.balign 256\nnop'), c('.fill 100, 1, 0xcc\n.balign 256\nnop'),
    c('.fill 60, 1, 0xcc\n.balign 64\nnop'), c('nop\n.align 32\nnop'),
    c('.fill 3, 2, 0x90'), c('.fill 2, 4, 0x12345678'), c('.fill 3'), c('.zero 3'), c('.skip 3, 0xcc'), c('.space 2'), c('.string "ab"'),
    c('.asciz "ab", "c"'), c('.ascii "a\\tb"'), c('.byte 1, 2, -1'), c('.word 0x1234'), c('.short 1'), c('.2byte 1'), c('.4byte 1'),
    c('.8byte 1'), c('.int 1'), c('.quad 1f\n1:'), c('.long 1f - .\n1:'), c('.byte 0x66, 0x90'),
    c('nop # comment'), c('// comment\nnop'), c('nop /* block */ ; nop', true), c('/* multi\n line */ nop'),
    c('nop\n/*\n mov eax, 1\n*/\nnop'), c('mov eax, 1 ; mov ebx, 2 # z', true), c('mov eax, ebx ; mov ebx, eax', true),
    c('nop; nop', true), c('x: .long 5 ; ret', true),
  ],
};

/** Sorts the legacy prefixes at the start of each instruction: the order carries no meaning. */
function canonical(bytes: Uint8Array): string {
  const d = new Decoder(64, bytes, DecoderOptions.None);
  const out: string[] = [];
  let at = 0;
  while (d.canDecode) {
    const i = d.decode();
    const ins = bytes.slice(at, at + i.length);
    i.free();
    at += ins.length;
    let p = 0;
    while (p < ins.length - 1 && [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3].includes(ins[p])) p++;
    out.push([...ins.slice(0, p)].sort((a, b) => a - b).map((b) => b.toString(16).padStart(2, '0')).join('') + toHex(ins.slice(p)));
  }
  d.free();
  return out.join(' ');
}

function ours(src: string): string {
  const r = assemble(src, { origin: 0, file: 'case.s' });
  if (!r.ok) return `error: ${r.diagnostics.map(formatDiagnostic).join('; ')}`;
  return canonical(r.segments.find((s) => s.name === '.text')!.bytes);
}

describe.skipIf(!haveBinutils)('GNU Intel spellings assemble to what GNU as makes', () => {
  for (const [group, cases] of Object.entries(CASES)) {
    it(group, () => {
      const bad: string[] = [];
      for (const { src, gnuMode } of cases) {
        const full = `.intel_syntax noprefix\n${src}\n`;
        const g = gnuTry(full, true);
        if ('error' in g) { bad.push(`${JSON.stringify(src)}: GNU as rejects it: ${g.error.trim()}`); continue; }
        const want = canonical(g.bytes);
        const got = ours(full);
        if (got !== want) bad.push(`${JSON.stringify(src)}: gnu ${want}, ours ${got}`);
        if (!gnuMode) {
          const bare = ours(src + '\n');
          if (bare !== want) bad.push(`${JSON.stringify(src)} (no .intel_syntax): gnu ${want}, ours ${bare}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }
});
