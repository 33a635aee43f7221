/**
 * The instruction cache: every entry (vm, rip, cr3, bytes, disassembly, hits, age) with rows
 * that flash on hit (green) and insert (blue), and removed entries struck through as they fade
 * (red: invalidated by a write-protect fault; grey: evicted). The bucket heatmap shows how the
 * entries spread over the hash table; the selected exit's entry and bucket are outlined. A run
 * under a strategy without the cache (all but icache) is told so, not shown an empty table.
 */
import { memo, useEffect, useMemo, useRef, useState, useSyncExternalStore, type MouseEvent } from 'react';
import type { ExitEvent, Strategy } from '../../../core/events';
import type { MachineState } from '../../../store/machineStore';
import { selectLive, selectTimelineAt } from '../../../store/selectors';
import { useUiStore } from '../../../store/uiStore';
import { LIVE_MS, setLive, useMachine, useMachineApi, useMachineLive, useMachineShallow } from '../useMachine';
import { LiveThrottle } from '../lib/liveThrottle';
import { counted, hex, int, plural } from '../lib/format';
import { prepareCanvas } from '../lib/prepareCanvas';
import { rowAtOrBefore } from '../lib/rowSearch';
import { useVirtualRows } from '../lib/useVirtualRows';
import { SourceLine } from '../lib/SourceLine';
import {
  IcacheTracker, entryKey, heatColor, heatColumns, sortRows, type DisplayRow, type SortKey,
} from './icacheDiff';
import { cacheCountParts } from './cacheCounts';
import '../panels.css';

const ROW_H = 20;
const NO_BUCKETS: number[] = [];
const selectBuckets = (s: MachineState) => s.view?.buckets ?? NO_BUCKETS;
const selectIcacheCounters = (s: MachineState) => s.counters?.icache;
const selectStrategy = (s: MachineState) => s.program?.config.strategy ?? null;
/** More than one VM: their entries at one (rip, cr3) differ only by VM, which every row must then show. */
const selectManyVms = (s: MachineState) => {
  const v = s.view?.vcpus;
  return v !== undefined && v.some((x) => x.vm !== v[0].vm);
};

/**
 * What a run under another strategy does instead of caching: only icache looks instructions up
 * and inserts them (exitPath.ts, handleInstEmul), so its panel would list no entry and zeros.
 */
const NO_CACHE: Readonly<Record<Exclude<Strategy, 'icache'>, string>> = {
  none: 'as in bhyve, every emulated exit walks the guest\'s page tables, fetches and decodes its instruction anew',
  'decode-assist': 'the CPU hands each exit\'s instruction bytes over (no walk, no fetch), and the VMM decodes them anew',
  apicv: 'most LAPIC accesses complete without an exit, and each APIC-access exit that remains walks, fetches and decodes its instruction anew',
};

/** What the less obvious columns count. */
const COLUMN_TITLE: Readonly<Record<string, string>> = {
  bkt: 'the hash bucket the entry is in',
  hits: 'lookups this entry answered since it was inserted',
  age: 'inserts since this entry was inserted, counted from the newest row listed (0)',
};

/**
 * Pages written by the write-protect faults among the newest exits: the newest as shown (at a
 * past exit k, those before k; after them the log holds the recorded future).
 */
function recentWpPages(s: MachineState): Set<number> {
  const out = new Set<number>();
  const log = s.exitLog;
  const at = selectTimelineAt(s);
  const last = at === null ? log.length - 1 : rowAtOrBefore(log.length, (i) => log[i].seq, at - 1);
  for (let i = last; i >= 0 && i > last - 256; i--) {
    const e = log[i];
    if (e.reason === 'ept-violation' && e.gpa !== undefined) out.add(Math.floor(e.gpa / 4096) * 4096);
  }
  return out;
}

interface ShownRows { rows: DisplayRow[]; maxAge: number; seq: number }
const NO_ROWS: ShownRows = { rows: [], maxAge: 0, seq: 0 };

