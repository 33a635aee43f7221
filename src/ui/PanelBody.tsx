/**
 * Renders one panel for the side of the surrounding SideContext, with the props that panel
 * takes: BenchTable gets the side's strategy, Charts gets both sides' histories in A/B mode,
 * its own side's first (throttled: the charts need not follow every frame).
 */
import { createContext, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ComponentType } from 'react';
import { useUiStore } from '../store/uiStore';
import { sideA, sideB, subscribeSides, type Side } from './controller';
import type { ChartSideProps, PanelProps } from './panelRegistry';

export const SideContext = createContext<Side | null>(null);

const CHART_SIDES_MS = 250;

/** Both sides' chart histories, the panel's own side first (its charts show its own data). */
function useAbChartSides(enabled: boolean, own: Side | null): ChartSideProps[] | undefined {
  const b = useSyncExternalStore(subscribeSides, sideB);
  const strategyA = useUiStore((s) => s.strategy);
  const strategyB = useUiStore((s) => s.strategyB);
  const on = enabled && !!b;
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!on) return;
    const id = setInterval(() => setTick((t) => t + 1), CHART_SIDES_MS);
    return () => clearInterval(id);
  }, [on]);
  return useMemo(() => {
    if (!on || !b) return undefined;
    void tick; // re-read the histories on every tick
    const a = { label: `A ${strategyA}`, history: sideA().store.getState().history };
    const other = { label: `B ${strategyB}`, history: b.store.getState().history };
    return own?.id === 'b' ? [other, a] : [a, other];
  }, [on, b, tick, strategyA, strategyB, own]);
}

export function PanelBody({ id, Body }: { id: string; Body: ComponentType<PanelProps> }) {
  const side = useContext(SideContext);
  const strategy = useUiStore((s) => (side?.id === 'b' ? s.strategyB : s.strategy));
  const sides = useAbChartSides(id === 'charts', side);
  if (id === 'bench-table') return <Body strategy={strategy} />;
  if (id === 'charts') return <Body sides={sides} />;
  return <Body />;
}
