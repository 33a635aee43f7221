/**
 * The resizable layout: editor on the left, the machine panels on the right in columns of
 * collapsible panes, as the layout spec in uiStore says (a preset, or a lesson's focus); in A/B
 * mode one column per side, each bound to its side's store. Every group's sizes are kept in
 * localStorage, per spec id; applying a spec (applyLayout) starts again from the spec's sizes.
 */
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { Group, Panel, Separator, useGroupRef, type Layout, type LayoutChangedMeta } from 'react-resizable-panels';
import { useStore } from 'zustand';
import { abPlacements, columnSizes, expandedSizes, isDimmed, type LayoutSpec, type PanelPlacement } from '../store/layout';
import { MachineStoreContext, type MachineState } from '../store/machineStore';
import { useUiStore } from '../store/uiStore';
import { sideB, subscribeSides, type Side } from './controller';
import { CollapsiblePane, PANE_HEADER_PX } from './PaneBox';
import { LayoutMenu } from './LayoutMenu';
import { PANELS, type ResolvedPanel } from './panelRegistry';
import { loadPaneLayouts, pageStorage, savePaneLayout, validPaneLayout } from './persist';
import { StatsStrip } from './StatsStrip';
import { SideContext } from './PanelBody';
import { ExitDetailContext, MachineSidesContext, type MachineSide } from './panels/useMachine';
import { EditorArea } from './EditorArea';
import { StrategyLabel } from './Toolbar';

function useSavedLayout(groupId: string, ids: readonly string[], preferSaved = true) {
  const [initial] = useState(() => (preferSaved ? validPaneLayout(loadPaneLayouts(pageStorage())[groupId], ids) : undefined));
  const onLayoutChanged = useCallback((layout: Layout, meta: LayoutChangedMeta) => {
    savePaneLayout(pageStorage(), groupId, meta.requestedLayout ?? layout);
  }, [groupId]);
  return { defaultLayout: initial, onLayoutChanged };
}

/** A spec's id as a group-id prefix (saved sizes are kept per group id). */
const groupPrefix = (spec: LayoutSpec) => spec.id.toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 24) || 'layout';

interface Placed {
  panel: ResolvedPanel;
  size: number;
  collapsed: boolean;
}

/** The spec's placements that name a panel this build has. */
function resolvePlacements(list: readonly PanelPlacement[]): Placed[] {
  const out: Placed[] = [];
  for (const p of list) {
    const panel = PANELS.find((x) => x.id === p.id);
    if (panel) out.push({ panel, size: p.size, collapsed: !!p.collapsed });
  }
  return out;
}

/** Height of an element, once it has been laid out (null before). */
function useHeight(): [number | null, (el: HTMLDivElement | null) => void] {
  const [h, setH] = useState<number | null>(null);
  const ref = useCallback((el: HTMLDivElement | null) => {
    if (el) setH((prev) => prev ?? el.clientHeight);
  }, []);
  return [h, ref];
}

