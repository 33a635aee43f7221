import type { Plugin } from 'vite';

/** V8's explicit compile hint: every function of the file is compiled as the script loads. */
export const COMPILE_HINT = '//# allFunctionsCalledOnLoad';

/**
 * Modules whose chunks keep V8's lazy compilation: Monaco (4 MB, of which a page runs a small
 * part) and the experiment page's code and Worker (its own route).
 */
const LAZY = [/[\\/]node_modules[\\/]monaco-editor[\\/]/, /[\\/]src[\\/]ui[\\/]experiment[\\/]/, /[\\/]src[\\/]worker[\\/]experiment/];

/** Whether a chunk of these modules gets the hint: it holds no module that stays lazy. */
export function wantsCompileHint(moduleIds: readonly string[]): boolean {
  return moduleIds.length > 0 && !moduleIds.some((id) => LAZY.some((re) => re.test(id)));
}

/**
 * Puts V8's explicit compile hint (Chrome 136+: `//# allFunctionsCalledOnLoad`, which other
 * engines read as a comment) at the top of the page's own chunks (React, the store, the shell,
 * the panels) and the machine Worker's. V8 otherwise compiles a function the first time it is
 * called, on the thread that calls it; the first seek after a run calls many for the first time
 * (the panels leave the present, the Worker restores a snapshot), and their compiles were part
 * of it. With the hint they compile while the chunk loads (off the main thread when the script
 * is streamed). Used in the page's build and the Workers' (vite.config.ts).
 */
export function compileHintsPlugin(): Plugin {
  return {
    name: 'exitscope:compile-hints',
    apply: 'build',
    generateBundle: {
      // After Vite's own rewrites (the preload map it puts at the top of the entry chunk).
      order: 'post',
      handler(_options, bundle) {
        const chunks = Object.values(bundle).filter((c) => c.type === 'chunk');
        // A bundle whose entry stays lazy (the experiment's Worker, Monaco's) keeps all its chunks lazy.
        if (chunks.some((c) => c.isEntry && !wantsCompileHint(c.moduleIds))) return;
        for (const chunk of chunks) if (wantsCompileHint(chunk.moduleIds)) chunk.code = `${COMPILE_HINT}\n${chunk.code}`;
      },
    },
  };
}
