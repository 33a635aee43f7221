import { describe, expect, it } from 'vitest';
import { costPreset } from '../cost';
import { MiB, GiB, gla2gpa, newWalkResult } from '../mem';
import type { AccessKind, Strategy } from '../events';
import { InstructionCache } from './icache';
import { Vmm, cloneExitEvent } from './exitPath';
import { CODE, IORAM_BASE, TestGuest, type FakeVcpu } from '../../test/vmmTestkit';

const cost = costPreset('skylake-2020');
/** mov dword [rax], ecx */
const MOV_RAX_ECX = [0x89, 0x08];
/** mov dword [rax], edx */
const MOV_RAX_EDX = [0x89, 0x10];

function setup(strategy: Strategy = 'icache', icache = new InstructionCache({ buckets: 64, capacity: 64 })) {
  const g = new TestGuest();
  const vmm = new Vmm({ strategy, icache, cost });
  vmm.attachVm(g.vm);
  const v = g.vcpu();
  return { g, vmm, v, icache };
}

/**
 * The vCPU's own (hardware) walk of `gla`: it sets A/D bits, and a set on a table page the
 * VMM write-protected is an EPT-violation exit first (the real cost of the seed's scheme).
 */
function hwWalk(g: TestGuest, vmm: Vmm, v: FakeVcpu, gla: number, access: AccessKind) {
  const out = newWalkResult();
  for (let i = 0; i < 8; i++) {
    if (gla2gpa(g.ram, g.ept, v, gla, access, v.cpl, out, null)) return;
    const f = out.fault;
    if (f === null || f.kind !== 'ept-violation' || f.access !== 'write' || f.row === 0) return;
    vmm.handleExit(g.vm, v, g.wpExit(v, f.gpa, gla));
  }
}

/** Run the MMIO exit of the instruction at v.rip writing to IORAM + off; returns the event copy. */
function mmio(g: TestGuest, vmm: Vmm, v: FakeVcpu, off = 0) {
  v.gpr[0] = BigInt(IORAM_BASE + off);
  hwWalk(g, vmm, v, v.rip, 'fetch');
  return cloneExitEvent(vmm.handleExit(g.vm, v, g.mmioExit(v, IORAM_BASE + off)));
}

/** A guest store to RAM as the vCPU does it: exits first if the page is write-protected. */
function guestWrite(g: TestGuest, vmm: Vmm, v: FakeVcpu, gpa: number, bytes: number[]) {
  let ev = null;
  if (g.ept.isWriteProtected(gpa - (gpa % 4096))) ev = cloneExitEvent(vmm.handleExit(g.vm, v, g.wpExit(v, gpa)));
  expect(g.ept.isWriteProtected(gpa - (gpa % 4096))).toBe(false);
  g.poke(gpa, bytes);
  return ev;
}

const names = (ev: { stages: { name: string }[] }) => ev.stages.map((s) => s.name);
/** The walk's two stages' details: the guest part, then the EPT part with the pages held. */
const walkDetail = (ev: { stages: { name: string; detail?: string }[] }) => ev.stages.filter((s) => s.name === 'walk').map((s) => s.detail);
/** The walk stages' counts, for code (the details above say them in words). */
const walkCounts = (ev: { stages: { name: string; refs?: number; held?: number }[] }) => ev.stages.filter((s) => s.name === 'walk').map(({ refs, held }) => ({ refs, held }));

