/**
 * Write-protect faults in words, for the log, the pipeline and the editor: why the page was
 * written (the guest's store to a code page or to a page-table page, or the CPU's A/D-bit update
 * during a page walk, an interrupt's delivery included) and what the fault invalidated. Pure.
 */
import type { EventDelivery, ExitEvent, WpFaultInfo } from '../../../core/events';
import { vecName } from '../../../core/vectors';
import { counted, hex } from './format';

/** The cause in a few words: "guest store to a code page 0x100000". */
export function wpCauseText(wp: WpFaultInfo): string {
  const page = hex(wp.page);
  switch (wp.cause) {
    case 'code-store': return `guest store to a code page ${page}`;
    case 'table-store': return `guest store to a page-table page ${page}`;
    case 'ad-update':
      return wp.delivering
        ? `the CPU's A/D-bit update of page-table page ${page} while delivering ${deliveredEvent(wp.delivering)} (not the instruction's own write)`
        : `the CPU's A/D-bit update of page-table page ${page} during the page walk (not the instruction's own write)`;
  }
}

/** The event being delivered: "interrupt 32", or "#UD (vector 6)" for an exception. */
export function deliveredEvent({ vector, kind }: Pick<EventDelivery, 'vector' | 'kind'>): string {
  if (kind === 'interrupt') return `interrupt ${vector}`;
  const name = vecName(vector);
  return name.startsWith('#') ? `${name} (vector ${vector})` : `exception ${name}`;
}

/** Which access of an event's delivery walked (the VMM tells from the address and the guest's IDTR and TR). */
export const DELIVERY_ACCESS_TEXT = {
  gate: 'to read its gate in the IDT',
  tss: 'to read a stack pointer in the TSS',
  stack: 'to push its frame on the stack',
} as const satisfies Record<EventDelivery['access'], string>;

/** What the fault dropped: "1 cache entry (0x100008 mov [rbx],ecx)". */
export function wpInvalidatedText(wp: WpFaultInfo): string {
  const n = wp.entries.length;
  return n === 0 ? 'no cache entry'
    : `${counted(n, 'cache entry', 'cache entries')} (${wp.entries.slice(0, 4).map((e) => `${hex(e.rip)} ${e.insn}`.trim()).join(', ')}${n > 4 ? ', …' : ''})`;
}

/** The log's note for an exit: the cause and what it invalidated, for write-protect faults. */
export function wpNote(e: ExitEvent): string {
  if (e.reason !== 'ept-violation') return '';
  if (!e.wp) return `write to write-protected page${e.gpa !== undefined ? ` ${hex(Math.floor(e.gpa / 4096) * 4096)}` : ''}`;
  return `${wpCauseText(e.wp)}: invalidated ${wpInvalidatedText(e.wp)}`;
}
