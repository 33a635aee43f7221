import { describe, expect, it } from 'vitest';
import type { ExitEvent, WpFaultInfo } from '../../../core/events';
import { deliveredEvent, wpCauseText, wpInvalidatedText, wpNote } from './wpText';

const wp = (p: Partial<WpFaultInfo>): WpFaultInfo => ({ cause: 'code-store', page: 0x100000, entries: [], ...p });

describe('write-protect faults in words', () => {
  it("names each cause, and says when the write was an event's delivery (an interrupt, or the exception the instruction raised) and not the instruction", () => {
    expect(wpCauseText(wp({}))).toBe('guest store to a code page 0x100000');
    expect(wpCauseText(wp({ cause: 'table-store', page: 0x13000 }))).toBe('guest store to a page-table page 0x13000');
    expect(wpCauseText(wp({ cause: 'ad-update', page: 0x13000 }))).toMatch(/A\/D-bit update of page-table page 0x13000 during the page walk \(not the instruction's own write\)/);
    expect(wpCauseText(wp({ cause: 'ad-update', page: 0x13000, delivering: { vector: 32, kind: 'interrupt', access: 'gate' } }))).toMatch(/while delivering interrupt 32 \(not/);
    // An exception the instruction raised is named as one, not called an interrupt.
    expect(wpCauseText(wp({ cause: 'ad-update', page: 0x13000, delivering: { vector: 6, kind: 'exception', access: 'gate' } }))).toMatch(/while delivering #UD \(vector 6\) \(not/);
    expect(deliveredEvent({ vector: 19, kind: 'exception' })).toBe('exception vector 19');
  });

  it('lists the cache entries it invalidated', () => {
    expect(wpInvalidatedText(wp({}))).toBe('no cache entry');
    expect(wpInvalidatedText(wp({ entries: [{ rip: 0x100008, insn: 'mov [rbx],ecx' }] }))).toBe('1 cache entry (0x100008 mov [rbx],ecx)');
  });

  it('gives only write-protect faults a note', () => {
    const e = (p: Partial<ExitEvent>): ExitEvent => ({ seq: 0, vm: 0, vcpu: 0, reason: 'mmio', rip: 0, cr3: 0, retired: 0, stages: [], cycles: 0, ...p });
    expect(wpNote(e({}))).toBe('');
    expect(wpNote(e({ reason: 'ept-violation', wp: wp({ entries: [{ rip: 0x100008, insn: 'x' }] }) }))).toBe('guest store to a code page 0x100000: invalidated 1 cache entry (0x100008 x)');
  });
});
