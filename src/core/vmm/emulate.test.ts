import { describe, expect, it } from 'vitest';
import { costPreset } from '../cost';
import type { AccessKind } from '../events';
import { InstructionCache } from './icache';
import { Vmm } from './exitPath';
import { getaddflags, getcc, PSL_AF, PSL_C, PSL_D, PSL_N, PSL_PF, PSL_V, PSL_Z, RFLAGS_STATUS_BITS } from './emulate';
import { CODE, IORAM_BASE, STACK_TOP, TestGuest, type FakeVcpu } from '../../test/vmmTestkit';

const M = IORAM_BASE;
const RAX = 0, RCX = 1, RDX = 2, RSP = 4, RSI = 6, RDI = 7;

/** One MMIO exit of `bytes` at CODE with rdx = IORAM_BASE (the base of most cases). */
function run(bytes: number[], setup: (v: FakeVcpu, g: TestGuest) => void = () => {}, gla = M, access: AccessKind = 'write') {
  const g = new TestGuest();
  const vmm = new Vmm({ strategy: 'none', icache: new InstructionCache(), cost: costPreset('nehalem-2014') });
  vmm.attachVm(g.vm);
  const v = g.vcpu();
  g.poke(CODE, bytes);
  v.gpr[RDX] = BigInt(M);
  setup(v, g);
  const ev = vmm.handleExit(g.vm, v, g.mmioExit(v, gla, access));
  expect(ev.stop?.message).toBeUndefined();
  return { g, v, ev, vmm, flags: v.rflags & RFLAGS_STATUS_BITS };
}
const mem = (g: TestGuest, size: 1 | 2 | 4 | 8, off = 0) => g.ioram.read(M + off, size);

describe('emulate_mov (88/89/8A/8B, A1/A3, C6/C7)', () => {
  it('88/r: mov [rdx], cl; ah without REX; sil with REX', () => {
    expect(mem(run([0x88, 0x0a], (v) => (v.gpr[RCX] = 0x1234n)).g, 1)).toBe(0x34n);
    expect(mem(run([0x88, 0x22], (v) => (v.gpr[RAX] = 0xbeefn)).g, 1)).toBe(0xben); // ah
    expect(mem(run([0x40, 0x88, 0x32], (v) => (v.gpr[RSI] = 0x77n)).g, 1)).toBe(0x77n); // sil
  });
  it('89/r at 16, 32 and 64 bits writes only the operand size', () => {
    const val = 0x1122334455667788n;
    for (const [pfx, size, want] of [[[0x66], 2, 0x7788n], [[], 4, 0x55667788n], [[0x48], 8, val]] as const) {
      const { g, v } = run([...pfx, 0x89, 0x0a], (vv, gg) => { vv.gpr[RCX] = val; gg.ioram.write(M, 8, -1n); });
      expect(mem(g, size)).toBe(want);
      if (size < 8) expect(mem(g, 1, size)).toBe(0xffn);
      expect(v.rip).toBe(CODE + 2 + pfx.length);
    }
  });
  it('8A/r: mov cl, [rdx] merges; mov ah, [rdx] writes bits 15:8', () => {
    const a = run([0x8a, 0x0a], (v, g) => { v.gpr[RCX] = 0xffffn; g.ioram.write(M, 1, 0x12n); });
    expect(a.v.gpr[RCX]).toBe(0xff12n);
    const b = run([0x8a, 0x22], (v, g) => { v.gpr[RAX] = 0x1111n; g.ioram.write(M, 1, 0xabn); });
    expect(b.v.gpr[RAX]).toBe(0xab11n);
  });
  it('8B/r: 16-bit merges, 32-bit zero-extends, 64-bit replaces', () => {
    const init = (v: FakeVcpu, g: TestGuest) => { v.gpr[RCX] = 0xffffffffffffffffn; g.ioram.write(M, 8, 0x8877665544332211n); };
    expect(run([0x66, 0x8b, 0x0a], init).v.gpr[RCX]).toBe(0xffffffffffff2211n);
    expect(run([0x8b, 0x0a], init).v.gpr[RCX]).toBe(0x44332211n);
    expect(run([0x48, 0x8b, 0x0a], init).v.gpr[RCX]).toBe(0x8877665544332211n);
  });
  it('A1/A3 with a 64-bit moffset', () => {
    const addr = [0x00, 0x00, 0x00, 0xff, 0, 0, 0, 0]; // IORAM_BASE
    const r = run([0x48, 0xa1, ...addr], (_v, g) => g.ioram.write(M, 8, 0x0102030405060708n), M, 'read');
    expect(r.v.gpr[RAX]).toBe(0x0102030405060708n);
    expect(r.v.rip).toBe(CODE + 10);
    expect(mem(run([0xa3, ...addr], (v) => (v.gpr[RAX] = 0xcafef00dn)).g, 4)).toBe(0xcafef00dn);
  });
  it('C6/C7: immediates, sign-extended to 64 with REX.W', () => {
    expect(mem(run([0xc6, 0x02, 0xab]).g, 1)).toBe(0xabn);
    expect(mem(run([0x66, 0xc7, 0x02, 0x34, 0x12]).g, 2)).toBe(0x1234n);
    expect(mem(run([0xc7, 0x02, 0x78, 0x56, 0x34, 0x12]).g, 4)).toBe(0x12345678n);
    expect(mem(run([0x48, 0xc7, 0x02, 0xff, 0xff, 0xff, 0xff]).g, 8)).toBe(0xffffffffffffffffn);
  });
  it('uses a RIP-relative operand and a SIB with index and scale', () => {
    // mov [rip + disp32], ecx from code mapped at 0xfeff0000, 64 KiB below IORAM
    const rr = run([0x90], (v, g) => {
      const pt = g.newAddressSpace(false);
      pt.map(0xfeff0000, CODE, 4096);
      v.cr3 = pt.cr3;
      v.rip = 0xfeff0000;
      const disp = M + 0x20 - (0xfeff0000 + 6);
      g.poke(CODE, [0x89, 0x0d, disp & 0xff, (disp >>> 8) & 0xff, (disp >>> 16) & 0xff, (disp >>> 24) & 0xff]);
      v.gpr[RCX] = 9n;
    }, M + 0x20);
    expect(mem(rr.g, 4, 0x20)).toBe(9n);
    expect(rr.v.rip).toBe(0xfeff0006);
    // mov [rdx + rsi*4 + 8], ecx
    const r = run([0x89, 0x4c, 0xb2, 0x08], (v) => { v.gpr[RSI] = 3n; v.gpr[RCX] = 5n; }, M + 20);
    expect(mem(r.g, 4, 20)).toBe(5n);
  });
});

