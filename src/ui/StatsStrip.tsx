/** The counters of one side: retired instructions, exits, cache hit rate, why the run stopped. */
import { Fragment, type CSSProperties, type ReactNode } from 'react';
import { isWorkerFailed, useMachineStore, type MachineState, type WorkerStatus } from '../store/machineStore';
import { selectTravelled } from '../store/selectors';
import { useMachineLive } from './panels/useMachine';
import { exitShare, hitRate as hitRateOf, runCyclesPerExit } from './panels/lib/runFigures';
import { int, pct } from './panels/lib/format';

const selectState = (s: MachineState) => s;

/**
 * What the exits count says, beside the pipeline's "exit #k": exits are numbered from #0, and at
 * a past exit the count is of the exits before it (the machine as exit k is handled), while after
 * a step it includes the exit just handled.
 */
function exitsTitle(exits: number, travelled: boolean): string {
  if (travelled) return `VM exits handled before exit #${exits}, the exit shown as it is taken, before the VMM handles it (exits are numbered from #0)`;
  return exits > 0 ? `VM exits taken: #0 to #${exits - 1} (exits are numbered from #0)` : 'VM exits taken';
}

/**
 * `shownRunning`: the figures beside the state are of a running machine. `running` comes at once
 * and the figures at the panels' pace (a transition), so a run's first frame rendered "running"
 * beside the figures of before it started ("running · 0" exits, 50-150 ms, until the beat's
 * render committed): 'starting' until they are the run's. `shownOfRun`: they are of this
 * program's run and past its start (a resume after a pause shows its figures at once).
 */
function statusOf(running: boolean, shownRunning: boolean, shownOfRun: boolean, loaded: boolean, restarting: boolean, stopReason: string | null, workerStatus: WorkerStatus, asmErrors: boolean): string {
  if (isWorkerFailed(workerStatus)) return workerStatus;
  if (restarting) return 'restarting';
  if (stopReason) return stopReason;
  // Resumed after a pause, a step or a seek: the figures shown are this run's already.
  if (running) return shownRunning || shownOfRun ? 'running' : 'starting';
  if (loaded) return 'paused';
  if (asmErrors) return 'assembly errors';
  return workerStatus === 'starting' ? 'starting' : 'ready';
}

