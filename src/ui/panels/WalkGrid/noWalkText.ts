import { walkUnrecorded, type ExitEvent } from '../../../core/events';
import { int } from '../lib/format';

/** What the walk panel knows of the machine besides the exit: whether it runs, and how far back the timeline reaches. */
export interface WalkContext {
  running: boolean;
  /** The oldest exit the timeline can go back to (handle again), or null without a timeline. */
  reachFirst: number | null;
}

/**
 * Why an exit shows no references. A cache hit skipped the walk; an exit that walked at full
 * speed kept its references only if sampled, and the Worker handles it again when it is picked
 * after the run (picked while the run goes, once the run stops), unless the timeline no longer
 * reaches back that far.
 */
export function noWalkText(exit: ExitEvent, ctx: WalkContext): string {
  if (exit.icache === 'hit') {
    return 'cache hit: no walk. The decoded instruction came from the cache, so the VMM skipped the page walk, the fetch and the decode.';
  }
  if (!walkUnrecorded(exit)) {
    return `No walk for this exit (${exit.reason}${exit.icache === 'bypass' ? ', cache bypassed' : ''}): the VMM did not translate RIP.`;
  }
  if (ctx.running) {
    return 'This exit walked, but a run at full speed records only some walks: its references show when the run stops.';
  }
  if (ctx.reachFirst === null || exit.seq < ctx.reachFirst) {
    const reach = ctx.reachFirst === null ? 'the run kept no timeline' : `the timeline reaches back only to exit ${int(ctx.reachFirst)}`;
    return `This exit walked, but a run at full speed records only some walks, and ${reach}: it cannot be handled again to show its references.`;
  }
  return 'This exit walked, but a run at full speed records only some walks: handling it again to show its references…';
}