describe('emulate_movx (0F B6/B7/BE)', () => {
  const init = (b: bigint) => (v: FakeVcpu, g: TestGuest) => { v.gpr[RCX] = 0xffffffffffffffffn; g.ioram.write(M, 2, b); };
  it('movzx r32/r64/r16 from m8 and m16', () => {
    expect(run([0x0f, 0xb6, 0x0a], init(0x80n), M, 'read').v.gpr[RCX]).toBe(0x80n);
    expect(run([0x48, 0x0f, 0xb6, 0x0a], init(0x80n), M, 'read').v.gpr[RCX]).toBe(0x80n);
    expect(run([0x66, 0x0f, 0xb6, 0x0a], init(0x80n), M, 'read').v.gpr[RCX]).toBe(0xffffffffffff0080n);
    expect(run([0x0f, 0xb7, 0x0a], init(0x8000n), M, 'read').v.gpr[RCX]).toBe(0x8000n);
  });
  it('movsx r32/r64/r16 from m8', () => {
    expect(run([0x0f, 0xbe, 0x0a], init(0x80n), M, 'read').v.gpr[RCX]).toBe(0xffffff80n);
    expect(run([0x48, 0x0f, 0xbe, 0x0a], init(0x80n), M, 'read').v.gpr[RCX]).toBe(0xffffffffffffff80n);
    expect(run([0x66, 0x0f, 0xbe, 0x0a], init(0x7fn), M, 'read').v.gpr[RCX]).toBe(0xffffffffffff007fn);
  });
});

