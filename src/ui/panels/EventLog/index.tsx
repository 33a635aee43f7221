/**
 * The exit log: every exit the worker sent, virtualized (fixed row height, only the rows in
 * view are rendered) so 100,000+ exits scroll smoothly. Filter by reason; click (or arrow keys)
 * to select an exit, which the pipeline and walk panels then show. Follows new exits while
 * scrolled to the bottom.
 */
import { useLayoutEffect, useMemo, useState, type KeyboardEvent } from 'react';
import { EXIT_REASONS, type ExitEvent, type ExitReason } from '../../../core/events';
import { exitsToChromeTrace, exitsToCsv } from '../../../core/exitExport';
import { exportPlan } from './exportPlan';
import { downloadText } from '../lib/exportImage';
import type { MachineState } from '../../../store/machineStore';
import { selectTimelineAt, selectTravelled } from '../../../store/selectors';
import { LIVE_MS, useMachine, useMachineLive, useSelectExit } from '../useMachine';
import { compact, hex, int, plural } from '../lib/format';
import { REASON_COLOR } from '../lib/stages';
import { atBottom, centredTop, reverseScrollTop } from '../lib/virtual';
import { useVirtualRows } from '../lib/useVirtualRows';
import { EXIT_REASON_TERMS } from '../../glossary/terms';
import { wpNote } from '../lib/wpText';
import { FilterIndex } from './filterIndex';
import { ListedReasons } from './listedReasons';
import { findRow, rowAtOrBefore } from '../lib/rowSearch';
import '../panels.css';

const ROW_H = 20;
/**
 * Rows rendered beyond each edge of the view. Every seek of the timeline renders the list anew
 * at another place, and each row is a grid of eight cells to lay out and paint: 10 a side made
 * the log the costliest panel of a seek (collapsing it took 15 of ~42 ms of main-thread time
 * per seek, traced).
 */
const OVERSCAN = 4;

/** Column headers short enough for a ~400 px pane at 1280x720, each with its full name. */
const LOG_COLUMNS: readonly (readonly [string, string])[] = [
  ['seq', 'exit number'], ['cpu', 'VM / vCPU'], ['reason', 'exit reason'], ['rip', 'RIP'], ['gpa', 'guest-physical address'],
  ['icache', 'instruction cache: hit or miss'], ['insn', 'instruction (and why, for a write-protect fault or a stop)'],
];

/**
 * Narrow panes show these three reasons shortened (whole, not "ept-viola…"); the cell's tooltip
 * and the glossary term keep the full name.
 */
const REASON_SHORT: Partial<Record<ExitReason, string>> = {
  'ept-violation': 'ept-viol.', 'external-interrupt': 'ext-intr', 'interrupt-window': 'intr-win', 'triple-fault': 'triple',
};

const NOT_LISTED_WHY = 'Not listed: at full speed the worker sends a bounded number of exits per frame (a seek on the timeline lists the exits it re-ran to get there); the counters still count every exit.';

/** The row's note: why a run stopped at this exit, or a write-protect fault's cause. */
const why = (e: ExitEvent): string => (e.stop ? `run stopped (${e.stop.reason}): ${e.stop.message}` : wpNote(e));

/**
 * What a chip's count counts: the worker's counters, listed or not. At a past exit k they are
 * the exits handled before k (as the strip's count, k), while "listed to #k" includes k itself.
 */
function chipCountTitle(r: ExitReason, n: number, travelAt: number | null, atExit: boolean): string {
  const what = `${int(n)} ${r} ${plural(n, 'exit')}`;
  if (travelAt === null) return `${what} in the run, listed or not`;
  // Stepped back between exits, no exit is being handled: #k is the next one.
  if (!atExit) return `${what} handled before this point, as the strip counts (the next exit is #${travelAt})`;
  return `${what} handled before exit #${travelAt}, as the strip counts (#${travelAt} itself is being handled)`;
}

/**
 * The count's tooltip at a past exit k, with the notes beside it in full: a pane that has no room
 * for them leaves them out.
 */
function pastCountTitle(k: number, listed: number, notListed: number, after: number): string {
  const of = `${int(listed)} of the ${int(k + 1)} exits #0 to #${k} are listed`;
  const missing = notListed > 0 ? ` (${int(notListed)} not listed)` : '';
  const future = after === 1 ? `; the row after #${k} is the recorded future (muted)` : after > 1 ? `; the ${int(after)} rows after #${k} are the recorded future (muted)` : '';
  return `${of}${missing}${future}`;
}

