import { useCallback, useState, type AnimationEvent } from 'react';

/** How a view of one exit plays its stages (the CSS animations under its element). */
export interface StagePlay {
  /** Replays of this exit so far: the view's element key, so each replay plays from the start. */
  replay: number;
  /** Every stage shown at once: asked so (and not replayed), or every animation played. */
  still: boolean;
  /** The replay button's handler. */
  onReplay: () => void;
  /** The element's onAnimationEnd (each stage's end bubbles to it): finds out when all have played. */
  onAnimationEnd: (e: AnimationEvent<HTMLElement>) => void;
}

/**
 * The stage play of the view of exit `seq`, shown whole (`selectShownWhole`) or stage by stage. A
 * view kept across seeks shows the next exit still again (replays count per exit). A played view
 * is drawn still, as a travelled one is: the same look, with no animation held at its end for the
 * next seek to drop (which re-laid out and repainted the pane; DESIGN.md).
 */
export function useStagePlay(seq: number, whole: boolean): StagePlay {
  const [replays, setReplays] = useState({ seq, n: 0 });
  const replay = replays.seq === seq ? replays.n : 0;
  const view = `${seq}:${replay}`;
  const [played, setPlayed] = useState<string | null>(null);
  const onAnimationEnd = useCallback((e: AnimationEvent<HTMLElement>) => {
    if (e.currentTarget.getAnimations({ subtree: true }).every((a) => a.playState === 'finished')) setPlayed(view);
  }, [view]);
  return { replay, still: (whole && replay === 0) || played === view, onReplay: () => setReplays({ seq, n: replay + 1 }), onAnimationEnd };
}
