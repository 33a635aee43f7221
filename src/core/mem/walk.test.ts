import { describe, expect, it } from 'vitest';
import type { AccessKind, WalkStep } from '../events';
import { EPT_R, EPT_RWX, EPT_TABLE_BASE, EPT_W, Ept, type WalkRecorder } from './ept';
import {
  CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_SMEP, EFER_LMA, EFER_LME, EFER_NXE, PageTableBuilder,
  PF_I, PF_P, PF_RSVD, PF_U, PF_W, PTE_A, PTE_D, PTE_G, PTE_P, PTE_PS, PTE_RW, PTE_US,
} from './paging';
import { GiB, GuestRam, MiB, PAGE_1G, PAGE_2M } from './ram';
import { mapRamIdentity } from './setup';
import { gla2gpa, newWalkResult, peekGla2gpa, rightsFault, type PagingContext, type WalkResult } from './walk';

const LAPIC = 0xfee00000;
const RAM = 16 * MiB;
const TABLES = 0x10000;

interface Vm {
  ram: GuestRam;
  ept: Ept;
  pt: PageTableBuilder;
  ctx: PagingContext;
  out: WalkResult;
}

function vm(): Vm {
  const ram = new GuestRam(RAM);
  const ept = mapRamIdentity(ram, [LAPIC, 0xff000000, 0xff001000]);
  const pt = new PageTableBuilder(ram, TABLES, 0x100000);
  const ctx: PagingContext = {
    cr0: (CR0_PG | CR0_WP | 1) >>> 0,
    cr3: pt.cr3,
    cr4: CR4_PAE,
    efer: EFER_LME | EFER_LMA | EFER_NXE,
  };
  return { ram, ept, pt, ctx, out: newWalkResult() };
}

function walk(v: Vm, gla: number, access: AccessKind = 'read', cpl = 0, r: WalkRecorder | null = null): boolean {
  return gla2gpa(v.ram, v.ept, v.ctx, gla, access, cpl, v.out, r);
}

function recorded(v: Vm, gla: number, access: AccessKind = 'read', cpl = 0): WalkStep[] {
  const r: WalkRecorder = { steps: [] };
  walk(v, gla, access, cpl, r);
  return r.steps;
}

/** Guest-physical address of the guest entry read at `level` for `gla` (from a recorded walk). */
function entryGpa(v: Vm, gla: number, level: number): number {
  const s = recorded(v, gla).find((x) => x.dim === 'guest' && x.level === level);
  if (!s) throw new Error(`no guest step at level ${level}`);
  return s.entryAddr;
}

function pfCode(v: Vm): number {
  const f = v.out.fault;
  if (f?.kind !== 'pf') throw new Error(`expected #PF, got ${JSON.stringify(f)}`);
  return f.errorCode;
}

