import type { ICacheCounters } from '../../../core/events';
import { int } from '../lib/format';

/**
 * The cache's counts for its toolbar, which keeps one line and drops whole counts that do not
 * fit: those that happened come first, so a narrow pane shows the story of the run (smc-then-remap's
 * 13 invalidations and 12 write-protect faults) rather than "0 evictions". `all`, in a fixed order,
 * is the tooltip.
 */
export function cacheCountParts(c: ICacheCounters): { shown: string[]; all: string } {
  const parts: [number, string][] = [
    [c.inserts, 'inserts'], [c.invalidations, 'invalidations'], [c.wpFaults, 'write-protect faults'], [c.evictions, 'evictions'],
  ];
  const text = ([n, what]: [number, string]) => `${int(n)} ${what}`;
  return {
    shown: [...parts.filter(([n]) => n > 0), ...parts.filter(([n]) => n === 0)].map(text),
    all: parts.map(text).join(' · '),
  };
}
