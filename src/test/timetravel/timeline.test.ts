/**
 * Time travel's contract: going back to exit k and running forward reproduces exits k+1..n and
 * the final state exactly; back one instruction likewise; the recording stays in its budget.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../scenarios';
import type { ExitEvent } from '../../core/events';
import { STRATEGIES } from '../../core/events';
import { build, checkDeterminism, fingerprint } from './determinism';

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
    // Back at the start, the first exit walks (a miss), with its walk recorded on request.
    const first = m.seekExit(0, true);
    expect(first && first.icache).toBe('miss');
    expect(first && first.walk?.length).toBe(24);
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
});
