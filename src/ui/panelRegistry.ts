/**
 * The machine panels, found by folder: each src/ui/panels/<Name>/index.tsx default-exports a
 * component. A panel whose folder is not there yet shows as a titled empty pane; a folder no
 * entry names still shows, under its folder name.
 */
import { lazy, type ComponentType, type LazyExoticComponent } from 'react';
import type { Strategy } from '../worker/protocol';

/** Props the shell passes to panels that take them (others ignore them). */
export interface PanelProps {
  /** The strategy of the side the panel shows (BenchTable). */
  strategy?: Strategy;
}

type PanelModule = { default: ComponentType<PanelProps> };
const modules = import.meta.glob<PanelModule>('./panels/*/index.tsx');

export interface PanelDef {
  id: string;
  title: string;
  /** Folder names the panel may live under (the first that exists wins). */
  folders: string[];
  /** One-line explanation under the title when the panel is missing. */
  blurb: string;
}

export const PANEL_DEFS: readonly PanelDef[] = [
  { id: 'pipeline', title: 'Exit pipeline', folders: ['ExitPipeline', 'Pipeline'], blurb: 'exit → cache lookup → page walk → fetch → decode → emulate → resume' },
  { id: 'walk', title: '2D page walk', folders: ['WalkGrid', 'PageWalk', 'Walk'], blurb: 'guest levels × EPT levels: up to 24 references per translation' },
  { id: 'icache', title: 'Instruction cache', folders: ['ICache', 'InstructionCache', 'Icache'], blurb: 'entries keyed by (VM, RIP, CR3), hits, inserts, invalidations' },
  { id: 'memory', title: 'Memory map', folders: ['MemoryMap', 'Memory'], blurb: 'guest-physical pages by role, write-protected pages marked' },
  { id: 'registers', title: 'Registers & LAPIC', folders: ['Registers', 'RegistersLapic', 'Lapic', 'Cpu'], blurb: 'vCPU registers, RFLAGS, LAPIC registers' },
  { id: 'log', title: 'Event log', folders: ['EventLog', 'Log', 'Events'], blurb: 'every exit, filterable by reason' },
  { id: 'charts', title: 'Charts', folders: ['Charts', 'Chart'], blurb: 'exits per second, hit rate, cycles per exit by stage' },
  { id: 'console', title: 'Console', folders: ['Console'], blurb: 'bytes the guest wrote to the debug port' },
];

export interface ResolvedPanel extends PanelDef {
  Component: LazyExoticComponent<ComponentType<PanelProps>> | null;
}

const folderOf = (path: string) => path.split('/')[2];

function resolve(): ResolvedPanel[] {
  const byFolder = new Map(Object.entries(modules).map(([path, load]) => [folderOf(path), load] as const));
  const used = new Set<string>();
  const out: ResolvedPanel[] = PANEL_DEFS.map((def) => {
    const folder = def.folders.find((f) => byFolder.has(f));
    if (!folder) return { ...def, Component: null };
    used.add(folder);
    return { ...def, Component: lazy(byFolder.get(folder)!) };
  });
  for (const [folder, load] of byFolder) {
    if (used.has(folder)) continue;
    const id = folder.replace(/[A-Z]/g, (c, i: number) => (i ? '-' : '') + c.toLowerCase()).replace(/[^a-z0-9-]/g, '').slice(0, 40) || 'panel';
    out.push({ id, title: folder.replace(/([a-z])([A-Z])/g, '$1 $2'), folders: [folder], blurb: '', Component: lazy(load) });
  }
  return out;
}

export const PANELS: readonly ResolvedPanel[] = resolve();
