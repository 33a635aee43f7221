/**
 * What the exit-path stages are called, in the order they run: one wording for the charts, the
 * pipeline's cycle bar, the bench and the trace export (core, so the export may use it). Pure.
 */
import type { StageName } from './events';

export const STAGE_ORDER: readonly StageName[] = [
  'exit', 'icache', 'walk', 'fetch', 'decode', 'insert', 'protect', 'emulate', 'invalidate', 'device',
];

export const STAGE_LABEL: Record<StageName, string> = {
  exit: 'VM exit + entry',
  icache: 'cache lookup',
  walk: 'page walk',
  fetch: 'fetch',
  decode: 'decode',
  insert: 'cache insert',
  protect: 'write-protect',
  emulate: 'emulate',
  invalidate: 'invalidate',
  device: 'device',
};
