/**
 * The 2D page walk of the selected exit: guest rows x EPT columns, each cell one memory
 * reference, lit in the order the hardware/VMM made them (CSS animation delays, no per-frame
 * React work). Cache hits show that no walk happened.
 */
import { memo, useMemo } from 'react';
import type { ExitEvent } from '../../../core/events';
import type { MachineState } from '../../../store/machineStore';
import { selectExitsPerSec, selectShownExit, selectShownWhole, selectTravelled } from '../../../store/selectors';
import { useMachine } from '../useMachine';
import { counted, hex, hex64 } from '../lib/format';
import { useExitViewKey } from '../lib/useExitViewKey';
import { useStagePlay } from '../lib/useStagePlay';
import { noWalkText, type WalkContext } from './noWalkText';
import {
  EPT_COLUMNS, GUEST_COLUMN, ROW_LABEL, describeCell, layoutWalk, pageSizeOf,
  type WalkCell, type WalkTranslation,
} from './walkLayout';
import '../panels.css';

/** Milliseconds between two references lighting up (less while running, so a walk plays before the next). */
const REF_DELAY_MS = 70;
const selectRefDelay = (s: MachineState): number => {
  const rate = selectExitsPerSec(s);
  if (!s.running || rate <= 0) return REF_DELAY_MS;
  const ideal = 1000 / (rate * 24); // quantized: a changing rate must not shift animations already playing
  return [REF_DELAY_MS, 35, 15].find((ms) => ms <= ideal) ?? 5;
};

function Cell({ cell, delayMs }: { cell: WalkCell; delayMs: number }) {
  const info = describeCell(cell);
  const kind = cell.step.dim === 'guest' ? 'guest' : 'ept';
  const cls = `xs-walk-cell xs-walk-${kind}${info.leaf ? ' xs-walk-leaf' : ''}${info.problem ? ' xs-walk-fault' : ''}`;
  const tip = `${info.title}\nentry at ${hex(info.addr)} (${kind === 'guest' ? 'guest-physical' : 'host-physical'})\n`
    + `value ${hex64(info.value)}${info.target !== null ? `\n-> ${hex(info.target)}` : ''}${info.problem ? `\n${info.problem}` : ''}`;
  return (
    <div data-testid="walk-ref" className={cls} style={{ gridRow: 5 - cell.row + 1, gridColumn: cell.col + 2, animationDelay: `${delayMs}ms` }} title={tip}>
      <div className="xs-walk-head"><span className="xs-walk-n">{cell.order + 1}</span><span>{hex(info.addr)}</span></div>
      <div className="xs-walk-val">{hex64(info.value)}</div>
      <div className="xs-bits">
        {info.bits.map((b) => <span key={b.name} className={b.on ? 'on' : 'off'} title={b.title}>{b.name}</span>)}
        {info.problem && <span className="bad">{info.problem}</span>}
      </div>
    </div>
  );
}

/** Guest-physical address each row translates: CR3's table, each entry's target, the code page. */
function rowAddresses(t: WalkTranslation, exit: ExitEvent): Map<number, number> {
  const m = new Map<number, number>([[4, Math.floor(exit.cr3 / 4096) * 4096]]);
  for (const c of t.cells) {
    if (c.step.dim !== 'guest') continue;
    const info = describeCell(c);
    if (info.target === null) continue;
    if (info.leaf) {
      const size = pageSizeOf(c.step.level);
      const rip = exit.rip >= 0 ? exit.rip : exit.rip + 2 ** 64;
      m.set(0, info.target + (rip % size));
    } else {
      m.set(c.row - 1, info.target);
    }
  }
  return m;
}