function Column({ groupId, placed, preferSaved, spec }: { groupId: string; placed: readonly Placed[]; preferSaved: boolean; spec: LayoutSpec }) {
  const ids = useMemo(() => placed.map((p) => `pane-${p.panel.id}`), [placed]);
  const { defaultLayout: saved, onLayoutChanged } = useSavedLayout(groupId, ids, preferSaved);
  const [height, hostRef] = useHeight();
  const groupRef = useGroupRef();
  const onExpandRefused = useCallback((paneId: string, minSize: number, collapsedSize: number) => {
    const group = groupRef.current;
    const next = group && expandedSizes(group.getLayout(), paneId, minSize, collapsedSize);
    if (next) group.setLayout(next);
  }, [groupRef]);
  const [collapsed, setCollapsed] = useState<Record<string, boolean>>(() => {
    const c: Record<string, boolean> = {};
    for (const p of placed) c[p.panel.id] = saved ? false : p.collapsed;
    return c;
  });
  const onCollapsedChange = useCallback((id: string, value: boolean) => {
    setCollapsed((prev) => (prev[id] === value ? prev : { ...prev, [id]: value }));
  }, []);
  // The spec's sizes need the column's height (a collapsed panel is its title bar, in pixels).
  const defaultLayout = useMemo((): Layout | undefined => {
    if (saved) return saved;
    if (height === null) return undefined;
    const sizes = columnSizes(placed.map((p) => ({ id: p.panel.id, size: p.size, collapsed: p.collapsed })), height, PANE_HEADER_PX);
    return Object.fromEntries(placed.map((p, i) => [`pane-${p.panel.id}`, sizes[i]]));
  }, [saved, height, placed]);
  const items: ReactNode[] = [];
  placed.forEach((p, i) => {
    if (i > 0) items.push(<Separator key={`sep-${p.panel.id}`} className="sep sep-h" />);
    items.push(
      <CollapsiblePane
        key={p.panel.id}
        panel={p.panel}
        collapsed={!!collapsed[p.panel.id]}
        dimmed={isDimmed(spec, p.panel.id)}
        onCollapsedChange={onCollapsedChange}
        onExpandRefused={onExpandRefused}
      />,
    );
  });
  return (
    <div className="column-host" ref={hostRef}>
      {defaultLayout && (
        <Group id={groupId} groupRef={groupRef} orientation="vertical" className="column" defaultLayout={defaultLayout} onLayoutChanged={onLayoutChanged}>
          {items}
        </Group>
      )}
    </div>
  );
}

/** The store, the client and the exit-detail requests of one side, for everything below. */
function SideProviders({ side, children }: { side: Side; children: ReactNode }) {
  const requestDetail = useCallback((seq: number, detail: boolean) => side.client.selectExit(seq, detail), [side]);
  return (
    <SideContext.Provider value={side}>
      <MachineStoreContext.Provider value={side.store}>
        <ExitDetailContext.Provider value={requestDetail}>{children}</ExitDetailContext.Provider>
      </MachineStoreContext.Provider>
    </SideContext.Provider>
  );
}

const selectRestarting = (s: MachineState) => s.restarting;

/**
 * A side's machine area. While its program reloads (Run after the end, Reset) the panels show
 * the previous run, and say so: aria-busy, and dimmed (app.css) once the reload takes longer
 * than a glance, so a reload of a few milliseconds does not blink.
 */
function MachineArea({ side, layout, children }: { side: Side; layout: string; children: ReactNode }) {
  const restarting = useStore(side.store, selectRestarting);
  return (
    <div className="machine" data-side={side.id} data-layout={layout} aria-busy={restarting || undefined}>
      {children}
    </div>
  );
}

/** The layout in force, and whether it was just applied (then its own sizes win over saved ones). */
function useLayoutSpec(): { spec: LayoutSpec; revision: number } {
  const spec = useUiStore((s) => s.layout);
  const revision = useUiStore((s) => s.layoutRevision);
  return { spec, revision };
}

function SingleMachine({ a }: { a: Side }) {
  const { spec, revision } = useLayoutSpec();
  return (
    <SideProviders side={a}>
    <MachineArea side={a} layout={spec.id}>
      <div className="side-bar"><StatsStrip /><LayoutMenu /></div>
      <MachineColumns key={`${spec.id}:${revision}`} spec={spec} preferSaved={revision === 0} />
    </MachineArea>
    </SideProviders>
  );
}

function MachineColumns({ spec, preferSaved }: { spec: LayoutSpec; preferSaved: boolean }) {
  const prefix = groupPrefix(spec);
  const colIds = useMemo(() => spec.columns.map((_, i) => `pane-col-${i + 1}`), [spec]);
  const { defaultLayout: saved, onLayoutChanged } = useSavedLayout(`${prefix}-cols`, colIds, preferSaved);
  const defaultLayout = useMemo(() => saved ?? Object.fromEntries(spec.columns.map((c, i) => [colIds[i], c.size])), [saved, spec, colIds]);
  const columns = useMemo(() => spec.columns.map((c) => resolvePlacements(c.panels)), [spec]);
  const items: ReactNode[] = [];
  columns.forEach((placed, i) => {
    if (i > 0) items.push(<Separator key={`sep-${i}`} className="sep sep-v" />);
    items.push(
      <Panel key={colIds[i]} id={colIds[i]} minSize={260}>
        <Column groupId={`${prefix}-col-${i + 1}`} placed={placed} preferSaved={preferSaved} spec={spec} />
      </Panel>,
    );
  });
  return (
    <Group id={`${prefix}-cols`} orientation="horizontal" className="machine-cols" defaultLayout={defaultLayout} onLayoutChanged={onLayoutChanged}>
      {items}
    </Group>
  );
}

