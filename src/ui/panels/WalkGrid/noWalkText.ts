import { walkUnrecorded, type ExitEvent } from '../../../core/events';
import { counted, int } from '../lib/format';

/** What the walk panel knows of the machine besides the exit: whether it runs, and how far back the timeline reaches. */
export interface WalkContext {
  running: boolean;
  /** The oldest exit the timeline can go back to (handle again), or null without a timeline. */
  reachFirst: number | null;
}

/**
 * The note, the exit's reason apart when it names one: the panel sets it in code type, as the
 * pipeline's header does (in the note's type "hlt" reads as "hit").
 */
export interface NoWalkNote {
  text: string;
  reason?: { name: string; after: string };
}

/** The note as one string. */
export const noteString = (n: NoWalkNote): string => n.text + (n.reason ? n.reason.name + n.reason.after : '');

/**
 * Why an exit shows no references. A cache hit skipped the walk; an exit that walked at full
 * speed kept its references only if sampled, and the Worker handles it again when it is picked
 * after the run (picked while the run goes, once the run stops), unless the timeline no longer
 * reaches back that far.
 */
export function noWalkText(exit: ExitEvent, ctx: WalkContext): NoWalkNote {
  if (exit.icache === 'hit') {
    const operand = exit.stages.find((s) => s.operand === 'walk');
    return {
      text: operand
        // The operand's address comes from the guest's registers at each exit: no cache keeps its translation.
        ? `cache hit: no walk of RIP. The decoded instruction came from the cache, so the VMM skipped RIP's page walk, the fetch and the decode. Emulating it still walked its memory operand (${counted(operand.refs ?? 0, 'reference')}, ${counted(operand.held ?? 0, 'page')} held: the pipeline's emulate stage), which this panel does not draw.`
        : 'cache hit: no walk. The decoded instruction came from the cache, so the VMM skipped the page walk, the fetch and the decode.',
    };
  }
  if (!walkUnrecorded(exit)) {
    return { text: 'No walk for this exit (', reason: { name: exit.reason, after: `${exit.icache === 'bypass' ? ', cache bypassed' : ''}): the VMM did not translate RIP.` } };
  }
  if (ctx.running) {
    return { text: 'This exit walked, but a run at full speed records only some walks: its references show when the run stops.' };
  }
  if (ctx.reachFirst === null || exit.seq < ctx.reachFirst) {
    const reach = ctx.reachFirst === null ? 'the run kept no timeline' : `the timeline reaches back only to exit ${int(ctx.reachFirst)}`;
    return { text: `This exit walked, but a run at full speed records only some walks, and ${reach}: it cannot be handled again to show its references.` };
  }
  return { text: 'This exit walked, but a run at full speed records only some walks: handling it again to show its references…' };
}