function Translation({ t, exit, base, delayMs }: { t: WalkTranslation; exit: ExitEvent; base: number; delayMs: number }) {
  const addrs = rowAddresses(t, exit);
  return (
    <div className="xs-walk-grid">
      <div className="xs-walk-colhead" style={{ gridRow: 1, gridColumn: 1 }}>guest row</div>
      {EPT_COLUMNS.map((c, i) => <div key={c} className="xs-walk-colhead" style={{ gridRow: 1, gridColumn: i + 2 }}>{c}</div>)}
      <div className="xs-walk-colhead xs-walk-guesthead" style={{ gridRow: 1, gridColumn: 6 }}>{GUEST_COLUMN}</div>
      {[4, 3, 2, 1, 0].map((row) => (
        <div key={row} className={`xs-walk-rowhead${t.rows.includes(row) ? '' : ' xs-dim'}`} style={{ gridRow: 5 - row + 1, gridColumn: 1 }}>
          <b>{ROW_LABEL[row]}</b>
          <span>{addrs.has(row) ? `gpa ${hex(addrs.get(row) ?? 0)}` : t.rows.includes(row) ? '' : 'skipped (large page)'}</span>
        </div>
      ))}
      {t.cells.map((c) => <Cell key={c.order} cell={c} delayMs={(c.order - base) * delayMs} />)}
    </div>
  );
}

/** `still`: every reference at once (`selectShownWhole`); replay plays it anyway (`useStagePlay`). */
const WalkView = memo(function WalkView({ exit, delayMs, still, ctx }: { exit: ExitEvent; delayMs: number; still: boolean; ctx: WalkContext }) {
  const layout = useMemo(() => layoutWalk(exit.walk), [exit.walk]);
  const play = useStagePlay(exit.seq, still);
  if (!exit.walk || exit.walk.length === 0) {
    const note = noWalkText(exit, ctx);
    return <div className="xs-empty xs-walk-none">{note.text}{note.reason && <><code>{note.reason.name}</code>{note.reason.after}</>}</div>;
  }
  return (
    <div className={`xs-walk${play.still ? ' xs-still' : ''}`} key={play.replay} onAnimationEnd={play.onAnimationEnd}>
      <div className="xs-walk-summary">
        <span title="Each guest page-table entry lives at a guest-physical address that the EPT must translate first: up to 4 EPT references per guest table read and up to 4 for the final page, fewer where a large page (guest or EPT) ends a walk early. Fetch bytes on a second page need a second walk. bhyve reaches each of these pages through a page hold (vm_gpa_hold: locks, then the EPT references): the pipeline's EPT walks card counts the holds too.">
          <b>{layout.total}</b> memory references ({layout.eptRefs} EPT + {layout.guestRefs} guest) to translate RIP {hex(exit.rip)}, <span data-testid="walk-held">{counted(layout.held, 'page')} held</span>
        </span>
        <span className="xs-note">without EPT: {layout.guestRefs}</span>
        <button type="button" className="xs-btn" onClick={play.onReplay} title="Play the walk again">replay</button>
      </div>
      {layout.translations.map((t, i) => (
        <div key={i}>
          {layout.translations.length > 1 && <div className="xs-note">translation {i + 1} of {layout.translations.length}{i > 0 ? ' (the instruction crosses a page)' : ''}</div>}
          {t.fault && <div className="xs-walk-faultmsg">walk stopped at reference {t.fault.order + 1}: {t.fault.problem}</div>}
          <Translation t={t} exit={exit} base={0} delayMs={delayMs} />
        </div>
      ))}
    </div>
  );
});

export default function WalkGrid() {
  const exit = useMachine(selectShownExit);
  const delayMs = useMachine(selectRefDelay);
  const travelled = useMachine(selectTravelled);
  const whole = useMachine(selectShownWhole);
  const viewKey = useExitViewKey(exit, travelled);
  const running = useMachine((s) => s.running);
  const reachFirst = useMachine((s) => s.timeline?.first ?? null);
  const ctx = useMemo(() => ({ running, reachFirst }), [running, reachFirst]);
  return (
    <section tabIndex={0} className="xs-panel" data-testid="walk-grid" aria-label="2D page walk">
      {exit ? <WalkView key={viewKey} exit={exit} delayMs={delayMs} still={whole} ctx={ctx} /> : <div className="xs-empty">Step to an exit, or click one in the event log, to see its page walk.</div>}
    </section>
  );
}