describe('gla2gpa: the 2D walk', () => {
  it('makes 24 references for a 4 KiB page: 5 rows of 4 EPT reads around 4 guest reads', () => {
    const v = vm();
    v.pt.map(0x400000, 0x123000, 4096);
    const steps = recorded(v, 0x400abc);
    expect(v.out.fault).toBeNull();
    expect(v.out.refs).toBe(24);
    expect(v.out.guestRefs).toBe(4);
    expect(steps).toHaveLength(24);
    const rows = [4, 3, 2, 1];
    const expected: [string, number, number][] = [];
    for (const row of rows) {
      for (const l of [4, 3, 2, 1]) expected.push(['ept', row, l]);
      expected.push(['guest', row, row]);
    }
    for (const l of [4, 3, 2, 1]) expected.push(['ept', 0, l]);
    expect(steps.map((s) => [s.dim, s.row, s.level])).toEqual(expected);
    const guest = steps.filter((s) => s.dim === 'guest');
    expect(guest.map((s) => s.outcome)).toEqual(['next', 'next', 'next', 'leaf']);
    expect(guest.map((s) => s.index)).toEqual([0, 0, 2, 0]);
    expect(guest[0].entryAddr).toBe(v.pt.cr3);
    for (const s of steps.filter((x) => x.dim === 'ept')) expect(s.entryAddr).toBeGreaterThanOrEqual(EPT_TABLE_BASE);
    expect(v.out).toMatchObject({ gpa: 0x123abc, hpa: 0x123abc, pageSize: 4096, writable: true, user: true });
    expect(v.out.tableCount).toBe(4);
    expect(v.out.tablePages[0]).toBe(v.pt.cr3);
    expect(v.out.tablePages.slice(1)).toEqual(v.pt.tablePages.slice(1, 4));
  });

  it('records each row\'s EPT reads for the page that holds that row\'s guest entry', () => {
    const v = vm();
    v.pt.map(0x400000, 0x123000, 4096);
    const steps = recorded(v, 0x400abc);
    for (const row of [4, 3, 2, 1]) {
      const g = steps.find((s) => s.dim === 'guest' && s.row === row);
      const leaf = steps.find((s) => s.dim === 'ept' && s.row === row && s.level === 1);
      expect(leaf?.index).toBe(((g?.entryAddr ?? 0) >>> 12) & 511);
    }
    const data = steps.filter((s) => s.row === 0);
    expect(data.at(-1)?.index).toBe(0x123);
  });

  it('makes 19 references for a 2 MiB guest page and 14 for a 1 GiB guest page', () => {
    const v = vm();
    v.pt.map(0x800000, 0x600000, PAGE_2M);
    v.pt.map(GiB, 0, PAGE_1G);
    expect(walk(v, 0x812345)).toBe(true);
    expect(v.out).toMatchObject({ gpa: 0x612345, pageSize: 2 * MiB, refs: 4 * 4 + 3, tableCount: 3 });
    expect(walk(v, GiB + 0xabcdef)).toBe(true);
    expect(v.out).toMatchObject({ gpa: 0xabcdef, pageSize: GiB, refs: 3 * 4 + 2, tableCount: 2 });
  });

  it('makes fewer EPT references when the EPT uses 2 MiB or 1 GiB leaves', () => {
    const v = vm();
    v.pt.map(0x400000, 0x123000, 4096);
    const ept2m = new Ept();
    for (let a = 0; a < RAM; a += 2 * MiB) ept2m.map(a, a, PAGE_2M, EPT_RWX);
    expect(gla2gpa(v.ram, ept2m, v.ctx, 0x400abc, 'read', 0, v.out, null)).toBe(true);
    expect(v.out.refs).toBe(5 * 3 + 4);
    expect(v.out.guestRefs).toBe(4);
    const ept1g = new Ept();
    ept1g.map(0, 0, PAGE_1G, EPT_RWX);
    expect(gla2gpa(v.ram, ept1g, v.ctx, 0x400abc, 'read', 0, v.out, null)).toBe(true);
    expect(v.out.refs).toBe(5 * 2 + 4);
    expect(v.out.guestRefs).toBe(4);
    expect(v.out.hpa).toBe(0x123abc);
  });

  it('handles upper-half canonical addresses (sign-extended numbers)', () => {
    const v = vm();
    const base = -(2 ** 47); // 0xFFFF8000_00000000
    v.pt.map(base, 0x200000, 4096);
    v.pt.map(-4096, 0x201000, 4096); // 0xFFFFFFFF_FFFFF000
    const steps = recorded(v, base + 0x10);
    expect(v.out.gpa).toBe(0x200010);
    expect(steps.filter((s) => s.dim === 'guest').map((s) => s.index)).toEqual([256, 0, 0, 0]);
    const top = recorded(v, -8);
    expect(v.out.gpa).toBe(0x201ff8);
    expect(top.filter((s) => s.dim === 'guest').map((s) => s.index)).toEqual([511, 511, 511, 511]);
    expect(walk(v, 0x7fff_ffff_f000)).toBe(false);
    expect(pfCode(v)).toBe(0);
  });

  it('reports the global bit only when CR4.PGE is set', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096, PTE_P | PTE_RW | PTE_G);
    walk(v, 0x400000);
    expect(v.out.global).toBe(false);
    v.ctx.cr4 |= CR4_PGE;
    walk(v, 0x400000);
    expect(v.out.global).toBe(true);
  });
});

