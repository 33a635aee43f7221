/** Names and colours of the exit-path stages, shared by the pipeline, the charts and the bench. */
import type { StageName } from '../../../core/events';

// The names live in the core (the trace export uses them too); the colours are the page's.
export { STAGE_LABEL, STAGE_ORDER } from '../../../core/stageNames';

/** Colour per stage; chosen to stay distinct on dark and light backgrounds. */
export const STAGE_COLOR: Record<StageName | 'guest', string> = {
  guest: '#7f8c8d',
  exit: '#8e6fd8',
  icache: '#2bb3a3',
  walk: '#e67e22',
  fetch: '#d9b310',
  decode: '#3f8fdc',
  insert: '#1f8a7e',
  protect: '#b5651d',
  emulate: '#d0508a',
  invalidate: '#e74c3c',
  device: '#6c9a3c',
};

export const HIT_COLOR = '#2ecc71';
export const MISS_COLOR = '#e74c3c';

/** Colour per exit reason, for the log and the exits chart. */
export const REASON_COLOR: Record<string, string> = {
  mmio: '#3f8fdc',
  'ept-violation': '#e74c3c',
  'apic-write': '#2bb3a3',
  hlt: '#7f8c8d',
  io: '#d9b310',
  cpuid: '#8e6fd8',
  rdmsr: '#c0792b',
  wrmsr: '#e67e22',
  vmcall: '#6c9a3c',
  'external-interrupt': '#d0508a',
  'interrupt-window': '#a569bd',
  'triple-fault': '#b03a2e',
};
