import { describe, expect, it } from 'vitest';
import {
  ESR_ILLEGAL_REGISTER,
  ESR_RECEIVE_ILLEGAL_VECTOR,
  ESR_SEND_ILLEGAL_VECTOR,
  type IpiDestination,
  LAPIC_APR,
  LAPIC_BASE,
  LAPIC_DFR,
  LAPIC_EOI,
  LAPIC_ESR,
  LAPIC_ICR_HI,
  LAPIC_ICR_LO,
  LAPIC_ID,
  LAPIC_IRR,
  LAPIC_ISR,
  LAPIC_LDR,
  LAPIC_LVT_ERROR,
  LAPIC_LVT_LINT0,
  LAPIC_LVT_LINT1,
  LAPIC_LVT_PERF,
  LAPIC_LVT_THERMAL,
  LAPIC_LVT_TIMER,
  LAPIC_PPR,
  LAPIC_REGISTERS,
  LAPIC_SVR,
  LAPIC_TIMER_CCR,
  LAPIC_TIMER_DCR,
  LAPIC_TIMER_ICR,
  LAPIC_TMR,
  LAPIC_TPR,
  LAPIC_VERSION,
  LocalApic,
  type LocalApicOptions,
  MSR_IA32_APIC_BASE,
  MSR_IA32_TSC_DEADLINE,
  timerDivisor,
} from './lapic';

const MASKED = 1 << 16;
const PERIODIC = 1 << 17;
const TSC_DEADLINE = 2 << 17;
const DIV1 = 0xb;

/** A LAPIC on a test clock, with MMIO shorthands and a log of IPIs to other vCPUs. */
function setup(opts: Partial<LocalApicOptions> = {}, enable = true) {
  const clock = { now: 0 };
  const ipis: [IpiDestination, number][] = [];
  const apic = new LocalApic({
    apicId: 0,
    clock: () => clock.now,
    onIpi: (d, v) => ipis.push([d, v]),
    ...opts,
  });
  const rd = (off: number): number => Number(apic.read(LAPIC_BASE + off, 4));
  const wr = (off: number, v: number): void => apic.write(LAPIC_BASE + off, 4, BigInt(v >>> 0));
  /** Latches and returns the ESR (write, then read: 11.5.3). */
  const esr = (): number => {
    wr(LAPIC_ESR, 0);
    return rd(LAPIC_ESR);
  };
  if (enable) wr(LAPIC_SVR, 0x1ff);
  return { clock, ipis, apic, rd, wr, esr };
}