function SideMachine({ side }: { side: Side }) {
  const { spec, revision } = useLayoutSpec();
  const suffix = side.id === 'a' ? '' : '-b';
  const placed = useMemo(() => resolvePlacements(abPlacements(spec)), [spec]);
  return (
    <SideProviders side={side}>
      <MachineArea side={side} layout={spec.id}>
        <div className="side-bar">
          <span className={`side-tag side-${side.id}`}>{side.id.toUpperCase()}</span>
          <StrategyLabel side={side.id} />
          <StatsStrip suffix={suffix} compact />
          {side.id === 'a' && <LayoutMenu />}
        </div>
        <Column key={`${spec.id}:${revision}`} groupId={`ab-${side.id}-${groupPrefix(spec)}`} placed={placed} preferSaved={revision === 0} spec={spec} />
      </MachineArea>
    </SideProviders>
  );
}

function AbMachines({ a }: { a: Side }) {
  const b = useSyncExternalStore(subscribeSides, sideB);
  const { defaultLayout, onLayoutChanged } = useSavedLayout('ab', ['pane-side-a', 'pane-side-b']);
  const strategyA = useUiStore((s) => s.strategy);
  const strategyB = useUiStore((s) => s.strategyB);
  // The sides the comparison chart shows, each read from its own store (useStoresLive).
  const machineSides = useMemo((): MachineSide[] | null => (b ? [
    { label: 'A', strategy: strategyA, store: a.store },
    { label: 'B', strategy: strategyB, store: b.store },
  ] : null), [a, b, strategyA, strategyB]);
  if (!b) return <SingleMachine a={a} />;
  return (
    <MachineSidesContext.Provider value={machineSides}>
      <Group id="ab" orientation="horizontal" className="machine-cols" defaultLayout={defaultLayout} onLayoutChanged={onLayoutChanged}>
        <Panel id="pane-side-a" minSize={280}><SideMachine side={a} /></Panel>
        <Separator className="sep sep-v" />
        <Panel id="pane-side-b" minSize={280}><SideMachine side={b} /></Panel>
      </Group>
    </MachineSidesContext.Provider>
  );
}

export function Workspace({ a }: { a: Side }) {
  const abMode = useUiStore((s) => s.abMode);
  const groupId = abMode ? 'main-ab' : 'main';
  return <WorkspaceGroup key={groupId} groupId={groupId} abMode={abMode} a={a} />;
}

function WorkspaceGroup({ groupId, abMode, a }: { groupId: string; abMode: boolean; a: Side }) {
  const { defaultLayout, onLayoutChanged } = useSavedLayout(groupId, ['pane-editor', 'pane-machine']);
  const spec = useUiStore((s) => s.layout);
  const groupRef = useGroupRef();
  // A layout applied now brings its editor width (the group stays mounted: Monaco keeps its state).
  useEffect(() => useUiStore.subscribe((s, prev) => {
    if (s.layoutRevision === prev.layoutRevision) return;
    const editor = abMode ? Math.min(s.layout.editor, 30) : s.layout.editor;
    groupRef.current?.setLayout({ 'pane-editor': editor, 'pane-machine': 100 - editor });
  }), [abMode, groupRef]);
  return (
    <Group id={groupId} groupRef={groupRef} orientation="horizontal" className="workspace" defaultLayout={defaultLayout} onLayoutChanged={onLayoutChanged}>
      <Panel id="pane-editor" minSize={300} defaultSize={`${abMode ? Math.min(spec.editor, 30) : spec.editor}%`} className="editor-panel">
        <EditorArea />
      </Panel>
      <Separator className="sep sep-v" />
      <Panel id="pane-machine" minSize={480}>
        {abMode ? <AbMachines a={a} /> : <SingleMachine a={a} />}
      </Panel>
    </Group>
  );
}
