/**
 * Guest-physical memory as a grid of pages on one canvas, coloured by role. Write-protected
 * pages are hatched (the VMM cleared W in the EPT to guard cached instructions); the pages of the
 * selected exit's walk are outlined; a page written by a write-protect fault (an 'ept-violation'
 * exit) flashes red.
 */
import { useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import type { MachineState } from '../../../store/machineStore';
import type { PageView } from '../../../worker/protocol';
import { useUiStore } from '../../../store/uiStore';
import { useMachine, useMachineApi, useMachineLive } from '../useMachine';
import { hex } from '../lib/format';
import { prepareCanvas } from '../lib/prepareCanvas';
import { TextLayer } from '../lib/textLayer';
import { walkTablePages } from '../WalkGrid/walkLayout';
import { ROLES, ROLE_COLOR, layoutPages, pageAtSlot, pageOf, roleCounts, type PageLayout } from './memoryLayout';
import '../panels.css';

const CELL = 11;
const GUTTER = 76;
const EMPTY: PageView[] = [];
const selectPages = (s: MachineState) => s.view?.pages ?? EMPTY;

function draw(canvas: HTMLCanvasElement, labels: TextLayer, l: PageLayout, outlined: ReadonlySet<number>, faulted: number | null, dark: boolean) {
  const w = GUTTER + l.cols * CELL;
  const h = Math.max(1, l.rows) * CELL;
  const g = prepareCanvas(canvas, w, h);
  if (!g) return;
  const ink = dark ? '#8a9099' : '#5d6670';
  labels.draw(g, `${ink}|${l.rowGpa.join(',')}`, GUTTER, h, (t) => {
    t.font = '9px ui-monospace, monospace';
    t.textBaseline = 'middle';
    t.fillStyle = ink;
    l.rowGpa.forEach((gpa, r) => {
      if (gpa !== null && (r % 2 === 0 || l.rows < 40)) t.fillText(hex(gpa, 8), 2, r * CELL + CELL / 2);
    });
  });
  const hatch = dark ? 'rgba(255,255,255,0.85)' : 'rgba(0,0,0,0.75)';
  for (let i = 0; i < l.pages.length; i++) {
    const p = l.pages[i];
    const s = l.slots[i];
    const x = GUTTER + (s % l.cols) * CELL;
    const y = Math.floor(s / l.cols) * CELL;
    g.fillStyle = ROLE_COLOR[p.role];
    g.globalAlpha = p.role === 'free' ? 0.35 : 1;
    g.fillRect(x, y, CELL - 1, CELL - 1);
    g.globalAlpha = 1;
    if (p.writeProtected) {
      g.strokeStyle = hatch;
      g.lineWidth = 1;
      g.beginPath();
      g.moveTo(x, y + CELL - 1); g.lineTo(x + CELL - 1, y);
      g.moveTo(x, y + (CELL - 1) / 2); g.lineTo(x + (CELL - 1) / 2, y);
      g.moveTo(x + (CELL - 1) / 2, y + CELL - 1); g.lineTo(x + CELL - 1, y + (CELL - 1) / 2);
      g.stroke();
    }
  }
  g.lineWidth = 2;
  for (const gpa of outlined) {
    const i = l.index.get(gpa);
    if (i === undefined) continue;
    const s = l.slots[i];
    g.strokeStyle = dark ? '#ffffff' : '#000000';
    g.strokeRect(GUTTER + (s % l.cols) * CELL + 1, Math.floor(s / l.cols) * CELL + 1, CELL - 3, CELL - 3);
  }
  if (faulted !== null) {
    const i = l.index.get(faulted);
    if (i !== undefined) {
      const s = l.slots[i];
      g.strokeStyle = '#ff3b30';
      g.strokeRect(GUTTER + (s % l.cols) * CELL, Math.floor(s / l.cols) * CELL, CELL - 1, CELL - 1);
    }
  }
}

/** Newest write-protect faults (page + seq), to flash. */
function useFaultFlashes(): { gpa: number; seq: number }[] {
  const api = useMachineApi();
  const [flashes, setFlashes] = useState<{ gpa: number; seq: number }[]>([]);
  useEffect(() => {
    // From what the log holds when the panel mounts: mounted at a past exit (a layout change),
    // its end is the recorded future, whose faults are no news.
    let seen = api.getState().exitLog.at(-1)?.seq ?? -1;
    return api.subscribe((s, prev) => {
      if (s.exitLogVersion === prev.exitLogVersion) return;
      if (s.exitLogVersion < prev.exitLogVersion || s.exitLog.length === 0) { seen = -1; setFlashes([]); return; }
      const log = s.exitLog;
      const found: { gpa: number; seq: number }[] = [];
      for (let i = log.length - 1; i >= 0 && i >= log.length - 512 && log[i].seq > seen; i--) {
        const e = log[i];
        if (e.reason === 'ept-violation' && e.gpa !== undefined && found.length < 8) found.push({ gpa: pageOf(e.gpa), seq: e.seq });
      }
      seen = log[log.length - 1].seq;
      if (found.length) setFlashes((f) => [...found, ...f].slice(0, 8));
    });
  }, [api]);
  return flashes;
}

export default function MemoryMap() {
  const pages = useMachineLive(selectPages) ?? EMPTY;
  const selected = useMachine((s) => s.selectedExit);
  const theme = useUiStore((s) => s.theme);
  const vms = useMemo(() => [...new Set(pages.map((p) => p.vm))].sort((a, b) => a - b), [pages]);
  const [vmChoice, setVm] = useState(0);
  const vm = vms.includes(vmChoice) ? vmChoice : vms[0] ?? 0;
  const wrap = useRef<HTMLDivElement | null>(null);
  const canvas = useRef<HTMLCanvasElement | null>(null);
  const [labels] = useState(() => new TextLayer());
  const [width, setWidth] = useState(600);
  const [hover, setHover] = useState<{ p: PageView; x: number; y: number } | null>(null);
  const flashes = useFaultFlashes();
  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const cols = Math.max(8, Math.floor((width - GUTTER - 4) / CELL));
  const layout = useMemo(() => layoutPages(pages, vm, cols), [pages, vm, cols]);
  // Keyed by the pages, not by the exit: a seek selects a new exit on every move, mostly with the
  // same table pages (none on a cache hit), and an unchanged map is not drawn again.
  const outlinedKey = (selected && selected.vm === vm ? walkTablePages(selected.walk) : []).join(',');
  const outlined = useMemo(() => new Set(outlinedKey ? outlinedKey.split(',').map(Number) : []), [outlinedKey]);
  const faulted = selected && selected.reason === 'ept-violation' && selected.gpa !== undefined && selected.vm === vm ? pageOf(selected.gpa) : null;
  useEffect(() => {
    if (!canvas.current) return;
    // The theme from the store, not getComputedStyle (which forced a style pass on every redraw).
    draw(canvas.current, labels, layout, outlined, faulted, theme === 'dark');
  }, [labels, layout, outlined, faulted, theme]);
  const counts = useMemo(() => roleCounts(layout.pages), [layout]);
  const wp = useMemo(() => layout.pages.filter((p) => p.writeProtected).length, [layout]);
  const onMove = (e: MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - r.left - GUTTER;
    const y = e.clientY - r.top;
    const p = x < 0 ? null : pageAtSlot(layout, Math.floor(y / CELL) * layout.cols + Math.floor(x / CELL));
    setHover(p ? { p, x: e.clientX - r.left, y: e.clientY - r.top } : null);
  };
  const slotPos = (gpa: number) => {
    const i = layout.index.get(gpa);
    if (i === undefined) return null;
    const s = layout.slots[i];
    return { left: GUTTER + (s % layout.cols) * CELL, top: Math.floor(s / layout.cols) * CELL };
  };
  return (
    <section tabIndex={0} className="xs-panel xs-memmap" data-testid="memory-map" aria-label="Guest-physical memory map">
      <div className="xs-toolbar">
        <span><b>{layout.pages.length}</b> pages</span>
        <span className="xs-note"><span className="xs-hatch" /> {wp} write-protected</span>
        {outlined.size > 0 && <span className="xs-note"><span className="xs-outline" /> walk of exit #{selected?.seq}</span>}
        {vms.length > 1 && (
          <label className="xs-right">VM <select value={vm} onChange={(e) => setVm(Number(e.target.value))}>
            {vms.map((v) => <option key={v} value={v}>{v}</option>)}
          </select></label>
        )}
      </div>
      <div className="xs-legend">
        {ROLES.filter((r) => counts[r]).map((r) => (
          <span key={r}><i style={{ background: ROLE_COLOR[r] }} />{r} {counts[r]}</span>
        ))}
      </div>
      <div className="xs-memmap-body" ref={wrap}>
        {layout.pages.length === 0 && <div className="xs-empty">Load a program to see its guest-physical pages.</div>}
        <div style={{ position: 'relative' }}>
          <canvas ref={canvas} onMouseMove={onMove} onMouseLeave={() => setHover(null)} />
          {flashes.map((f) => {
            const pos = slotPos(f.gpa);
            return pos && <div key={f.seq} className="xs-page-flash" data-testid="page-flash" style={{ left: pos.left - 3, top: pos.top - 3, width: CELL + 5, height: CELL + 5 }} />;
          })}
          {hover && (
            <div className="xs-tip" style={{ left: Math.min(hover.x + 12, width - 180), top: hover.y + 12 }}>
              gpa {hex(hover.p.gpa)} · {hover.p.role}{hover.p.writeProtected ? ' · write-protected' : ''}
              {outlined.has(hover.p.gpa) ? ' · in the selected walk' : ''}
            </div>
          )}
        </div>
      </div>
    </section>
  );
}