describe('gla2gpa: #PF', () => {
  it('faults with P = 0 at whichever level is not present, with W/R and U/S of the access', () => {
    for (const level of [4, 3, 2, 1]) {
      const v = vm();
      v.pt.map(0x400000, 0x400000, 4096);
      v.ram.write32(entryGpa(v, 0x400000, level), 0);
      const steps = recorded(v, 0x400000, 'write', 3);
      expect(pfCode(v)).toBe(PF_W | PF_U);
      expect(v.out.fault).toMatchObject({ kind: 'pf', gla: 0x400000 });
      expect(steps.at(-1)).toMatchObject({ dim: 'guest', level, outcome: 'not-present' });
      expect(v.out.refs).toBe((5 - level) * 5);
      walk(v, 0x400000, 'read', 0);
      expect(pfCode(v)).toBe(0);
    }
  });

  it('faults on a supervisor write to a read-only page only when CR0.WP = 1', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096, PTE_P | PTE_US);
    expect(walk(v, 0x400000, 'write', 0)).toBe(false);
    expect(pfCode(v)).toBe(PF_P | PF_W);
    v.ctx.cr0 &= ~CR0_WP;
    expect(walk(v, 0x400000, 'write', 0)).toBe(true);
    expect(v.out.writable).toBe(false);
  });

  it('faults on a user write to a read-only page whatever CR0.WP is', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096, PTE_P | PTE_US);
    v.ctx.cr0 &= ~CR0_WP;
    expect(walk(v, 0x400000, 'write', 3)).toBe(false);
    expect(pfCode(v)).toBe(PF_P | PF_W | PF_U);
    expect(walk(v, 0x400000, 'read', 3)).toBe(true);
  });

  it('treats R/W = 0 in a non-leaf entry as read-only for the whole range', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096);
    const pde = entryGpa(v, 0x400000, 2);
    v.ram.write32(pde, v.ram.read32(pde) & ~PTE_RW);
    expect(walk(v, 0x400000, 'write', 0)).toBe(false);
    expect(pfCode(v)).toBe(PF_P | PF_W);
  });

  it('faults on a user access to a supervisor page, at the leaf or above it', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096, PTE_P | PTE_RW);
    expect(walk(v, 0x400000, 'read', 3)).toBe(false);
    expect(pfCode(v)).toBe(PF_P | PF_U);
    expect(walk(v, 0x400000, 'read', 0)).toBe(true);
    v.pt.map(0x401000, 0x401000, 4096);
    const pdpte = entryGpa(v, 0x401000, 3);
    v.ram.write32(pdpte, v.ram.read32(pdpte) & ~PTE_US);
    expect(walk(v, 0x401000, 'fetch', 3)).toBe(false);
    expect(pfCode(v)).toBe(PF_P | PF_U | PF_I);
  });

  it('faults on a supervisor fetch from a user page only with CR4.SMEP', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096);
    expect(walk(v, 0x400000, 'fetch', 0)).toBe(true);
    v.ctx.cr4 |= CR4_SMEP;
    expect(walk(v, 0x400000, 'fetch', 0)).toBe(false);
    expect(pfCode(v)).toBe(PF_P | PF_I);
  });

  it('faults on a fetch from an XD page when EFER.NXE = 1 (reads still work)', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096, PTE_P | PTE_RW, true);
    expect(walk(v, 0x400000, 'read', 0)).toBe(true);
    expect(v.out.executable).toBe(false);
    expect(walk(v, 0x400000, 'fetch', 0)).toBe(false);
    expect(pfCode(v)).toBe(PF_P | PF_I);
  });

  it('treats XD as a reserved bit when EFER.NXE = 0 (no I/D bit without NXE or SMEP)', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096, PTE_P | PTE_RW, true);
    v.ctx.efer &= ~EFER_NXE;
    const steps = recorded(v, 0x400000, 'read', 0);
    expect(pfCode(v)).toBe(PF_P | PF_RSVD);
    expect(steps.at(-1)?.outcome).toBe('reserved');
    walk(v, 0x400000, 'fetch', 0);
    expect(pfCode(v)).toBe(PF_P | PF_RSVD);
    v.pt.map(0x401000, 0x401000, 4096);
    expect(walk(v, 0x401000, 'fetch', 0)).toBe(true);
    expect(v.out.executable).toBe(true);
  });

  it('faults with RSVD on bits above MAXPHYADDR, PS in a PML4E and low bits of a large frame', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096);
    v.pt.map(0x800000, 0x800000, PAGE_2M);
    v.pt.map(GiB, 0, PAGE_1G);
    const pte = entryGpa(v, 0x400000, 1);
    v.ram.write32(pte + 4, 1 << (51 - 32));
    expect(walk(v, 0x400000, 'write', 3)).toBe(false);
    expect(pfCode(v)).toBe(PF_P | PF_W | PF_U | PF_RSVD);
    const pde = entryGpa(v, 0x800000, 2);
    v.ram.write32(pde, v.ram.read32(pde) | (1 << 13));
    walk(v, 0x800000);
    expect(pfCode(v)).toBe(PF_P | PF_RSVD);
    const pdpte = entryGpa(v, GiB, 3);
    v.ram.write32(pdpte, v.ram.read32(pdpte) | (1 << 20));
    walk(v, GiB);
    expect(pfCode(v)).toBe(PF_P | PF_RSVD);
    v.ram.write32(v.pt.cr3, v.ram.read32(v.pt.cr3) | PTE_PS);
    const steps = recorded(v, 0x400000);
    expect(pfCode(v)).toBe(PF_P | PF_RSVD);
    expect(steps.at(-1)).toMatchObject({ dim: 'guest', level: 4, outcome: 'reserved' });
  });
});