/** The rows a stopped machine's table shows, for useSyncExternalStore; `seq` numbers every refresh, running or not. */
class StillRows {
  seq = 0;
  private value = NO_ROWS;
  private readonly listeners = new Set<() => void>();
  readonly get = (): ShownRows => this.value;
  readonly subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  set(v: ShownRows): void {
    this.value = v;
    for (const l of this.listeners) l();
  }
}

/**
 * Subscribes to the store outside React's render and keeps flashes/ghosts alive across frames.
 * Running, the rows go in as a transition (setLive). Stopped (a step, a seek), through
 * useSyncExternalStore: they render in the same pass as every panel's own store reads, where a
 * setState from a store listener rendered apart, in a task after the seek's (a second render
 * pass, and a frame between could show the old table beside exit k).
 */
function useIcacheRows(): ShownRows {
  const api = useMachineApi();
  const [live, setLiveRows] = useState(NO_ROWS);
  const [still] = useState(() => new StillRows());
  useEffect(() => {
    const tracker = new IcacheTracker();
    let timer: ReturnType<typeof setTimeout> | null = null;
    let lastView: unknown = undefined;
    const refresh = () => {
      const s = api.getState();
      const entries = s.view?.icache ?? [];
      const rows = tracker.update(entries, s.counters?.icache ?? null, performance.now(), recentWpPages(s));
      // Over the rows shown, struck-through removals included: an entry that just left may be
      // the newest, and an age (inserts since) is never negative.
      let maxAge = 0;
      for (const r of rows) if (r.entry.age > maxAge) maxAge = r.entry.age;
      const shown = { rows, maxAge, seq: ++still.seq };
      if (s.running) setLive(true, () => setLiveRows(shown));
      else still.set(shown);
      if (timer !== null) clearTimeout(timer);
      const next = tracker.nextExpiry(performance.now());
      timer = next === null ? null : setTimeout(() => throttle.poke(true), next + 10);
    };
    // At most one refresh per LIVE_MS while running: at full speed a frame arrives every ~16 ms,
    // and the diff over several frames still shows every hit, insert and removal that remains
    // visible. Stopped, stepping or seeking, at once: the frame that says "halted" shows the
    // table's final hits.
    const throttle = new LiveThrottle(refresh, LIVE_MS);
    const unsubscribe = api.subscribe((s) => {
      if (s.view === lastView) return;
      lastView = s.view;
      throttle.poke(!s.running);
    });
    timer = setTimeout(refresh, 0);
    return () => {
      unsubscribe();
      throttle.cancel();
      if (timer !== null) clearTimeout(timer);
    };
  }, [api, still]);
  const stopped = useSyncExternalStore(still.subscribe, still.get);
  // The newer of the two (a run after a seek shows its own rows; a stop after a run, its last).
  return stopped.seq > live.seq ? stopped : live;
}

/** Heatmap geometry: a 10 px cell every 11 px (a 1 px gap), as the grid of divs it replaced. */
const HEAT_CELL = 10;
const HEAT_PITCH = 11;
/** The page's --border and --text per theme (app.css): read from the theme, not getComputedStyle, which forces a style pass. */
const HEAT_INK = { dark: { line: '#272e3f', sel: '#dde3ee' }, light: { line: '#dbe0e8', sel: '#1b2130' } } as const;

function drawHeatmap(canvas: HTMLCanvasElement, buckets: readonly number[], cols: number, selected: number | null, ink: { line: string; sel: string }) {
  const rows = Math.ceil(buckets.length / cols);
  const w = cols * HEAT_PITCH + 1;
  const h = rows * HEAT_PITCH + 1;
  const g = prepareCanvas(canvas, w, h);
  if (!g) return;
  const max = Math.max(0, ...buckets);
  g.lineWidth = 1;
  g.strokeStyle = ink.line;
  for (let i = 0; i < buckets.length; i++) {
    const x = 1 + (i % cols) * HEAT_PITCH;
    const y = 1 + Math.floor(i / cols) * HEAT_PITCH;
    if (buckets[i] > 0) {
      g.fillStyle = heatColor(buckets[i], max);
      g.fillRect(x, y, HEAT_CELL, HEAT_CELL);
    } else g.strokeRect(x + 0.5, y + 0.5, HEAT_CELL - 1, HEAT_CELL - 1);
  }
  if (selected !== null && selected < buckets.length) {
    g.lineWidth = 2;
    g.strokeStyle = ink.sel;
    g.strokeRect((selected % cols) * HEAT_PITCH + 1, Math.floor(selected / cols) * HEAT_PITCH + 1, HEAT_CELL, HEAT_CELL);
  }
}