/** `future`: after the exit the timeline shows (recorded by the run, not yet run at that point). */
function Row({ e, top, selected, future, onClick }: { e: ExitEvent; top: number; selected: boolean; future: boolean; onClick: () => void }) {
  const note = why(e);
  const short = REASON_SHORT[e.reason];
  const about = [future ? 'after the exit shown (the recorded future)' : '', e.insn, e.line !== undefined ? `line ${e.line}` : '', note].filter(Boolean).join(' · ');
  return (
    <div role="row" title={about} aria-selected={selected} data-testid="exit-row" data-seq={e.seq} data-reason={e.reason} className={`xs-row xs-log-cols${selected ? ' xs-selected' : ''}${future ? ' xs-future' : ''}`} style={{ top, height: ROW_H }} onClick={onClick}>
      <span role="cell">{e.seq}</span>
      <span role="cell">{e.vm}/{e.vcpu}</span>
      <span role="cell" title={e.reason}>
        <i className="xs-dot" style={{ background: REASON_COLOR[e.reason] ?? '#888' }} />
        <span data-term={EXIT_REASON_TERMS[e.reason]}>
          <span className={short ? 'xs-reason-full' : undefined}>{e.reason}</span>
          {short && <span className="xs-reason-short">{short}</span>}
        </span>
      </span>
      <span role="cell">{hex(e.rip)}</span>
      <span role="cell">{e.gpa !== undefined ? hex(e.gpa) : ''}</span>
      <span role="cell" className={e.icache ? `xs-ic-${e.icache}` : undefined}>{e.icache ?? ''}</span>
      <span role="cell" className="xs-insn">{e.insn ?? ''}{note && <em className="xs-why"> {note}</em>}</span>
      <span role="cell" className="xs-num">{int(e.cycles)}</span>
    </div>
  );
}

/** While running, the log re-renders at most this often (a log growing by hundreds of rows per frame is unreadable anyway). */
const RUNNING_MS = LIVE_MS;
const selectVersion = (s: MachineState) => s.exitLogVersion;
const selectDropped = (s: MachineState) => s.droppedExits;
const selectByReason = (s: MachineState) => s.counters?.exits.byReason;
/**
 * Room for a chip's count, in digits: the widest compact() of a count up to the run's exits (at a
 * past exit, the run's, not the exit's), so a chip is as wide at every exit of a run as at its
 * end; 5 holds "9,999", "20.0k" and "1.23M".
 */
const selectCountDigits = (s: MachineState): number => {
  const most = Math.max(s.timeline?.end ?? 0, s.counters?.exits.total ?? 0);
  return most < 10 ? 1 : most < 100 ? 2 : most < 1000 ? 3 : 5;
};
/** The run's last sample: the same at its end and at every past exit (the history is the whole run's). */
const selectLastByReason = (s: MachineState) => s.history[s.history.length - 1]?.exitsByReason;
const selectProgram = (s: MachineState) => s.program;

