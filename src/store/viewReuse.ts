/**
 * A new MachineView that keeps the previous view's parts wherever they did not change, so the
 * panels that select them (the memory map's pages, the cache's entries, the editor's line
 * counts, ...) see the same reference and do not render again: a seek on the timeline or a
 * view while running often changes the registers and counters but not the pages or the console.
 */
import type { MachineView } from '../worker/protocol';

const PARTS = ['vcpus', 'icache', 'buckets', 'pages', 'lines'] as const satisfies readonly (keyof MachineView)[];

export function reuseUnchanged(prev: MachineView | null, next: MachineView): MachineView {
  if (prev === null) return next;
  const out: MachineView = { ...next };
  for (const k of PARTS) {
    // Plain data from a structured clone: equal JSON is equal content (and costs well under a
    // millisecond against the render it saves).
    if (JSON.stringify(prev[k]) === JSON.stringify(next[k])) (out as Record<typeof k, unknown>)[k] = prev[k];
  }
  return out;
}
