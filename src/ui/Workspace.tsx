/**
 * The resizable layout: editor on the left, the machine panels on the right in columns of
 * collapsible panes; in A/B mode one column per side, each bound to its side's store.
 * Every group's layout is kept in localStorage.
 */
import { useCallback, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { Group, Panel, Separator, type Layout, type LayoutChangedMeta } from 'react-resizable-panels';
import { MachineStoreContext } from '../store/machineStore';
import { useUiStore } from '../store/uiStore';
import { sideB, subscribeSides, type Side } from './controller';
import { CollapsiblePane, PANE_HEADER_PX } from './PaneBox';
import { PANELS, type ResolvedPanel } from './panelRegistry';
import { loadPaneLayouts, pageStorage, savePaneLayout, validPaneLayout } from './persist';
import { StatsStrip } from './StatsStrip';
import { SideContext } from './PanelBody';
import { ExitDetailContext } from './panels/useMachine';
import { EditorArea } from './EditorArea';
import { StrategyLabel } from './Toolbar';

function useSavedLayout(groupId: string, ids: readonly string[]) {
  const [initial] = useState(() => validPaneLayout(loadPaneLayouts(pageStorage())[groupId], ids));
  const onLayoutChanged = useCallback((layout: Layout, meta: LayoutChangedMeta) => {
    savePaneLayout(pageStorage(), groupId, meta.requestedLayout ?? layout);
  }, [groupId]);
  return { defaultLayout: initial, onLayoutChanged };
}

const COLUMN_1 = ['pipeline', 'walk', 'registers', 'console'];
/** Panels that start collapsed in A/B mode, where each side has one column. */
const AB_COLLAPSED = new Set(['walk', 'memory', 'registers', 'console']);

function Column({ groupId, panels, startCollapsed }: { groupId: string; panels: readonly ResolvedPanel[]; startCollapsed?: ReadonlySet<string> }) {
  const ids = useMemo(() => panels.map((p) => `pane-${p.id}`), [panels]);
  const { defaultLayout, onLayoutChanged } = useSavedLayout(groupId, ids);
  const [collapsed, setCollapsed] = useState<Record<string, boolean>>(() => {
    const c: Record<string, boolean> = {};
    for (const p of panels) c[p.id] = defaultLayout ? false : !!startCollapsed?.has(p.id);
    return c;
  });
  const onCollapsedChange = useCallback((id: string, value: boolean) => {
    setCollapsed((prev) => (prev[id] === value ? prev : { ...prev, [id]: value }));
  }, []);
  const items: ReactNode[] = [];
  panels.forEach((p, i) => {
    if (i > 0) items.push(<Separator key={`sep-${p.id}`} className="sep sep-h" />);
    items.push(
      <CollapsiblePane
        key={p.id}
        panel={p}
        collapsed={!!collapsed[p.id]}
        onCollapsedChange={onCollapsedChange}
        defaultSize={!defaultLayout && startCollapsed?.has(p.id) ? PANE_HEADER_PX : undefined}
      />,
    );
  });
  return (
    <Group id={groupId} orientation="vertical" className="column" defaultLayout={defaultLayout} onLayoutChanged={onLayoutChanged}>
      {items}
    </Group>
  );
}

/** The store, the client and the exit-detail requests of one side, for everything below. */
function SideProviders({ side, children }: { side: Side; children: ReactNode }) {
  const requestDetail = useCallback((seq: number) => side.client.selectExit(seq), [side]);
  return (
    <SideContext.Provider value={side}>
      <MachineStoreContext.Provider value={side.store}>
        <ExitDetailContext.Provider value={requestDetail}>{children}</ExitDetailContext.Provider>
      </MachineStoreContext.Provider>
    </SideContext.Provider>
  );
}

function SingleMachine({ a }: { a: Side }) {
  const col1 = PANELS.filter((p) => COLUMN_1.includes(p.id));
  const col2 = PANELS.filter((p) => !COLUMN_1.includes(p.id));
  const { defaultLayout, onLayoutChanged } = useSavedLayout('cols', ['pane-col-1', 'pane-col-2']);
  return (
    <SideProviders side={a}>
    <div className="machine" data-side="a">
      <div className="side-bar"><StatsStrip /></div>
      <Group id="cols" orientation="horizontal" className="machine-cols" defaultLayout={defaultLayout} onLayoutChanged={onLayoutChanged}>
        <Panel id="pane-col-1" minSize={260}><Column groupId="col-1" panels={col1} /></Panel>
        <Separator className="sep sep-v" />
        <Panel id="pane-col-2" minSize={260}><Column groupId="col-2" panels={col2} /></Panel>
      </Group>
    </div>
    </SideProviders>
  );
}

function SideMachine({ side }: { side: Side }) {
  const suffix = side.id === 'a' ? '' : '-b';
  return (
    <SideProviders side={side}>
      <div className="machine" data-side={side.id}>
        <div className="side-bar">
          <span className={`side-tag side-${side.id}`}>{side.id.toUpperCase()}</span>
          <StrategyLabel side={side.id} />
          <StatsStrip suffix={suffix} compact />
        </div>
        <Column groupId={`ab-${side.id}`} panels={PANELS} startCollapsed={AB_COLLAPSED} />
      </div>
    </SideProviders>
  );
}

function AbMachines({ a }: { a: Side }) {
  const b = useSyncExternalStore(subscribeSides, sideB);
  const { defaultLayout, onLayoutChanged } = useSavedLayout('ab', ['pane-side-a', 'pane-side-b']);
  if (!b) return <SingleMachine a={a} />;
  return (
    <Group id="ab" orientation="horizontal" className="machine-cols" defaultLayout={defaultLayout} onLayoutChanged={onLayoutChanged}>
      <Panel id="pane-side-a" minSize={280}><SideMachine side={a} /></Panel>
      <Separator className="sep sep-v" />
      <Panel id="pane-side-b" minSize={280}><SideMachine side={b} /></Panel>
    </Group>
  );
}

export function Workspace({ a }: { a: Side }) {
  const abMode = useUiStore((s) => s.abMode);
  const groupId = abMode ? 'main-ab' : 'main';
  return <WorkspaceGroup key={groupId} groupId={groupId} abMode={abMode} a={a} />;
}

function WorkspaceGroup({ groupId, abMode, a }: { groupId: string; abMode: boolean; a: Side }) {
  const { defaultLayout, onLayoutChanged } = useSavedLayout(groupId, ['pane-editor', 'pane-machine']);
  return (
    <Group id={groupId} orientation="horizontal" className="workspace" defaultLayout={defaultLayout} onLayoutChanged={onLayoutChanged}>
      <Panel id="pane-editor" minSize={300} defaultSize={abMode ? '30%' : '38%'} className="editor-panel">
        <EditorArea />
      </Panel>
      <Separator className="sep sep-v" />
      <Panel id="pane-machine" minSize={480}>
        {abMode ? <AbMachines a={a} /> : <SingleMachine a={a} />}
      </Panel>
    </Group>
  );
}
