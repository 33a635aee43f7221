/**
 * The exit pipeline. In step mode the selected exit plays stage by stage (~150 ms each, CSS
 * animation delays) and can be replayed; at full speed the panel shows where the modeled
 * cycles go and how often the cache hits, instead of animating every exit.
 */
import { PIPELINE_NODE_TERMS } from '../../glossary/terms';
import { memo, useMemo } from 'react';
import { exitCycles, type ExitEvent, type WpFaultInfo } from '../../../core/events';
import { deliveredEvent, DELIVERY_ACCESS_TEXT, wpCauseText, wpInvalidatedText } from '../lib/wpText';
import type { Counters } from '../../../worker/protocol';
import type { MachineState } from '../../../store/machineStore';
import { selectExitsPerSec, selectLive, selectShownExit, selectShownWhole, selectTravelled } from '../../../store/selectors';
import { useMachine, useMachineLive } from '../useMachine';
import { compact, hex, int, pct, plural } from '../lib/format';
import { HIT_COLOR, MISS_COLOR, STAGE_COLOR, STAGE_LABEL } from '../lib/stages';
import { buildPipeline, cycleShares, operandCycles, SHARE_STAGE, summarize, type PipelineNode } from './pipelineModel';
import { handlingCycles } from '../lib/runFigures';
import { SourceLine } from '../lib/SourceLine';
import { useExitViewKey } from '../lib/useExitViewKey';
import { useStagePlay } from '../lib/useStagePlay';
import '../panels.css';

/** Milliseconds per stage in step mode; faster while running so one exit plays before the next. */
const STAGE_MS = 150;
const MIN_STAGE_MS = 25;

/** Stage duration that lets one exit's ~9 stages play before the next exit arrives. */
function paceStageMs(running: boolean, exitsPerSec: number): number {
  if (!running || exitsPerSec <= 0) return STAGE_MS;
  // Quantized, so a changing rate does not shift animations already playing.
  const ideal = 1000 / (exitsPerSec * 9);
  return [STAGE_MS, 75, 40].find((ms) => ms <= ideal) ?? MIN_STAGE_MS;
}
const selectCounters = (s: MachineState) => s.counters;

function Node({ n, i, max, stageMs }: { n: PipelineNode; i: number; max: number; stageMs: number }) {
  const color = n.stage === 'resume' ? STAGE_COLOR.guest : STAGE_COLOR[n.stage];
  const accent = n.state === 'hit' ? HIT_COLOR : n.state === 'miss' || n.state === 'refused' ? MISS_COLOR : color;
  return (
    <>
      {i > 0 && <div className="xs-pipe-arrow" style={{ animationDelay: `${i * stageMs - stageMs / 2}ms` }}>→</div>}
      <div
        className={`xs-pipe-node xs-pipe-${n.state}`}
        data-stage={n.id}
        style={{ animationDelay: `${i * stageMs}ms`, ['--accent' as string]: accent }}
        title={n.detail}
      >
        <div className="xs-pipe-label"><span data-term={PIPELINE_NODE_TERMS[n.id]}>{n.label}</span>{n.state === 'hit' ? ' ✓ hit' : n.state === 'miss' ? ' ✗ miss' : n.state === 'refused' && n.id !== 'stop' ? ' ✗ refused' : ''}</div>
        <div className="xs-pipe-cycles">{n.cycles !== null ? `${int(n.cycles)} cyc` : n.state === 'skipped' ? '—' : ''}</div>
        <div className="xs-pipe-detail">{n.detail}</div>
        <div className="xs-pipe-bar"><div style={{ width: `${n.cycles !== null && max > 0 ? Math.max(2, (100 * n.cycles) / max) : 0}%` }} /></div>
      </div>
    </>
  );
}

/**
 * The access that exited: its guest-physical address, and on hover its guest-linear one, the
 * address the instruction named, which a decode checks the decoded operand against (bhyve's
 * verify_gla; a cache hit decodes nothing). Shown beside the gpa when the guest maps it elsewhere.
 */
function Access({ gla, gpa }: { gla: number | undefined; gpa: number }) {
  const title = gla === undefined
    ? `The access's guest-physical address ${hex(gpa)}, where it exited`
    : `The access: guest-linear ${hex(gla)}, the address the instruction named (a decode checks the decoded operand against it, bhyve's verify_gla; a cache hit decodes nothing), at guest-physical ${hex(gpa)}, where it exited`;
  return <span title={title} data-testid="pipeline-access">{gla !== undefined && gla !== gpa && <>gla {hex(gla)} → </>}gpa {hex(gpa)}</span>;
}