describe('exit path: strategy none (bhyve without the cache)', () => {
  it('walks 24 references, fetches, decodes, emulates and advances RIP', () => {
    const { g, vmm, v } = setup('none');
    g.poke(CODE, MOV_RAX_ECX);
    v.gpr[1] = 0xdeadbeefn;
    const ev = mmio(g, vmm, v, 0x10);
    expect(ev.action).toBe('resume');
    expect(names(ev)).toEqual(['exit', 'walk', 'walk', 'fetch', 'decode', 'emulate']);
    // bhyve's vm_copy_setup: 4 guest entries, each in a table page held (ptp_hold) through 4
    // EPT references, then the code page's 4 and its hold; the copy is the fetch.
    expect(walkDetail(ev)).toEqual(['4 guest refs', '20 EPT refs, 5 pages held']);
    expect(walkCounts(ev)).toEqual([{ refs: 4, held: undefined }, { refs: 20, held: 5 }]);
    expect(ev.stages[1].cycles).toBe(4 * (cost.walkRefLatency + cost.walkRefOverhead));
    expect(ev.stages[2].cycles).toBe(20 * (cost.walkRefLatency + cost.walkRefOverhead) + 5 * cost.mapPage);
    expect(ev.stages[3].cycles).toBe(cost.copyBase + 15 * cost.copyPerByte);
    expect(ev.insn).toBe('mov [rax], ecx');
    expect(ev.icache).toBeUndefined();
    expect(g.ioram.read(IORAM_BASE + 0x10, 4)).toBe(0xdeadbeefn);
    expect(v.rip).toBe(CODE + 2);
    expect(ev.cycles).toBe(ev.stages.reduce((s, x) => s + x.cycles, 0));
  });

  it('records the 2D walk steps when asked', () => {
    const { g, vmm, v } = setup('none');
    vmm.recordWalks = true;
    g.poke(CODE, MOV_RAX_ECX);
    const ev = mmio(g, vmm, v);
    expect(ev.walk).toHaveLength(24);
    expect(ev.walk!.filter((s) => s.dim === 'guest')).toHaveLength(4);
  });

  it('stops with a message naming an unsupported instruction and its address', () => {
    const { g, vmm, v } = setup('none');
    g.poke(CODE, [0x31, 0x08]); // xor [rax], ecx
    const ev = mmio(g, vmm, v);
    expect(ev.action).toBe('stop');
    expect(ev.stop?.reason).toBe('unsupported');
    expect(ev.stop?.message).toContain('xor [rax], ecx');
    expect(ev.stop?.message).toContain('0x100000');
    expect(v.rip).toBe(CODE);
  });

  it('stops as unsupported on an encoding bhyve decodes but does not emulate (80 /4)', () => {
    const { g, vmm, v } = setup('none');
    g.poke(CODE, [0x80, 0x20, 0x01]); // and byte [rax], 1
    const ev = mmio(g, vmm, v);
    expect(ev.stop?.reason).toBe('unsupported');
    expect(ev.stop?.message).toContain('and byte');
  });

  it('stops with an emulator error when verify_gla disagrees with the exit', () => {
    const { g, vmm, v } = setup('none');
    g.poke(CODE, MOV_RAX_ECX);
    v.gpr[0] = BigInt(IORAM_BASE);
    const exit = g.mmioExit(v, IORAM_BASE + 8);
    const ev = vmm.handleExit(g.vm, v, exit);
    expect(ev.stop?.reason).toBe('error');
    expect(ev.stop?.message).toContain('verify_gla');
  });

  it('leaves the other exits to the machine, charging the exit', () => {
    const { g, vmm, v } = setup('none');
    const ev = vmm.handleExit(g.vm, v, { ...g.mmioExit(v, IORAM_BASE), reason: 'hlt' });
    expect(ev.action).toBe('machine');
    expect(names(ev)).toEqual(['exit']);
  });
});

