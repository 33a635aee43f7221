/**
 * Run controls, machine configuration, pages, files, sharing and theme: one row at 1280 px in
 * every layout and in A/B mode (the experiment, the glossary, Open and Save are in the More menu).
 */
import { useRef, type ChangeEvent } from 'react';
import { COST_PRESET_NAMES, COST_PRESET_TITLES, type CostPresetName } from '../core/cost';
import { useMachineStore, type MachineState } from '../store/machineStore';
import { selectTimelineAt, selectWorkerFailed } from '../store/selectors';
import { useLessonStore } from '../store/lessonStore';
import { useUiStore } from '../store/uiStore';
import { STRATEGIES, type Speed, type Strategy } from '../worker/protocol';
import * as ctl from './controller';
import { int } from './panels/lib/format';
import type { SideId } from './controller';
import { closeWelcome, toggleLessons } from './lessons/lessonController';
import { openFile, saveFile } from './files';
import { SPEEDS } from '../store/settings';
import { ToolbarMenu } from './ToolbarMenu';
import { runControlEnabled, runControlsState, type RunControl } from './runControls';
import { IS_MAC } from './shortcuts';

export const STRATEGY_TITLES: Record<Strategy, string> = {
  none: 'none — bhyve without a cache: walk, fetch, decode on every exit',
  icache: 'icache — the seed: cache decoded instructions by (VM, RIP, CR3)',
  'decode-assist': 'decode-assist — AMD SVM hands over the bytes: no walk, no fetch',
  apicv: 'apicv — Intel APIC virtualization: most LAPIC accesses never exit (MMIO, and x2APIC MSRs as bhyve passes them)',
};

export const CACHE_SIZES = [8, 16, 64, 256, 1024, 4096];

const speedLabel = (s: Speed) => (s === 'max' ? 'max' : `${s}/s`);

export function StrategyLabel({ side }: { side: SideId }) {
  const strategy = useUiStore((s) => (side === 'b' ? s.strategyB : s.strategy));
  return <span className="side-strategy" title={STRATEGY_TITLES[strategy]}>{strategy}</span>;
}

/**
 * At a past exit, what Run, Step and Next exit do to the recorded future (each drops it: the run
 * goes on from here), or null at the present. A hook of these buttons alone, so that a seek
 * re-renders them and not the whole toolbar (and its inputs).
 */
function usePastDrop(): string | null {
  const at = useMachineStore(selectTimelineAt);
  // Only at a past point: `end` moves with every batch of a run, and the tooltip is the present's then.
  const end = useMachineStore((s) => (selectTimelineAt(s) === null ? 0 : s.timeline?.end ?? 0));
  if (at === null) return null;
  // Stepped back within the last exit's instructions: no exit after this point was recorded.
  if (end <= at) return 'the recorded instructions after this point are dropped, and the machine goes on from here';
  return `the recorded exits #${at} to #${end - 1} (${int(end - at)}) are dropped, and the machine goes on from here`;
}

function RunButton({ disabled }: { disabled: boolean }) {
  const drop = usePastDrop();
  return (
    <button type="button" className="btn primary" data-testid="btn-run" onClick={ctl.run} disabled={disabled} title={drop ? `Run on from here (F5): ${drop}` : 'Run / continue (F5)'}>
      <span aria-hidden>▶</span> Run
    </button>
  );
}

function StepButtons({ canStep, canStepExit }: { canStep: boolean; canStepExit: boolean }) {
  const drop = usePastDrop();
  const also = drop ? `; at this past point ${drop}` : '';
  return (
    <>
      <button type="button" className="btn" data-testid="btn-step" onClick={ctl.step} disabled={!canStep} title={`Step one instruction (F10)${also}`}>
        <span aria-hidden>↷</span> Step
      </button>
      <button type="button" className="btn" data-testid="btn-step-exit" onClick={ctl.stepExit} disabled={!canStepExit} title={`Step to the next VM exit (Shift+F10)${also}`}>
        <span aria-hidden>⇥</span> Next exit
      </button>
    </>
  );
}