/** `noProgram`: an embed whose URL names no program that opens (its state says so, not "assembly errors"). */
export function StatsStrip({ suffix = '', compact = false, noProgram = false }: { suffix?: string; compact?: boolean; noProgram?: boolean }) {
  const running = useMachineStore((s) => s.running);
  // While running, the counters show at the panels' pace (a batch that renders nothing else
  // renders nothing); stopped, paused, seeking or loading, at once, beside the state. The whole
  // state, so the state word can tell whether the figures shown are of the run yet.
  const shown = useMachineLive(selectState);
  const counters = shown?.counters ?? null;
  const retired = counters?.retired ?? 0;
  const exits = counters?.exits.total ?? 0;
  const lookups = counters?.icache.lookups ?? 0;
  const hits = counters?.icache.hits ?? 0;
  const rate = counters ? hitRateOf(counters) : null;
  const cycles = counters?.cycles.total ?? 0;
  const perExit = counters ? runCyclesPerExit(counters) : null;
  const share = counters ? exitShare(counters) : null;
  const loaded = useMachineStore((s) => s.loaded);
  const stopReason = useMachineStore((s) => s.stop?.reason ?? null);
  const stopMessage = useMachineStore((s) => s.stop?.message ?? '');
  const workerStatus = useMachineStore((s) => s.workerStatus);
  const asmErrors = useMachineStore((s) => s.diagnostics.some((d) => d.severity === 'error'));
  const restarting = useMachineStore((s) => s.restarting);
  const runId = useMachineStore((s) => s.runId);
  const status = noProgram ? 'no program' : statusOf(running, shown?.running ?? false, shown?.runId === runId && retired > 0, loaded, restarting, stopReason, workerStatus, asmErrors);
  return (
    <div className={`stats${compact ? ' compact' : ''}`} role="status" aria-live="off">
      <Stat label="retired" width={11} testid={`stat-retired${suffix}`} value={int(retired)} title="Guest instructions retired, by all vCPUs" />
      <Stat label="exits" width={9} term="VM exit" testid={`stat-exits${suffix}`} value={int(exits)} title={exitsTitle(exits, shown ? selectTravelled(shown) : false)} />
      <Stat
        label="hit rate"
        width={6}
        term="instruction cache"
        testid={`stat-hit-rate${suffix}`}
        value={rate === null ? '–' : pct(rate)}
        title={lookups ? `Instruction-cache hits / lookups: ${int(hits)} / ${int(lookups)}` : 'No instruction-cache lookups so far'}
      />
      <Stat className="stat-cycles-run" label="run cycles" width={13} testid={`stat-run-cycles${suffix}`} value={int(cycles)} title="All modeled cycles of the run (at a past exit, up to it): guest work, exits, interrupts injected at VM entry and, under APICv, the LAPIC accesses the CPU completed without an exit" />
      <Stat
        label="run cycles ÷ exits"
        width={7}
        testid={`stat-run-cycles-per-exit${suffix}`}
        value={perExit === null ? '–' : int(perExit)}
        title="All modeled cycles of the run divided by its exits (guest work included): not what one exit costs; the pipeline and the bench show the cycles per exit handled"
      />
      <Stat
        label="in exits"
        width={6}
        testid={`stat-exit-share${suffix}`}
        value={share === null ? '–' : pct(share)}
        title="Share of the run's modeled cycles spent handling exits: VM exit + entry, the VMM's work and the interrupts it injects at VM entry"
      />
      <div className={`stat stat-status status-${status.replace(/ /g, '-')}`} title={restarting ? 'Reloading the program: the figures and panels are the previous run\'s until the new run starts' : status === 'starting' && running ? 'The run has started: its figures show from the next refresh' : stopMessage || status}>
        <span className="stat-label">state</span>
        <span className="stat-state-line">
          <span className="stat-value" data-testid={`stop-reason${suffix}`} data-reason={stopReason ?? ''}>{status}</span>
          {stopMessage && <span className="stop-message">{stopMessage}</span>}
        </span>
      </div>
    </div>
  );
}

/**
 * `width`: the figure's room in digits ("999,999,999" is 11), reserved from the start so the
 * strip keeps its size while the counts grow: a stat that widened mid-run rewrapped the strip and
 * moved every panel under it (and made the editor and the charts lay out again). Not in an A/B
 * side (compact), a third of the width, where the room would wrap the strip from the start.
 */
function Stat({ label, value, width, testid, title, term, className = '' }: { label: string; value: string; width: number; testid?: string; title: string; term?: string; className?: string }) {
  return (
    <div className={`stat ${className}`} title={title}>
      <span className="stat-label" data-term={term}>{labelRuns(label)}</span>
      <span className="stat-value" data-testid={testid} style={{ '--figure-room': `${width}ch` } as CSSProperties}>{value}</span>
    </div>
  );
}

/**
 * A label breaks only before a '÷' ("run cycles" / "÷ exits"), never inside a run: on an A/B side
 * at 1280 px each box is at its min-content width, where "run cycles ÷ exits" took three lines (a
 * word each) and "hit rate" two. The runs make the boxes wider, the strip's two rows lower (labels
 * of one or two lines: 107 -> 96 px).
 */
function labelRuns(label: string): ReactNode {
  const [first, ...rest] = label.split(' ÷ ');
  return (
    <>
      <span className="stat-label-run">{first}</span>
      {rest.map((r) => <Fragment key={r}> <span className="stat-label-run">÷ {r}</span></Fragment>)}
    </>
  );
}
