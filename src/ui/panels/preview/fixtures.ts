/**
 * Synthetic worker frames for looking at the panels without the machine (the preview page and
 * tests). They follow the protocol's shapes and the walk's row/level rules.
 */
import type { ExitEvent, ExitReason, WalkStep } from '../../../core/events';
import { hex64 } from '../../../core/hex';
import type { Counters, IcacheEntryView, MachineView, PageView, WorkerEvent } from '../../../worker/protocol';

const EPT_BASE = 0x4_0000_0000;

/** A full 4-level guest walk of `gla` with every table reference through a 4-level EPT walk. */
export function fullWalk(gla: number, cr3 = 0x1000): WalkStep[] {
  const steps: WalkStep[] = [];
  const tables = [cr3, 0x2000, 0x3000, 0x4000];
  const dataPage = 0x10_0000 + (Math.floor(gla / 4096) % 16) * 4096;
  for (let row = 4; row >= 0; row--) {
    const gpa = row === 0 ? dataPage : tables[4 - row];
    for (let level = 4; level >= 1; level--) {
      const idx = Math.floor(gpa / 2 ** (12 + 9 * (level - 1))) % 512;
      steps.push({ dim: 'ept', row, level, index: idx, entryAddr: EPT_BASE + (4 - level) * 0x1000 + idx * 8,
        entryValue: level === 1 ? BigInt(Math.floor(gpa / 4096) * 4096) | 0x37n : BigInt(EPT_BASE + (5 - level) * 0x1000) | 0x7n,
        outcome: level === 1 ? 'leaf' : 'next' });
    }
    if (row > 0) {
      const idx = Math.floor(gla / 2 ** (12 + 9 * (row - 1))) % 512;
      const next = row === 1 ? dataPage : tables[5 - row];
      steps.push({ dim: 'guest', row, level: row, index: idx, entryAddr: gpa + idx * 8,
        entryValue: BigInt(next) | (row === 1 ? 0x61n : 0x23n), outcome: row === 1 ? 'leaf' : 'next' });
    }
  }
  return steps;
}

const INSNS = ['mov dword [rax+0x380], ecx', 'mov eax, dword [rbx+0x390]', 'mov dword [rax+0xb0], 0', 'add dword [rdi], 1'];

export function makeExit(seq: number, hit: boolean, reason: ExitReason = 'mmio', withWalk = true): ExitEvent {
  const rip = 0x100000 + (seq % 4) * 7;
  if (reason === 'ept-violation') {
    return { seq, vm: 0, vcpu: 0, reason, rip: 0x100040, cr3: 0x1000, gla: 0x100000, gpa: 0x100000, access: 'write', retired: seq * 50,
      stages: [{ name: 'exit', cycles: 1200 }, { name: 'invalidate', cycles: 450, detail: '2 entries' }, { name: 'emulate', cycles: 180 }],
      cycles: 1830, invalidated: 2, insn: 'mov byte [rip-0x40], 0x90' };
  }
  const stages = hit
    ? [{ name: 'exit' as const, cycles: 1200 }, { name: 'icache' as const, cycles: 60, detail: 'hit' }, { name: 'emulate' as const, cycles: 240 }]
    : [{ name: 'exit' as const, cycles: 1200 }, { name: 'icache' as const, cycles: 60, detail: 'miss' }, { name: 'walk' as const, cycles: 120, detail: '4 guest refs', refs: 4 },
      { name: 'walk' as const, cycles: 2000, detail: '20 EPT refs, 5 pages held', refs: 20, held: 5 }, { name: 'fetch' as const, cycles: 55 }, { name: 'decode' as const, cycles: 600, detail: '6 bytes' }, { name: 'emulate' as const, cycles: 240 }];
  return {
    seq, vm: 0, vcpu: 0, reason, rip, cr3: 0x1000, gla: 0xfee00380, gpa: 0xfee00380, access: 'write', retired: seq * 50,
    stages, cycles: stages.reduce((a, s) => a + s.cycles, 0), icache: hit ? 'hit' : 'miss', insn: INSNS[seq % 4],
    walk: !hit && withWalk ? fullWalk(rip) : undefined,
  };
}