describe('exit path: fetch faults', () => {
  it('injects #PF when an instruction straddles into an unmapped page, and does not advance RIP', () => {
    const { g, vmm, v } = setup('none');
    const pt = g.newAddressSpace(false);
    const base = 0x600000;
    pt.map(base, CODE, 4096); // base+4096 unmapped
    v.cr3 = pt.cr3;
    v.rip = base + 4096 - 3;
    g.poke(CODE + 4096 - 3, [0x89, 0x88, 0x78]); // mov [rax+0x12345678], ecx cut after 3 bytes
    v.gpr[0] = BigInt(IORAM_BASE - 0x12345678);
    const ev = cloneExitEvent(vmm.handleExit(g.vm, v, g.mmioExit(v, IORAM_BASE)));
    expect(ev.action).toBe('resume');
    expect(ev.injected).toEqual({ vector: 14, errorCode: expect.any(Number), cr2: base + 4096 });
    expect(v.injected[0].vector).toBe(14);
    expect(v.rip).toBe(base + 4096 - 3);
  });

  it('does not fault when the instruction ends before the unmapped page', () => {
    const { g, vmm, v } = setup('none');
    const pt = g.newAddressSpace(false);
    const base = 0x600000;
    pt.map(base, CODE, 4096);
    v.cr3 = pt.cr3;
    v.rip = base + 4096 - 2;
    g.poke(CODE + 4096 - 2, MOV_RAX_ECX);
    const ev = mmio(g, vmm, v);
    expect(ev.action).toBe('resume');
    expect(ev.injected).toBeUndefined();
    expect(v.rip).toBe(base + 4096);
  });
});

describe('exit path: decode-assist', () => {
  it('takes the bytes from the exit: no walk, no fetch, still a decode', () => {
    const { g, vmm, v } = setup('decode-assist');
    g.poke(CODE, [0x90, 0x90]); // memory holds something else: the exit's bytes win
    v.gpr[0] = BigInt(IORAM_BASE);
    v.gpr[1] = 7n;
    const exit = g.mmioExit(v, IORAM_BASE);
    exit.insnBytes.set(MOV_RAX_ECX);
    exit.insnByteCount = 2;
    const ev = vmm.handleExit(g.vm, v, exit);
    expect(names(ev)).toEqual(['exit', 'decode', 'emulate']);
    expect(g.ioram.read(IORAM_BASE, 4)).toBe(7n);
  });
});

