import { describe, expect, it } from 'vitest';
import type { WalkStep } from '../events';
import {
  EPT_FAULT_MISCONFIG, EPT_FAULT_VIOLATION, EPT_R, EPT_RWX, EPT_TABLE_BASE, EPT_W, EPT_X, Ept,
  type WalkRecorder,
} from './ept';
import { GiB, MiB, PAGE_1G, PAGE_2M, PAGE_4K } from './ram';

function rec(): WalkRecorder {
  return { steps: [] as WalkStep[] };
}

describe('Ept.translate', () => {
  it('reads 4 entries for a 4 KiB leaf and records each with its host-physical address', () => {
    const ept = new Ept();
    ept.map(0x5000, 0x9000, 4096, EPT_RWX);
    const r = rec();
    expect(ept.translate(0x5abc, 'read', r, 2)).toBe(0x9abc);
    expect(ept.refs).toBe(4);
    expect(r.steps.map((s) => [s.dim, s.row, s.level, s.outcome])).toEqual([
      ['ept', 2, 4, 'next'], ['ept', 2, 3, 'next'], ['ept', 2, 2, 'next'], ['ept', 2, 1, 'leaf'],
    ]);
    expect(r.steps[3].index).toBe(5);
    for (const s of r.steps) {
      expect(s.entryAddr).toBeGreaterThanOrEqual(EPT_TABLE_BASE);
      expect(s.entryValue).toBe(ept.entryAt(s.entryAddr));
    }
    expect(r.steps[0].entryAddr).toBe(ept.rootHpa);
    expect(r.steps[3].entryValue & 0xfffff000n).toBe(0x9000n);
  });

  it('reads 3 entries through a 2 MiB leaf and 2 through a 1 GiB leaf', () => {
    const ept = new Ept();
    ept.map(0x400000, 0x800000, PAGE_2M, EPT_RWX);
    ept.map(GiB, 2 * GiB, PAGE_1G, EPT_RWX);
    expect(ept.translate(0x412345, 'write', null, 0)).toBe(0x812345);
    expect(ept.refs).toBe(3);
    expect(ept.lastPageSize).toBe(2 * MiB);
    expect(ept.translate(GiB + 0x1234567, 'fetch', null, 0)).toBe(2 * GiB + 0x1234567);
    expect(ept.refs).toBe(2);
    expect(ept.lastPageSize).toBe(GiB);
  });

  it('translates guest-physical addresses above 4 GiB', () => {
    const ept = new Ept();
    ept.map(0x1_2345_6000, 0x3000, 4096, EPT_R);
    expect(ept.translate(0x1_2345_6010, 'read', null, 0)).toBe(0x3010);
    expect(ept.translate(0x2345_6010, 'read', null, 0)).toBe(EPT_FAULT_VIOLATION);
  });

  it('reports a not-present entry as an EPT violation at the level where the walk stopped', () => {
    const ept = new Ept();
    const r = rec();
    expect(ept.translate(0x7000, 'read', r, 0)).toBe(EPT_FAULT_VIOLATION);
    expect(ept.fault).toMatchObject({ kind: 'ept-violation', gpa: 0x7000, access: 'read', level: 4 });
    expect(ept.refs).toBe(1);
    expect(r.steps[0].outcome).toBe('not-present');
  });

  it('denies a write to a page without W and a fetch from a page without X', () => {
    const ept = new Ept();
    ept.map(0x1000, 0x1000, 4096, EPT_R | EPT_X);
    ept.map(0x2000, 0x2000, 4096, EPT_R | EPT_W);
    const r = rec();
    expect(ept.translate(0x1008, 'write', r, 0)).toBe(EPT_FAULT_VIOLATION);
    expect(ept.fault).toMatchObject({ kind: 'ept-violation', gpa: 0x1008, access: 'write', level: 1 });
    expect(r.steps[3].outcome).toBe('denied');
    expect(ept.translate(0x1008, 'fetch', null, 0)).toBe(0x1008);
    expect(ept.translate(0x2010, 'fetch', null, 0)).toBe(EPT_FAULT_VIOLATION);
    expect(ept.fault).toMatchObject({ kind: 'ept-violation', gpa: 0x2010, access: 'fetch' });
  });

  it('leaves an MMIO page unmapped, as bhyve does: every access is an EPT violation the VMM emulates', () => {
    const ept = new Ept();
    ept.markMmio(0xfee00000);
    for (const access of ['read', 'write', 'fetch'] as const) {
      const r = rec();
      expect(ept.translate(0xfee00030, access, r, 0)).toBe(EPT_FAULT_VIOLATION);
      expect(ept.fault).toMatchObject({ kind: 'mmio', gpa: 0xfee00030, access, level: 1 });
      expect(r.steps).toHaveLength(4);
      expect(r.steps.at(-1)).toMatchObject({ outcome: 'not-present', entryValue: 0x800n });
    }
    expect(ept.lookup(0xfee00000)).toMatchObject({ mmio: true, perms: 0 });
    expect(ept.setWriteProtect(0xfee00000, true)).toBe(false);
    // A page merely absent is a plain violation, not MMIO.
    expect(ept.translate(0xfed00000, 'read', null, 0)).toBe(EPT_FAULT_VIOLATION);
    expect(ept.fault.kind).toBe('ept-violation');
    expect(ept.unmap(0xfee00000)).toBe(true);
    expect(ept.lookup(0xfee00000)).toBeNull();
  });

  it('reports a misconfigured entry as an EPT fault the VMM did not cause, not as MMIO', () => {
    const ept = new Ept();
    ept.map(0x5000, 0x5000, PAGE_4K, EPT_RWX, 2); // memory type 2 is reserved (§29.3.7)
    const r = rec();
    expect(ept.translate(0x5000, 'read', r, 0)).toBe(EPT_FAULT_MISCONFIG);
    expect(ept.fault.kind).toBe('ept-violation');
    expect(r.steps.at(-1)?.outcome).toBe('reserved');
  });

  it('gives the same answer, refs and permissions with and without a recorder', () => {
    const ept = new Ept();
    ept.mapRange(0, 0, 0x10000, EPT_RWX);
    ept.map(0x200000, 0x400000, PAGE_2M, EPT_R | EPT_X);
    ept.map(PAGE_1G, 0, PAGE_1G, EPT_R | EPT_W);
    ept.markMmio(0x3000);
    ept.setWriteProtect(0x4000, true);
    const gpas = [0x10, 0x3008, 0x4010, 0x20000, 0x200010, 0x3fffff, PAGE_1G + 0x123456, 2 ** 47, 2 ** 48];
    for (const gpa of gpas) {
      for (const access of ['read', 'write', 'fetch'] as const) {
        const a = ept.translate(gpa, access, null, 0);
        const aRefs = ept.refs;
        const aPerms = ept.lastPerms;
        const aFault = { ...ept.fault };
        const r = rec();
        const b = ept.translate(gpa, access, r, 0);
        expect([b, ept.refs, r.steps.length]).toEqual([a, aRefs, aRefs]);
        if (a >= 0) expect(ept.lastPerms).toBe(aPerms);
        else expect(ept.fault).toEqual(aFault);
      }
    }
  });

  it('rejects guest-physical addresses beyond 48 bits', () => {
    const ept = new Ept();
    expect(ept.translate(2 ** 48, 'read', null, 0)).toBe(EPT_FAULT_VIOLATION);
  });
});