describe('arithmetic and logic with RFLAGS (SDM Vol. 1 §3.4.3.1)', () => {
  const rm = (rcx: bigint, m: bigint, size: 1 | 2 | 4 | 8 = 8) => (v: FakeVcpu, g: TestGuest) => {
    v.gpr[RCX] = rcx;
    g.ioram.write(M, size, m);
    v.rflags = 0x2 | RFLAGS_STATUS_BITS; // every status flag set before: each must be recomputed
  };
  it('add 03/r: carry, zero, parity, adjust at 32 bits; overflow at 64 bits', () => {
    const a = run([0x03, 0x0a], rm(0xffffffffn, 1n, 4), M, 'read');
    expect(a.v.gpr[RCX]).toBe(0n);
    expect(a.flags).toBe(PSL_C | PSL_Z | PSL_PF | PSL_AF);
    const b = run([0x48, 0x03, 0x0a], rm(0x7fffffffffffffffn, 1n), M, 'read');
    expect(b.v.gpr[RCX]).toBe(0x8000000000000000n);
    expect(b.flags).toBe(PSL_V | PSL_N | PSL_AF | PSL_PF);
    const c = run([0x66, 0x03, 0x0a], rm(0xaaaa0001n, 2n, 2), M, 'read');
    expect(c.v.gpr[RCX]).toBe(0xaaaa0003n);
    expect(c.flags).toBe(PSL_PF);
  });
  it('sub 2B/r: borrow, sign, adjust', () => {
    const r = run([0x2b, 0x0a], rm(1n, 2n, 4), M, 'read');
    expect(r.v.gpr[RCX]).toBe(0xffffffffn);
    expect(r.flags).toBe(PSL_C | PSL_N | PSL_AF | PSL_PF);
  });
  it('or 0B/r and and 23/r: CF = OF = 0, AF = 0 (bhyve), SF/ZF/PF from the result', () => {
    const o = run([0x0b, 0x0a], rm(0xf0n, 0x0fn, 4), M, 'read');
    expect(o.v.gpr[RCX]).toBe(0xffn);
    expect(o.flags).toBe(PSL_PF);
    const a = run([0x23, 0x0a], rm(0xf0n, 0x0fn, 4), M, 'read');
    expect(a.v.gpr[RCX]).toBe(0n);
    expect(a.flags).toBe(PSL_Z | PSL_PF);
    const s = run([0x48, 0x23, 0x0a], rm(0x8000000000000001n, 0x8000000000000003n), M, 'read');
    expect(s.flags).toBe(PSL_N);
  });
  it('cmp 39/r (m - r) and 3B/r (r - m) leave both operands alone', () => {
    const a = run([0x39, 0x0a], rm(2n, 1n, 4), M, 'read');
    expect(a.flags).toBe(PSL_C | PSL_N | PSL_AF | PSL_PF);
    expect(mem(a.g, 4)).toBe(1n);
    const b = run([0x3b, 0x0a], rm(2n, 1n, 4), M, 'read');
    expect(b.flags).toBe(0);
    expect(b.v.gpr[RCX]).toBe(2n);
    const c = run([0x3b, 0x0a], rm(0x80000000n, 1n, 4), M, 'read');
    expect(c.flags).toBe(PSL_V | PSL_AF | PSL_PF);
  });
  it('group 1: 83 /1 or, 81 /4 and, 83 /7 cmp, 80 /7 cmp byte, REX.W sign-extension', () => {
    expect(mem(run([0x83, 0x0a, 0x0f], rm(0n, 0xf0n, 4)).g, 4)).toBe(0xffn);
    expect(mem(run([0x81, 0x22, 0x00, 0xff, 0x00, 0x00], rm(0n, 0x1234n, 4)).g, 4)).toBe(0x1200n);
    expect(run([0x83, 0x3a, 0xff], rm(0n, 0xffffffffn, 4), M, 'read').flags).toBe(PSL_Z | PSL_PF);
    expect(run([0x80, 0x3a, 0x05], rm(0n, 3n, 1), M, 'read').flags).toBe(PSL_C | PSL_N | PSL_AF);
    expect(mem(run([0x48, 0x83, 0x0a, 0x80], rm(0n, 1n)).g, 8)).toBe(0xffffffffffffff81n);
    const and64 = run([0x48, 0x81, 0x22, 0xff, 0xff, 0xff, 0xff], rm(0n, 0x123456789n));
    expect(mem(and64.g, 8)).toBe(0x123456789n); // imm32 -1 sign-extends to all ones
  });
  it('test F7 /0: SF from the result, CF = OF = 0', () => {
    const t = run([0xf7, 0x02, 0x00, 0x00, 0x00, 0x80], rm(0n, 0x80000000n, 4), M, 'read');
    expect(t.flags).toBe(PSL_N | PSL_PF);
    expect(mem(t.g, 4)).toBe(0x80000000n);
  });
  it('bt 0F BA /4: copies the bit to CF, offset modulo the operand size', () => {
    expect(run([0x0f, 0xba, 0x22, 0x05], rm(0n, 0x20n, 4), M, 'read').v.rflags & PSL_C).toBe(PSL_C);
    expect(run([0x0f, 0xba, 0x22, 37], rm(0n, 0x20n, 4), M, 'read').v.rflags & PSL_C).toBe(PSL_C);
    expect(run([0x48, 0x0f, 0xba, 0x22, 37], rm(0n, 0x20n), M, 'read').v.rflags & PSL_C).toBe(0);
  });
  it('getcc and getaddflags agree with a number reference at 8/16/32 bits', () => {
    const ref = (size: number, x: number, y: number, add: boolean) => {
      const bits = size * 8, m = 2 ** bits, top = 2 ** (bits - 1);
      const full = add ? x + y : x - y;
      const r = ((full % m) + m) % m;
      let f = 0;
      if (add ? full >= m : x < y) f |= PSL_C;
      let p = r & 0xff; let par = 0; while (p) { par ^= p & 1; p >>= 1; }
      if (!par) f |= PSL_PF;
      if (((x ^ y ^ r) & 0x10) !== 0) f |= PSL_AF;
      if (r === 0) f |= PSL_Z;
      if (r >= top) f |= PSL_N;
      const sx = x >= top, sy = y >= top, sr = r >= top;
      if (add ? sx === sy && sr !== sx : sx !== sy && sr !== sx) f |= PSL_V;
      return f;
    };
    for (const size of [1, 2, 4]) {
      const m = 2 ** (size * 8);
      for (let i = 0; i < 400; i++) {
        const x = Math.floor(((i * 2654435761) % 4294967296) / 4294967296 * m);
        const y = Math.floor(((i * 40503 + 7) % 65536) / 65536 * m);
        expect(getcc(size, BigInt(x), BigInt(y))).toBe(ref(size, x, y, false));
        expect(getaddflags(size, BigInt(x), BigInt(y))).toBe(ref(size, x, y, true));
      }
    }
  });
});