describe('LocalApic registers', () => {
  it('starts in the power-on state (SDM 11.4.7.1)', () => {
    const { rd } = setup({ apicId: 3 }, false);
    expect(rd(LAPIC_ID)).toBe(0x03000000);
    expect(rd(LAPIC_VERSION)).toBe(0x00050014);
    expect(rd(LAPIC_SVR)).toBe(0xff);
    expect(rd(LAPIC_DFR)).toBe(0xffffffff);
    expect(rd(LAPIC_TPR)).toBe(0);
    expect(rd(LAPIC_PPR)).toBe(0);
    for (const lvt of [LAPIC_LVT_TIMER, LAPIC_LVT_THERMAL, LAPIC_LVT_PERF, LAPIC_LVT_LINT0, LAPIC_LVT_LINT1, LAPIC_LVT_ERROR]) {
      expect(rd(lvt)).toBe(MASKED);
    }
    for (let i = 0; i < 8; i++) {
      expect(rd(LAPIC_ISR + i * 16)).toBe(0);
      expect(rd(LAPIC_TMR + i * 16)).toBe(0);
      expect(rd(LAPIC_IRR + i * 16)).toBe(0);
    }
    expect(rd(LAPIC_TIMER_ICR)).toBe(0);
    expect(rd(LAPIC_TIMER_CCR)).toBe(0);
    expect(rd(LAPIC_TIMER_DCR)).toBe(0);
  });

  it('keeps the APIC ID the machine assigned (writes ignored, like bhyve)', () => {
    const { rd, wr } = setup({ apicId: 1 });
    wr(LAPIC_ID, 0x07000000);
    expect(rd(LAPIC_ID)).toBe(0x01000000);
  });

  it('stores only the architectural bits of each read/write register', () => {
    const { rd, wr } = setup();
    const cases: [number, number][] = [
      [LAPIC_TPR, 0xff],
      [LAPIC_LDR, 0xff000000],
      [LAPIC_DFR, 0xffffffff],
      [LAPIC_SVR, 0x3ff],
      [LAPIC_ICR_HI, 0xff000000],
      [LAPIC_LVT_TIMER, 0x000700ff],
      [LAPIC_LVT_THERMAL, 0x000107ff],
      [LAPIC_LVT_PERF, 0x000107ff],
      [LAPIC_LVT_LINT0, 0x0001a7ff],
      [LAPIC_LVT_LINT1, 0x0001a7ff],
      [LAPIC_LVT_ERROR, 0x000100ff],
      [LAPIC_TIMER_DCR, 0xb],
    ];
    for (const [off, mask] of cases) {
      wr(off, 0xffffffff);
      expect(rd(off) >>> 0, `offset 0x${off.toString(16)}`).toBe(mask >>> 0);
    }
    wr(LAPIC_DFR, 0);
    expect(rd(LAPIC_DFR)).toBe(0x0fffffff); // bits 27:0 read as 1s
  });

  it('ignores writes to read-only registers', () => {
    const { rd, wr, esr } = setup();
    for (const off of [LAPIC_VERSION, LAPIC_PPR, LAPIC_APR, LAPIC_ISR, LAPIC_IRR + 0x30, LAPIC_TMR, LAPIC_TIMER_CCR]) {
      const before = rd(off);
      wr(off, 0xffffffff);
      expect(rd(off)).toBe(before);
    }
    expect(esr()).toBe(0);
  });

  it('reads reserved offsets as 0 and flags an illegal register address', () => {
    const { rd, esr } = setup();
    expect(rd(0x2f0)).toBe(0); // LVT CMCI: not present with max LVT 5
    expect(rd(0x400)).toBe(0);
    expect(esr()).toBe(ESR_ILLEGAL_REGISTER);
  });

  it('latches the ESR on a write and clears it on the next (11.5.3)', () => {
    const { rd, wr } = setup();
    rd(0x010); // reserved
    expect(rd(LAPIC_ESR)).toBe(0); // not latched yet
    wr(LAPIC_ESR, 0);
    expect(rd(LAPIC_ESR)).toBe(ESR_ILLEGAL_REGISTER);
    wr(LAPIC_ESR, 0);
    expect(rd(LAPIC_ESR)).toBe(0);
  });

  it('serves irregular reads from the register image and flags them', () => {
    const { apic, esr } = setup();
    expect(apic.read(LAPIC_BASE + LAPIC_VERSION, 1)).toBe(0x14n);
    expect(apic.read(LAPIC_BASE + LAPIC_VERSION + 2, 1)).toBe(0x05n);
    expect(apic.read(LAPIC_BASE + LAPIC_VERSION, 2)).toBe(0x0014n);
    expect(apic.read(LAPIC_BASE + LAPIC_VERSION + 1, 4)).toBe(0x000500n);
    // 8 bytes: the register and 4 reserved bytes that read 0.
    expect(apic.read(LAPIC_BASE + LAPIC_VERSION, 8)).toBe(0x50014n);
    // Crossing into the next slot: reserved bytes of 0x30, then the start of 0x40 (reserved).
    expect(apic.read(LAPIC_BASE + 0x3c, 8)).toBe(0n);
    expect(esr()).toBe(ESR_ILLEGAL_REGISTER);
  });

  it('ignores irregular writes and flags them', () => {
    const { apic, rd, esr } = setup();
    apic.write(LAPIC_BASE + LAPIC_TPR, 1, 0x50n);
    apic.write(LAPIC_BASE + LAPIC_TPR, 8, 0x50n);
    apic.write(LAPIC_BASE + LAPIC_TPR + 4, 4, 0x50n);
    expect(rd(LAPIC_TPR)).toBe(0);
    expect(esr()).toBe(ESR_ILLEGAL_REGISTER);
  });

  it('raises the LVT error interrupt on a new error when unmasked', () => {
    const { apic, rd, wr } = setup();
    wr(LAPIC_LVT_ERROR, 0xfe);
    rd(0x400);
    expect(apic.pendingVector()).toBe(0xfe);
    apic.acknowledge(0xfe);
    rd(0x400); // same error still pending in the ESR: not new, no second interrupt
    expect(apic.pendingVector()).toBe(-1);
  });

  it('throws on an access outside its page (an emulator routing bug)', () => {
    const { apic } = setup();
    expect(() => apic.read(LAPIC_BASE - 4, 4)).toThrow(RangeError);
    expect(() => apic.write(LAPIC_BASE + 0xffc, 8, 0n)).toThrow(RangeError);
  });

  it('rejects an APIC ID outside 0..254', () => {
    expect(() => new LocalApic({ apicId: 255 })).toThrow(RangeError);
    expect(() => new LocalApic({ apicId: -1 })).toThrow(RangeError);
  });

  it('snapshots every implemented register with unique names and current values', () => {
    const { apic, wr } = setup();
    wr(LAPIC_TPR, 0x20);
    const snap = apic.snapshot();
    expect(snap.length).toBe(LAPIC_REGISTERS.length);
    expect(new Set(snap.map((r) => r.name)).size).toBe(snap.length);
    expect(snap.find((r) => r.name === 'TPR')).toEqual({ name: 'TPR', offset: 0x80, value: 0x20 });
    expect(snap.find((r) => r.name === 'SVR')?.value).toBe(0x1ff);
    expect(snap.find((r) => r.name === 'IRR7')?.offset).toBe(0x270);
    for (const r of snap) expect(r.value).toBeGreaterThanOrEqual(0);
  });

  it('returns to the power-on state on reset', () => {
    const { apic, rd, wr } = setup();
    wr(LAPIC_TPR, 0x30);
    apic.acceptInterrupt(0x40);
    apic.reset();
    expect(rd(LAPIC_TPR)).toBe(0);
    expect(rd(LAPIC_SVR)).toBe(0xff);
    expect(apic.pendingVector()).toBe(-1);
  });
});