export default function EventLog() {
  // Stopped (a seek, a step), in the render that brings the change, with every other panel.
  const version = useMachineLive(selectVersion, RUNNING_MS);
  const log = useMachine((s) => s.exitLog);
  // At the log's pace too: the count of exits not listed grows with every batch at full speed.
  const dropped = useMachineLive(selectDropped, RUNNING_MS);
  const selected = useMachine((s) => s.selectedExit);
  const running = useMachine((s) => s.running);
  const selectExit = useSelectExit();
  const [filter, setFilter] = useState<ReadonlySet<ExitReason>>(new Set());
  const [index] = useState(() => new FilterIndex());
  const [listed] = useState(() => new ListedReasons());
  // `version` changes whenever the (in-place appended) log grew.
  const rows = useMemo(() => ({ v: version, idx: index.update(log, filter), reasons: listed.update(log) }), [index, listed, log, filter, version]);
  // Chips count every exit the machine took (the worker's counters), listed or not.
  const byReason = useMachineLive(selectByReason);
  const count = rows.idx ? rows.idx.length : log.length;
  const at = (i: number): ExitEvent | undefined => log[rows.idx ? rows.idx[i] : i];
  const [follow, setFollow] = useState(true);
  // The list scrolls from its end (column-reverse): following, it stays at the bottom as rows
  // arrive without any scrolling (a scrollTop write forced a full layout on every update).
  const [v, listRef, onListScroll, jump] = useVirtualRows(count, ROW_H, OVERSCAN, follow, true);
  // Scrolled up (not following), the rows in view stay put: keep the offset from the top as rows
  // arrive. As the list's height changes, the row in the middle of the view stays there (a row
  // brought into view, centred), the list's top at the top (scrollTop counts from the bottom:
  // the rows in view had moved by the change, and the exit a lesson picked at a run's stop, at
  // the top, went out of view as the chips of a tall pane wrapped onto another line).
  const [topWas, setTopWas] = useState<{ count: number; top: number; viewport: number } | null>(null);
  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el || follow || !topWas || (topWas.count === count && topWas.viewport === v.viewport)) return;
    const end = Math.max(0, count * ROW_H - el.clientHeight);
    const top = topWas.viewport === el.clientHeight || topWas.top === 0 ? topWas.top
      : Math.round(Math.min(end, Math.max(0, topWas.top + (topWas.viewport - el.clientHeight) / 2)));
    el.scrollTop = top - end;
  }, [count, listRef, follow, topWas, v.viewport]);
  /** Offset of the view from the top of the list (scrollTop counts from the bottom). */
  const topOf = (el: HTMLElement) => el.scrollHeight - el.clientHeight + el.scrollTop;
  const seqAt = (i: number) => log[rows.idx ? rows.idx[i] : i]?.seq ?? -1;
  const selectedPos = useMemo(
    () => (selected ? findRow(count, (i) => log[rows.idx ? rows.idx[i] : i]?.seq ?? -1, selected.seq) : -1),
    [selected, count, rows, log],
  );
  // Time travel: the list shows the exit the timeline shows, centred (its row, selected, or
  // where it would be when the log does not list it), and its end again at the present. The
  // rows of the new point are chosen in this render (React re-runs it before committing) from
  // the list's observed height, so the scroll event that follows finds them there and renders
  // nothing. The scrollTop write waits for the next animation frame: a write lays out the page
  // first, and in the frame that layout is the one the frame needs anyway (the editor's RIP line
  // reads layout there too), not a second one in the commit.
  const travelAt = useMachine(selectTimelineAt);
  const atAnExit = useMachine(selectTravelled);
  const [travel, setTravel] = useState<{ at: number | null; rows: typeof rows; pos: number; count: number; viewport: number } | null>(null);
  // Its height too: a log shown at a past exit (a layout chosen there) centres first on the
  // height assumed before its first measure, and had then shown the recorded future's rows.
  const recentre = travelAt !== null && count > 0 && (travelAt !== travel?.at || rows !== travel.rows || v.viewport !== travel.viewport);
  const toPresent = travelAt === null && travel !== null && travel.at !== null;
  /** Show row `pos` centred (`count`: the list's end), from this render on. */
  const scrollToRow = (pos: number) => {
    const top = centredTop(pos, count, v.viewport, ROW_H);
    jump(top);
    // What the scroll event will find (onScroll below), so that it renders nothing.
    const bottom = atBottom(top, v.viewport, Math.max(count * ROW_H, v.viewport), ROW_H);
    setFollow(bottom);
    setTopWas(bottom ? null : { count, top, viewport: v.viewport });
    setTravel({ at: travelAt, rows, pos, count, viewport: v.viewport });
  };
  // At a timeline point, its exit's row (before the oldest row listed, that row); at the present
  // again, the end.
  if (recentre || toPresent) scrollToRow(travelAt === null ? count : Math.max(0, rowAtOrBefore(count, seqAt, travelAt)));
  // An exit selected elsewhere (a lesson's: the pipeline shows it) is brought into view once, if
  // it is listed and wholly out of view; a click or a key here selects a row in view already. Not
  // while running (a row clicked then may have moved on by the render: the list keeps following),
  // nor at a timeline point (each seek selects its exit, and the list shows it centred already),
  // nor as the list goes back to its end.
  const [revealed, setRevealed] = useState<number | null>(null);
  if (travelAt === null && selected && selected.seq !== revealed) {
    setRevealed(selected.seq);
    const inView = (selectedPos + 1) * ROW_H > v.top && selectedPos * ROW_H < v.top + v.viewport;
    if (!running && !toPresent && selectedPos >= 0 && !inView) scrollToRow(selectedPos);
  }
  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el || !travel) return;
    // Placed with the height the list has when written: the pane may have changed since the
    // render (a lesson's result notice appearing), and a row placed at the top had landed off it.
    const frame = requestAnimationFrame(() => {
      const viewport = el.clientHeight;
      el.scrollTop = reverseScrollTop(centredTop(travel.pos, travel.count, viewport, ROW_H), travel.count, viewport, ROW_H);
    });
    return () => cancelAnimationFrame(frame);
  }, [travel, listRef]);
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const next = Math.max(0, Math.min(count - 1, (selectedPos < 0 ? count : selectedPos) + (e.key === 'ArrowDown' ? 1 : -1)));
    const ex = at(next);
    if (!ex) return;
    selectExit(ex);
    const el = listRef.current;
    if (el) {
      const top = topOf(el);
      const end = el.scrollHeight - el.clientHeight;
      if (next * ROW_H < top) el.scrollTop = next * ROW_H - end;
      else if ((next + 1) * ROW_H > top + el.clientHeight) el.scrollTop = (next + 1) * ROW_H - el.clientHeight - end;
    }
  };
  const toggle = (r: ExitReason) => setFilter((f) => {
    const n = new Set(f);
    if (n.has(r)) n.delete(r); else n.add(r);
    return n;
  });
  // At a past exit k: the rows of exits #0..#k, those after, and how many of #0..#k are not listed.
  const listedToAt = travelAt === null ? log.length : rowAtOrBefore(log.length, (i) => log[i].seq, travelAt) + 1;
  const listedAfter = log.length - listedToAt;
  const notListed = travelAt === null ? dropped : Math.max(0, travelAt + 1 - listedToAt);
  // A chip for each reason the list holds, whatever exit the timeline shows (its count is as of
  // that exit, 0 before the first): scrubbing does not change the chip row's height, nor the
  // list's below it (the end's hlt and io chips wrapped the row onto a second line, and the
  // first seek relaid and re-rendered the list at its new height).
  // The run's last sample adds the reasons it took only in exits not listed, gone before they came.
  const lastByReason = useMachineLive(selectLastByReason);
  const countDigits = useMachine(selectCountDigits);
  const present = EXIT_REASONS.filter((r) => byReason?.[r] || lastByReason?.[r] || filter.has(r) || rows.reasons.has(r));
  // The exports save what the log shows of the exits taken: at a past exit k those handled
  // before #k, with a filter the exits it shows; titled by the program, strategy and preset.
  const program = useMachine(selectProgram);
  const plan = exportPlan({
    log, shown: rows.idx, filter, travelAt, dropped,
    program: program && { file: program.file, strategy: program.config.strategy, preset: program.config.preset },
  });
  return (
    <section tabIndex={0} className="xs-panel xs-eventlog" data-testid="event-log" aria-label="Exit log">
      <div className="xs-toolbar">
        {/* At a past exit the list also holds the run's recorded future: counted apart, so the
            figure beside the exit shown is of the exits up to it (the strip's counters are too). */}
        {/* At the present the count names the exits taken when the log lacks some ("150 of 6,011
            listed"): alone in a narrow pane, "150 exits" read as the run's count. */}
        <span className="xs-log-count" title={travelAt !== null ? pastCountTitle(travelAt, listedToAt, notListed, listedAfter) : notListed > 0 ? NOT_LISTED_WHY : undefined}>
          <b>{int(listedToAt)}</b> {travelAt !== null ? `listed to #${travelAt}` : notListed > 0 ? <>of {int(listedToAt + notListed)}<span className="xs-listed-word"> listed</span></> : plural(listedToAt, 'exit')}{rows.idx ? <> · <b>{int(count)}</b> shown</> : null}
        </span>
        {/* One line: a note that does not fit goes whole (xs-counts), after the chips gave their room. */}
        {travelAt !== null && (notListed > 0 || listedAfter > 0) && (
          <span className="xs-note xs-counts">
            {notListed > 0 && <span title={NOT_LISTED_WHY}>{compact(notListed)} not listed</span>}
            {listedAfter > 0 && <span title={`Recorded after exit #${travelAt ?? 0}: the run took them; Run from here drops them, and takes exit #${travelAt ?? 0} again`}>{compact(listedAfter)} after</span>}
          </span>
        )}
        {/* Panes tall enough give the chips a line of their own (panels.css); each chip shows its
            reason (short in a narrow pane, as the rows do) and its count, whole. */}
        <span className="xs-chips" data-count-digits={countDigits}>
          {present.map((r) => {
            const n = compact(byReason?.[r] ?? 0);
            const short = REASON_SHORT[r];
            return (
              <button key={r} type="button" className={`xs-chip${filter.has(r) ? ' on' : ''}`} onClick={() => toggle(r)} data-testid={`filter-${r}`} aria-label={`${r} ${n}`} title={`${chipCountTitle(r, byReason?.[r] ?? 0, travelAt, atAnExit)}. Click: ${filter.has(r) ? 'stop filtering on this reason' : 'show only these (and other selected reasons)'}`}>
                <i className="xs-dot" style={{ background: REASON_COLOR[r] ?? '#888' }} />
                <span data-term={EXIT_REASON_TERMS[r]}>
                  <span className={short ? 'xs-reason-full' : undefined}>{r}</span>
                  {short && <span className="xs-reason-short">{short}</span>}
                </span>
                {' '}<span className="xs-chip-n">{n}</span>
              </button>
            );
          })}
          {filter.size > 0 && <button type="button" className="xs-chip" onClick={() => setFilter(new Set())}>all</button>}
        </span>
        {/* One joined pair with short words: "Export trace" and "CSV" took 126 px of a line the
            chips need (their tooltips say what each saves). */}
        <span className="xs-right xs-exports" role="group" aria-label="Export">
          <button
            type="button" className="xs-btn" data-testid="export-trace" disabled={plan.count === 0}
            title={plan.traceTitle} aria-label="Export trace"
            onClick={() => downloadText(JSON.stringify(exitsToChromeTrace(plan.exits(), plan.trace)), plan.traceName, 'application/json')}
          >Trace</button>
          <button
            type="button" className="xs-btn" data-testid="export-log-csv" disabled={plan.count === 0}
            title={plan.csvTitle} aria-label="Export CSV"
            onClick={() => downloadText(exitsToCsv(plan.exits()), plan.csvName)}
          >CSV</button>
        </span>
      </div>
      <div className="xs-table" role="table">
        <div className="xs-row xs-head xs-log-cols" role="row">
          {LOG_COLUMNS.map(([h, title]) => <span key={h} role="columnheader" title={title} aria-label={title}>{h}</span>)}
          <span role="columnheader" className="xs-num" title="modeled cycles of this exit" aria-label="modeled cycles of this exit">cycles</span>
        </div>
        <div
          className="xs-scroll xs-log-scroll"
          ref={listRef}
          role="rowgroup"
          aria-label="exits, oldest first; arrow keys select"
          tabIndex={0}
          onKeyDown={onKey}
          onScroll={(e) => {
            onListScroll(e);
            const el = e.currentTarget;
            const top = topOf(el);
            const bottom = atBottom(top, el.clientHeight, el.scrollHeight, ROW_H);
            // Unchanged: no render (a time-travel jump already rendered these rows; see useVirtualRows).
            if (bottom !== follow) setFollow(bottom);
            if (bottom ? topWas !== null : topWas?.count !== count || topWas.top !== top || topWas.viewport !== el.clientHeight) setTopWas(bottom ? null : { count, top, viewport: el.clientHeight });
          }}
        >
          {/* Grows to fill the view when the rows do not (they start at the top). */}
          <div style={{ height: v.height, flex: '1 0 auto', position: 'relative' }}>
            {count === 0 && <div className="xs-empty" role="row"><span role="cell">{log.length ? 'No exit matches the filter.' : 'No exits yet.'}</span></div>}
            {Array.from({ length: v.end - v.start }, (_, k) => {
              const i = v.start + k;
              const e = at(i);
              // Keyed by place in the window, not by exit: scrolling, following and seeking update
              // the same row elements in place, in the same order. (Keyed by i modulo the window, a
              // seek's jump rotated the keys, and React moved most rows in the DOM: each moved row
              // was laid out anew, ~7 rows and 70 text nodes per seek, traced.)
              return e && <Row key={k} e={e} top={i * ROW_H} selected={i === selectedPos} future={travelAt !== null && e.seq > travelAt} onClick={() => selectExit(e)} />;
            })}
          </div>
        </div>
      </div>
    </section>
  );
}
