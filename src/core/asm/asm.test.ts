import { describe, expect, it } from 'vitest';
import { Decoder, DecoderOptions, Formatter, FormatterSyntax } from '../iced';
import { assemble, formatDiagnostic, lineAt, type AsmResult } from './index';

const PREDEF = new Map<string, bigint>([['LAPIC_BASE', 0xfee00000n], ['LAPIC_EOI', 0xb0n], ['DEBUG_PORT', 0xe9n]]);

function ok(src: string, origin?: number): AsmResult {
  const r = assemble(src, { predefined: PREDEF, origin });
  expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
  expect(r.ok).toBe(true);
  return r;
}
function text(r: AsmResult): Uint8Array { return r.segments.find((s) => s.name === '.text')!.bytes; }
function hex(src: string): string { return Buffer.from(text(ok(src))).toString('hex'); }

/** iced's disassembly of the .text segment, one string per instruction. */
function dis(r: AsmResult): string[] {
  const seg = r.segments.find((s) => s.name === '.text')!;
  const d = new Decoder(64, seg.bytes, DecoderOptions.None);
  d.ip = BigInt(seg.addr);
  const f = new Formatter(FormatterSyntax.Intel);
  const out: string[] = [];
  while (d.canDecode) {
    const i = d.decode();
    out.push(f.format(i));
    i.free();
  }
  d.free();
  f.free();
  return out;
}

describe('instruction encoding', () => {
  it('encodes register, immediate and memory forms of mov', () => {
    expect(hex('mov rax, rbx')).toBe('4889d8');
    expect(hex('mov eax, 1')).toBe('b801000000');
    expect(hex('mov rax, 1')).toBe('48c7c001000000');
    expect(hex('mov al, 0xff')).toBe('b0ff');
    expect(hex('mov eax, [rbx+8]')).toBe('8b4308');
    expect(hex('mov [rsp+rcx*4-0x10], r9d')).toBe('44894c8cf0');
    expect(hex('mov qword [r13], 5')).toBe('49c7450005000000');
  });

  it('encodes mov r64 with a 64-bit immediate as movabs, and accepts the movabs mnemonic', () => {
    expect(hex('mov rax, 0x123456789')).toBe('48b88967452301000000');
    expect(hex('mov rcx, 0xffffffff')).toBe('48b9ffffffff00000000');
    expect(hex('movabs rax, 5')).toBe('48b80500000000000000');
    expect(hex('movabs eax, [0x1122334455667788]')).toBe('a18877665544332211');
  });

  it('picks the short immediate form when the value fits', () => {
    expect(hex('add rsp, 8')).toBe('4883c408');
    expect(hex('add eax, 0x1000')).toBe('0500100000');
    expect(hex('add eax, 0xffffffff')).toBe('83c0ff');
    expect(hex('shl eax, 1')).toBe('d1e0');
    expect(hex('push 0x1000')).toBe('6800100000');
    expect(hex('imul eax, 10')).toBe('6bc00a');
  });

  it('encodes RIP-relative operands written NASM and GNU style', () => {
    const r = ok('lea rsi, [rel msg]\nmov eax, [rip + msg]\nmsg: db 1');
    expect(dis(r).slice(0, 2)).toEqual(['lea rsi,[10000Dh]', 'mov eax,[10000Dh]']);
    expect(hex('default rel\nmov eax, [x]\nx: dd 0')).toBe('8b050000000000000000');
  });

  it('encodes segment overrides inside and outside the brackets', () => {
    expect(hex('mov rax, [fs:0x28]')).toBe('64488b042528000000');
    expect(hex('mov eax, fs:[rax]')).toBe('648b00');
    expect(hex('mov rax, qword ptr gs:[rbx+8]')).toBe('65488b4308');
  });

  it('reaches 2-4 GiB absolute addresses (the LAPIC) with an address-size prefix', () => {
    expect(hex('mov eax, [LAPIC_BASE + LAPIC_EOI]')).toBe('678b0425b000e0fe');
    expect(dis(ok('mov dword [0xFEE000B0], 0'))).toEqual(['mov dword ptr [0FEE000B0h],0']);
  });

  it('applies rep, repe, repne and lock prefixes', () => {
    expect(hex('rep movsb\nrep stosq\nrepe cmpsb\nrepne scasb')).toBe('f3a4f348abf3a6f2ae');
    expect(hex('lock xadd [rax], ecx')).toBe('f00fc108');
    expect(hex('lock cmpxchg qword [rdi], rsi')).toBe('f0480fb137');
  });

  it('encodes the system instructions the guest uses', () => {
    const r = ok('cli\nsti\nhlt\nlgdt [rax]\nlidt [rbx]\ninvlpg [rcx]\nmov cr3, rax\nmov rax, cr0\nwrmsr\nrdmsr\ncpuid\nrdtsc\nswapgs\niretq\nvmcall\nin al, dx\nout 0xe9, al\nint3\nsyscall\nsysretq');
    expect(dis(r)).toEqual([
      'cli', 'sti', 'hlt', 'lgdt [rax]', 'lidt [rbx]', 'invlpg [rcx]', 'mov cr3,rax', 'mov rax,cr0', 'wrmsr', 'rdmsr', 'cpuid', 'rdtsc',
      'swapgs', 'iretq', 'vmcall', 'in al,dx', 'out 0E9h,al', 'int3', 'syscall', 'sysretq',
    ]);
  });

  it('accepts NASM operand-size prefixes and means CF by iret', () => {
    expect(hex('o64 sysret\nsysret\niret\no64 iret\niretq')).toBe('480f070f07cf48cf48cf');
  });

  it('treats xchg and test operands as commutative and uses the one-byte xchg form', () => {
    expect(hex('xchg eax, ebx')).toBe('93');
    expect(hex('xchg ebx, eax')).toBe('93');
    expect(hex('xchg eax, eax')).toBe('87c0');
    expect(hex('test al, [rax]')).toBe('8400');
  });

  it('accepts condition-code synonyms and sal', () => {
    expect(hex('l: jz l\njnz l\njc l\njnae l')).toBe('74fe75fc72fa72f8');
    expect(hex('setz al\ncmovnc eax, ebx')).toBe('0f94c00f43c3');
    expect(hex('sal eax, 3')).toBe('c1e003');
  });

  it('defaults push/pop/call/jmp of memory to 64 bits', () => {
    expect(dis(ok('push [rax]\npop [rbx]\ncall [rax]\njmp [rbx+8]'))).toEqual(['push qword ptr [rax]', 'pop qword ptr [rbx]', 'call qword ptr [rax]', 'jmp qword ptr [rbx+8]']);
  });
});