describe('LocalApic priority, acceptance and EOI (SDM 11.8)', () => {
  it('delivers the highest vector first and shows IRR/ISR bits in their registers', () => {
    const { apic, rd } = setup();
    apic.acceptInterrupt(0x31);
    apic.acceptInterrupt(0x45);
    expect(rd(LAPIC_IRR + 0x10)).toBe((1 << 0x11) >>> 0); // 0x31 = IRR1 bit 17
    expect(rd(LAPIC_IRR + 0x20)).toBe(1 << 5); // 0x45 = IRR2 bit 5
    expect(apic.pendingVector()).toBe(0x45);
    apic.acknowledge(0x45);
    expect(rd(LAPIC_IRR + 0x20)).toBe(0);
    expect(rd(LAPIC_ISR + 0x20)).toBe(1 << 5);
    expect(rd(LAPIC_PPR)).toBe(0x40);
  });

  it('holds back vectors of the in-service class or lower until EOI', () => {
    const { apic, rd, wr } = setup();
    apic.acceptInterrupt(0x45);
    apic.acknowledge(0x45);
    apic.acceptInterrupt(0x41); // same class 4
    apic.acceptInterrupt(0x31); // lower class
    expect(apic.pendingVector()).toBe(-1);
    apic.acceptInterrupt(0x50); // higher class: nests
    expect(apic.pendingVector()).toBe(0x50);
    apic.acknowledge(0x50);
    expect(rd(LAPIC_PPR)).toBe(0x50);
    wr(LAPIC_EOI, 0); // clears the highest ISR bit: 0x50
    expect(apic.isInService(0x50)).toBe(false);
    expect(apic.isInService(0x45)).toBe(true);
    expect(rd(LAPIC_PPR)).toBe(0x40);
    expect(apic.pendingVector()).toBe(-1);
    wr(LAPIC_EOI, 0);
    expect(rd(LAPIC_PPR)).toBe(0);
    expect(apic.pendingVector()).toBe(0x41);
    apic.acknowledge(0x41);
    wr(LAPIC_EOI, 0);
    expect(apic.pendingVector()).toBe(0x31);
    expect(apic.stats.eois).toBe(3);
  });

  it('computes PPR from TPR and the in-service class (11.8.3.1)', () => {
    const { apic, rd, wr } = setup();
    wr(LAPIC_TPR, 0x57);
    expect(rd(LAPIC_PPR)).toBe(0x57); // nothing in service: PPR = TPR
    apic.acceptInterrupt(0x65);
    apic.acknowledge(0x65);
    expect(rd(LAPIC_PPR)).toBe(0x60); // ISR class above TPR class: ISRV[7:4], low nibble 0
    wr(LAPIC_TPR, 0x6a);
    expect(rd(LAPIC_PPR)).toBe(0x6a); // equal classes: TPR wins
    wr(LAPIC_TPR, 0x30);
    expect(rd(LAPIC_PPR)).toBe(0x60);
  });

  it('blocks vectors whose class is not above the TPR class', () => {
    const { apic, wr } = setup();
    wr(LAPIC_TPR, 0x50);
    apic.acceptInterrupt(0x5f);
    expect(apic.pendingVector()).toBe(-1);
    apic.acceptInterrupt(0x60);
    expect(apic.pendingVector()).toBe(0x60);
    apic.acknowledge(0x60);
    wr(LAPIC_EOI, 0);
    wr(LAPIC_TPR, 0);
    expect(apic.pendingVector()).toBe(0x5f);
  });

  it('computes APR (11.6.2.4)', () => {
    const { apic, rd, wr } = setup();
    wr(LAPIC_TPR, 0x35);
    expect(rd(LAPIC_APR)).toBe(0x35); // TPR class >= IRR class and > ISR class
    apic.acceptInterrupt(0x72);
    expect(rd(LAPIC_APR)).toBe(0x70); // an IRR class above: max class, low nibble 0
  });

  it('treats EOI with nothing in service as a no-op', () => {
    const { apic, wr } = setup();
    wr(LAPIC_EOI, 0);
    expect(apic.stats.eois).toBe(0);
  });

  it('refuses to acknowledge a vector that is not requested', () => {
    const { apic } = setup();
    expect(() => apic.acknowledge(0x40)).toThrow(/not in the IRR/);
  });

  it('rejects illegal vectors 0-15 with ESR "receive illegal vector"', () => {
    const { apic, esr } = setup();
    expect(apic.acceptInterrupt(7)).toBe(false);
    expect(apic.pendingVector()).toBe(-1);
    expect(esr()).toBe(ESR_RECEIVE_ILLEGAL_VECTOR);
  });

  it('maps CR8 to TPR[7:4]', () => {
    const { apic, rd } = setup();
    apic.writeCr8(0x9);
    expect(rd(LAPIC_TPR)).toBe(0x90);
    expect(apic.readCr8()).toBe(0x9);
  });
});