describe('string instructions (one iteration per exit with rep)', () => {
  it('stos AB writes eax at rdi and steps rdi by DF', () => {
    const up = run([0xab], (v) => { v.gpr[RDI] = BigInt(M); v.gpr[RAX] = 0x11223344n; });
    expect(mem(up.g, 4)).toBe(0x11223344n);
    expect(up.v.gpr[RDI]).toBe(BigInt(M + 4));
    const down = run([0x48, 0xab], (v) => { v.gpr[RDI] = BigInt(M + 8); v.gpr[RAX] = 5n; v.rflags |= PSL_D; }, M + 8);
    expect(mem(down.g, 8, 8)).toBe(5n);
    expect(down.v.gpr[RDI]).toBe(BigInt(M));
  });
  it('rep stosb restarts until rcx is 0, then advances RIP', () => {
    const g = new TestGuest();
    const vmm = new Vmm({ strategy: 'none', icache: new InstructionCache(), cost: costPreset('zen2') });
    vmm.attachVm(g.vm);
    const v = g.vcpu();
    g.poke(CODE, [0xf3, 0xaa]);
    v.gpr[RDI] = BigInt(M);
    v.gpr[RCX] = 3n;
    v.gpr[RAX] = 0x5an;
    for (let i = 0; i < 3; i++) {
      expect(v.rip).toBe(CODE);
      vmm.handleExit(g.vm, v, g.mmioExit(v, Number(v.gpr[RDI])));
    }
    expect(v.gpr[RCX]).toBe(0n);
    expect(v.rip).toBe(CODE + 2);
    expect(mem(g, 4)).toBe(0x5a5a5an);
  });
  it('movs A5: RAM -> MMIO, MMIO -> RAM, MMIO -> MMIO', () => {
    const a = run([0xa5], (v, g) => { g.ram.write32(0x300000, 0xabcdef01); v.gpr[RSI] = 0x300000n; v.gpr[RDI] = BigInt(M); });
    expect(mem(a.g, 4)).toBe(0xabcdef01n);
    expect(a.v.gpr[RSI]).toBe(0x300004n);
    const b = run([0xa5], (v, g) => { g.ioram.write(M, 4, 0x13572468n); v.gpr[RSI] = BigInt(M); v.gpr[RDI] = 0x300000n; }, M, 'read');
    expect(b.g.ram.read32(0x300000)).toBe(0x13572468);
    const c = run([0x48, 0xa5], (v, g) => { g.ioram.write(M + 0x100, 8, 0x99n); v.gpr[RSI] = BigInt(M + 0x100); v.gpr[RDI] = BigInt(M); }, M + 0x100, 'read');
    expect(mem(c.g, 8)).toBe(0x99n);
    expect(c.v.gpr[RDI]).toBe(BigInt(M + 8));
  });
});