/** A write-protect fault: why the page was written, by which instruction, and what it dropped. */
function WpDetail({ exit, wp }: { exit: ExitEvent; wp: WpFaultInfo }) {
  const at = <>{hex(exit.rip)}{exit.line !== undefined && <> (line <SourceLine line={exit.line} />)</>}</>;
  return (
    <div className="xs-note" data-testid="wp-detail" data-cause={wp.cause}>
      <div><b>Cause:</b> {wpCauseText(wp)}.</div>
      <div>
        {!wp.delivering
          ? <><b>Instruction:</b> {exit.insn ? <code>{exit.insn}</code> : 'the instruction fetch'} at {at}.</>
          : <>
              {wp.delivering.kind === 'exception'
                ? <>The instruction at {at} raised {deliveredEvent(wp.delivering)}; delivering it</>
                : <>The guest was about to run {exit.insn ? <code>{exit.insn}</code> : 'the instruction'} at {at}; the interrupt came first, and delivering it</>}
              {' '}walked the page tables {DELIVERY_ACCESS_TEXT[wp.delivering.access]}{exit.gla !== undefined && <> ({hex(exit.gla)})</>}.
            </>}
      </div>
      <div><b>Invalidated:</b> {wpInvalidatedText(wp)}.</div>
    </div>
  );
}

/**
 * `still`: show every stage at once (`selectShownWhole`); replay plays it anyway (`useStagePlay`,
 * which also draws a view still once its stages have played).
 * Travelling, one view serves every exit shown (its elements are updated, not made anew per seek);
 * replay counts per exit, so the next exit shows still again.
 */
const StepView = memo(function StepView({ exit, cyclesPerInsn, stageMs, still }: { exit: ExitEvent; cyclesPerInsn: number; stageMs: number; still: boolean }) {
  const nodes = useMemo(() => buildPipeline(exit), [exit]);
  const play = useStagePlay(exit.seq, still);
  const max = Math.max(1, ...nodes.map((n) => n.cycles ?? 0));
  const operand = operandCycles(exit);
  // An exit other than a write-protect fault that invalidated: the VMM wrote a protected page itself.
  const vmmInvalidated = exit.reason !== 'ept-violation' && exit.stages.some((s) => s.name === 'invalidate');
  return (
    <div className={`xs-pipe${play.still ? ' xs-still' : ''}`} key={play.replay} onAnimationEnd={play.onAnimationEnd}>
      <div className="xs-pipe-title">
        <span className="xs-pill" data-reason={exit.reason}>{exit.reason}</span>
        <span>
          exit #{exit.seq} · vm{exit.vm}/vcpu{exit.vcpu} · rip {hex(exit.rip)}
          {exit.gpa !== undefined && <> · <Access gla={exit.gla} gpa={exit.gpa} /></>}
        </span>
        {/* The instruction and its line wrap together (in A/B's narrow panes onto the row the instruction takes anyway). */}
        {(exit.insn || exit.line !== undefined) && (
          <span className="xs-pipe-insn">
            {exit.insn && <code>{exit.insn}</code>}
            {exit.line !== undefined && <span>line <SourceLine line={exit.line} testid="pipeline-line" /></span>}
          </span>
        )}
        <button type="button" className="xs-btn" onClick={play.onReplay} title="Play this exit again">replay</button>
      </div>
      <div className="xs-pipe-flow">
        {nodes.map((n, i) => <Node key={n.id} n={n} i={i} max={max} stageMs={stageMs} />)}
      </div>
      {exit.stop && (
        <div className="xs-note xs-stop-msg" data-testid="exit-stop-message" role="alert">
          <b>The run stopped here ({exit.stop.reason}):</b> {exit.stop.message}
        </div>
      )}
      {/* An exit the VMM refused has its stop message above: a note on how such exits go would be wrong for it. */}
      {exit.reason === 'ept-violation' && exit.wp ? <WpDetail exit={exit} wp={exit.wp} /> : exit.reason !== 'mmio' && !exit.stop && (
        <div className="xs-note">
          {exit.reason === 'ept-violation'
            ? 'A write hit a page the VMM write-protected to keep its cached instructions honest: it drops the entries that depended on the page, completes the write and resumes.'
            : exit.reason === 'external-interrupt'
              ? 'The LAPIC timer fired while the guest computed: its callout kicked the vCPU out with an IPI. The VMM lets the host take it and resumes, injecting the tick at that VM entry. No instruction caused this exit: nothing to look up, walk, fetch or decode.'
              // The reason in code type, as in the header: in the note's type "hlt" reads as "hit".
              : <>{/^[aeio]/.test(exit.reason) ? 'An' : 'A'} <code>{exit.reason}</code> exit does not go through the instruction-emulation path (no lookup, walk, fetch or decode).</>}
        </div>
      )}
      {!exit.stop && <div className="xs-pipe-total" style={{ animationDelay: `${nodes.length * stageMs}ms` }}>
        This exit cost <b>{int(exit.cycles)}</b> modeled cycles
        {cyclesPerInsn > 0 && <> — the time of about <b>{int(exit.cycles / cyclesPerInsn)}</b> guest instructions</>}
        {exit.invalidated ? <>; it invalidated <b>{exit.invalidated}</b> cache {plural(exit.invalidated, 'entry', 'entries')}</> : null}.
        {operand > 0 && <> Walking and copying its memory operand took <b>{int(operand)}</b> of them, in emulate, which no cache saves.</>}
        {vmmInvalidated && <> The VMM's own write to a page the cache protects (its walk setting an accessed or dirty bit, or its copy) dropped the entries: no fault, but a fault's work, charged in invalidate.</>}
      </div>}
    </div>
  );
});

