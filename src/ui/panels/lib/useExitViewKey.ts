import { useState } from 'react';
import type { ExitEvent } from '../../../core/events';

/**
 * The key of a panel's view of `exit` (the pipeline's stages, the walk's references): a new view
 * for each exit shown at the present, whose animation then plays from the start; while the
 * timeline travels, the view it had, updated in place. Keyed anew on a seek, the first seek
 * after a run built both views from scratch, the costliest render of a seek.
 */
export function useExitViewKey(exit: ExitEvent | null, travelled: boolean): number {
  const [key, setKey] = useState(exit?.seq ?? -1);
  // Set during render (React re-renders before committing): the new key is the one committed.
  if (exit && !travelled && key !== exit.seq) setKey(exit.seq);
  return key;
}
