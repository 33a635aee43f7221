/**
 * The embeddable view (`?embed=1`): for an iframe on a course page or a slide. Only the panels
 * the URL names (the editor only when named), Run / Step / Next exit, the counters, and a link
 * that opens the same program in the full page. Nothing here is written to the page's storage.
 */
import { useState } from 'react';
import { formatDiagnostic } from '../core/asm/diagnostic';
import { COST_PRESET_NAMES, COST_PRESET_TITLES, type CostPresetName } from '../core/cost';
import { STRATEGIES } from '../core/events';
import { useMachineStore } from '../store/machineStore';
import { selectWorkerFailed } from '../store/selectors';
import { useUiStore } from '../store/uiStore';
import * as ctl from './controller';
import type { Side } from './controller';
import { EditorArea } from './EditorArea';
import { EMBED_PANELS, type EmbedParams } from './embed';
import { ICACHE_SIZE_MAX, ICACHE_SIZE_MIN } from './share';
import { PaneBox } from './PaneBox';
import { PANELS } from './panelRegistry';
import { SideContext } from './PanelBody';
import { ExitDetailContext } from './panels/useMachine';
import { StatsStrip } from './StatsStrip';
import { STRATEGY_TITLES } from './Toolbar';
import { counted } from './panels/lib/format';
import './embed.css';

function EmbedPane({ testId }: { testId: string }) {
  const [collapsed, setCollapsed] = useState(false);
  if (testId === 'editor') {
    return <section className="embed-pane embed-editor" aria-label="Program"><EditorArea /></section>;
  }
  const panel = PANELS.find((p) => p.id === EMBED_PANELS[testId]);
  if (!panel) return null;
  return (
    <div className="embed-pane" data-embed-panel={testId}>
      <PaneBox panel={panel} collapsed={collapsed} onToggle={() => setCollapsed((c) => !c)} />
    </div>
  );
}

/**
 * The configuration the figures are for, small and labelled in the bar: a reader cannot change it
 * here, and two embeds of one program under two strategies must say which is which.
 */
function EmbedConfig() {
  const strategy = useUiStore((s) => s.strategy);
  const preset = useUiStore((s) => s.preset);
  const icacheSize = useUiStore((s) => s.icacheSize);
  return (
    <span className="embed-config" data-testid="embed-config">
      <span title={STRATEGY_TITLES[strategy]}>strategy <b data-testid="embed-strategy">{strategy}</b></span>
      <span title={COST_PRESET_TITLES[preset as CostPresetName] ?? 'Cost preset'}>costs <b data-testid="embed-preset">{preset}</b></span>
      {/* Only the icache strategy has an instruction cache. */}
      {strategy === 'icache' && <span title="Instruction-cache capacity in entries">cache <b data-testid="embed-icache">{icacheSize}</b></span>}
    </span>
  );
}

/** An embed without the editor lists this many of its program's assembly errors. */
const DIAGNOSTICS_SHOWN = 3;

export function EmbedView({ side, params, fullUrl, problem }: { side: Side; params: EmbedParams; fullUrl: string; problem: string | null }) {
  const running = useMachineStore((s) => s.running);
  const failed = useMachineStore(selectWorkerFailed);
  const booted = useUiStore((s) => s.booted);
  const fileName = useUiStore((s) => s.fileName);
  const strategy = useUiStore((s) => s.strategy);
  const preset = useUiStore((s) => s.preset);
  const icacheSize = useUiStore((s) => s.icacheSize);
  // No program (the URL names none that opens): nothing to run or step.
  const idle = !booted || running || failed || problem !== null;
  // Reloading the program (Run after the end, Reset): the panels show the previous run (app.css dims it).
  const restarting = useMachineStore((s) => s.restarting);
  // A shared program that does not assemble, in an embed without the editor: its errors, else
  // the state reads "assembly errors" with nothing to say which.
  const diagnostics = useMachineStore((s) => s.diagnostics);
  const errors = problem === null && !params.panels.includes('editor') ? diagnostics.filter((d) => d.severity === 'error') : [];
  return (
    <SideContext.Provider value={side}>
      <ExitDetailContext.Provider value={(seq, detail) => side.client.selectExit(seq, detail)}>
        <div className="embed" data-testid="embed-view" aria-busy={restarting || undefined}>
          <header className="embed-bar">
            <div className="group" role="group" aria-label="Run controls">
              <button type="button" className="btn primary" data-testid="btn-run" onClick={ctl.run} disabled={idle} title="Run / continue (F5)">
                <span aria-hidden>▶</span> Run
              </button>
              <button type="button" className="btn" data-testid="btn-pause" onClick={ctl.pause} disabled={!running} title="Pause (Esc)">
                <span aria-hidden>❚❚</span>
              </button>
              <button type="button" className="btn" data-testid="btn-step" onClick={ctl.step} disabled={idle} title="Step one instruction (F10)">
                <span aria-hidden>↷</span> Step
              </button>
              <button type="button" className="btn" data-testid="btn-step-exit" onClick={ctl.stepExit} disabled={idle} title="Step to the next VM exit (Shift+F10)">
                <span aria-hidden>⇥</span> Next exit
              </button>
              <button type="button" className="btn" data-testid="btn-reset" onClick={ctl.reset} title="Back to the start of the program">
                <span aria-hidden>↺</span>
              </button>
            </div>
            <StatsStrip compact noProgram={problem !== null} />
            <EmbedConfig />
            <a className="embed-open" data-testid="embed-open" href={fullUrl} target="_blank" rel="noopener" title={`Open ${fileName} in the full exitscope page`}>
              Open in exitscope ↗
            </a>
          </header>
          {problem !== null && <p className="embed-note embed-problem" role="alert" data-testid="embed-problem">{problem}</p>}
          {errors.length > 0 && (
            <p className="embed-note embed-problem" role="alert" data-testid="embed-asm-errors">
              The program does not assemble: {errors.slice(0, DIAGNOSTICS_SHOWN).map(formatDiagnostic).join('; ')}
              {errors.length > DIAGNOSTICS_SHOWN ? `; and ${counted(errors.length - DIAGNOSTICS_SHOWN, 'more error')}` : ''}. Open it in exitscope to edit it.
            </p>
          )}
          {params.unknown.length > 0 && (
            <p className="embed-note" role="note">Not panels: {params.unknown.join(', ')} (known: {Object.keys(EMBED_PANELS).join(', ')})</p>
          )}
          {params.unknownStrategy !== null && (
            <p className="embed-note" role="note" data-testid="embed-unknown-strategy">Not a strategy: {params.unknownStrategy} (known: {STRATEGIES.join(', ')}); it runs under {strategy}.</p>
          )}
          {params.unknownPreset !== null && (
            <p className="embed-note" role="note" data-testid="embed-unknown-preset">Not a cost preset: {params.unknownPreset} (known: {COST_PRESET_NAMES.join(', ')}); it runs under {preset}.</p>
          )}
          {params.unknownIcache !== null && (
            <p className="embed-note" role="note" data-testid="embed-unknown-icache">Not a cache size: {params.unknownIcache} (a whole number of entries from {ICACHE_SIZE_MIN} to {ICACHE_SIZE_MAX}); it runs with {icacheSize}.</p>
          )}
          <main className={`embed-panes embed-n${Math.min(params.panels.length, 3)}`}>
            {params.panels.map((id) => <EmbedPane key={id} testId={id} />)}
          </main>
        </div>
      </ExitDetailContext.Provider>
    </SideContext.Provider>
  );
}
