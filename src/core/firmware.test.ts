import { describe, expect, it } from 'vitest';
import { buildEpt, installFirmware } from './firmware';
import { FIRMWARE_LAYOUT, INITIAL_CONTROL, LAPIC_BASE, PROGRAM_ORIGIN } from './guestAbi';
import { GuestRam, gla2gpa, newWalkResult, type WalkRecorder } from './mem';

function boot(symbols = new Map<string, bigint>()) {
  const ram = new GuestRam(64 * 1024 * 1024);
  const fw = installFirmware(ram, symbols, 2);
  const ept = buildEpt(ram);
  const ctx = { cr0: INITIAL_CONTROL.cr0, cr3: fw.cr3, cr4: INITIAL_CONTROL.cr4, efer: INITIAL_CONTROL.efer };
  return { ram, fw, ept, ctx };
}

describe('firmware', () => {
  it('identity-maps the program area with 4 KiB pages: a full 2D walk is 24 references', () => {
    const { ram, ept, ctx } = boot();
    const out = newWalkResult();
    const rec: WalkRecorder = { steps: [] };
    expect(gla2gpa(ram, ept, ctx, PROGRAM_ORIGIN + 0x123, 'fetch', 0, out, rec)).toBe(true);
    expect(out.gpa).toBe(PROGRAM_ORIGIN + 0x123);
    expect(out.pageSize).toBe(4096);
    expect(rec.steps).toHaveLength(24);
    expect(out.refs).toBe(24);
  });

  it('maps RAM above the low region with 2 MiB pages', () => {
    const { ram, ept, ctx } = boot();
    const out = newWalkResult();
    expect(gla2gpa(ram, ept, ctx, 40 * 1024 * 1024 + 8, 'write', 0, out, null)).toBe(true);
    expect(out.pageSize).toBe(2 * 1024 * 1024);
    expect(out.gpa).toBe(40 * 1024 * 1024 + 8);
  });

  it('leaves page 0 unmapped so a null dereference faults', () => {
    const { ram, ept, ctx } = boot();
    const out = newWalkResult();
    expect(gla2gpa(ram, ept, ctx, 8, 'read', 0, out, null)).toBe(false);
    expect(out.fault?.kind).toBe('pf');
  });

  it('maps the LAPIC page in the guest tables but not in the EPT: an access ends in an MMIO fault', () => {
    const { ram, ept, ctx } = boot();
    const out = newWalkResult();
    expect(gla2gpa(ram, ept, ctx, LAPIC_BASE + 0x20, 'read', 0, out, null)).toBe(false);
    expect(out.fault).toMatchObject({ kind: 'mmio', gpa: LAPIC_BASE + 0x20 });
  });

  it('installs an interrupt gate for each isr_N label and gives each vCPU its own stack', () => {
    const { ram, fw } = boot(new Map([['isr_32', 0x100010n], ['isr_14', 0x100020n], ['isr_999', 1n]]));
    expect(fw.handledVectors).toEqual([14, 32]);
    const gate = ram.read64(FIRMWARE_LAYOUT.idt + 32 * 16);
    expect(gate & 0xffffn).toBe(0x0010n);
    expect((gate >> 48n) & 0xffffn).toBe(0x0010n);
    expect((gate >> 40n) & 0xffn).toBe(0x8en); // present, DPL 0, 64-bit interrupt gate
    expect(fw.stackTops).toEqual([FIRMWARE_LAYOUT.stackTop, FIRMWARE_LAYOUT.stackTop - FIRMWARE_LAYOUT.stackSize]);
  });
});