describe('stack operations', () => {
  it('push FF /6: reads the device, writes the stack, rsp -= 8 (2 with 66)', () => {
    const p = run([0xff, 0x32], (_v, g) => g.ioram.write(M, 8, 0x1122334455667788n), M, 'read');
    expect(p.v.gpr[RSP]).toBe(BigInt(STACK_TOP - 8));
    expect(p.g.ram.read64(STACK_TOP - 8)).toBe(0x1122334455667788n);
    const w = run([0x66, 0xff, 0x32], (_v, g) => g.ioram.write(M, 2, 0xbeefn), M, 'read');
    expect(w.v.gpr[RSP]).toBe(BigInt(STACK_TOP - 2));
    expect(w.g.ram.read16(STACK_TOP - 2)).toBe(0xbeef);
  });
  it('pop 8F /0: reads the stack, writes the device, rsp += 8', () => {
    const p = run([0x8f, 0x02], (v, g) => { g.ram.write64(STACK_TOP - 8, 0x42n); v.gpr[RSP] = BigInt(STACK_TOP - 8); });
    expect(mem(p.g, 8)).toBe(0x42n);
    expect(p.v.gpr[RSP]).toBe(BigInt(STACK_TOP));
  });
  it('a push whose stack page is not mapped injects #PF and restarts', () => {
    const g = new TestGuest();
    const vmm = new Vmm({ strategy: 'none', icache: new InstructionCache(), cost: costPreset('zen2') });
    vmm.attachVm(g.vm);
    const pt = g.newAddressSpace(false);
    pt.map(CODE, CODE, 4096);
    const v = g.vcpu(0, pt);
    g.poke(CODE, [0xff, 0x32]);
    v.gpr[RDX] = BigInt(M);
    const ev = vmm.handleExit(g.vm, v, g.mmioExit(v, M, 'read'));
    expect(ev.injected).toMatchObject({ vector: 14, cr2: STACK_TOP - 8 });
    expect(v.rip).toBe(CODE);
    expect(v.gpr[RSP]).toBe(BigInt(STACK_TOP));
  });
});

describe('group 15 and what bhyve rejects', () => {
  it('clflush 0F AE /7 only checks access and advances RIP', () => {
    const r = run([0x0f, 0xae, 0x3a], () => {}, M, 'read');
    expect(r.v.rip).toBe(CODE + 3);
  });
  it.each([
    ['inc dword [rdx] (FF /0)', [0xff, 0x02]],
    ['not dword [rdx] (F7 /2)', [0xf7, 0x12]],
    ['add dword [rdx], 1 (83 /0)', [0x83, 0x02, 0x01]],
    ['or byte [rdx], 1 (80 /1)', [0x80, 0x0a, 0x01]],
  ])('%s stops the run as unsupported', (_name, bytes) => {
    const g = new TestGuest();
    const vmm = new Vmm({ strategy: 'none', icache: new InstructionCache(), cost: costPreset('zen2') });
    vmm.attachVm(g.vm);
    const v = g.vcpu();
    g.poke(CODE, bytes);
    v.gpr[RDX] = BigInt(M);
    const ev = vmm.handleExit(g.vm, v, g.mmioExit(v, M));
    expect(ev.action).toBe('stop');
    expect(ev.stop?.reason).toBe('unsupported');
    expect(v.rip).toBe(CODE);
  });
});
