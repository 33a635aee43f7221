import { describe, expect, it } from 'vitest';
import type { Rollup } from 'vite';
import { COMPILE_HINT, compileHintsPlugin, wantsCompileHint } from './compileHintsPlugin';

const chunk = (fileName: string, moduleIds: string[], isEntry = false) => ({ type: 'chunk', fileName, moduleIds, isEntry, code: 'export const a = () => 1;\n' }) as unknown as Rollup.OutputChunk;

/** Runs the plugin's generateBundle on `bundle`. */
function generate(bundle: Rollup.OutputBundle): void {
  const hook = compileHintsPlugin().generateBundle;
  const handler = typeof hook === 'function' ? hook : hook!.handler;
  (handler as (o: unknown, b: Rollup.OutputBundle) => void).call({}, {}, bundle);
}

describe('compile hints', () => {
  it('marks chunks of the app, React and the machine Worker, not those holding Monaco or the experiment page or Worker', () => {
    expect(wantsCompileHint(['/app/node_modules/react-dom/cjs/react-dom-client.production.js', '/app/src/ui/App.tsx'])).toBe(true);
    expect(wantsCompileHint(['/app/src/ui/panels/Charts/index.tsx'])).toBe(true);
    expect(wantsCompileHint(['/app/src/ui/editor/AsmEditor.tsx', '/app/node_modules/monaco-editor/esm/vs/editor/editor.api.js'])).toBe(false);
    expect(wantsCompileHint(['/app/src/ui/experiment/ExperimentView.tsx'])).toBe(false);
    expect(wantsCompileHint(['/app/src/worker/worker.ts', '/app/src/worker/host.ts', '/app/src/core/machine.ts'])).toBe(true);
    expect(wantsCompileHint(['/app/src/worker/experimentJob.ts', '/app/src/core/machine.ts'])).toBe(false);
    expect(wantsCompileHint(['C:\\app\\node_modules\\monaco-editor\\esm\\vs\\base\\common\\arrays.js'])).toBe(false);
    expect(wantsCompileHint([])).toBe(false);
  });

  it('puts the hint on the first line of the chunks it marks and leaves the rest as they were', () => {
    const bundle = {
      'index.js': chunk('index.js', ['/app/src/ui/App.tsx'], true),
      'AsmEditor.js': chunk('AsmEditor.js', ['/app/node_modules/monaco-editor/esm/vs/editor/editor.api.js']),
      'app.css': { type: 'asset', fileName: 'app.css', source: 'body{}' } as unknown as Rollup.OutputAsset,
    } as Rollup.OutputBundle;
    generate(bundle);
    expect((bundle['index.js'] as Rollup.OutputChunk).code).toBe(`${COMPILE_HINT}\nexport const a = () => 1;\n`);
    expect((bundle['AsmEditor.js'] as Rollup.OutputChunk).code).toBe('export const a = () => 1;\n');
    expect((bundle['app.css'] as Rollup.OutputAsset).source).toBe('body{}');
  });

  it("leaves every chunk of a bundle whose entry stays lazy as it was (the experiment's Worker)", () => {
    const bundle = {
      'experimentWorker.js': chunk('experimentWorker.js', ['/app/src/worker/experimentWorker.ts'], true),
      'scenarios.js': chunk('scenarios.js', ['/app/src/core/scenarios/index.ts']),
    } as Rollup.OutputBundle;
    generate(bundle);
    expect((bundle['scenarios.js'] as Rollup.OutputChunk).code).toBe('export const a = () => 1;\n');
  });
});
