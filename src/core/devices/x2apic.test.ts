/**
 * x2APIC mode of the LAPIC (SDM Vol. 3A §10.12; facts and sources in
 * shared/research/x2apic-and-fast-mmio.md): mode transitions through IA32_APIC_BASE, the MSR
 * map, the 64-bit ICR, SELF IPI, #GP cases, and the MMIO page no longer reaching the APIC.
 */
import { describe, expect, it } from 'vitest';
import { APIC_BASE_BITS, X2APIC_MSRS as M } from '../guestAbi';
import {
  type IpiDestination, LAPIC_BASE, LAPIC_ID, LAPIC_TPR, LocalApic, MSR_IA32_APIC_BASE,
} from './lapic';

const { APIC_BASE_EN: EN, APIC_BASE_EXTD: EXTD, APIC_BASE_BSP: BSP } = APIC_BASE_BITS;

function setup(apicId = 0) {
  const clock = { now: 0 };
  const ipis: [IpiDestination, number][] = [];
  const apic = new LocalApic({ apicId, clock: () => clock.now, onIpi: (d, v) => ipis.push([d, v]) });
  const base = (bits: number) => BigInt(LAPIC_BASE) | BigInt(bits);
  const toX2 = () => expect(apic.writeMsr(MSR_IA32_APIC_BASE, base(EN | EXTD))).toBe(true);
  const rdmsr = (msr: number) => apic.readMsr(msr);
  const wrmsr = (msr: number, v: bigint | number) => apic.writeMsr(msr, BigInt(v));
  return { clock, ipis, apic, base, toX2, rdmsr, wrmsr };
}

describe('IA32_APIC_BASE mode transitions (SDM §10.12.5)', () => {
  it('reads EN and BSP in the reset state (xAPIC), EN and EXTD once x2APIC is on', () => {
    const { apic, base, toX2 } = setup(0);
    expect(apic.mode).toBe('xapic');
    expect(apic.readMsr(MSR_IA32_APIC_BASE)).toBe(base(EN | BSP));
    toX2();
    expect(apic.mode).toBe('x2apic');
    expect(apic.readMsr(MSR_IA32_APIC_BASE)).toBe(base(EN | EXTD | BSP));
    expect(setup(1).apic.readMsr(MSR_IA32_APIC_BASE)).toBe(base(EN));
  });

  it('refuses x2APIC -> xAPIC and EXTD without EN; x2APIC -> disabled -> xAPIC works', () => {
    const { apic, base, toX2 } = setup();
    expect(apic.writeMsr(MSR_IA32_APIC_BASE, base(EXTD))).toBe(false);
    toX2();
    expect(apic.writeMsr(MSR_IA32_APIC_BASE, base(EN))).toBe(false);
    expect(apic.mode).toBe('x2apic');
    expect(apic.writeMsr(MSR_IA32_APIC_BASE, base(0))).toBe(true);
    expect(apic.mode).toBe('disabled');
    expect(apic.writeMsr(MSR_IA32_APIC_BASE, base(EN | EXTD))).toBe(false); // disabled -> x2APIC
    expect(apic.writeMsr(MSR_IA32_APIC_BASE, base(EN))).toBe(true);
    expect(apic.mode).toBe('xapic');
  });

  it('#GPs a write with reserved bits (7:0, 9, 63:48)', () => {
    const { apic, base } = setup();
    for (const bad of [base(EN) | 1n, base(EN) | 0x200n, base(EN) | (1n << 48n)]) {
      expect(apic.writeMsr(MSR_IA32_APIC_BASE, bad), bad.toString(16)).toBe(false);
    }
    expect(apic.mode).toBe('xapic');
  });

  it('disabling returns the registers to their reset state and accepts no interrupts', () => {
    const { apic, base, wrmsr, toX2, rdmsr } = setup();
    toX2();
    wrmsr(M.MSR_X2APIC_SVR, 0x1ff);
    wrmsr(M.MSR_X2APIC_TPR, 0x20);
    expect(apic.writeMsr(MSR_IA32_APIC_BASE, base(0))).toBe(true);
    expect(apic.acceptInterrupt(0x40)).toBe(false);
    expect(apic.writeMsr(MSR_IA32_APIC_BASE, base(EN))).toBe(true);
    expect(apic.readReg(LAPIC_TPR)).toBe(0);
    expect(apic.softwareEnabled).toBe(false);
    expect(rdmsr(M.MSR_X2APIC_TPR)).toBeNull(); // xAPIC again: the MSRs #GP
  });
});

