/**
 * One machine panel in a resizable column: a header with its title and a collapse button,
 * and the panel behind an error boundary (a panel that throws shows its error, the page
 * goes on) and a Suspense boundary (panels load lazily).
 */
import { PANEL_TERMS } from './glossary/terms';
import { Component, Suspense, type ReactNode } from 'react';
import { Panel, usePanelRef } from 'react-resizable-panels';
import type { ResolvedPanel } from './panelRegistry';
import { PanelBody } from './PanelBody';

export const PANE_HEADER_PX = 30;
/** An open panel's least height. */
const PANE_MIN_PX = 90;

class PanelBoundary extends Component<{ title: string; children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override render() {
    if (this.state.error) {
      return (
        <div className="pane-error" role="alert">
          <strong>{this.props.title} failed:</strong> {this.state.error.message}
          <button type="button" onClick={() => this.setState({ error: null })}>Retry</button>
        </div>
      );
    }
    return this.props.children;
  }
}

export function PaneBox({ panel, collapsed, dimmed = false, onToggle }: { panel: ResolvedPanel; collapsed: boolean; dimmed?: boolean; onToggle: () => void }) {
  const { Component: Body } = panel;
  return (
    // Not a landmark: the panel inside is the region (one name per region).
    <div className={`pane${collapsed ? ' collapsed' : ''}${dimmed ? ' dimmed' : ''}`} data-pane={panel.id}>
      <div className="pane-header">
        <button
          type="button"
          className="pane-toggle"
          aria-expanded={!collapsed}
          title={collapsed ? `Expand ${panel.title}` : `Collapse ${panel.title}`}
          onClick={onToggle}
          data-testid={`pane-toggle-${panel.id}`}
        >
          <span className="chevron" aria-hidden>{collapsed ? '▸' : '▾'}</span>
          <span className="pane-title" data-term={PANEL_TERMS[panel.id]}>{panel.title}</span>
        </button>
      </div>
      {!collapsed && (
        <div className="pane-body">
          {Body ? (
            <PanelBoundary title={panel.title}>
              <Suspense fallback={<div className="pane-empty">Loading…</div>}>
                <PanelBody id={panel.id} Body={Body} />
              </Suspense>
            </PanelBoundary>
          ) : (
            <div className="pane-empty">
              <p>{panel.blurb}</p>
              <p className="muted">This panel is not built yet.</p>
            </div>
          )}
        </div>
      )}
    </div>
  );
}

/** A PaneBox inside a collapsible resizable Panel; collapse state follows the Panel's size. */
export function CollapsiblePane({ panel, onCollapsedChange, collapsed, dimmed, onExpandRefused }: {
  panel: ResolvedPanel;
  collapsed: boolean;
  dimmed?: boolean;
  onCollapsedChange: (id: string, collapsed: boolean) => void;
  /** The library left the pane folded: its column makes the room (sizes in the library's percent). */
  onExpandRefused?: (paneId: string, minSize: number, collapsedSize: number) => void;
}) {
  const ref = usePanelRef();
  return (
    <Panel
      id={`pane-${panel.id}`}
      panelRef={ref}
      collapsible
      collapsedSize={PANE_HEADER_PX}
      minSize={PANE_MIN_PX}
      className="pane-panel"
      onResize={(size) => onCollapsedChange(panel.id, size.inPixels <= PANE_HEADER_PX + 2)}
    >
      <PaneBox
        panel={panel}
        collapsed={collapsed}
        dimmed={dimmed}
        onToggle={() => {
          const p = ref.current;
          if (!p) return;
          if (!p.isCollapsed()) {
            p.collapse();
            return;
          }
          p.expand();
          // Some columns' sizes make the library's expand do nothing (see expandedSizes).
          if (p.isCollapsed() && onExpandRefused) {
            const { asPercentage, inPixels } = p.getSize();
            if (inPixels > 0) onExpandRefused(`pane-${panel.id}`, (asPercentage * PANE_MIN_PX) / inPixels, asPercentage);
          }
        }}
      />
    </Panel>
  );
}