describe('exit path: icache (the seed)', () => {
  it('misses, inserts and write-protects, then hits and skips walk, fetch and decode', () => {
    const { g, vmm, v, icache } = setup();
    g.poke(CODE, MOV_RAX_ECX);
    const miss = mmio(g, vmm, v);
    expect(miss.icache).toBe('miss');
    expect(names(miss)).toEqual(['exit', 'icache', 'walk', 'walk', 'fetch', 'decode', 'insert', 'protect', 'emulate']);
    // The cache's cost in three parts: the lookup, the insert, and the EPT write-protection
    // of the five pages the entry depends on (code + four table pages) with one INVEPT.
    expect(miss.stages[1]).toMatchObject({ name: 'icache', cycles: cost.icacheLookup, detail: 'miss' });
    expect(miss.stages[6]).toMatchObject({ name: 'insert', cycles: cost.icacheInsert });
    expect(miss.stages[7]).toMatchObject({ name: 'protect', cycles: 5 * cost.eptProtectPage + cost.invept, detail: '5 pages + INVEPT' });
    expect(g.ept.isWriteProtected(CODE)).toBe(true);
    for (const t of g.pt.tablePages.slice(0, 1)) expect(g.ept.isWriteProtected(t)).toBe(true);
    v.rip = CODE;
    v.gpr[1] = 42n;
    const hit = mmio(g, vmm, v, 4);
    expect(hit.icache).toBe('hit');
    expect(names(hit)).toEqual(['exit', 'icache', 'emulate']);
    expect(hit.insn).toBe('mov [rax], ecx');
    expect(g.ioram.read(IORAM_BASE + 4, 4)).toBe(42n);
    expect(v.rip).toBe(CODE + 2);
    expect(icache.counters).toMatchObject({ lookups: 2, hits: 1, misses: 1, inserts: 1 });
    expect(hit.cycles).toBeLessThan(miss.cycles);
  });

  it('invalidates on a write to the code page, lifts protection, and re-decodes the new code', () => {
    const { g, vmm, v, icache } = setup();
    g.poke(CODE, MOV_RAX_ECX);
    mmio(g, vmm, v);
    const wp = guestWrite(g, vmm, v, CODE, MOV_RAX_EDX)!;
    expect(wp.action).toBe('resume');
    expect(names(wp)).toEqual(['exit', 'invalidate']);
    expect(wp.invalidated).toBe(1);
    expect(icache.size).toBe(0);
    expect(icache.counters.wpFaults).toBe(1);
    // Every page the entry held is free again.
    for (const t of g.pt.tablePages.slice(0, 4)) expect(g.ept.isWriteProtected(t)).toBe(false);
    v.rip = CODE;
    v.gpr[2] = 99n;
    const ev = mmio(g, vmm, v);
    expect(ev.icache).toBe('miss');
    expect(ev.insn).toBe('mov [rax], edx');
    expect(g.ioram.read(IORAM_BASE, 4)).toBe(99n);
  });

  it("the vCPU's A-bit update on a protected table page is a write-protect fault too", () => {
    const { g, vmm, v, icache } = setup();
    g.poke(CODE, MOV_RAX_ECX);
    mmio(g, vmm, v);
    // First execution of the next page: the hardware walk sets A in the (protected) PT page.
    v.rip = CODE + 0x1000;
    g.poke(CODE + 0x1000, MOV_RAX_ECX);
    mmio(g, vmm, v);
    expect(icache.counters.wpFaults).toBe(1);
    expect(icache.counters.invalidations).toBe(1);
    expect(icache.size).toBe(1);
  });

  it('a write elsewhere on an unprotected page costs nothing', () => {
    const { g, vmm, v } = setup();
    g.poke(CODE, MOV_RAX_ECX);
    mmio(g, vmm, v);
    expect(guestWrite(g, vmm, v, CODE + 0x3000, [1])).toBeNull();
  });

  it('straddling instruction: both code pages and both walks are protected; either page invalidates', () => {
    const { g, vmm, v, icache } = setup();
    const rip = CODE + 0x1000 - 3;
    v.rip = rip;
    g.poke(rip, [0x89, 0x88, 0x78, 0x56, 0x34, 0x12]); // mov [rax+0x12345678], ecx
    v.gpr[0] = BigInt(IORAM_BASE - 0x12345678);
    const ev = cloneExitEvent(vmm.handleExit(g.vm, v, g.mmioExit(v, IORAM_BASE)));
    expect(walkDetail(ev)).toEqual(['8 guest refs', '40 EPT refs, 10 pages held']);
    expect(walkCounts(ev)).toEqual([{ refs: 8, held: undefined }, { refs: 40, held: 10 }]);
    expect(ev.stages.find((s) => s.name === 'fetch')?.detail).toBe('15 bytes, 2 pages');
    const e = icache.peek(0, rip, v.cr3)!;
    expect(e.codePages).toBe(2);
    expect(e.pages.slice(0, 2)).toEqual([CODE, CODE + 0x1000]);
    expect(g.ept.isWriteProtected(CODE + 0x1000)).toBe(true);
    expect(v.rip).toBe(rip + 6);
    guestWrite(g, vmm, v, CODE + 0x1000 + 0x800, [0]);
    expect(icache.size).toBe(0);
    expect(g.ept.isWriteProtected(CODE)).toBe(false);
  });

  it('code page that is also a page-table page: one dependency, a PTE edit invalidates', () => {
    const { g, vmm, v, icache } = setup();
    const pt = g.newAddressSpace(false);
    pt.map(0x400000, 0x500000, 4096);
    const ptPage = pt.tablePages[pt.tablePages.length - 1]; // the PT of 0x400000
    pt.map(0x401000, ptPage, 4096); // the PT page is also mapped as code
    v.cr3 = pt.cr3;
    v.rip = 0x401800; // PT entry 256: unused
    g.poke(ptPage + 0x800, MOV_RAX_ECX);
    const ev = mmio(g, vmm, v);
    expect(ev.action).toBe('resume');
    const e = icache.peek(0, 0x401800, pt.cr3)!;
    expect(e.pages[0]).toBe(ptPage);
    expect(e.pages.filter((p) => p === ptPage)).toHaveLength(1);
    expect(e.pages).toHaveLength(4); // code = PT page, PDPT, PD, PML4
    expect(icache.dependents(0, ptPage)).toBe(1);
    guestWrite(g, vmm, v, ptPage + 8 * 2, [0x07, 0x00, 0x50]); // add a PTE in the same page
    expect(icache.size).toBe(0);
    expect(g.ept.isWriteProtected(ptPage)).toBe(false);
  });

  it('one page mapped at two linear addresses: two entries, a write through either alias drops both', () => {
    const { g, vmm, v, icache } = setup();
    const pt = g.newAddressSpace(false);
    pt.map(0x400000, CODE, 4096);
    pt.map(0x7000_0000, CODE, 4096);
    v.cr3 = pt.cr3;
    g.poke(CODE, MOV_RAX_ECX);
    // The guest ran both before (its walks set the A bits before anything was protected).
    g.translate(v, 0x400000, 'fetch');
    g.translate(v, 0x7000_0000, 'fetch');
    v.rip = 0x400000;
    expect(mmio(g, vmm, v).icache).toBe('miss');
    v.rip = 0x7000_0000;
    expect(mmio(g, vmm, v).icache).toBe('miss');
    expect(icache.size).toBe(2);
    expect(icache.dependents(0, CODE)).toBe(2);
    guestWrite(g, vmm, v, g.translate(v, 0x7000_0000), MOV_RAX_EDX);
    expect(icache.size).toBe(0);
    v.rip = 0x400000;
    v.gpr[2] = 5n;
    const ev = mmio(g, vmm, v);
    expect(ev.insn).toBe('mov [rax], edx');
  });

  it('same RIP under two CR3s: separate entries with separate code', () => {
    const { g, vmm, v, icache } = setup();
    const a = g.newAddressSpace(false);
    const b = g.newAddressSpace(false);
    a.map(0x400000, CODE, 4096);
    b.map(0x400000, CODE + 0x1000, 4096);
    g.poke(CODE, MOV_RAX_ECX);
    g.poke(CODE + 0x1000, MOV_RAX_EDX);
    v.gpr[1] = 1n;
    v.gpr[2] = 2n;
    for (let round = 0; round < 2; round++) {
      v.cr3 = a.cr3;
      v.rip = 0x400000;
      expect(mmio(g, vmm, v).icache).toBe(round === 0 ? 'miss' : 'hit');
      expect(g.ioram.read(IORAM_BASE, 4)).toBe(1n);
      v.cr3 = b.cr3;
      v.rip = 0x400000;
      expect(mmio(g, vmm, v).icache).toBe(round === 0 ? 'miss' : 'hit');
      expect(g.ioram.read(IORAM_BASE, 4)).toBe(2n);
    }
    expect(icache.size).toBe(2);
  });

  it('CR3 reloaded after its tables changed: the PTE write invalidated, the new mapping is fetched', () => {
    const { g, vmm, v, icache } = setup();
    const pt = g.newAddressSpace(false);
    pt.map(0x400000, CODE, 4096);
    v.cr3 = pt.cr3;
    v.rip = 0x400000;
    g.poke(CODE, MOV_RAX_ECX);
    g.poke(CODE + 0x2000, MOV_RAX_EDX);
    mmio(g, vmm, v);
    // The guest points the PTE at another page (a write to a protected PT page), then reloads CR3.
    const ptPage = pt.tablePages[pt.tablePages.length - 1];
    const pteAddr = ptPage + 8 * 0;
    const pte = g.ram.read32(pteAddr);
    const ev = guestWrite(g, vmm, v, pteAddr, [])!;
    g.ram.write32(pteAddr, ((pte & 0xfff) | (CODE + 0x2000)) >>> 0);
    expect(ev.invalidated).toBe(1);
    expect(icache.size).toBe(0);
    v.cr3 = pt.cr3; // reload
    v.rip = 0x400000;
    v.gpr[2] = 77n;
    const again = mmio(g, vmm, v);
    expect(again.icache).toBe('miss');
    expect(again.insn).toBe('mov [rax], edx');
    expect(g.ioram.read(IORAM_BASE, 4)).toBe(77n);
  });

  it('2 MiB guest page: depends on the 4 KiB code page and 3 table pages only', () => {
    const { g, vmm, v, icache } = setup();
    const pt = g.newAddressSpace(false);
    pt.map(0x40000000, 2 * MiB, 0x200000);
    v.cr3 = pt.cr3;
    v.rip = 0x40000000 + 0x5000;
    g.poke(2 * MiB + 0x5000, MOV_RAX_ECX);
    const ev = mmio(g, vmm, v);
    expect(walkDetail(ev)).toEqual(['3 guest refs', '16 EPT refs, 4 pages held']);
    expect(walkCounts(ev)).toEqual([{ refs: 3, held: undefined }, { refs: 16, held: 4 }]);
    const e = icache.peek(0, v.rip - 2, pt.cr3)!;
    const pd = pt.tablePages[pt.tablePages.length - 1];
    expect(e.pages).toEqual([2 * MiB + 0x5000, pt.cr3, pt.tablePages[1], pd]);
    expect(guestWrite(g, vmm, v, 2 * MiB + 0x6000, [1])).toBeNull(); // same 2 MiB page, other 4 KiB
    expect(icache.size).toBe(1);
    guestWrite(g, vmm, v, 2 * MiB + 0x5ff0, [1]);
    expect(icache.size).toBe(0);
  });

  it('1 GiB guest page: depends on the code page, the PDPT and the PML4', () => {
    const { g, vmm, v, icache } = setup();
    const pt = g.newAddressSpace(false);
    pt.map(GiB, 0, 0x40000000);
    v.cr3 = pt.cr3;
    v.rip = GiB + CODE;
    g.poke(CODE, MOV_RAX_ECX);
    const ev = mmio(g, vmm, v);
    expect(walkDetail(ev)).toEqual(['2 guest refs', '12 EPT refs, 3 pages held']);
    expect(walkCounts(ev)).toEqual([{ refs: 2, held: undefined }, { refs: 12, held: 3 }]);
    expect(icache.peek(0, GiB + CODE, pt.cr3)!.pages).toEqual([CODE, ...pt.tablePages.slice(0, 2)]);
    v.rip = GiB + CODE;
    expect(mmio(g, vmm, v).icache).toBe('hit');
  });

  it('a write from another vCPU invalidates what this vCPU cached', () => {
    const { g, vmm, v } = setup();
    const v1 = g.vcpu(1);
    g.poke(CODE, MOV_RAX_ECX);
    mmio(g, vmm, v);
    const ev = guestWrite(g, vmm, v1, CODE + 1, [0x10])!; // 89 10: mov [rax], edx
    expect(ev.vcpu).toBe(1);
    v.rip = CODE;
    v.gpr[2] = 3n;
    const again = mmio(g, vmm, v);
    expect(again.icache).toBe('miss');
    expect(g.ioram.read(IORAM_BASE, 4)).toBe(3n);
    v.rip = CODE;
    expect(mmio(g, vmm, v1).icache).toBe('hit'); // shared by the VM's vCPUs
  });

  it('a full cache evicts the oldest entry (FIFO) and unprotects pages nothing else needs', () => {
    const { g, vmm, v, icache } = setup('icache', new InstructionCache({ buckets: 4, capacity: 2 }));
    const rips = [CODE, CODE + 0x1000, CODE + 0x2000];
    for (const r of rips) g.translate(v, r, 'fetch'); // the guest ran them all before
    for (const r of rips) {
      g.poke(r, MOV_RAX_ECX);
      v.rip = r;
      mmio(g, vmm, v);
    }
    expect(icache.size).toBe(2);
    expect(icache.counters.evictions).toBe(1);
    expect(icache.peek(0, CODE, v.cr3)).toBeNull();
    expect(g.ept.isWriteProtected(CODE)).toBe(false);
    expect(g.ept.isWriteProtected(CODE + 0x1000)).toBe(true);
    // The shared table pages stay protected: the remaining entries still depend on them.
    expect(g.ept.isWriteProtected(g.pt.cr3)).toBe(true);
  });

  it('a VM torn down drops its entries and every protection it held', () => {
    const { g, vmm, v, icache } = setup();
    g.poke(CODE, MOV_RAX_ECX);
    mmio(g, vmm, v);
    expect(g.ept.isWriteProtected(CODE)).toBe(true);
    expect(vmm.detachVm(0)).toBe(1);
    expect(icache.size).toBe(0);
    expect(g.ept.isWriteProtected(CODE)).toBe(false);
    expect(g.ept.isWriteProtected(g.pt.cr3)).toBe(false);
  });

  it("two VMs, same RIP and CR3 value: VM A's entry never serves VM B", () => {
    const icache = new InstructionCache({ buckets: 8, capacity: 8 });
    const a = new TestGuest(0);
    const b = new TestGuest(1);
    const vmm = new Vmm({ strategy: 'icache', icache, cost });
    vmm.attachVm(a.vm);
    vmm.attachVm(b.vm);
    const va = a.vcpu();
    const vb = b.vcpu();
    expect(va.cr3).toBe(vb.cr3);
    a.poke(CODE, MOV_RAX_ECX);
    b.poke(CODE, MOV_RAX_EDX);
    va.gpr[1] = 1n;
    vb.gpr[2] = 2n;
    mmio(a, vmm, va);
    const evb = mmio(b, vmm, vb);
    expect(evb.icache).toBe('miss');
    expect(b.ioram.read(IORAM_BASE, 4)).toBe(2n);
    expect(a.ioram.read(IORAM_BASE, 4)).toBe(1n);
  });

  it('debugBreakInvalidation serves a stale instruction (the switch the stress test uses)', () => {
    const { g, vmm, v, icache } = setup();
    icache.debugBreakInvalidation = true;
    g.poke(CODE, MOV_RAX_ECX);
    mmio(g, vmm, v);
    guestWrite(g, vmm, v, CODE, MOV_RAX_EDX);
    v.rip = CODE;
    v.gpr[1] = 1n;
    v.gpr[2] = 2n;
    expect(mmio(g, vmm, v).icache).toBe('hit');
    expect(g.ioram.read(IORAM_BASE, 4)).toBe(1n); // stale: the guest now says edx
  });

  it('setStrategy empties the cache and lifts its protections', () => {
    const { g, vmm, v, icache } = setup();
    g.poke(CODE, MOV_RAX_ECX);
    mmio(g, vmm, v);
    vmm.setStrategy('none');
    expect(icache.size).toBe(0);
    expect(g.ept.isWriteProtected(CODE)).toBe(false);
  });

  it('an emulated write to guest RAM (movs MMIO -> RAM) invalidates cached code on that page', () => {
    const { g, vmm, v, icache } = setup();
    g.poke(CODE, MOV_RAX_ECX);
    mmio(g, vmm, v);
    g.trackCode(CODE, 3); // translated code on the byte the copy writes
    g.trackCode(CODE + 0x200, 4); // and beside it: stays
    g.poke(CODE + 0x100, [0xa4]); // movsb: [rsi] (IORAM) -> [rdi] (the code page)
    v.rip = CODE + 0x100;
    v.gpr[6] = BigInt(IORAM_BASE);
    v.gpr[7] = BigInt(CODE);
    g.ioram.write(IORAM_BASE, 1, 0x8bn);
    const ev = cloneExitEvent(vmm.handleExit(g.vm, v, g.mmioExit(v, IORAM_BASE, 'read')));
    expect(ev.action).toBe('resume');
    expect(g.ram.bytes[CODE]).toBe(0x8b);
    expect(ev.invalidated).toBeGreaterThanOrEqual(1);
    expect(icache.peek(0, CODE, v.cr3)).toBeNull();
    expect(g.codeInvalidations).toEqual([CODE]);
  });
});
