/**
 * Renders one panel for the side of the surrounding SideContext, with the props that panel
 * takes: BenchTable gets the side's strategy. (Charts reads both sides in A/B mode from the
 * shell's MachineSidesContext.)
 */
import { createContext, useContext, type ComponentType } from 'react';
import { useUiStore } from '../store/uiStore';
import type { Side } from './controller';
import type { PanelProps } from './panelRegistry';

export const SideContext = createContext<Side | null>(null);

export function PanelBody({ id, Body }: { id: string; Body: ComponentType<PanelProps> }) {
  const side = useContext(SideContext);
  const strategy = useUiStore((s) => (side?.id === 'b' ? s.strategyB : s.strategy));
  if (id === 'bench-table') return <Body strategy={strategy} />;
  return <Body />;
}