function Bar({ parts, testid }: { parts: { key: string; value: number; color: string; label: string }[]; testid?: string }) {
  const total = parts.reduce((a, p) => a + p.value, 0);
  return (
    <div className="xs-stack" data-testid={testid}>
      {parts.map((p) => (
        <div key={p.key} style={{ width: `${total ? (100 * p.value) / total : 0}%`, background: p.color }} title={`${p.label}: ${int(p.value)} (${pct(total ? p.value / total : 0)})`}>
          {total && p.value / total > 0.08 ? p.label : ''}
        </div>
      ))}
    </div>
  );
}

function LiveView({ counters, rate }: { counters: Counters; rate: number }) {
  const s = summarize(counters);
  // The exits' own stages: APICv's accesses that did not exit are counted in `emulate` too (the
  // bar's emulate was almost all theirs under apicv), and have a bar of their own below.
  const vmm = cycleShares(exitCycles(counters), false);
  return (
    <div className="xs-pipe-live">
      <div className="xs-kpis">
        <div><b>{compact(rate)}</b><span>exits/s</span></div>
        <div title="Modeled cycles one exit costs: VM exit + entry, the VMM's work and the interrupts it injects at VM entry, per exit"><b>{s.cyclesPerExit === null ? '—' : int(s.cyclesPerExit)}</b><span>cycles per exit handled</span></div>
        <div title="Share of the run's modeled cycles spent handling exits: VM exit + entry, the VMM's work and the interrupts it injects at VM entry"><b>{s.overhead === null ? '—' : pct(s.overhead)}</b><span>of run cycles in exits</span></div>
        <div><b>{s.hitRate === null ? '—' : pct(s.hitRate)}</b><span>cache hit rate</span></div>
      </div>
      <div className="xs-note" title="VM exit + entry includes the interrupts injected at VM entry">where the exits' cycles go (whole run)</div>
      <Bar parts={vmm.map((p) => {
        const st = SHARE_STAGE[p.key];
        return { key: p.key, value: p.cycles, color: STAGE_COLOR[st], label: st === 'guest' ? 'guest' : STAGE_LABEL[st] };
      })} />
      <div className="xs-note">guest vs VMM</div>
      <Bar parts={[
        { key: 'guest', value: counters.cycles.guest, color: STAGE_COLOR.guest, label: 'guest' },
        { key: 'vmm', value: handlingCycles(counters), color: STAGE_COLOR.exit, label: 'exits (VMM)' },
        ...(counters.apicv.cycles > 0 ? [{ key: 'apicv', value: counters.apicv.cycles, color: STAGE_COLOR.device, label: 'APICv accesses (no exit)' }] : []),
      ]} />
      {s.hitRate !== null && (
        <>
          <div className="xs-note">cache lookups</div>
          <Bar parts={[
            { key: 'hit', value: s.hits, color: HIT_COLOR, label: `hits ${compact(s.hits)}` },
            { key: 'miss', value: s.misses, color: MISS_COLOR, label: `misses ${compact(s.misses)}` },
          ]} />
          {s.savedPerHit !== null && <div className="xs-note">each hit skips ≈ {int(s.savedPerHit)} cycles of walk + fetch + decode</div>}
        </>
      )}
    </div>
  );
}

export default function ExitPipeline() {
  const live = useMachine(selectLive);
  const exit = useMachine(selectShownExit);
  const counters = useMachineLive(selectCounters);
  const rate = useMachineLive(selectExitsPerSec);
  const running = useMachine((s) => s.running);
  const travelled = useMachine(selectTravelled);
  const whole = useMachine(selectShownWhole);
  const cpi = counters ? summarize(counters).cyclesPerInsn : 0;
  const viewKey = useExitViewKey(exit, travelled);
  return (
    <section tabIndex={0} className="xs-panel" data-testid="exit-pipeline" aria-label="Exit pipeline">
      {live && counters ? <LiveView counters={counters} rate={rate} />
        // Stepping, each exit is a new view (its stages play from the start); travelling, the same view.
        : exit ? <StepView key={viewKey} exit={exit} cyclesPerInsn={cpi} stageMs={paceStageMs(running, rate)} still={whole} />
          : <div className="xs-empty">Step to the next exit to watch the VMM handle it, stage by stage.</div>}
    </section>
  );
}