describe('LocalApic software enable (SVR bit 8, 11.4.7.2)', () => {
  it('ignores fixed interrupts while software-disabled (the reset state)', () => {
    const { apic } = setup({}, false);
    expect(apic.softwareEnabled).toBe(false);
    expect(apic.acceptInterrupt(0x40)).toBe(false);
    expect(apic.pendingVector()).toBe(-1);
  });

  it('masks every LVT on disable, keeps them masked, and does not unmask on enable', () => {
    const { rd, wr } = setup();
    wr(LAPIC_LVT_TIMER, 0x20);
    wr(LAPIC_LVT_LINT0, 0x700);
    wr(LAPIC_SVR, 0xff); // disable
    expect(rd(LAPIC_LVT_TIMER)).toBe(MASKED | 0x20);
    expect(rd(LAPIC_LVT_LINT0)).toBe(MASKED | 0x700);
    wr(LAPIC_LVT_TIMER, 0x21); // unmasked write while disabled: stays masked
    expect(rd(LAPIC_LVT_TIMER)).toBe(MASKED | 0x21);
    wr(LAPIC_SVR, 0x1ff);
    expect(rd(LAPIC_LVT_TIMER)).toBe(MASKED | 0x21);
  });

  it('holds interrupts already requested across a disable', () => {
    const { apic, wr } = setup();
    apic.acceptInterrupt(0x40);
    wr(LAPIC_SVR, 0xff);
    expect(apic.pendingVector()).toBe(0x40);
  });

  it('keeps a software-disabled timer from firing', () => {
    const { apic, clock, wr } = setup();
    wr(LAPIC_TIMER_DCR, DIV1);
    wr(LAPIC_LVT_TIMER, 0x20);
    wr(LAPIC_TIMER_ICR, 100);
    wr(LAPIC_SVR, 0xff);
    expect(apic.nextEventAt()).toBe(Infinity);
    clock.now = 500;
    apic.advanceTo(500);
    expect(apic.pendingVector()).toBe(-1);
  });
});