describe('x2APIC registers through MSRs 0x800-0x8FF (SDM §10.12.1.2)', () => {
  it('#GPs every x2APIC MSR outside x2APIC mode', () => {
    const { rdmsr, wrmsr } = setup();
    expect(rdmsr(M.MSR_X2APIC_ID)).toBeNull();
    expect(wrmsr(M.MSR_X2APIC_TPR, 0x10)).toBe(false);
  });

  it('reads the 32-bit ID, the version and the LDR derived from the ID (§10.12.10.2)', () => {
    const { rdmsr, toX2 } = setup(0x13 & 0xff);
    toX2();
    expect(rdmsr(M.MSR_X2APIC_ID)).toBe(0x13n);
    expect(rdmsr(M.MSR_X2APIC_VERSION)).toBe(0x00050014n);
    expect(rdmsr(M.MSR_X2APIC_LDR)).toBe(BigInt((1 << 16) | (1 << 3)));
  });

  it('TPR, SVR and the LVTs are the same registers the MMIO page showed', () => {
    const { apic, rdmsr, wrmsr, toX2 } = setup();
    apic.write(LAPIC_BASE + LAPIC_TPR, 4, 0x30n);
    toX2();
    expect(rdmsr(M.MSR_X2APIC_TPR)).toBe(0x30n);
    expect(wrmsr(M.MSR_X2APIC_TPR, 0x50)).toBe(true);
    expect(apic.readReg(LAPIC_TPR)).toBe(0x50);
    expect(rdmsr(M.MSR_X2APIC_PPR)).toBe(0x50n);
    expect(wrmsr(M.MSR_X2APIC_SVR, 0x1ff)).toBe(true);
    expect(wrmsr(M.MSR_X2APIC_LVT_TIMER, 0x20030)).toBe(true);
    expect(rdmsr(M.MSR_X2APIC_LVT_TIMER)).toBe(0x20030n);
  });

  it('#GPs reserved addresses, read-only writes, write-only reads and reserved bits (§10.12.1.3)', () => {
    const { rdmsr, wrmsr, toX2 } = setup();
    toX2();
    expect(rdmsr(0x831)).toBeNull(); // no ICR high
    expect(rdmsr(0x80e)).toBeNull(); // no DFR
    expect(rdmsr(M.MSR_X2APIC_EOI)).toBeNull();
    expect(rdmsr(M.MSR_X2APIC_SELF_IPI)).toBeNull();
    expect(wrmsr(M.MSR_X2APIC_ID, 5)).toBe(false);
    expect(wrmsr(M.MSR_X2APIC_LDR, 5)).toBe(false);
    expect(wrmsr(M.MSR_X2APIC_EOI, 1)).toBe(false);
    expect(wrmsr(M.MSR_X2APIC_ESR, 1)).toBe(false);
    expect(wrmsr(M.MSR_X2APIC_TPR, 0x100)).toBe(false);
    expect(wrmsr(M.MSR_X2APIC_SVR, 1n << 32n)).toBe(false);
  });

  it('EOI by WRMSR of 0 ends the highest in-service interrupt', () => {
    const { apic, wrmsr, toX2 } = setup();
    toX2();
    wrmsr(M.MSR_X2APIC_SVR, 0x1ff);
    apic.acceptInterrupt(0x40);
    apic.acknowledge(0x40);
    expect(apic.isInService(0x40)).toBe(true);
    expect(wrmsr(M.MSR_X2APIC_EOI, 0)).toBe(true);
    expect(apic.isInService(0x40)).toBe(false);
    expect(apic.stats.eois).toBe(1);
  });
});