export function Toolbar() {
  const booted = useUiStore((s) => s.booted);
  const can = (c: RunControl) => (s: MachineState) => runControlEnabled(c, runControlsState(s, booted));
  const canRun = useMachineStore(can('run'));
  const canPause = useMachineStore(can('pause'));
  const canStep = useMachineStore(can('step'));
  const canStepExit = useMachineStore(can('stepExit'));
  const failed = useMachineStore(selectWorkerFailed);
  const speed = useUiStore((s) => s.speed);
  const strategy = useUiStore((s) => s.strategy);
  const strategyB = useUiStore((s) => s.strategyB);
  const preset = useUiStore((s) => s.preset);
  const icacheSize = useUiStore((s) => s.icacheSize);
  const abMode = useUiStore((s) => s.abMode);
  const theme = useUiStore((s) => s.theme);
  const view = useUiStore((s) => s.view);
  const lessonOpen = useLessonStore((s) => s.open);
  const fileInput = useRef<HTMLInputElement>(null);

  const onOpen = (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    if (f) void openFile(f);
    e.target.value = '';
  };

  return (
    <header className="toolbar">
      <h1 className="brand" title="exitscope — what a hypervisor does on a VM exit">
        <span className="logo" aria-hidden>⎋</span><span className="brand-text">exitscope</span>
      </h1>

      <div className="group" role="group" aria-label="Run controls">
        <RunButton disabled={!canRun} />
        <button type="button" className="btn" data-testid="btn-pause" onClick={ctl.pause} disabled={!canPause} title="Pause (Esc)">
          <span aria-hidden>❚❚</span> Pause
        </button>
        <StepButtons canStep={canStep} canStepExit={canStepExit} />
        <button
          type="button"
          className={`btn${failed ? ' attention' : ''}`}
          data-testid="btn-reset"
          onClick={ctl.reset}
          title={`Reset to the start of the program (${IS_MAC ? 'Cmd' : 'Ctrl'}+Enter: assemble and reset)`}
        >
          <span aria-hidden>↺</span> Reset
        </button>
      </div>

      <div className="group" role="group" aria-label="Machine configuration">
        <label className="field" title="Animated steps per second, or as fast as the machine goes">
          <span>speed</span>
          <select data-testid="speed-select" value={String(speed)} onChange={(e) => ctl.setSpeed(e.target.value === 'max' ? 'max' : Number(e.target.value))}>
            {SPEEDS.map((s) => <option key={String(s)} value={String(s)}>{speedLabel(s)}</option>)}
          </select>
        </label>
        <label className="field" title={STRATEGY_TITLES[strategy]}>
          <span>{abMode ? 'A' : 'strategy'}</span>
          <select data-testid="strategy-select" value={strategy} onChange={(e) => ctl.setMachineConfig({ strategy: e.target.value as Strategy })}>
            {STRATEGIES.map((s) => <option key={s} value={s} title={STRATEGY_TITLES[s]}>{s}</option>)}
          </select>
        </label>
        {abMode && (
          <label className="field" title={STRATEGY_TITLES[strategyB]}>
            <span>B</span>
            <select data-testid="strategy-select-b" value={strategyB} onChange={(e) => ctl.setMachineConfig({ strategyB: e.target.value as Strategy })}>
              {STRATEGIES.map((s) => <option key={s} value={s} title={STRATEGY_TITLES[s]}>{s}</option>)}
            </select>
          </label>
        )}
        <label className="field" title={COST_PRESET_TITLES[preset as CostPresetName] ?? 'Cost preset'}>
          <span>costs</span>
          <select data-testid="preset-select" value={preset} onChange={(e) => ctl.setMachineConfig({ preset: e.target.value })}>
            {COST_PRESET_NAMES.map((p) => <option key={p} value={p} title={COST_PRESET_TITLES[p]}>{p}</option>)}
          </select>
        </label>
        <label className="field" title="Instruction-cache capacity in entries">
          <span>cache</span>
          <select data-testid="cache-size-select" value={String(icacheSize)} onChange={(e) => ctl.setMachineConfig({ icacheSize: Number(e.target.value) })}>
            {(CACHE_SIZES.includes(icacheSize) ? CACHE_SIZES : [...CACHE_SIZES, icacheSize].sort((x, y) => x - y)).map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </label>
        <label className="toggle" title="Run the same program under two strategies side by side">
          <input type="checkbox" data-testid="ab-toggle" checked={abMode} onChange={(e) => {
            // Comparing two strategies is a start as much as the playground is: the two sides need
            // the banner's height at 1280x720 (under it, each pipeline showed half its nodes).
            if (e.target.checked && useLessonStore.getState().welcome) closeWelcome();
            ctl.setAbMode(e.target.checked);
          }} />
          <span>A/B</span>
        </label>
      </div>

      <div className="group end" role="group" aria-label="Pages, files and sharing">
        <button
          type="button"
          className={`btn ghost${lessonOpen && view === 'workspace' ? ' active' : ''}`}
          data-testid="btn-learn"
          aria-pressed={lessonOpen && view === 'workspace'}
          onClick={() => {
            if (view !== 'workspace') {
              useUiStore.getState().showView('workspace');
              if (lessonOpen) return;
            }
            toggleLessons();
          }}
          title="Guided lessons: one VM exit at a time, each with a prediction and a run"
        >
          Learn
        </button>
        <button type="button" className="btn ghost" data-testid="btn-examples" onClick={() => useUiStore.getState().setGalleryOpen(true)} title="Example programs">Examples</button>
        <button type="button" className="btn ghost" data-testid="btn-share" onClick={() => useUiStore.getState().setShareOpen(true)} title="A link holding this program and configuration, or an iframe to embed it">Share</button>
        {/* One row at 1280 px, A/B included: the other pages and the file commands share a menu. */}
        <ToolbarMenu
          testid="btn-more"
          label="More"
          title="More: the experiment and glossary pages, open or save a .s file"
          items={[
            {
              testid: 'btn-experiment',
              label: 'Experiment',
              title: "The seed's experiment: every workload under every strategy, in one table",
              current: view === 'experiment',
              onSelect: () => useUiStore.getState().showView(view === 'experiment' ? 'workspace' : 'experiment'),
            },
            {
              testid: 'btn-glossary',
              label: 'Glossary',
              title: 'What the terms on this page mean',
              current: view === 'glossary',
              onSelect: () => useUiStore.getState().showView(view === 'glossary' ? 'workspace' : 'glossary'),
            },
            { testid: 'btn-open', label: 'Open…', title: 'Open a .s file (or drop one on the editor)', onSelect: () => fileInput.current?.click() },
            { testid: 'btn-save', label: 'Save', title: 'Save the program as a .s file', onSelect: saveFile },
          ]}
        />
        <input ref={fileInput} type="file" accept=".s,.S,.asm,.txt,text/plain" hidden onChange={onOpen} data-testid="file-input" />
        <button
          type="button"
          className="btn ghost icon"
          data-testid="btn-theme"
          onClick={() => ctl.updateSettings({ theme: theme === 'dark' ? 'light' : 'dark' })}
          title={`Switch to the ${theme === 'dark' ? 'light' : 'dark'} theme`}
          aria-label="Toggle theme"
        >
          {theme === 'dark' ? '☀' : '☾'}
        </button>
      </div>
    </header>
  );
}

