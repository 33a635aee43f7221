/** Per-family instruction tests; expected values computed from the SDM definitions. */
import { describe, expect, it } from 'vitest';
import { asmMachine } from '../../test/asmTest';
import { runUntilHalt } from '../../test/testEnv';

const CF = 1, PF = 4, ZF = 0x40, SF = 0x80, OF = 0x800;
function run(src: string, max = 1_000_000) {
  const m = asmMachine(src + '\nhlt');
  const r = runUntilHalt(m.vcpu, max);
  if (r.exit.reason !== 'hlt') throw new Error(`ended with ${r.exit.reason} ${r.exit.stop?.message ?? ''}`);
  const v = m.vcpu;
  return { v, g: (i: number) => v.getGpr(i), f: () => v.getRflags(), m };
}
const u64 = (x: bigint) => BigInt.asUintN(64, x);

describe('data movement', () => {
  it('movzx/movsx/movsxd', () => {
    const { g } = run('mov eax, 0x80f0\nmovzx rbx, al\nmovsx rcx, al\nmovsx edx, ax\nmov esi, 0x80000000\nmovsxd rdi, esi\nmovzx r8d, ax\nmovsx r9w, al');
    expect(g(3)).toBe(0xf0n);
    expect(g(1)).toBe(u64(-16n));
    expect(g(2)).toBe(0xffff80f0n);
    expect(g(7)).toBe(0xffffffff80000000n);
    expect(g(8)).toBe(0x80f0n);
    expect(g(9) & 0xffffn).toBe(0xfff0n);
  });
  it('lea 64/32-bit forms, with scale and negative displacement', () => {
    const { g } = run('mov rbx, 0x100000000\nmov rcx, 3\nlea rax, [rbx + rcx*8 - 4]\nlea edx, [rbx + rcx*8 - 4]\nmov rsi, -1\nlea rdi, [rsi + rsi*2]');
    expect(g(0)).toBe(0x100000014n);
    expect(g(2)).toBe(0x14n);
    expect(g(7)).toBe(u64(-3n));
  });
  it('movabs and moffs, xchg, bswap', () => {
    const { g } = run('mov rax, 0x1122334455667788\nmov [0x200000], rax\nmov rbx, [0x200000]\nxchg rax, rcx\nbswap rbx\nmov edx, 0x11223344\nbswap edx');
    expect(g(1)).toBe(0x1122334455667788n);
    expect(g(0)).toBe(0n);
    expect(g(3)).toBe(0x8877665544332211n);
    expect(g(2)).toBe(0x44332211n);
  });
  it('xadd, cmpxchg equal and not equal', () => {
    const { g, f } = run('mov rax, 5\nmov rbx, 7\nxadd rax, rbx\nmov rcx, 12\nmov rdx, 99\nmov rax, 12\ncmpxchg rcx, rdx\npushfq\npop r8\nmov rax, 1\ncmpxchg rcx, rdx');
    expect(g(0)).toBe(99n);
    expect(g(3)).toBe(5n);
    expect(g(1)).toBe(99n);
    expect(Number(g(8)) & ZF).toBe(ZF);
    expect(f() & ZF).toBe(0);
  });
  it('push/pop imm, mem; pushfq/popfq; enter/leave', () => {
    const { g } = run(`
      push -2
      pop rax
      mov qword [0x200000], 0x55
      push qword [0x200000]
      pop qword [0x200008]
      mov rbx, [0x200008]
      mov rbp, 0x1234
      mov r12, rsp
      enter 16, 0
      mov r13, rsp
      leave
      mov r14, rsp
      stc
      pushfq
      pop r15`);
    expect(g(0)).toBe(u64(-2n));
    expect(g(3)).toBe(0x55n);
    expect(g(12) - g(13)).toBe(24n);
    expect(g(14)).toBe(g(12));
    expect(g(5)).toBe(0x1234n);
    expect(Number(g(15)) & CF).toBe(CF);
  });
  it('cbw cwde cdqe cwd cdq cqo', () => {
    const { g } = run('mov rax, 0x80\ncbw\nmov r8, rax\nmov eax, 0x8000\ncwde\nmov r9, rax\ncdqe\nmov r10, rax\ncqo\nmov r11, rdx\nmov eax, 0x80000000\ncdq\nmov r12, rdx\nmov ax, 0x8000\ncwd');
    expect(g(8)).toBe(0xff80n);
    expect(g(9)).toBe(0xffff8000n);
    expect(g(10)).toBe(u64(-0x8000n));
    expect(g(11)).toBe(u64(-1n));
    expect(g(12)).toBe(0xffffffffn);
    expect(g(2) & 0xffffn).toBe(0xffffn);
  });
});