describe('branches', () => {
  it('uses short jumps in range and near jumps out of range, forward and backward', () => {
    const r = ok('top: jmp fwd\njne fwd\ntimes 200 nop\nfwd: jmp top\nje top\njmp near_lbl\nnear_lbl: nop');
    const lens = r.lineMap.filter((e) => e.line !== 3).map((e) => e.length);
    expect(lens).toEqual([5, 6, 5, 6, 2, 1]);
  });

  it('keeps a jump short when exactly 127 bytes ahead, near at 128', () => {
    expect(ok('jmp a\ntimes 127 nop\na: nop').lineMap[0].length).toBe(2);
    expect(ok('jmp a\ntimes 128 nop\na: nop').lineMap[0].length).toBe(5);
  });

  it('relaxes chains of jumps to a fixed point', () => {
    // Each jump's size depends on the next one: a lazy one-pass assembler gets this wrong.
    const src = Array.from({ length: 30 }, (_, i) => `l${i}: jmp l${i + 1}\ntimes 4 nop`).join('\n') + '\nl30: jmp l0';
    const r = ok(src);
    const d = dis(r);
    expect(d.filter((s) => s.startsWith('jmp short')).length).toBe(30);
    expect(d[d.length - 1]).toMatch(/^jmp 0*100000h$/);
  });

  it('reports a loop target that is too far', () => {
    const r = assemble('a: times 200 nop\nloop a');
    expect(r.ok).toBe(false);
    expect(r.diagnostics[0].message).toMatch(/out of range/);
    expect(r.diagnostics[0].line).toBe(2);
  });
});