describe('rightsFault (for TLB hits)', () => {
  it('agrees with the walk for every mix of R/W, U/S, XD, access, CPL, CR0.WP and SMEP', () => {
    for (const flags of [0, PTE_RW, PTE_US, PTE_RW | PTE_US]) {
      for (const xd of [false, true]) {
        for (const wp of [false, true]) {
          for (const smep of [false, true]) {
            const v = vm();
            v.pt.map(0x400000, 0x400000, 4096, PTE_P | flags, xd);
            if (!wp) v.ctx.cr0 &= ~CR0_WP;
            if (smep) v.ctx.cr4 |= CR4_SMEP;
            for (const access of ['read', 'write', 'fetch'] as const) {
              for (const cpl of [0, 3]) {
                const ok = walk(v, 0x400000, access, cpl);
                const { writable, user, executable } = probe(v);
                const code = rightsFault(writable, user, executable, v.ctx, access, cpl);
                expect(code === 0).toBe(ok);
                if (!ok) expect(code).toBe(pfCode(v));
              }
            }
          }
        }
      }
    }
  });
});

/** The combined rights of 0x400000, from a walk that cannot fault (supervisor read). */
function probe(v: Vm): { writable: boolean; user: boolean; executable: boolean } {
  const out = newWalkResult();
  expect(gla2gpa(v.ram, v.ept, v.ctx, 0x400000, 'read', 0, out, null)).toBe(true);
  return { writable: out.writable, user: out.user, executable: out.executable };
}

describe('gla2gpa: accessed and dirty flags', () => {
  it('sets A in every entry used and D in the leaf only on a write, in guest RAM', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096);
    const entries = [4, 3, 2, 1].map((l) => entryGpa(v, 0x400000, l));
    for (const e of entries) expect(v.ram.read32(e) & PTE_A).toBe(PTE_A);
    expect(v.ram.read32(entries[3]) & PTE_D).toBe(0);
    expect(v.out.dirty).toBe(false);
    const steps = recorded(v, 0x400000, 'write');
    expect(v.out.dirty).toBe(true);
    expect(v.ram.read32(entries[3]) & PTE_D).toBe(PTE_D);
    for (const e of entries.slice(0, 3)) expect(v.ram.read32(e) & PTE_D).toBe(0);
    const leaf = steps.find((s) => s.dim === 'guest' && s.level === 1);
    expect(leaf?.entryValue).toBe(v.ram.read64(entries[3]));
  });

  it('sets no flag when the access faults at the leaf', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096, PTE_P | PTE_US);
    walk(v, 0x400000, 'write', 3);
    expect(v.out.fault?.kind).toBe('pf');
    const pte = v.pt.tablePages[3] + 0;
    expect(v.ram.read32(pte) & (PTE_A | PTE_D)).toBe(0);
  });

  it('ends in an EPT violation when setting A needs a write to a write-protected table page', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096);
    const pdPage = v.pt.tablePages[2];
    v.ept.setWriteProtect(pdPage, true);
    const steps = recorded(v, 0x400000);
    expect(v.out.fault).toEqual({
      kind: 'ept-violation', gpa: pdPage + 2 * 8, gla: 0x400000, access: 'write', row: 2,
    });
    expect(steps.at(-1)).toMatchObject({ dim: 'guest', level: 2, outcome: 'denied' });
    expect(v.ram.read32(pdPage + 16) & PTE_A).toBe(0);
    v.ept.setWriteProtect(pdPage, false);
    expect(walk(v, 0x400000)).toBe(true);
    v.ept.setWriteProtect(pdPage, true);
    expect(walk(v, 0x400000)).toBe(true); // A already set: nothing to write
  });

  it('ends in an EPT violation when setting D needs a write to a write-protected page table', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096);
    expect(walk(v, 0x400000, 'read')).toBe(true);
    const ptPage = v.out.tablePages[3];
    v.ept.setWriteProtect(ptPage, true);
    expect(walk(v, 0x400000, 'write')).toBe(false);
    expect(v.out.fault).toMatchObject({ kind: 'ept-violation', gpa: ptPage, access: 'write', row: 1 });
  });
});

