import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

/**
 * Layers (DESIGN.md "Layout"): core <- worker <- store <- ui, with cli and scenarios beside the
 * worker, and src/test (harnesses, cross-layer tests) free to use them all. An import that
 * points back up this chain fails the lint. The core's tests may also load the scenarios and
 * the test harnesses in src/test (a test machine, the differential generator), which no product
 * code may import.
 */
function layer(files, forbidden, why) {
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: `(^|/)(${forbidden.join('|')})(/|$)`, message: why }],
      }],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'e2e/artifacts', '.test-results'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  layer(['src/core/**'], ['worker', 'store', 'ui', 'cli', 'scenarios', 'test', 'react', 'react-dom', 'zustand'],
    'src/core is pure and imports nothing from the layers above it (worker, store, ui, cli, scenarios, tests).'),
  // The core's own tests may run the example programs (scenarios are plain data) on the
  // harnesses of src/test.
  layer(['src/core/**/*.test.ts'], ['worker', 'store', 'ui', 'cli', 'react', 'react-dom', 'zustand'],
    'src/core is pure and imports nothing from the layers above it (worker, store, ui, cli).'),
  layer(['src/scenarios/**'], ['worker', 'store', 'ui', 'cli', 'test'],
    'scenarios are guest programs with metadata: they may use src/core only.'),
  layer(['src/worker/**'], ['store', 'ui', 'cli', 'test'],
    'the worker sits below the stores and the UI: it may use src/core and scenarios only.'),
  layer(['src/cli/**'], ['worker', 'store', 'ui', 'test'],
    'the CLI sits beside the worker: it may use src/core and scenarios only.'),
  layer(['src/store/**'], ['ui', 'cli', 'test'],
    'stores sit below the UI: they may use src/worker and src/core, not src/ui.'),
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
);