describe('multiply and divide', () => {
  it('mul 64 and imul 1/2/3 operands', () => {
    const { g } = run('mov rax, -1\nmov rbx, 2\nmul rbx\nmov r8, rax\nmov r9, rdx\nmov rax, -3\nmov rcx, 5\nimul rcx\nmov r10, rdx\nimul r11, rcx, -7\nmov r12, 6\nimul r12, rcx');
    expect(g(8)).toBe(u64(-2n));
    expect(g(9)).toBe(1n);
    expect(g(0)).toBe(u64(-15n));
    expect(g(10)).toBe(u64(-1n));
    expect(g(11)).toBe(u64(-35n));
    expect(g(12)).toBe(30n);
  });
  it('div/idiv by width and #DE on overflow', () => {
    const { g } = run('mov ax, 1000\nmov bl, 7\ndiv bl\nmov r8, rax\nmov edx, 0\nmov eax, 100\nmov ecx, -7\nidiv ecx\nmov r9, rax\nmov r10, rdx');
    expect(g(8) & 0xffffn).toBe((6n << 8n) | 142n);
    expect(g(9)).toBe(BigInt.asUintN(32, -14n));
    expect(g(10)).toBe(2n);
    const { v } = run('mov edx, 1\nmov eax, 0\nmov ecx, 1\ndiv ecx');
    expect(v.lastException?.vector).toBe(0);
  });
  it('mul sets CF/OF when the high half is non-zero', () => {
    const { f } = run('mov eax, 0x10000\nmov ecx, 0x10000\nmul ecx');
    expect(f() & (CF | OF)).toBe(CF | OF);
  });
});

describe('shifts and rotates', () => {
  it('shl/shr/sar by 1, imm and cl with CF', () => {
    const { g, f } = run('mov rax, 0x8000000000000001\nshl rax, 1\nmov r8, rax\nmov ebx, 0x80000000\nsar ebx, 31\nmov cl, 4\nmov dx, 0x1234\nshr dx, cl');
    expect(g(8)).toBe(2n);
    expect(g(3)).toBe(0xffffffffn);
    expect(g(2) & 0xffffn).toBe(0x123n);
    expect(f() & CF).toBe(0); // last bit shifted out of 0x1234 >> 4 is bit 3 = 0
  });
  it('shift by 0 leaves flags alone', () => {
    const { f } = run('stc\nmov eax, 1\nmov cl, 0\nshl eax, cl');
    expect(f() & CF).toBe(CF);
  });
  it('rol/ror/rcl/rcr', () => {
    const { g } = run('mov al, 0x81\nrol al, 1\nmov r8, rax\nmov bl, 0x81\nror bl, 1\nclc\nmov cl, 0x80\nrcl cl, 1\nmov r9, rcx\nstc\nmov dl, 1\nrcr dl, 1');
    expect(g(8) & 0xffn).toBe(0x03n);
    expect(g(3) & 0xffn).toBe(0xc0n);
    expect(g(9) & 0xffn).toBe(0n);
    expect(g(2) & 0xffn).toBe(0x80n);
  });
  it('shld/shrd', () => {
    const { g } = run('mov rax, 0x0123456789abcdef\nmov rbx, 0xfedcba9876543210\nshld rax, rbx, 8\nmov ecx, 0x11223344\nmov edx, 0xaabbccdd\nshrd ecx, edx, 8');
    expect(g(0)).toBe(0x23456789abcdeffen);
    expect(g(1)).toBe(0xdd112233n);
  });
});