describe('x2APIC IPIs: one 64-bit ICR, SELF IPI (§10.12.9, §10.12.11)', () => {
  it('sends to a 32-bit physical destination in bits 63:32 with one WRMSR, and reads the ICR back whole', () => {
    const { ipis, rdmsr, wrmsr, toX2 } = setup();
    toX2();
    wrmsr(M.MSR_X2APIC_SVR, 0x1ff);
    const icr = (1n << 32n) | 0x41n;
    expect(wrmsr(M.MSR_X2APIC_ICR, icr)).toBe(true);
    expect(ipis).toEqual([[1, 0x41]]);
    expect(rdmsr(M.MSR_X2APIC_ICR)).toBe(icr);
  });

  it('treats destination 0xFFFFFFFF as a broadcast and ignores bit 12; #GPs reserved ICR bits', () => {
    const { apic, ipis, wrmsr, toX2 } = setup();
    toX2();
    wrmsr(M.MSR_X2APIC_SVR, 0x1ff);
    expect(wrmsr(M.MSR_X2APIC_ICR, (0xffffffffn << 32n) | 0x1000n | 0x42n)).toBe(true);
    expect(ipis).toEqual([['others', 0x42]]);
    expect(apic.isRequested(0x42)).toBe(true);
    expect(wrmsr(M.MSR_X2APIC_ICR, 0x2000n | 0x43n)).toBe(false); // bit 13 reserved
  });

  it('matches a clustered logical destination against the LDR (§10.12.10.2)', () => {
    const { apic, toX2 } = setup(0x12);
    toX2();
    expect(apic.isIpiTarget({ logical: (1 << 16) | (1 << 2) })).toBe(true);
    expect(apic.isIpiTarget({ logical: (1 << 16) | (1 << 3) })).toBe(false);
    expect(apic.isIpiTarget({ logical: (2 << 16) | (1 << 2) })).toBe(false);
    expect(apic.isIpiTarget(0xff)).toBe(false); // not a broadcast in x2APIC mode
    expect(apic.isIpiTarget(0x12)).toBe(true);
  });

  it('SELF IPI (0x83F) sets the vector in this APIC\'s IRR without any ICR write', () => {
    const { apic, ipis, wrmsr, toX2, rdmsr } = setup();
    toX2();
    wrmsr(M.MSR_X2APIC_SVR, 0x1ff);
    expect(wrmsr(M.MSR_X2APIC_SELF_IPI, 0x50)).toBe(true);
    expect(apic.isRequested(0x50)).toBe(true);
    expect(ipis).toEqual([]);
    expect(rdmsr(M.MSR_X2APIC_ICR)).toBe(0n);
    expect(wrmsr(M.MSR_X2APIC_SELF_IPI, 0x150)).toBe(false);
  });
});

describe('the MMIO page once x2APIC is on (§10.12.2)', () => {
  it('reads all ones and drops writes, and counts them', () => {
    const { apic, toX2 } = setup();
    apic.write(LAPIC_BASE + LAPIC_TPR, 4, 0x20n);
    toX2();
    expect(apic.read(LAPIC_BASE + LAPIC_ID, 4)).toBe(0xffffffffn);
    expect(apic.read(LAPIC_BASE + LAPIC_TPR, 1)).toBe(0xffn);
    apic.write(LAPIC_BASE + LAPIC_TPR, 4, 0x70n);
    expect(apic.readReg(LAPIC_TPR)).toBe(0x20);
    expect(apic.stats.mmioIgnored).toBe(3);
    expect(apic.mmioEnabled).toBe(false);
  });
});