/**
 * How full each hash bucket is, on one canvas: a thousand divs cost the first frame of a run
 * (created, styled and laid out as a grid at once) more than the rest of the panel.
 */
const Heatmap = memo(function Heatmap({ buckets, selected }: { buckets: number[]; selected: number | null }) {
  const theme = useUiStore((s) => s.theme);
  const canvas = useRef<HTMLCanvasElement | null>(null);
  const [hover, setHover] = useState<{ i: number; x: number; y: number } | null>(null);
  const max = Math.max(0, ...buckets);
  const cols = heatColumns(buckets.length);
  const used = buckets.filter((b) => b > 0).length;
  useEffect(() => {
    if (canvas.current) drawHeatmap(canvas.current, buckets, cols, selected, HEAT_INK[theme]);
  }, [buckets, cols, selected, theme]);
  const onMove = (e: MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    const col = Math.floor((x - 1) / HEAT_PITCH);
    const i = Math.floor((y - 1) / HEAT_PITCH) * cols + col;
    setHover(col >= 0 && col < cols && i >= 0 && i < buckets.length ? { i, x, y } : null);
  };
  const summary = `${buckets.length} buckets · ${used} used · fullest holds ${counted(max, 'entry', 'entries')}`;
  return (
    <div className="xs-heat-wrap">
      <div className="xs-note">{summary}</div>
      <div className="xs-heat">
        <canvas ref={canvas} data-testid="icache-heatmap" role="img" aria-label={`Hash buckets of the instruction cache: ${summary}`}
          onMouseMove={onMove} onMouseLeave={() => setHover(null)} />
        {hover && (
          <div className="xs-tip" style={{ left: hover.x + 12, top: hover.y + 12 }}>
            bucket {hover.i}: {counted(buckets[hover.i], 'entry', 'entries')}{hover.i === selected ? ' · the selected exit\'s' : ''}
          </div>
        )}
      </div>
    </div>
  );
});

function selectedMark(exit: ExitEvent | null): { key: string | null; kind: 'hit' | 'miss' | null } {
  if (!exit || (exit.icache !== 'hit' && exit.icache !== 'miss')) return { key: null, kind: null };
  return { key: entryKey(exit), kind: exit.icache };
}