describe('peekGla2gpa: a walk that changes nothing', () => {
  const ramCopy = (v: Vm) => new Uint8Array(v.ram.view.buffer.slice(0));

  it('lands where gla2gpa does, on 4 KiB, 2 MiB and 1 GiB guest pages mapped away from their linear address', () => {
    const v = vm();
    v.pt.map(0x4000_0000, 0x0030_5000, 4096);
    v.pt.map(0x800000, 0x600000, PAGE_2M);
    v.pt.map(2 * GiB, 0, PAGE_1G);
    for (const gla of [0x4000_0123, 0x812345, 2 * GiB + 0xabcdef]) {
      const peeked = peekGla2gpa(v.ram, v.ept, v.ctx, gla);
      expect(walk(v, gla)).toBe(true);
      expect(peeked).toBe(v.out.gpa);
    }
    expect(peekGla2gpa(v.ram, v.ept, v.ctx, 0x4000_0123)).toBe(0x0030_5123);
  });

  it('writes no accessed or dirty bit: guest RAM is byte for byte what it was, where gla2gpa sets A', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096);
    const before = ramCopy(v);
    expect(peekGla2gpa(v.ram, v.ept, v.ctx, 0x400000)).toBe(0x400000);
    expect(Buffer.compare(ramCopy(v), before)).toBe(0);
    expect(walk(v, 0x400000)).toBe(true);
    expect(Buffer.compare(ramCopy(v), before)).not.toBe(0);
  });

  it('answers through a write-protected table page whose A bit is clear, where gla2gpa exits', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096);
    v.ept.setWriteProtect(v.pt.tablePages[2], true);
    expect(peekGla2gpa(v.ram, v.ept, v.ctx, 0x400000)).toBe(0x400000);
    expect(walk(v, 0x400000)).toBe(false);
    expect(v.out.fault?.kind).toBe('ept-violation');
  });

  it('is -1 where no entry maps the address', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096);
    expect(peekGla2gpa(v.ram, v.ept, v.ctx, 0x401000)).toBe(-1);
    expect(peekGla2gpa(v.ram, v.ept, v.ctx, 0x7f00_0000_0000)).toBe(-1);
  });
});

describe('gla2gpa: EPT faults', () => {
  it('reports an EPT violation with access write on a write to a write-protected data page', () => {
    const v = vm();
    v.pt.map(0x400000, 0x300000, 4096);
    v.ept.setWriteProtect(0x300000, true);
    expect(walk(v, 0x400010, 'read')).toBe(true);
    expect(v.out.eptPerms & EPT_W).toBe(0);
    expect(walk(v, 0x400010, 'write')).toBe(false);
    expect(v.out.fault).toEqual({ kind: 'ept-violation', gpa: 0x300010, gla: 0x400010, access: 'write', row: 0 });
    expect(v.out.gpa).toBe(0x300010);
    expect(v.out.refs).toBe(24);
  });

  it('reports an EPT violation with access fetch on a fetch from a page without X', () => {
    const v = vm();
    v.pt.map(0x400000, 0x300000, 4096);
    v.ept.map(0x300000, 0x300000, 4096, EPT_R | EPT_W);
    expect(walk(v, 0x400000, 'fetch')).toBe(false);
    expect(v.out.fault).toMatchObject({ kind: 'ept-violation', gpa: 0x300000, access: 'fetch', row: 0 });
  });

  it('reports every access to the LAPIC page as mmio with its guest-physical address', () => {
    const v = vm();
    v.pt.identityMap({ limit: RAM, uncached: [LAPIC] });
    for (const access of ['read', 'write'] as const) {
      expect(walk(v, LAPIC + 0xb0, access)).toBe(false);
      expect(v.out.fault).toMatchObject({ kind: 'mmio', gpa: LAPIC + 0xb0, gla: LAPIC + 0xb0, access, row: 0 });
      expect(v.out.gpa).toBe(LAPIC + 0xb0);
    }
  });

  it('reports an EPT violation on a guest table page the EPT does not map', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096);
    const ptPage = v.pt.tablePages[3];
    v.ept.unmap(ptPage);
    const steps = recorded(v, 0x400123);
    expect(v.out.fault).toMatchObject({ kind: 'ept-violation', gpa: ptPage, access: 'read', row: 1 });
    expect(steps.at(-1)).toMatchObject({ dim: 'ept', row: 1, outcome: 'not-present' });
  });

  it('reports an EPT violation when CR3 points outside the EPT', () => {
    const v = vm();
    v.ctx.cr3 = 0x4000_0000;
    expect(walk(v, 0)).toBe(false);
    expect(v.out.fault).toMatchObject({ kind: 'ept-violation', gpa: 0x4000_0000, row: 4 });
  });
});