describe('bit operations', () => {
  it('bt/bts/btr/btc on registers', () => {
    const { g, f } = run('mov rax, 0x10\nbts rax, 40\nbtr rax, 4\nbtc rax, 0\nbt rax, 0');
    expect(g(0)).toBe((1n << 40n) | 1n);
    expect(f() & CF).toBe(CF);
  });
  it('bt with a register offset beyond the memory operand', () => {
    const { v } = run('mov rbx, 0x200000\nmov rcx, 100\nbts qword [rbx], rcx\nmov rdx, -1\nbts dword [rbx + 8], edx');
    expect(v.ram.bytes[0x200000 + 12]).toBe(0x10);
    expect(v.ram.bytes[0x200007]).toBe(0x80);
  });
  it('bsf/bsr/tzcnt/lzcnt/popcnt', () => {
    const { g } = run('mov rax, 0x0000100000000100\nbsf rbx, rax\nbsr rcx, rax\ntzcnt rdx, rax\nlzcnt rsi, rax\npopcnt rdi, rax\nmov r8, 77\nxor r9, r9\nbsf r8, r9');
    expect(g(3)).toBe(8n);
    expect(g(1)).toBe(44n);
    expect(g(2)).toBe(8n);
    expect(g(6)).toBe(19n);
    expect(g(7)).toBe(2n);
    expect(g(8)).toBe(77n);
  });
  it('setcc and cmovcc', () => {
    const { g } = run('mov eax, 3\ncmp eax, 5\nsetb bl\nsetg cl\nmov rdx, -1\nmov esi, 9\ncmovl edx, esi\nmov rdi, -1\ncmovg edi, esi');
    expect(g(3) & 0xffn).toBe(1n);
    expect(g(1) & 0xffn).toBe(0n);
    expect(g(2)).toBe(9n);
    expect(g(7)).toBe(0xffffffffn); // cmov r32 zero-extends even when false
  });
  it('neg and not and parity', () => {
    const { g, f } = run('mov rax, 5\nneg rax\nmov rbx, 0\nnot rbx\nmov cl, 3\ntest cl, cl');
    expect(g(0)).toBe(u64(-5n));
    expect(g(3)).toBe(u64(-1n));
    expect(f() & (PF | ZF | SF)).toBe(PF);
  });
});

describe('control flow', () => {
  it('loop, loope, loopne, jrcxz', () => {
    const { g } = run('mov rcx, 5\nxor eax, eax\nl: add eax, 1\nloop l\nmov rcx, 0\njrcxz z\nmov eax, 99\nz: mov rbx, 1');
    expect(g(0)).toBe(5n);
    expect(g(3)).toBe(1n);
  });
  it('indirect jmp/call through register and memory', () => {
    const { g } = run('lea rax, [rel t1]\njmp rax\nmov rbx, 1\nt1: lea rcx, [rel f]\nmov [0x200000], rcx\ncall qword [0x200000]\njmp done\nf: mov rdx, 42\nret\ndone:');
    expect(g(3)).toBe(0n);
    expect(g(2)).toBe(42n);
  });
  it('ret imm16 pops the extra bytes', () => {
    const { g } = run('mov r8, rsp\npush 1\npush 2\ncall f\nmov r9, rsp\njmp done\nf: ret 16\ndone:');
    expect(g(9)).toBe(g(8));
  });
});