describe('Ept changes', () => {
  it('bumps generation on map, mapRange, unmap, markMmio and setWriteProtect, not on translate', () => {
    const ept = new Ept();
    let g = ept.generation;
    const bumped = (): boolean => {
      const changed = ept.generation !== g;
      g = ept.generation;
      return changed;
    };
    ept.map(0, 0, 4096, EPT_RWX);
    expect(bumped()).toBe(true);
    ept.mapRange(0x1000, 0x1000, 0x3000, EPT_RWX);
    expect(bumped()).toBe(true);
    ept.translate(0x10, 'write', null, 0);
    expect(bumped()).toBe(false);
    ept.setWriteProtect(0x1000, true);
    expect(bumped()).toBe(true);
    ept.setWriteProtect(0x1000, false);
    expect(bumped()).toBe(true);
    ept.markMmio(0xff000000);
    expect(bumped()).toBe(true);
    ept.unmap(0x2000);
    expect(bumped()).toBe(true);
  });

  it('write-protects a 4 KiB page and lifts the protection again', () => {
    const ept = new Ept();
    ept.map(0x3000, 0x3000, 4096, EPT_RWX);
    expect(ept.setWriteProtect(0x3000, true)).toBe(true);
    expect(ept.isWriteProtected(0x3000)).toBe(true);
    expect(ept.translate(0x3004, 'write', null, 0)).toBe(EPT_FAULT_VIOLATION);
    expect(ept.translate(0x3004, 'read', null, 0)).toBe(0x3004);
    expect(ept.lastPerms).toBe(EPT_R | EPT_X);
    expect(ept.setWriteProtect(0x3000, false)).toBe(true);
    expect(ept.isWriteProtected(0x3000)).toBe(false);
    expect(ept.translate(0x3004, 'write', null, 0)).toBe(0x3004);
  });

  it('never makes a read-only mapping writable', () => {
    const ept = new Ept();
    ept.map(0x3000, 0x3000, 4096, EPT_R);
    expect(ept.setWriteProtect(0x3000, true)).toBe(false);
    expect(ept.setWriteProtect(0x3000, false)).toBe(false);
    expect(ept.translate(0x3000, 'write', null, 0)).toBe(EPT_FAULT_VIOLATION);
  });

  it('splits a 2 MiB leaf to write-protect one page and keeps the other pages as they were', () => {
    const ept = new Ept();
    ept.map(0x200000, 0x600000, PAGE_2M, EPT_R | EPT_W);
    ept.setWriteProtect(0x205000, true);
    expect(ept.lookup(0x205000)).toMatchObject({ pageSize: 4096, hpa: 0x605000, perms: EPT_R, writeProtected: true });
    for (const p of [0x200000, 0x204000, 0x206000, 0x3ff000]) {
      expect(ept.lookup(p)).toMatchObject({ pageSize: 4096, hpa: p + 0x400000, perms: EPT_R | EPT_W, memType: 6 });
      expect(ept.translate(p + 8, 'write', null, 0)).toBe(p + 0x400008);
      expect(ept.refs).toBe(4);
    }
    expect(ept.translate(0x205008, 'write', null, 0)).toBe(EPT_FAULT_VIOLATION);
    expect(ept.translate(0x205008, 'fetch', null, 0)).toBe(EPT_FAULT_VIOLATION);
  });

  it('splits a 1 GiB leaf down to 4 KiB for one page', () => {
    const ept = new Ept();
    ept.map(0, 0, PAGE_1G, EPT_RWX);
    ept.setWriteProtect(0x12345000, true);
    expect(ept.lookup(0x12345000)).toMatchObject({ pageSize: 4096, hpa: 0x12345000, writeProtected: true });
    expect(ept.lookup(0x12200000)?.pageSize).toBe(4096);
    expect(ept.lookup(0x12400000)?.pageSize).toBe(2 * MiB);
    expect(ept.lookup(0x3ff00000)).toMatchObject({ pageSize: 2 * MiB, hpa: 0x3ff00000, perms: EPT_RWX });
    expect(ept.translate(0x3ff00010, 'write', null, 0)).toBe(0x3ff00010);
  });

  it('unmaps one 4 KiB page out of a 2 MiB leaf', () => {
    const ept = new Ept();
    ept.map(0, 0, PAGE_2M, EPT_RWX);
    expect(ept.unmap(0x1000)).toBe(true);
    expect(ept.translate(0x1000, 'read', null, 0)).toBe(EPT_FAULT_VIOLATION);
    expect(ept.translate(0x2000, 'read', null, 0)).toBe(0x2000);
    expect(ept.unmap(0x1000)).toBe(false);
  });

  it('frees the tables under a range that is remapped with a larger leaf', () => {
    const ept = new Ept();
    ept.mapRange(0, 0, 2 * MiB, EPT_RWX);
    const used = ept.tablePagesInUse;
    ept.map(0, 0x800000, PAGE_2M, EPT_R);
    expect(ept.tablePagesInUse).toBe(used - 1);
    expect(ept.translate(0x1234, 'read', null, 0)).toBe(0x801234);
  });

  it('maps 64 MiB of RAM with 16,384 4 KiB leaves in 35 table pages', () => {
    const ept = new Ept();
    ept.mapRange(0, 0, 64 * MiB, EPT_RWX);
    expect(ept.tablePagesInUse).toBe(3 + 32);
    expect(ept.translate(64 * MiB - 8, 'write', null, 0)).toBe(64 * MiB - 8);
    expect(ept.lookup(0x3fff000)?.pageSize).toBe(4096);
    expect(ept.translate(64 * MiB, 'read', null, 0)).toBe(EPT_FAULT_VIOLATION);
  });

  it('grows its table memory and keeps earlier tables intact', () => {
    const ept = new Ept(2);
    for (let i = 0; i < 40; i++) ept.map(i * GiB + 0x1000, i * 0x1000, 4096, EPT_RWX);
    for (let i = 0; i < 40; i++) expect(ept.translate(i * GiB + 0x1008, 'read', null, 0)).toBe(i * 0x1000 + 8);
    expect(ept.tablePagesInUse).toBe(1 + 1 + 40 * 2);
  });
});
