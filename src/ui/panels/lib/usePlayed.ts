import { useCallback, useState, type AnimationEvent } from 'react';

/**
 * Whether the view `view` (an exit and its replay) has played every animation under its element,
 * and the handler that finds out: the element's onAnimationEnd, which each stage's end bubbles to.
 * A played view is drawn still, as a travelled one is: the same look, with no animation held at
 * its end for the next seek to drop (which re-laid out and repainted the pane; DESIGN.md).
 */
export function usePlayed(view: string): [played: boolean, onAnimationEnd: (e: AnimationEvent<HTMLElement>) => void] {
  const [played, setPlayed] = useState<string | null>(null);
  const onAnimationEnd = useCallback((e: AnimationEvent<HTMLElement>) => {
    if (e.currentTarget.getAnimations({ subtree: true }).every((a) => a.playState === 'finished')) setPlayed(view);
  }, [view]);
  return [played === view, onAnimationEnd];
}