describe('strings', () => {
  it('rep movsb / rep stosq / lodsb / DF', () => {
    const { v, g } = run(`
      mov rdi, 0x200000
      mov rax, 0x0101010101010101
      mov rcx, 4
      rep stosq
      mov rsi, 0x200000
      mov rdi, 0x201000
      mov rcx, 32
      rep movsb
      std
      mov rsi, 0x20101f
      lodsb
      cld`);
    expect(v.ram.bytes[0x201000 + 31]).toBe(1);
    expect(v.ram.bytes[0x201000 + 32]).toBe(0);
    expect(g(6)).toBe(0x20101en);
    expect(g(0) & 0xffn).toBe(1n);
  });
  it('rep movs/stos a page at a time: page-crossing unaligned runs, a forward overlap repeats the pattern, #PF mid-run keeps the progress', () => {
    const { v, g } = run(`
      mov rdi, 0x200ffd            ; 5 unaligned qwords across 0x201000
      mov rax, 0x1122334455667788
      mov rcx, 600
      rep stosq
      mov rsi, 0x200ffd
      mov rdi, 0x203ffb            ; unaligned copy whose source and destination cross pages
      mov rcx, 600
      rep movsq
      mov r8, rsi
      mov r9, rdi
      mov byte [0x207000], 0xab    ; forward overlap: movsb from x to x+1 smears one byte
      mov rsi, 0x207000
      mov rdi, 0x207001
      mov rcx, 100
      rep movsb
      mov rdi, 0x208000
      mov ax, 0xbeef
      mov rcx, 3
      rep stosw`);
    const dv = v.ram.view;
    for (let k = 0; k < 600; k++) {
      expect(dv.getBigUint64(0x200ffd + 8 * k, true)).toBe(0x1122334455667788n);
      expect(dv.getBigUint64(0x203ffb + 8 * k, true)).toBe(0x1122334455667788n);
    }
    expect(dv.getUint8(0x200ffd + 4800)).toBe(0);
    expect(g(8)).toBe(BigInt(0x200ffd + 4800));
    expect(g(9)).toBe(BigInt(0x203ffb + 4800));
    for (let k = 0; k <= 100; k++) expect(v.ram.bytes[0x207000 + k]).toBe(0xab);
    expect(v.ram.bytes[0x207000 + 101]).toBe(0);
    expect([dv.getUint16(0x208000, true), dv.getUint16(0x208004, true), dv.getUint16(0x208006, true)]).toEqual([0xbeef, 0xbeef, 0]);
    expect(g(1)).toBe(0n);
    // RAM ends at 64 MiB: a rep stosq that runs into it faults with RDI/RCX at the first unwritten element.
    const m = asmMachine('mov rdi, 0x3fff000\nmov rcx, 1000\nxor eax, eax\nrep stosq\nhlt');
    runUntilHalt(m.vcpu, 100);
    expect(m.vcpu.lastException?.vector).toBe(14);
    expect(m.vcpu.getGpr(7)).toBe(0x4000000n);
    expect(m.vcpu.getGpr(1)).toBe(1000n - 512n);
  });
  it('repne scasb finds a byte; repe cmpsb stops at a difference', () => {
    const { g } = run(`
      mov byte [0x200005], 7
      mov rdi, 0x200000
      mov al, 7
      mov rcx, 100
      repne scasb
      mov r8, rcx
      mov byte [0x201003], 1
      mov rsi, 0x200000
      mov rdi, 0x201000
      mov rcx, 10
      repe cmpsb
      mov r9, rcx`);
    expect(g(8)).toBe(94n);
    expect(g(9)).toBe(6n);
  });
});

describe('flag liveness across blocks of generated code', () => {
  it('shl by cl = 0 keeps the flags of the previous add', () => {
    const { f } = run('mov eax, -1\nxor ecx, ecx\nadd eax, 1\nshl eax, cl\nnop');
    expect(f() & (CF | ZF)).toBe(CF | ZF);
  });
  it('a faulting load after a dead producer still sees its flags in the frame', () => {
    const { v } = run('mov eax, -1\nadd eax, 1\nmov rbx, 0x10000000\nmov rcx, [rbx]\nsub eax, 5');
    const sp = Number(v.getGpr(4));
    expect(v.ram.view.getUint32(sp + 24, true) & (CF | ZF)).toBe(CF | ZF); // error code, RIP, CS, RFLAGS
  });
});
