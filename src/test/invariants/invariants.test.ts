/**
 * Every scenario ends in the same guest state and console output under every
 * strategy, and each strategy's counters are plausible for what the scenario does.
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../scenarios';
import { DEFAULT_MACHINE_CONFIG, Machine } from '../../core/machine';
import { STRATEGIES, type Counters, type Strategy } from '../../core/events';
import { captureState, diffStates, prepare, type GuestState, type Prepared } from './runner';

interface Outcome {
  state: GuestState;
  counters: Counters;
}

const prepared = new Map<string, Prepared>();
const outcomes = new Map<string, Outcome>();

function outcome(name: string, strategy: Strategy): Outcome {
  const key = `${name}/${strategy}`;
  let o = outcomes.get(key);
  if (!o) {
    let p = prepared.get(name);
    if (!p) {
      const s = SCENARIOS.find((x) => x.name === name);
      if (!s) throw new Error(`no scenario ${name}`);
      p = prepare(s.source, `${name}.s`);
      prepared.set(name, p);
    }
    const m = new Machine(p.program, { ...DEFAULT_MACHINE_CONFIG, strategy }, p.topology);
    m.runToEnd();
    o = { state: captureState(m, strategy, p.topology), counters: m.counters() };
    outcomes.set(key, o);
  }
  return o;
}

const hitRate = (c: Counters) => (c.icache.lookups === 0 ? 0 : c.icache.hits / c.icache.lookups);
const mmioExits = (c: Counters) => c.exits.byReason.mmio ?? 0;

describe('every scenario ends in the same guest state under every strategy', () => {
  for (const s of SCENARIOS) {
    describe(s.name, () => {
      it('halts normally under none (the reference)', () => {
        const ref = outcome(s.name, 'none').state;
        expect(ref.stop?.reason, `${s.name}: ${ref.stop?.message}`).toBe('halted');
        expect(ref.stop?.message ?? '', s.name).not.toMatch(/deadlock/);
        expect(ref.console.length, `${s.name} prints something`).toBeGreaterThan(0);
      });
      for (const strategy of STRATEGIES.filter((x) => x !== 'none')) {
        it(`${strategy}: all GPRs, rip, rflags of every vCPU, console and stop reason as under none`, () => {
          const diffs = diffStates(outcome(s.name, 'none').state, outcome(s.name, strategy).state);
          expect(diffs, `scenario ${s.name}, strategy ${strategy}:\n${diffs.join('\n')}`).toEqual([]);
        });
      }
    });
  }
});

describe('counters are plausible for what each scenario does', () => {
  it('lapic-microbench: the cache hits, more than 90% of lookups', () => {
    const c = outcome('lapic-microbench', 'icache').counters;
    expect(c.icache.hits).toBeGreaterThan(0);
    expect(hitRate(c), JSON.stringify(c.icache)).toBeGreaterThan(0.9);
    // Four MMIO instructions: four misses, everything else hits.
    expect(c.icache.misses, JSON.stringify(c.icache)).toBe(4);
    expect(outcome('lapic-microbench', 'none').counters.icache.lookups).toBe(0);
  });

  it('boot-cold-path: every instruction runs once, so the hit rate is about 0', () => {
    const c = outcome('boot-cold-path', 'icache').counters;
    expect(c.icache.lookups).toBeGreaterThanOrEqual(500);
    expect(hitRate(c), JSON.stringify(c.icache)).toBeLessThan(0.01);
    expect(c.icache.inserts).toBe(c.icache.misses);
  });

  for (const name of ['smc-mmio', 'pt-remap']) {
    it(`${name}: writes hit write-protected pages and invalidate cached entries`, () => {
      const c = outcome(name, 'icache').counters;
      expect(c.icache.wpFaults, JSON.stringify(c.icache)).toBeGreaterThan(0);
      expect(c.icache.invalidations, JSON.stringify(c.icache)).toBeGreaterThan(0);
      expect(c.exits.byReason['ept-violation'] ?? 0).toBeGreaterThan(0);
      // Without the cache nothing is write-protected: no such exits at all.
      expect(outcome(name, 'none').counters.exits.byReason['ept-violation'] ?? 0).toBe(0);
    });
  }

  for (const name of ['syscall-loop', 'memory-copy']) {
    it(`${name}: (almost) no MMIO exits under any strategy`, () => {
      for (const strategy of STRATEGIES) {
        const c = outcome(name, strategy).counters;
        expect(mmioExits(c), `${name} ${strategy}: ${JSON.stringify(c.exits)}`).toBeLessThanOrEqual(2);
        expect(c.exits.total, `${name} ${strategy}: ${JSON.stringify(c.exits)}`).toBeLessThan(c.retired / 100);
      }
    });
  }

  it('two-address-spaces: the same RIP under two CR3s keeps two entries that both hit', () => {
    const c = outcome('two-address-spaces', 'icache').counters;
    expect(hitRate(c), JSON.stringify(c.icache)).toBeGreaterThan(0.9);
    expect(c.icache.invalidations).toBe(0);
  });

  it('two-vms: each VM misses once per instruction, then hits (no sharing across VMs)', () => {
    const c = outcome('two-vms', 'icache').counters;
    // 3 MMIO instructions per program, cached per VM: 2 VMs x 3 = 6 misses; 2 vCPUs per VM share entries.
    expect(c.icache.misses, JSON.stringify(c.icache)).toBe(6);
    expect(hitRate(c)).toBeGreaterThan(0.99);
  });

  it('every strategy retires the same guest instructions where no timer or race is involved', () => {
    for (const name of ['lapic-microbench', 'boot-cold-path', 'smc-mmio', 'pt-remap', 'two-address-spaces', 'memory-copy', 'two-vms']) {
      const ref = outcome(name, 'none').counters.retired;
      for (const strategy of STRATEGIES) expect(outcome(name, strategy).counters.retired, `${name} ${strategy}`).toBe(ref);
    }
  });

  it('apicv removes most LAPIC exits of the microbenchmark', () => {
    const none = outcome('lapic-microbench', 'none').counters;
    const apicv = outcome('lapic-microbench', 'apicv').counters;
    expect(mmioExits(apicv), JSON.stringify(apicv.exits)).toBeLessThan(mmioExits(none) / 2);
  });
});
