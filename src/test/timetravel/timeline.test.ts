/**
 * Time travel's contract: going back to exit k and running forward reproduces exits k+1..n and
 * the final state exactly; back one instruction likewise; the recording stays in its budget.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../scenarios';
import type { ExitEvent } from '../../core/events';
import { STRATEGIES } from '../../core/events';
import { build, checkDeterminism, fingerprint } from './determinism';
import { pointExits } from '../../core/machine';

/** smc-then-remap run to its end under `icache`, recorded, with its exits and its first write-protect fault. */
function recordedWithFault() {
  const scenario = SCENARIOS.find((s) => s.name === 'smc-then-remap');
  if (!scenario) throw new Error('no smc-then-remap');
  const m = build(scenario.source, { strategy: 'icache' });
  m.attachTimeline();
  const exits: ExitEvent[] = [];
  m.onExit = (e) => exits.push(e);
  m.runToEnd();
  m.onExit = null;
  const fault = exits.find((e) => e.reason === 'ept-violation');
  if (!fault) throw new Error('no write-protect fault');
  return { m, exits, fault };
}

describe('time travel', () => {
  it('stands at exit k before the VMM handles it: k exits counted, RIP at the exiting instruction', () => {
    const m = build('_start:\n  mov rbx, LAPIC_BASE\n  mov ecx, 10\n.l:\n  mov eax, [rbx + LAPIC_ID]\n  dec ecx\n  jnz .l\n  hlt\n', { strategy: 'icache' });
    m.attachTimeline();
    const exits: ExitEvent[] = [];
    m.onExit = (e) => exits.push(e);
    m.runToEnd();
    m.onExit = null;
    const detail = m.seekExit(4, true);
    expect(m.counters().exits.total).toBe(4);
    expect(m.atPendingExit).toBe(true);
    expect(m.vcpuRegs(0, 0).rip).toBe(BigInt(exits[4].rip));
    expect(detail && detail.seq).toBe(4);
    expect(detail && detail.icache).toBe('hit');
    // The exit as the run's listener saw it: an ExitEvent, not the VMM's record (what it did next).
    expect(detail && Object.keys(detail).sort()).toEqual(Object.keys(exits[4]).filter((f) => f !== 'action' && f !== 'injected').sort());
    // Back at the start, the first exit walks (a miss), with its walk recorded on request.
    const first = m.seekExit(0, true);
    expect(first && first.icache).toBe('miss');
    expect(first && first.walk?.length).toBe(24);
  });

  it('a seek shows the exits its re-run passes: the recorded run\'s, in order, up to k', () => {
    const m = build('_start:\n  mov rbx, LAPIC_BASE\n  mov ecx, 300\n.l:\n  mov eax, [rbx + LAPIC_ID]\n  mov dword [rbx + LAPIC_TPR], 0\n  dec ecx\n  jnz .l\n  hlt\n', { strategy: 'icache', checkpointEvery: 64 });
    m.attachTimeline();
    const exits: ExitEvent[] = [];
    m.onExit = (e) => exits.push(e);
    m.runToEnd();
    m.onExit = null;
    const row = (e: Readonly<ExitEvent>) => [e.seq, e.vm, e.vcpu, e.reason, e.rip, e.gpa, e.icache, e.insn, e.cycles, e.line, e.retired].join(' ');
    const seek = (k: number) => {
      const passed: string[] = [];
      expect(m.seekExit(k, false, (e) => passed.push(row(e)))).not.toBe(false);
      return passed;
    };
    // Back from the end: a restore of the snapshot before 400 (exit 256: 4 checkpoints of 64), then exits 256..399.
    const back = seek(400);
    expect(back).toEqual(exits.slice(256, 400).map(row));
    // On from there: only the exits between.
    expect(seek(410)).toEqual(exits.slice(400, 410).map(row));
    expect(seek(256)).toEqual([]);
  });

  it('snapshots a loop that exits on every few instructions every 4 checkpoints, and one that computes long between exits at every checkpoint', () => {
    const loop = (work: number) => `_start:
  mov rbx, LAPIC_BASE
  mov edx, 200
.l:
  mov ecx, ${work}
.w:
  dec ecx
  jnz .w
  mov eax, [rbx + LAPIC_ID]
  dec edx
  jnz .l
  hlt
`;
    const snapshots = (work: number) => {
      const m = build(loop(work), { strategy: 'icache', checkpointEvery: 16 });
      const tl = m.attachTimeline();
      m.runToEnd();
      return { exits: tl.info().end, snapshots: tl.info().snapshots };
    };
    // 200 exits: checkpoints at 16, 32, ...; the first snapshot at exit 0.
    expect(snapshots(1)).toEqual({ exits: 201, snapshots: 1 + Math.floor(200 / 64) });
    expect(snapshots(1000)).toEqual({ exits: 201, snapshots: 1 + Math.floor(200 / 16) });
  });

  it("the timeline's marks per bin are the most telling mark of the exits in the bin (a fault over a miss over an interrupt over a hit)", () => {
    // Hits, and every 512 iterations a store to the code page: a write-protect fault, then a miss.
    const m = build(`_start:
  mov rbx, LAPIC_BASE
  mov edx, 3000
.l:
  mov eax, [rbx + LAPIC_ID]
  test edx, 511
  jnz .skip
  mov byte [patch], 0x90
.skip:
  dec edx
  jnz .l
  hlt
patch:
  nop
`, { strategy: 'icache' });
    const tl = m.attachTimeline();
    const marks: number[] = [];
    m.onExit = (e) => marks.push(e.reason === 'ept-violation' ? 3 : e.reason === 'interrupt-window' ? 4 : e.icache === 'hit' ? 1 : e.icache === 'miss' ? 2 : 0);
    const rank = [0, 1, 3, 4, 2];
    const expected = (bins: number, from: number, to: number) => Array.from({ length: bins }, (_, b) => {
      const span = Math.max(1, to - from);
      const bin = marks.slice(from + Math.floor((b * span) / bins), Math.min(to, from + Math.floor(((b + 1) * span) / bins)));
      return bin.reduce((best, x) => (best === 255 || rank[x] > rank[best] ? x : best), 255);
    });
    m.run(5_000); // part of the run, then all of it: the summary grows with the recording
    expect(Array.from(tl.markBins(240, 0, marks.length))).toEqual(expected(240, 0, marks.length));
    m.runToEnd();
    expect(marks.filter((x) => x === 3).length).toBeGreaterThan(3);
    for (const [bins, from, to] of [[240, 0, marks.length], [240, 1000, marks.length], [7, 300, 2900], [240, 10, 50], [1, 0, marks.length]]) {
      expect(Array.from(tl.markBins(bins, from, to)), `${bins} bins over [${from}, ${to})`).toEqual(expected(bins, from, to));
    }
  });

  it('back to where a Next exit stopped after a write-protect fault (which retires nothing): its retired count and its exit count, not the fault still to come', () => {
    const { m, fault } = recordedWithFault();
    // Next exit from the fault: it handles the fault and stops; the store that faulted runs again after.
    expect(m.seekExit(fault.seq)).not.toBe(false);
    m.run(1_000_000, { untilExit: true });
    const stood = { retired: m.retired, exits: m.counters().exits.total, shown: fingerprint(m) };
    expect(stood.exits).toBe(fault.seq + 1);
    // The first moment with that many retired is before the fault.
    expect(m.seekRetired(stood.retired)).toBe(true);
    expect(m.counters().exits.total).toBe(fault.seq);
    // Given the exit count, back to where the Next exit stood.
    expect(m.seekRetired(stood.retired, stood.exits)).toBe(true);
    expect(m.atPendingExit).toBe(false);
    expect(fingerprint(m)).toBe(stood.shown);
  });

  it('comes back to a point where the machine stood (point, seekPoint): a pending exit, after a write-protect fault, between exits', () => {
    const { m, exits, fault } = recordedWithFault();
    const stands: { how: string; go: () => void; pending: boolean }[] = [
      { how: 'at the fault, pending', go: () => { m.seekExit(fault.seq); }, pending: true },
      { how: 'a Next exit past the fault', go: () => { m.seekExit(fault.seq); m.run(1_000_000, { untilExit: true }); }, pending: false },
      { how: 'a step after exit 1', go: () => { m.seekExit(1); m.step(); }, pending: false },
    ];
    for (const { how, go, pending } of stands) {
      go();
      const p = m.point();
      const was = { shown: fingerprint(m), exits: m.counters().exits.total };
      expect('exit' in p, how).toBe(pending);
      expect(pointExits(p), how).toBe(was.exits);
      m.seekExit(exits.length); // the end
      expect(m.seekPoint(p), how).toBe(true);
      expect(m.atPendingExit, how).toBe(pending);
      expect(fingerprint(m), how).toBe(was.shown);
    }
  });

  it('filling in snapshots while idle puts one at every checkpoint, within half the budget, and every exit stands as it did', () => {
    // An exit per iteration, and RAM that changes between every two checkpoints (the count, and
    // a byte of a page chosen by it): snapshots filled in between others get their page versions.
    // A flag (read back into r10) flips at every checkpoint, so the recording's snapshots (every
    // 4th) all saw it clear: one filled in sees it set, and the recorded one after it must still
    // give it clear.
    const src = `_start:
  mov rbx, LAPIC_BASE
  mov ecx, 10000
.l:
  movzx r10, byte [flag]
  inc qword [count]
  mov rdx, [count]
  mov rsi, rdx
  shr rsi, 7
  mov [flag], sil
  and byte [flag], 1
  and rsi, 3
  shl rsi, 12
  add byte [pages + rsi], dl
  mov eax, [rbx + LAPIC_ID]
  dec ecx
  jnz .l
  movzx r9, byte [pages + 4096]
  hlt
align 4096
count: dq 0
align 4096
flag: db 0
align 4096
pages: times 16384 db 0
`;
    const m = build(src, { strategy: 'icache', checkpointEvery: 128 });
    const tl = m.attachTimeline();
    m.runToEnd();
    const end = fingerprint(m);
    const n = tl.info().end;
    const ks = [0, 1, 127, 128, 129, 512, 700, 4096, 4097, 5555, n - 1];
    const sparse = ks.map((k) => (m.seekExit(k), fingerprint(m)));
    expect(tl.info().snapshots).toBe(1 + Math.floor(n / (4 * 128)));
    // Fill from where a seek left the machine (first the checkpoints after it, then from the
    // start), 50 exits at a time as the Worker goes: each call but the last moves on.
    m.seekExit(5555);
    for (let i = 0; i < 10_000 && m.canFillSnapshot(); i++) expect(m.fillSnapshot(50)).toBe(true);
    expect(m.fillSnapshot(50)).toBe(false);
    expect(tl.info().snapshots).toBe(1 + Math.floor((n - 1) / 128));
    for (let k = 0; k < n; k += 128) expect(tl.snapshotBefore(k + 127)).toBe(k);
    expect(ks.map((k) => (m.seekExit(k), fingerprint(m)))).toEqual(sparse);
    m.seekExit(4097);
    m.runToEnd();
    expect(fingerprint(m)).toBe(end);

    // Filling stops once the recording holds half its budget: here halfway between the sparse
    // recording and the filled one.
    const sparseBytes = (() => {
      const r = build(src, { strategy: 'icache', checkpointEvery: 128 });
      const rtl = r.attachTimeline();
      r.runToEnd();
      return rtl.info().bytes;
    })();
    const small = build(src, { strategy: 'icache', checkpointEvery: 128 });
    const stl = small.attachTimeline(sparseBytes + tl.info().bytes);
    small.runToEnd();
    const before = stl.info().snapshots;
    while (small.canFillSnapshot()) expect(small.fillSnapshot()).toBe(true);
    const after = stl.info();
    expect(after.snapshots).toBeGreaterThan(before);
    expect(after.snapshots).toBeLessThan(tl.info().snapshots);
    expect(after.bytes).toBeGreaterThanOrEqual(after.budget / 2);
    expect(after.bytes).toBeLessThan(after.budget);
  });

  for (const s of SCENARIOS) {
    it(`${s.name}: back to an exit or an instruction, then forward, gives the same exits and final state under every strategy`, () => {
      const problems: string[] = [];
      for (const strategy of STRATEGIES) {
        const m = build(s.source, { strategy, maxInsns: 1_000_000 }, `${s.name}.s`);
        problems.push(...checkDeterminism(m).map((p) => `${strategy}: ${p}`));
      }
      expect(problems).toEqual([]);
    }, 120_000);
  }

  it('a 1 M-exit run stays within the memory budget, says how far back it reaches, and still goes back exactly', () => {
    const src = SCENARIOS.find((s) => s.name === 'lapic-microbench')?.source.replace(/ITERATIONS equ \d+/, 'ITERATIONS equ 250000') ?? '';
    const m = build(src, { strategy: 'icache' });
    const budget = 4 * 1024 * 1024;
    const tl = m.attachTimeline(budget);
    m.runToEnd();
    const info = tl.info();
    expect(info.end).toBeGreaterThanOrEqual(1_000_000);
    expect(info.bytes).toBeLessThanOrEqual(budget);
    const end = fingerprint(m);
    const k = info.end - 12_345;
    expect(m.seekExit(k)).not.toBe(false);
    expect(m.counters().exits.total).toBe(k);
    m.runToEnd();
    expect(fingerprint(m)).toBe(end);
    // Out of reach before the oldest snapshot kept.
    if (info.first > 0) expect(m.seekExit(info.first - 1)).toBe(false);
  }, 120_000);

  it('a run that rewrites more RAM between two snapshots than the budget holds keeps the newest alone, within the budget, and still goes back exactly', () => {
    // 12 MiB rewritten every 3,072 exits (4 KiB between APIC reads), 4 times over: every snapshot
    // (one per 4,096 exits) holds about 12 MiB of page copies, so two of them pass a 20 MiB budget.
    const src = `_start:
  cld
  mov r9d, 4
.pass:
  mov rdi, 0x800000
.chunk:
  mov ecx, 512
  mov rax, r9
  rep stosq
  mov rbx, LAPIC_BASE
  mov eax, [rbx + LAPIC_ID]
  cmp rdi, 0x1400000
  jb .chunk
  dec r9d
  jnz .pass
  hlt
`;
    const budget = 20 * 1024 * 1024;
    const m = build(src, { strategy: 'icache' });
    expect(checkDeterminism(m, { budgetBytes: budget, exits: [0, 0.5] })).toEqual([]);
    const info = m.getTimeline()!.info();
    // 12,288 reads, the hlt, and 5 write-protect faults (the CPU setting dirty bits in the page tables).
    expect(m.counters().exits.byReason).toEqual({ mmio: 12_288, 'ept-violation': 5, hlt: 1 });
    expect(info.end).toBe(12_294);
    expect(info.snapshots).toBe(1);
    expect(info.first).toBe(12_288);
    expect(info.bytes).toBeGreaterThan(12 * 1024 * 1024);
    expect(info.bytes).toBeLessThanOrEqual(budget);
  }, 60_000);
});
