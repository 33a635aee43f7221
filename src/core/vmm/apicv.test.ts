import { describe, expect, it } from 'vitest';
import { costPreset } from '../cost';
import type { MmioDevice } from '../devices/mmio';
import { APICV_EXIT, APICV_NO_EXIT, APICV_TRAP, apicvClassify, createApicvFastPath, newApicvCounters } from './apicv';

describe('APICv fast path (SDM Vol. 3C ch. 30)', () => {
  it('classifies reads, TPR/EOI writes, trapping writes and exits', () => {
    expect(apicvClassify(0x20, 4, false)).toBe(APICV_NO_EXIT); // ID read
    expect(apicvClassify(0x390, 4, false)).toBe(APICV_EXIT); // current count: not virtualized
    expect(apicvClassify(0x20, 8, false)).toBe(APICV_EXIT); // wider than 32 bits
    expect(apicvClassify(0x80, 4, true)).toBe(APICV_NO_EXIT); // TPR virtualization
    expect(apicvClassify(0xb0, 4, true)).toBe(APICV_NO_EXIT); // EOI virtualization
    expect(apicvClassify(0x300, 4, true)).toBe(APICV_TRAP); // ICR low: APIC-write exit
    expect(apicvClassify(0x380, 4, true)).toBe(APICV_TRAP); // timer initial count
    expect(apicvClassify(0x390, 4, true)).toBe(APICV_EXIT); // read-only register
    expect(apicvClassify(0x80, 2, true)).toBe(APICV_EXIT); // not a 32-bit write
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
});
