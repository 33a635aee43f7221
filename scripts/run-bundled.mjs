// Run a TypeScript entry (bench/vmm.ts, bench/cpu.ts, ...) as one bundled ES module under
// plain node, so that a measurement measures the code and not tsx (whose per-module loader
// turns every imported binding into a getter call).
//
//   node [node flags] scripts/run-bundled.mjs ENTRY.ts [args...]
//
// The bundle goes to node_modules/.cache/run-bundled/ (packages stay external and resolve
// from the project's node_modules; iced-x86 loads its wasm with fs). `import.meta.url` keeps
// meaning the source file's own URL, so modules that read files next to themselves
// (src/scenarios/loadFromDisk.ts, bench/vmm.ts writing results.json) still work. Node flags
// such as --cpu-prof apply to the bundled code, which runs in this process.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entryArg = process.argv[2];
if (!entryArg) {
  console.error('usage: node scripts/run-bundled.mjs ENTRY.ts [args...]');
  process.exit(2);
}
const entry = resolve(entryArg);
const outDir = join(root, 'node_modules', '.cache', 'run-bundled');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, `${basename(entry).replace(/\.[cm]?[jt]sx?$/, '')}-${process.pid}.mjs`);

/** Replace import.meta.url in each source file with that file's URL. */
const importMetaUrl = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?[jt]sx?$/, namespace: 'file' }, (args) => {
      if (args.path.includes('node_modules')) return undefined;
      const src = readFileSync(args.path, 'utf8');
      if (!src.includes('import.meta.url')) return undefined;
      const url = JSON.stringify(pathToFileURL(args.path).href);
      const ext = args.path.split('.').pop();
      return { contents: src.replaceAll('import.meta.url', url), loader: ext === 'mts' || ext === 'cts' ? 'ts' : ext };
    });
  },
};

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
  plugins: [importMetaUrl],
});

// The bundled program sees the arguments after the entry, as it would under tsx.
process.argv.splice(2, 1);
process.argv[1] = entry;
try {
  await import(pathToFileURL(outfile).href);
} finally {
  rmSync(outfile, { force: true });
}
