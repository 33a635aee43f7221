import { describe, expect, it } from 'vitest';
import { costPreset } from '../cost';
import type { MmioDevice } from '../devices/mmio';
import {
  LAPIC_APR, LAPIC_ESR, LAPIC_EOI, LAPIC_ICR_HI, LAPIC_ICR_LO, LAPIC_ID, LAPIC_IRR, LAPIC_ISR, LAPIC_LDR, LAPIC_LVT_TIMER,
  LAPIC_PPR, LAPIC_SVR, LAPIC_TIMER_CCR, LAPIC_TIMER_DCR, LAPIC_TIMER_ICR, LAPIC_TMR, LAPIC_TPR, LAPIC_VERSION,
} from '../devices/lapic';
import { apicvReadOutcome, apicvWriteOutcome, createApicvFastPath, isVirtualizableRead, newApicvCounters } from './apicv';

describe('APICv fast path (SDM Vol. 3C ch. 30)', () => {
  it('classifies reads, TPR/EOI writes, trapping writes and exits', () => {
    expect(apicvReadOutcome(0x20, 4)).toBe('virtualized'); // ID read
    expect(apicvReadOutcome(0x390, 4)).toBe('apic-access'); // current count: not virtualized
    expect(apicvReadOutcome(0x20, 8)).toBe('apic-access'); // wider than 32 bits
    expect(apicvWriteOutcome(0x80, 4, 0)).toBe('virtualized'); // TPR virtualization
    expect(apicvWriteOutcome(0xb0, 4, 0)).toBe('virtualized'); // EOI virtualization
    expect(apicvWriteOutcome(0x300, 4, 0)).toBe('apic-write'); // ICR low, not a self-IPI: APIC-write exit
    expect(apicvWriteOutcome(0x380, 4, 0)).toBe('apic-write'); // timer initial count
    expect(apicvWriteOutcome(0x390, 4, 0)).toBe('apic-access'); // read-only register
    expect(apicvWriteOutcome(0x80, 2, 0)).toBe('apic-access'); // not a 32-bit write
  });

  it('completes virtualized accesses on the device and asks for a trap after trapping writes', () => {
    const regs = new Map<number, bigint>();
    const lapic: MmioDevice = {
      base: 0xfee00000, size: 0x1000,
      read: (gpa) => regs.get(gpa) ?? 0n,
      write: (gpa, _s, v) => void regs.set(gpa, v),
    };
    let traps = 0;
    const counters = newApicvCounters();
    const fp = createApicvFastPath(lapic, costPreset('skylake-2020'), () => traps++, counters);
    expect(fp(0xfee00080, 4, true, 0x20n)).toBe(true);
    expect(fp(0xfee00080, 4, false, 0n)).toBe(0x20n);
    expect(fp(0xfee00300, 4, true, 0x4041n)).toBe(true);
    expect(traps).toBe(1);
    expect(fp(0xfee00390, 4, false, 0n)).toBeNull();
    expect(counters).toMatchObject({ virtualized: 3, traps: 1, exits: 1, cycles: 300 });
  });

  it('the fast path virtualizes a self-IPI and ICR high without a trap, and traps an IPI to another vCPU', () => {
    const written: [number, bigint][] = [];
    const lapic: MmioDevice = { base: 0xfee00000, size: 0x1000, read: () => 0n, write: (gpa, _s, v) => void written.push([gpa, v]) };
    let traps = 0;
    const fp = createApicvFastPath(lapic, costPreset('skylake-2020'), () => traps++, newApicvCounters());
    expect(fp(0xfee00000 + LAPIC_ICR_HI, 4, true, 1n << 24n)).toBe(true);
    expect(fp(0xfee00000 + LAPIC_ICR_LO, 4, true, BigInt((1 << 18) | 0x40))).toBe(true);
    expect(traps).toBe(0);
    expect(fp(0xfee00000 + LAPIC_ICR_LO, 4, true, 0x40n)).toBe(true);
    expect(traps).toBe(1);
    expect(written.map(([gpa]) => gpa - 0xfee00000)).toEqual([LAPIC_ICR_HI, LAPIC_ICR_LO, LAPIC_ICR_LO]);
  });
});

describe('APICv helpers (SDM Vol. 3C ch. 30)', () => {
  it('virtualizes reads of the listed registers only', () => {
    for (const off of [LAPIC_ID, LAPIC_VERSION, LAPIC_TPR, LAPIC_EOI, LAPIC_SVR, LAPIC_ISR + 0x70,
      LAPIC_TMR, LAPIC_IRR + 0x30, LAPIC_ESR, LAPIC_ICR_LO, LAPIC_LVT_TIMER, LAPIC_TIMER_ICR, LAPIC_TIMER_DCR]) {
      expect(isVirtualizableRead(off), `0x${off.toString(16)}`).toBe(true);
    }
    for (const off of [LAPIC_PPR, LAPIC_APR, 0x0c0, LAPIC_TIMER_CCR, 0x2f0, 0x400]) {
      expect(isVirtualizableRead(off), `0x${off.toString(16)}`).toBe(false);
    }
    expect(apicvReadOutcome(LAPIC_TIMER_CCR)).toBe('apic-access');
    expect(apicvReadOutcome(LAPIC_TPR)).toBe('virtualized');
  });

  it('virtualizes narrow reads inside a register but not wide or crossing ones', () => {
    expect(isVirtualizableRead(LAPIC_TPR, 1)).toBe(true);
    expect(isVirtualizableRead(LAPIC_TPR + 2, 2)).toBe(true);
    expect(isVirtualizableRead(LAPIC_TPR + 3, 2)).toBe(false);
    expect(isVirtualizableRead(LAPIC_TPR, 8)).toBe(false);
    expect(isVirtualizableRead(LAPIC_TPR + 4, 4)).toBe(false);
  });

  it('classifies writes: TPR/EOI/self-IPI without exit, others trap or fault', () => {
    expect(apicvWriteOutcome(LAPIC_TPR, 4, 0x20)).toBe('virtualized');
    expect(apicvWriteOutcome(LAPIC_EOI, 4, 0)).toBe('virtualized');
    expect(apicvWriteOutcome(LAPIC_ICR_HI, 4, 1 << 24)).toBe('virtualized');
    expect(apicvWriteOutcome(LAPIC_ICR_LO, 4, (1 << 18) | 0x40)).toBe('virtualized');
    expect(apicvWriteOutcome(LAPIC_ICR_LO, 4, (1 << 18) | 0x05)).toBe('apic-write'); // illegal vector
    expect(apicvWriteOutcome(LAPIC_ICR_LO, 4, 0x40)).toBe('apic-write'); // to another vCPU
    expect(apicvWriteOutcome(LAPIC_ICR_LO, 4, (3 << 18) | 0x40)).toBe('apic-write');
    for (const off of [LAPIC_LVT_TIMER, LAPIC_TIMER_ICR, LAPIC_TIMER_DCR, LAPIC_SVR, LAPIC_ESR, LAPIC_LDR]) {
      expect(apicvWriteOutcome(off, 4, 0), `0x${off.toString(16)}`).toBe('apic-write');
    }
    expect(apicvWriteOutcome(LAPIC_VERSION, 4, 0)).toBe('apic-access');
    expect(apicvWriteOutcome(LAPIC_TIMER_CCR, 4, 0)).toBe('apic-access');
    expect(apicvWriteOutcome(LAPIC_TPR, 1, 0)).toBe('apic-access');
  });
});