describe('LocalApic timer (11.5.4)', () => {
  it('maps every divide configuration to its divisor (Figure 11-10)', () => {
    const table: [number, number][] = [
      [0x0, 2], [0x1, 4], [0x2, 8], [0x3, 16], [0x8, 32], [0x9, 64], [0xa, 128], [0xb, 1],
    ];
    for (const [dcr, div] of table) expect(timerDivisor(dcr)).toBe(div);
  });

  it('counts a one-shot down with modeled time and fires once at zero', () => {
    const { apic, clock, rd, wr } = setup();
    wr(LAPIC_TIMER_DCR, DIV1);
    wr(LAPIC_LVT_TIMER, 0x20);
    wr(LAPIC_TIMER_ICR, 1000);
    expect(rd(LAPIC_TIMER_CCR)).toBe(1000);
    expect(apic.nextEventAt()).toBe(1000);
    clock.now = 250;
    expect(rd(LAPIC_TIMER_CCR)).toBe(750);
    clock.now = 999;
    apic.advanceTo(999);
    expect(apic.pendingVector()).toBe(-1);
    expect(rd(LAPIC_TIMER_CCR)).toBe(1);
    clock.now = 1000;
    apic.advanceTo(1000);
    expect(apic.pendingVector()).toBe(0x20);
    expect(rd(LAPIC_TIMER_CCR)).toBe(0);
    expect(rd(LAPIC_TIMER_ICR)).toBe(1000); // the initial count keeps its value
    expect(apic.nextEventAt()).toBe(Infinity);
    apic.acknowledge(0x20);
    wr(LAPIC_EOI, 0);
    clock.now = 5000;
    apic.advanceTo(5000);
    expect(apic.pendingVector()).toBe(-1);
    expect(apic.stats.timerExpirations).toBe(1);
  });

  it('scales the count by every divide configuration', () => {
    for (const [dcr, div] of [[0x0, 2], [0x3, 16], [0xa, 128], [0xb, 1]] as const) {
      const { apic, clock, rd, wr } = setup();
      wr(LAPIC_TIMER_DCR, dcr);
      wr(LAPIC_LVT_TIMER, 0x20);
      wr(LAPIC_TIMER_ICR, 100);
      expect(apic.nextEventAt(), `dcr ${dcr}`).toBe(100 * div);
      clock.now = 10 * div;
      expect(rd(LAPIC_TIMER_CCR), `dcr ${dcr}`).toBe(90);
      clock.now = 10 * div + div / 2;
      expect(rd(LAPIC_TIMER_CCR), `dcr ${dcr} mid-count`).toBe(90); // a count drops after a full tick
    }
  });

  it('counts relative to the time the initial count was written', () => {
    const { apic, clock, rd, wr } = setup();
    wr(LAPIC_TIMER_DCR, DIV1);
    wr(LAPIC_LVT_TIMER, 0x20);
    clock.now = 12345;
    wr(LAPIC_TIMER_ICR, 100);
    expect(apic.nextEventAt()).toBe(12445);
    clock.now = 12400;
    expect(rd(LAPIC_TIMER_CCR)).toBe(45);
  });

  it('honours timerCyclesPerCount (the bus-clock ratio)', () => {
    const { apic, clock, rd, wr } = setup({ timerCyclesPerCount: 10 });
    wr(LAPIC_TIMER_DCR, 0x0); // divide by 2
    wr(LAPIC_LVT_TIMER, 0x20);
    wr(LAPIC_TIMER_ICR, 5);
    expect(apic.nextEventAt()).toBe(100);
    clock.now = 40;
    expect(rd(LAPIC_TIMER_CCR)).toBe(3);
  });

  it('its register view reads as the guest would at the vCPU\'s time, though the LAPIC has not synced, and changes nothing', () => {
    const { apic, clock, rd, wr } = setup();
    wr(LAPIC_TIMER_DCR, 0x0); // divide by 2
    wr(LAPIC_LVT_TIMER, PERIODIC | 0x30);
    wr(LAPIC_TIMER_ICR, 100); // period 200 cycles, from cycle 0
    const view = (off: number) => apic.snapshot().find((r) => r.offset === off)!.value;
    const irr1 = LAPIC_IRR + 16; // vector 0x30 is bit 16 of IRR1
    clock.now = 150;
    expect(view(LAPIC_TIMER_CCR)).toBe(25);
    expect(view(irr1)).toBe(0);
    // Past the deadline (200), unsynced: the count runs from the reload, the vector is requested.
    clock.now = 250;
    expect(view(LAPIC_TIMER_CCR)).toBe(75);
    expect(view(irr1)).toBe(1 << 16);
    // Looking did not move the LAPIC: nothing accepted, no expiry counted, the deadline where it was.
    expect(apic.pendingVector()).toBe(-1);
    expect(apic.stats.timerExpirations).toBe(0);
    expect(apic.nextEventAt()).toBe(200);
    // What the guest then reads is what the view said.
    expect(rd(LAPIC_TIMER_CCR)).toBe(75);
    expect(rd(irr1)).toBe(1 << 16);
    // A one-shot past its deadline reads 0, with its vector requested; masked, none.
    wr(LAPIC_LVT_TIMER, 0x30);
    wr(LAPIC_TIMER_ICR, 10);
    apic.acknowledge(0x30);
    clock.now = 300;
    expect(view(LAPIC_TIMER_CCR)).toBe(0);
    expect(view(irr1)).toBe(1 << 16);
    // Masked, a timer still counts but requests nothing.
    const masked = setup();
    masked.wr(LAPIC_LVT_TIMER, MASKED | PERIODIC | 0x30);
    masked.wr(LAPIC_TIMER_DCR, DIV1);
    masked.wr(LAPIC_TIMER_ICR, 100);
    masked.clock.now = 130;
    const mview = (off: number) => masked.apic.snapshot().find((r) => r.offset === off)!.value;
    expect(mview(LAPIC_TIMER_CCR)).toBe(70);
    expect(mview(irr1)).toBe(0);
  });

  it('reloads a periodic timer and fires every period', () => {
    const { apic, clock, rd, wr } = setup();
    wr(LAPIC_TIMER_DCR, 0x0); // divide by 2
    wr(LAPIC_LVT_TIMER, PERIODIC | 0x30);
    wr(LAPIC_TIMER_ICR, 100); // period 200 cycles
    clock.now = 150;
    expect(rd(LAPIC_TIMER_CCR)).toBe(25);
    apic.advanceTo(200);
    expect(apic.pendingVector()).toBe(0x30);
    expect(apic.nextEventAt()).toBe(400);
    clock.now = 200;
    expect(rd(LAPIC_TIMER_CCR)).toBe(100);
    clock.now = 250;
    expect(rd(LAPIC_TIMER_CCR)).toBe(75);
    apic.acknowledge(0x30);
    wr(LAPIC_EOI, 0);
    apic.advanceTo(400);
    expect(apic.pendingVector()).toBe(0x30);
    expect(apic.stats.timerExpirations).toBe(2);
  });

  it('coalesces missed periods into one interrupt and keeps the phase', () => {
    const { apic, wr } = setup();
    wr(LAPIC_TIMER_DCR, DIV1);
    wr(LAPIC_LVT_TIMER, PERIODIC | 0x30);
    wr(LAPIC_TIMER_ICR, 100);
    apic.advanceTo(1050);
    expect(apic.stats.timerExpirations).toBe(10);
    expect(apic.stats.accepted).toBe(1);
    expect(apic.nextEventAt()).toBe(1100);
  });

  it('keeps counting but raises nothing while the LVT timer is masked', () => {
    const { apic, clock, rd, wr } = setup();
    wr(LAPIC_TIMER_DCR, DIV1);
    wr(LAPIC_LVT_TIMER, MASKED | PERIODIC | 0x30);
    wr(LAPIC_TIMER_ICR, 100);
    expect(apic.nextEventAt()).toBe(Infinity);
    clock.now = 530;
    expect(rd(LAPIC_TIMER_CCR)).toBe(70);
    apic.advanceTo(530);
    expect(apic.pendingVector()).toBe(-1);
    // Unmasking does not replay what expired while masked; the next period fires.
    wr(LAPIC_LVT_TIMER, PERIODIC | 0x30);
    expect(apic.pendingVector()).toBe(-1);
    expect(apic.nextEventAt()).toBe(600);
  });

  it('does not fire a masked one-shot later when unmasked', () => {
    const { apic, clock, wr } = setup();
    wr(LAPIC_TIMER_DCR, DIV1);
    wr(LAPIC_LVT_TIMER, MASKED | 0x20);
    wr(LAPIC_TIMER_ICR, 100);
    clock.now = 200;
    wr(LAPIC_LVT_TIMER, 0x20); // the access syncs first: the expiry happened while masked
    apic.advanceTo(300);
    expect(apic.pendingVector()).toBe(-1);
  });

  it('stops when the initial count is written with 0', () => {
    const { apic, clock, rd, wr } = setup();
    wr(LAPIC_TIMER_DCR, DIV1);
    wr(LAPIC_LVT_TIMER, 0x20);
    wr(LAPIC_TIMER_ICR, 100);
    clock.now = 10;
    wr(LAPIC_TIMER_ICR, 0);
    expect(rd(LAPIC_TIMER_CCR)).toBe(0);
    expect(apic.nextEventAt()).toBe(Infinity);
  });

  it('restarts from the new initial count when rewritten', () => {
    const { apic, clock, wr } = setup();
    wr(LAPIC_TIMER_DCR, DIV1);
    wr(LAPIC_LVT_TIMER, 0x20);
    wr(LAPIC_TIMER_ICR, 100);
    clock.now = 50;
    wr(LAPIC_TIMER_ICR, 100);
    expect(apic.nextEventAt()).toBe(150);
  });

  it('continues the current count at the new rate when the divider changes', () => {
    const { apic, clock, rd, wr } = setup();
    wr(LAPIC_TIMER_DCR, DIV1);
    wr(LAPIC_LVT_TIMER, PERIODIC | 0x20);
    wr(LAPIC_TIMER_ICR, 100);
    clock.now = 40;
    wr(LAPIC_TIMER_DCR, 0x1); // divide by 4, 60 counts left
    expect(rd(LAPIC_TIMER_CCR)).toBe(60);
    expect(apic.nextEventAt()).toBe(40 + 60 * 4);
    apic.advanceTo(280);
    expect(apic.nextEventAt()).toBe(280 + 100 * 4); // reload at the new rate
  });

  it('switches between one-shot and periodic without disarming', () => {
    const { apic, wr } = setup();
    wr(LAPIC_TIMER_DCR, DIV1);
    wr(LAPIC_LVT_TIMER, 0x20);
    wr(LAPIC_TIMER_ICR, 100);
    wr(LAPIC_LVT_TIMER, PERIODIC | 0x20);
    expect(apic.timerMode).toBe('periodic');
    apic.advanceTo(100);
    expect(apic.nextEventAt()).toBe(200);
  });

  it('fires in TSC-deadline mode when the TSC reaches IA32_TSC_DEADLINE, then clears it', () => {
    const { apic, clock, rd, wr } = setup();
    wr(LAPIC_LVT_TIMER, TSC_DEADLINE | 0x40);
    expect(apic.timerMode).toBe('tsc-deadline');
    expect(apic.writeMsr(MSR_IA32_TSC_DEADLINE, 5000n)).toBe(true);
    expect(apic.readMsr(MSR_IA32_TSC_DEADLINE)).toBe(5000n);
    expect(apic.nextEventAt()).toBe(5000);
    expect(rd(LAPIC_TIMER_CCR)).toBe(0);
    wr(LAPIC_TIMER_ICR, 77); // ignored in TSC-deadline mode
    expect(rd(LAPIC_TIMER_ICR)).toBe(0);
    apic.advanceTo(4999);
    expect(apic.pendingVector()).toBe(-1);
    clock.now = 5000;
    apic.advanceTo(5000);
    expect(apic.pendingVector()).toBe(0x40);
    expect(apic.readMsr(MSR_IA32_TSC_DEADLINE)).toBe(0n);
    expect(apic.nextEventAt()).toBe(Infinity);
  });

  it('fires at once for a deadline already past, and disarms on 0', () => {
    const { apic, clock, wr } = setup();
    wr(LAPIC_LVT_TIMER, TSC_DEADLINE | 0x40);
    clock.now = 1000;
    apic.writeMsr(MSR_IA32_TSC_DEADLINE, 10n);
    expect(apic.pendingVector()).toBe(0x40);
    apic.writeMsr(MSR_IA32_TSC_DEADLINE, 2000n);
    apic.writeMsr(MSR_IA32_TSC_DEADLINE, 0n);
    expect(apic.nextEventAt()).toBe(Infinity);
  });

  it('ignores IA32_TSC_DEADLINE outside TSC-deadline mode and disarms on a mode change', () => {
    const { apic, wr } = setup();
    wr(LAPIC_LVT_TIMER, 0x40);
    apic.writeMsr(MSR_IA32_TSC_DEADLINE, 5000n);
    expect(apic.readMsr(MSR_IA32_TSC_DEADLINE)).toBe(0n);
    expect(apic.nextEventAt()).toBe(Infinity);
    wr(LAPIC_LVT_TIMER, TSC_DEADLINE | 0x40);
    apic.writeMsr(MSR_IA32_TSC_DEADLINE, 5000n);
    wr(LAPIC_LVT_TIMER, 0x40); // leaving TSC-deadline mode disarms (11.5.4.1)
    expect(apic.nextEventAt()).toBe(Infinity);
    // And entering it disarms a running count.
    wr(LAPIC_TIMER_DCR, DIV1);
    wr(LAPIC_TIMER_ICR, 100);
    wr(LAPIC_LVT_TIMER, TSC_DEADLINE | 0x40);
    expect(apic.nextEventAt()).toBe(Infinity);
  });

  it('keeps a deadline beyond 2^53 armed but never due', () => {
    const { apic, wr } = setup();
    wr(LAPIC_LVT_TIMER, TSC_DEADLINE | 0x40);
    apic.writeMsr(MSR_IA32_TSC_DEADLINE, 0xffffffffffffffffn);
    expect(apic.readMsr(MSR_IA32_TSC_DEADLINE)).toBe(0xffffffffffffffffn);
    expect(apic.nextEventAt()).toBe(Infinity);
  });

  it('never moves time backwards', () => {
    const { apic } = setup();
    apic.advanceTo(100);
    apic.advanceTo(50);
    expect(apic.time).toBe(100);
  });

  it('answers only its own MSRs', () => {
    const { apic } = setup({ apicId: 0 });
    expect(apic.readMsr(0x10)).toBeNull();
    expect(apic.writeMsr(0x10, 0n)).toBe(false);
    expect(apic.readMsr(MSR_IA32_APIC_BASE)).toBe(0xfee00900n); // base | enable | BSP
    const ap = new LocalApic({ apicId: 1 });
    expect(ap.readMsr(MSR_IA32_APIC_BASE)).toBe(0xfee00800n);
  });
});

