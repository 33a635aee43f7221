import type { ICacheCounters } from '../../../core/events';
import { counted } from '../lib/format';

/**
 * The cache's counts for its toolbar, which keeps one line and drops whole counts that do not
 * fit: those that happened come first, so a narrow pane shows the story of the run (smc-then-remap's
 * 13 invalidations and 12 write-protect faults) rather than "0 evictions". `all`, in a fixed order,
 * is the tooltip.
 */
export function cacheCountParts(c: ICacheCounters): { shown: { name: string; text: string }[]; all: string } {
  const parts = [
    { n: c.inserts, name: 'insert' }, { n: c.invalidations, name: 'invalidation' },
    { n: c.wpFaults, name: 'write-protect fault' }, { n: c.evictions, name: 'eviction' },
  ].map((p) => ({ ...p, text: counted(p.n, p.name) }));
  return {
    shown: [...parts.filter((p) => p.n > 0), ...parts.filter((p) => p.n === 0)].map(({ name, text }) => ({ name, text })),
    all: parts.map((p) => p.text).join(' · '),
  };
}