describe('gla2gpa: recording', () => {
  it('gives the same results with and without a recorder', () => {
    const cases: [number, AccessKind, number][] = [
      [0x400abc, 'read', 0], [0x400abc, 'write', 3], [0x401000, 'fetch', 0], [0x402000, 'read', 3],
      [0x900000, 'write', 0], [LAPIC, 'read', 0], [0x7000_0000, 'read', 0],
    ];
    const build = (): Vm => {
      const v = vm();
      v.pt.map(0x400000, 0x400000, 4096);
      v.pt.map(0x401000, 0x401000, 4096, PTE_P, true);
      v.pt.map(0x402000, 0x402000, 4096, PTE_P | PTE_RW);
      v.pt.map(0x800000, 0x800000, PAGE_2M);
      v.pt.map(LAPIC, LAPIC, 4096);
      v.ept.setWriteProtect(0x900000, true);
      return v;
    };
    const a = build();
    const b = build();
    for (const [gla, access, cpl] of cases) {
      const r: WalkRecorder = { steps: [] };
      const okA = walk(a, gla, access, cpl, r);
      const okB = walk(b, gla, access, cpl, null);
      expect(okB).toBe(okA);
      const { pageFault: _pa, eptFault: _ea, ...restA } = a.out;
      const { pageFault: _pb, eptFault: _eb, ...restB } = b.out;
      expect(restB).toEqual(restA);
      expect(r.steps.length).toBe(a.out.refs);
    }
    expect(Buffer.compare(b.ram.bytes, a.ram.bytes)).toBe(0);
  });

  it('reuses the result and fault objects across walks', () => {
    const v = vm();
    v.pt.map(0x400000, 0x400000, 4096);
    const pf = v.out.pageFault;
    const tables = v.out.tablePages;
    walk(v, 0x500000);
    expect(v.out.fault).toBe(pf);
    walk(v, 0x400000);
    expect(v.out.fault).toBeNull();
    expect(v.out.tablePages).toBe(tables);
  });
});

describe('PageTableBuilder', () => {
  it('identity-maps with 2 MiB pages except 4 KiB where asked, uncached pages with PCD|PWT', () => {
    const v = vm();
    v.pt.identityMap({ limit: RAM, small: [{ start: 0x100000, end: 0x104000 }], uncached: [LAPIC, 0xff000000] });
    walk(v, 0x100010);
    expect(v.out).toMatchObject({ gpa: 0x100010, pageSize: 4096 });
    walk(v, 0x1ff000);
    expect(v.out.pageSize).toBe(4096);
    walk(v, 0x200000);
    expect(v.out).toMatchObject({ gpa: 0x200000, pageSize: 2 * MiB });
    walk(v, RAM - 1);
    expect(v.out).toMatchObject({ gpa: RAM - 1, pageSize: 2 * MiB });
    expect(walk(v, RAM)).toBe(false);
    expect(v.out.fault?.kind).toBe('pf');
    const leaf = recorded(v, 0xff000000).find((s) => s.dim === 'guest' && s.level === 1);
    expect(Number(leaf?.entryValue ?? 0n) & 0x18).toBe(0x18);
    expect(v.out.fault?.kind).toBe('mmio');
  });

  it('refuses to map a small page inside a large one', () => {
    const v = vm();
    v.pt.map(0x200000, 0x200000, PAGE_2M);
    expect(() => v.pt.map(0x201000, 0x201000, 4096)).toThrow();
  });
});

describe('mapRamIdentity', () => {
  it('maps all RAM with 4 KiB leaves and marks MMIO pages', () => {
    const ram = new GuestRam(64 * MiB);
    const ept = mapRamIdentity(ram, [LAPIC, 0xff000000, 0xff001000]);
    expect(ept.lookup(0x3fff000)).toMatchObject({ pageSize: 4096, hpa: 0x3fff000, perms: EPT_RWX });
    expect(ept.lookup(0xff001000)?.mmio).toBe(true);
    expect(ept.lookup(64 * MiB)).toBeNull();
  });
});