export function makePages(n = 2048): PageView[] {
  const pages: PageView[] = [];
  for (let i = 0; i < n; i++) {
    const gpa = i * 4096;
    const role = i < 16 ? 'firmware' : i < 20 ? 'pagetable' : i >= 256 && i < 272 ? 'code' : i >= 272 && i < 300 ? 'data' : i >= 500 && i < 504 ? 'stack' : 'free';
    pages.push({ vm: 0, gpa, role, writeProtected: role === 'code' && i < 258 || role === 'pagetable' && i < 20 });
  }
  pages.push({ vm: 0, gpa: 0xfee00000, role: 'mmio', writeProtected: false });
  pages.push({ vm: 0, gpa: 0xff000000, role: 'mmio', writeProtected: false }, { vm: 0, gpa: 0xff001000, role: 'mmio', writeProtected: false });
  return pages;
}

export function makeIcache(hits: number, drop = false): IcacheEntryView[] {
  const out: IcacheEntryView[] = [];
  for (let i = 0; i < 4; i++) {
    if (drop && i === 1) continue;
    out.push({ vm: 0, rip: 0x100000 + i * 7, cr3: 0x1000, bucket: (i * 37) % 64, bytes: '89 88 80 03 00 00', insn: INSNS[i], hits: hits + i * 3, age: i, pages: [0x100000, 0x1000, 0x2000, 0x3000, 0x4000] });
  }
  return out;
}

export function makeCounters(n: number, hits: number): Counters {
  return {
    retired: n * 50,
    exits: { total: n, byReason: { mmio: n - 1, 'ept-violation': 1 } },
    icache: { lookups: n, hits, misses: n - hits, inserts: n - hits, evictions: 0, invalidations: 2, wpFaults: 1 },
    cycles: { total: n * 50 + n * 1500 + (n - hits) * 3350, guest: n * 50, exit: n * 1200, walk: (n - hits) * 2400, fetch: (n - hits) * 350, decode: (n - hits) * 600, emulate: n * 240, device: 0, icache: n * 60, lookup: n * 60, insert: 0, protect: 0, invalidate: 0 },
    apicv: { virtualized: 0, cycles: 0 },
    hostNsPerExit: 850,
  };
}

export function makeView(hits: number, drop = false): MachineView {
  const hex = (v: number) => hex64(v, 16);
  return {
    vcpus: [0, 1].map((vcpu) => ({
      vm: 0, vcpu, halted: vcpu === 1, retired: hits * 50,
      regs: { rax: hex(0xfee00000), rcx: hex(hits), rdx: hex(0), rbx: hex(0x380), rsp: hex(0x1ff000), rbp: hex(0), rsi: hex(0), rdi: hex(0),
        r8: hex(0), r9: hex(0), r10: hex(0), r11: hex(0), r12: hex(0), r13: hex(0), r14: hex(0), r15: hex(0),
        rip: hex(0x100000 + (hits % 4) * 7), rflags: hex(hits % 2 ? 0x246 : 0x202), cr0: hex(0x80010033), cr2: hex(0), cr3: hex(0x1000), cr4: hex(0xa0), efer: hex(0xd01) },
      lapic: [{ name: 'ID', offset: 0x20, value: 0 }, { name: 'TPR', offset: 0x80, value: hits & 0xff }, { name: 'SVR', offset: 0xf0, value: 0x1ff }, { name: 'LVT_TIMER', offset: 0x320, value: 0x20020 }],
      line: vcpu === 0 ? 3 : null,
    })),
    icache: makeIcache(hits, drop),
    buckets: Array.from({ length: 64 }, (_, i) => ([0, 37 % 64, 74 % 64, 111 % 64].includes(i) ? 1 : 0) + (i === 5 ? 3 : 0)),
    pages: makePages(),
    lines: [],
    console: 'exitscope lapic demo\nTPR writes: ' + hits + '\n',
  };
}

/** A frame event with `exits` in it. */
export function makeFrame(exits: ExitEvent[], n: number, hits: number, running = false, drop = false): WorkerEvent {
  return { type: 'frame', running, counters: makeCounters(n, hits), exits, droppedExits: 0, view: makeView(hits, drop), stop: null };
}