describe('labels, expressions and directives', () => {
  it('attaches .local labels to the previous global label', () => {
    const r = ok('f: .loop: dec ecx\njnz .loop\ng: .loop: jmp .loop\njmp f.loop');
    expect(r.symbols.get('f.loop')).toBe(0x100000n);
    expect(r.symbols.get('g.loop')).toBe(0x100004n);
    expect(dis(r)).toEqual(['dec ecx', 'jne short 0000000000100000h', 'jmp short 0000000000100004h', 'jmp short 0000000000100000h']);
  });

  it('reads numbers in every notation and character constants', () => {
    const r = ok("a equ 0x10 + 10h + 0b11 + 11b + 017q + 0o17 + 1_000 + 'A'\nb equ 'ab'");
    expect(r.symbols.get('a')).toBe(16n + 16n + 3n + 3n + 15n + 15n + 1000n + 65n);
    expect(r.symbols.get('b')).toBe(0x6261n);
  });

  it('evaluates operators with NASM precedence', () => {
    const r = ok('a equ 1 + 2 * 3\nb equ (1 + 2) * 3\nc equ 1 << 4 | 1\nd equ ~0 & 0xff\ne equ 17 % 5 - 7 / 2\nf equ -8 >> 1\ng equ 6 ^ 3');
    expect([...r.symbols.values()]).toEqual([7n, 9n, 17n, 255n, -1n, -4n, 5n]);
  });

  it('evaluates $, $$ and label differences', () => {
    const r = ok('nop\nmsg: db "hello"\nlen equ $ - msg\nhere equ $ - $$\nmov ecx, len');
    expect(r.symbols.get('len')).toBe(5n);
    expect(r.symbols.get('here')).toBe(6n);
  });

  it('emits db/dw/dd/dq with strings, and GNU data directives', () => {
    const r = ok('section .data\ndb "ab", 0\ndw 1, -1\ndd 0x12345678\ndq -2\ndb `x\\n`\n.byte 1\n.word 2\n.long 3\n.quad 4\n.ascii "a\\tb"\n.asciz "z"');
    const data = r.segments.find((s) => s.name === '.data')!;
    expect(Buffer.from(data.bytes).toString('hex')).toBe(
      '616200' + '0100ffff' + '78563412' + 'feffffffffffffff' + '780a' + '01' + '0200' + '03000000' + '0400000000000000' + '610962' + '7a00');
  });

  it('repeats with times, pads with align and reserves with resb', () => {
    const r = ok('nop\nalign 8\ntimes 3 db 7\nresb 2\ntimes 2 nop');
    expect(Buffer.from(text(r)).toString('hex')).toBe('90909090909090900707070000' + '9090');
  });

  it('places .text at the origin and .data on the next page', () => {
    const r = ok('section .data\nv: dq 1\nsection .text\n_start: mov rax, [v]');
    expect(r.segments.map((s) => [s.name, s.addr])).toEqual([['.text', 0x100000], ['.data', 0x101000]]);
    expect(r.symbols.get('v')).toBe(0x101000n);
    expect(r.entry).toBe(0x100000);
  });

  it('moves the code with org, the origin option, and sets entry to _start', () => {
    const r = ok('org 0x400000\nnop\n_start: hlt');
    expect(r.segments[0].addr).toBe(0x400000);
    expect(r.entry).toBe(0x400001);
    expect(ok('nop', 0x200000).segments[0].addr).toBe(0x200000);
  });

  it('accepts GNU section directives, comments and .intel_syntax', () => {
    const r = ok('.intel_syntax noprefix\n.globl _start\n.text\n_start: mov eax, 1 # comment\n.data\nx: .long 5 ; comment');
    expect(r.segments.map((s) => s.name)).toEqual(['.text', '.data']);
  });

  it('keeps NASM meanings without .intel_syntax: ; comments, 1b binary, 017 decimal, a bare label an immediate', () => {
    expect(hex('mov eax, 1 ; mov ebx, 2')).toBe('b801000000');
    expect(hex('mov eax, 101b\nmov eax, 017')).toBe('b805000000b811000000');
    expect(hex('org 0\nmov eax, x\nx: int 3')).toBe('b805000000cd03');
  });

  it('switches to GNU meanings after .intel_syntax: ; separates statements, 017 octal, a bare label is memory', () => {
    const g = '.intel_syntax noprefix\n';
    expect(hex(g + 'mov eax, 1 ; mov ebx, 2 ; load the next one')).toBe('b801000000bb02000000');
    expect(hex(g + 'mov eax, 017\nint 3')).toBe('b80f000000cc');
    expect(hex(g + 'org 0\nN = 4\nmov eax, x\nmov eax, offset x\nmov eax, N\nx: nop')).toBe('8b042511000000' + 'b811000000' + 'b804000000' + '90');
  });

  it('resolves GNU numeric labels to the nearest definition and keeps them out of the symbols', () => {
    const r = ok('1: jmp 1f\n1: jmp 1b\n2: jmp 1b\n1: nop\njmp 2b');
    expect(dis(r)).toEqual(['jmp short 0000000000100002h', 'jmp short 0000000000100002h', 'jmp short 0000000000100002h', 'nop',
      'jmp short 0000000000100004h']);
    expect(r.symbols.size).toBe(0);
  });

  it('uses predefined symbols without listing them', () => {
    const r = ok('mov rbx, LAPIC_BASE\nmov dword [rbx + LAPIC_EOI], 0\nmov al, 65\nout DEBUG_PORT, al');
    expect(dis(r)).toEqual(['mov rbx,0FEE00000h', 'mov dword ptr [rbx+0B0h],0', 'mov al,41h', 'out 0E9h,al']);
    expect(r.symbols.size).toBe(0);
  });

  it('allows forward references to equ constants', () => {
    const r = ok('mov eax, N\nadd eax, N\nN equ 1000');
    expect(dis(r)).toEqual(['mov eax,3E8h', 'add eax,3E8h']);
  });
});

describe('line map', () => {
  it('maps every emitted statement to its source line, sorted by address', () => {
    const r = ok('; comment\n_start:\n  mov eax, 1\n\n  times 2 nop\nsection .data\n  d: db 1, 2\nsection .text\n  hlt');
    expect(r.lineMap).toEqual([
      { addr: 0x100000, length: 5, line: 3 },
      { addr: 0x100005, length: 1, line: 5 },
      { addr: 0x100006, length: 1, line: 5 },
      { addr: 0x100007, length: 1, line: 9 },
      { addr: 0x101000, length: 2, line: 7 },
    ]);
    expect(lineAt(r.lineMap, 0x100002)).toBe(3);
    expect(lineAt(r.lineMap, 0x100007)).toBe(9);
    expect(lineAt(r.lineMap, 0x100008)).toBeUndefined();
  });
});