export default function ICache() {
  const { rows, maxAge } = useIcacheRows();
  // Shallow: a new array with the same counts (every frame) does not re-render the heatmap.
  const buckets = useMachineShallow(selectBuckets);
  const counters = useMachineLive(selectIcacheCounters);
  const selected = useMachine((s) => s.selectedExit);
  const live = useMachine(selectLive);
  const travelling = useMachine(selectTimelineAt) !== null;
  const strategy = useMachine(selectStrategy);
  const manyVms = useMachine(selectManyVms);
  const [sort, setSort] = useState<SortKey>('bucket');
  const sorted = useMemo(() => sortRows(rows, sort), [rows, sort]);
  const mark = selectedMark(selected);
  const selectedBucket = mark.key ? rows.find((r) => r.key === mark.key)?.entry.bucket ?? null : null;
  const [v, listRef, onListScroll] = useVirtualRows(sorted.length, ROW_H);
  const liveEntries = rows.length - rows.filter((r) => r.ghost).length;
  const counts = counters ? cacheCountParts(counters) : null;
  if (strategy !== null && strategy !== 'icache') {
    return (
      <section tabIndex={0} className="xs-panel xs-icache" aria-label="Instruction cache">
        <div className="xs-empty" data-testid="icache-none">
          No instruction cache under {strategy}: {NO_CACHE[strategy]}. Only the icache strategy caches decoded
          instructions; run under icache to fill it.
        </div>
      </section>
    );
  }
  return (
    <section tabIndex={0} className="xs-panel xs-icache" aria-label="Instruction cache">
      <div className="xs-toolbar">
        <span><b>{liveEntries}</b> {plural(liveEntries, 'entry', 'entries')}</span>
        {counts && (
          // One line: the counts that do not fit go whole (never a number without its name); all in the tooltip.
          <span className="xs-note xs-counts" title={counts.all}>
            {counts.shown.map((c) => <span key={c.name}>{c.text}</span>)}
          </span>
        )}
        <label className="xs-right">sort <select value={sort} onChange={(e) => setSort(e.target.value as SortKey)}>
          <option value="bucket">bucket</option><option value="hits">hits</option><option value="age">newest</option>
        </select></label>
      </div>
      <div className={manyVms ? 'xs-table xs-icache-vms' : 'xs-table'} role="table" data-testid="icache-table">
        <div className="xs-row xs-head xs-icache-cols" role="row" title="A row flashes green on a hit and blue on an insert; an invalidated (red) or evicted (grey) entry stays a moment, struck through">
          {['bkt', 'vm', 'rip', 'line', 'cr3', 'bytes', 'instruction', 'hits', 'age'].map((h) => <span key={h} role="columnheader" data-col={h} title={COLUMN_TITLE[h]}>{h}</span>)}
        </div>
        <div className="xs-scroll xs-icache-scroll" ref={listRef} onScroll={onListScroll}>
          {sorted.length === 0 && <div className="xs-empty">{counters ? 'empty' : 'The cache fills when the icache strategy handles exits.'}</div>}
          <div style={{ height: v.height, position: 'relative' }}>
            {sorted.slice(v.start, v.end).map((r, i) => {
              const e = r.entry;
              // At full speed every entry hits on every refresh: flashing them all says nothing and
              // costs a repaint of the table per refresh, so only inserts and removals flash then.
              // A seek jumps over exits: the hits it shows did not just happen (each flash also
              // made its row a new composited layer inside the seek's frame).
              const flash = r.flash && !((live || travelling) && r.flash === 'hit') ? `xs-flash-${r.flash}-${r.nonce}` : '';
              const cls = ['xs-row', 'xs-icache-cols', r.ghost ? `xs-ghost xs-ghost-${r.ghost}` : flash,
                r.key === mark.key && !r.ghost ? `xs-sel-${mark.kind}` : ''].join(' ');
              return (
                <div key={r.key + (r.ghost ?? '')} role="row" data-testid="icache-row" data-state={r.ghost ?? r.flash ?? ''} className={cls} style={{ top: (v.start + i) * ROW_H, height: ROW_H }}
                  title={`${e.line !== undefined ? `line ${e.line} · ` : ''}vm ${e.vm} · cr3 ${hex(e.cr3)} · depends on pages ${e.pages.map((p) => hex(p)).join(', ')}${r.ghost ? ` — ${r.ghost}` : ''}`}>
                  <span role="cell" data-col="bkt">{e.bucket}</span><span role="cell" data-col="vm">{e.vm}</span><span role="cell" data-col="rip">{hex(e.rip)}</span>
                  <span role="cell" data-col="line">{e.line !== undefined && <SourceLine line={e.line} testid="icache-line" />}</span><span role="cell" data-col="cr3">{hex(e.cr3)}</span>
                  <span role="cell" data-col="bytes" className="xs-bytes">{e.bytes}</span><span role="cell" data-col="instruction" className="xs-insn">{e.insn}</span>
                  <span role="cell" data-col="hits">{int(e.hits)}</span><span role="cell" data-col="age">{maxAge - e.age}</span>
                </div>
              );
            })}
          </div>
        </div>
      </div>
      {/* Below the rows it explains: in a short pane (the All layout at 1280x720) the rows come first. */}
      <div className="xs-legend">
        <span className="xs-lg-hit">hit</span><span className="xs-lg-insert">insert</span>
        <span className="xs-lg-inval">invalidated</span><span className="xs-lg-evict">evicted</span>
      </div>
      {buckets.length > 0 && <Heatmap buckets={buckets} selected={selectedBucket} />}
    </section>
  );
}
