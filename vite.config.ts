import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { cspPlugin } from './build/csp.ts';
import { icedWasmPlugin } from './build/icedWasmPlugin.ts';
import { compileHintsPlugin } from './build/compileHintsPlugin.ts';

export default defineConfig({
  plugins: [icedWasmPlugin(), react(), cspPlugin(), compileHintsPlugin()],
  optimizeDeps: { exclude: ['iced-x86'] },
  worker: { format: 'es', plugins: () => [icedWasmPlugin(), compileHintsPlugin()] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'bench/**/*.test.ts', 'build/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    setupFiles: ['src/test/propertySeed.ts'],
  },
});