describe('LocalApic IPIs (11.6)', () => {
  const SELF = 1 << 18;
  const ALL_INCL = 2 << 18;
  const ALL_EXCL = 3 << 18;

  it('delivers a self IPI locally without asking the machine', () => {
    const { apic, ipis, rd, wr } = setup();
    wr(LAPIC_ICR_LO, SELF | 0x40);
    expect(apic.pendingVector()).toBe(0x40);
    expect(ipis).toEqual([]);
    expect(rd(LAPIC_ICR_LO)).toBe(SELF | 0x40); // delivery status (bit 12) reads idle
    expect(apic.stats.ipisSent).toBe(1);
  });

  it('delivers "all including self" locally and to the others', () => {
    const { apic, ipis, wr } = setup();
    wr(LAPIC_ICR_LO, ALL_INCL | 0x41);
    expect(apic.pendingVector()).toBe(0x41);
    expect(ipis).toEqual([['others', 0x41]]);
  });

  it('delivers "all excluding self" only to the others', () => {
    const { apic, ipis, wr } = setup();
    wr(LAPIC_ICR_LO, ALL_EXCL | 0x42);
    expect(apic.pendingVector()).toBe(-1);
    expect(ipis).toEqual([['others', 0x42]]);
  });

  it('sends a physical-destination IPI by APIC ID from ICR high', () => {
    const { apic, ipis, wr } = setup({ apicId: 0 });
    wr(LAPIC_ICR_HI, 1 << 24);
    wr(LAPIC_ICR_LO, 0x43);
    expect(ipis).toEqual([[1, 0x43]]);
    expect(apic.pendingVector()).toBe(-1);
    wr(LAPIC_ICR_HI, 0 << 24); // own ID: local
    wr(LAPIC_ICR_LO, 0x44);
    expect(apic.pendingVector()).toBe(0x44);
    wr(LAPIC_ICR_HI, 0xff << 24); // physical broadcast
    wr(LAPIC_ICR_LO, 0x45);
    expect(ipis).toEqual([[1, 0x43], ['others', 0x45]]);
    expect(apic.isRequested(0x45)).toBe(true);
  });

  it('matches logical destinations in the flat and cluster models', () => {
    const a = new LocalApic({ apicId: 1 });
    a.write(LAPIC_BASE + LAPIC_LDR, 4, 0x02000000n); // flat (DFR all 1s), logical ID bit 1
    expect(a.isIpiTarget({ logical: 0x02 })).toBe(true);
    expect(a.isIpiTarget({ logical: 0x05 })).toBe(false);
    expect(a.isIpiTarget({ logical: 0xff })).toBe(true);
    a.write(LAPIC_BASE + LAPIC_DFR, 4, 0n); // cluster model
    a.write(LAPIC_BASE + LAPIC_LDR, 4, 0x31000000n); // cluster 3, member bit 0
    expect(a.isIpiTarget({ logical: 0x31 })).toBe(true);
    expect(a.isIpiTarget({ logical: 0x33 })).toBe(true);
    expect(a.isIpiTarget({ logical: 0x21 })).toBe(false);
    expect(a.isIpiTarget({ logical: 0x32 })).toBe(false);
    expect(a.isIpiTarget(1)).toBe(true);
    expect(a.isIpiTarget(2)).toBe(false);
    expect(a.isIpiTarget(0xff)).toBe(true);
    expect(a.isIpiTarget('others')).toBe(true);
  });

  it('delivers a logical IPI to itself when its LDR matches, and forwards it', () => {
    const { apic, ipis, wr } = setup();
    wr(LAPIC_LDR, 0x01000000);
    wr(LAPIC_ICR_HI, 0x03 << 24);
    wr(LAPIC_ICR_LO, (1 << 11) | 0x46);
    expect(apic.pendingVector()).toBe(0x46);
    expect(ipis).toEqual([[{ logical: 3 }, 0x46]]);
  });

  it('refuses an illegal vector with ESR "send illegal vector"', () => {
    const { apic, ipis, wr, esr } = setup();
    wr(LAPIC_ICR_LO, SELF | 0x05);
    wr(LAPIC_ICR_LO, ALL_EXCL | 0x0f);
    expect(apic.pendingVector()).toBe(-1);
    expect(ipis).toEqual([]);
    expect(esr()).toBe(ESR_SEND_ILLEGAL_VECTOR);
  });

  it('drops NMI, INIT and SIPI and counts them', () => {
    const { apic, ipis, wr } = setup();
    wr(LAPIC_ICR_LO, ALL_EXCL | (4 << 8) | 0x50); // NMI
    wr(LAPIC_ICR_LO, ALL_EXCL | (5 << 8)); // INIT
    wr(LAPIC_ICR_LO, ALL_EXCL | (6 << 8) | 0x10); // SIPI
    expect(ipis).toEqual([]);
    expect(apic.stats.ipisIgnored).toBe(3);
  });

  it('routes IPIs between two vCPUs the way the machine wires them', () => {
    const lapics: LocalApic[] = [];
    const route = (src: LocalApic) => (dest: IpiDestination, vector: number) => {
      for (const l of lapics) if (l !== src && l.isIpiTarget(dest)) l.acceptInterrupt(vector);
    };
    for (let id = 0; id < 2; id++) {
      const l: LocalApic = new LocalApic({ apicId: id, onIpi: (d, v) => route(l)(d, v) });
      l.write(LAPIC_BASE + LAPIC_SVR, 4, 0x1ffn);
      lapics.push(l);
    }
    const [a, b] = lapics;
    a.write(LAPIC_BASE + LAPIC_ICR_HI, 4, 1n << 24n);
    a.write(LAPIC_BASE + LAPIC_ICR_LO, 4, 0x60n);
    expect(b.pendingVector()).toBe(0x60);
    expect(a.pendingVector()).toBe(-1);
    b.write(LAPIC_BASE + LAPIC_ICR_LO, 4, BigInt(ALL_INCL | 0x61));
    expect(a.pendingVector()).toBe(0x61);
    expect(b.isRequested(0x61)).toBe(true);
  });
});
