import type { Plugin } from 'vite';

/**
 * iced-x86 on npm is a Node-only wasm-pack build: CommonJS that reads its .wasm through `fs`.
 * For the browser (main thread and module Worker) this rewrites its loader into an ES module
 * that fetches the .wasm next to it and instantiates it with top-level await, exporting the
 * same names `module.exports.X = ...` assigns. Node (vitest, tsx) loads the package as is.
 */
export function icedWasmPlugin(): Plugin {
  return {
    name: 'exitscope:iced-x86-wasm',
    enforce: 'pre',
    transform(code, id, options) {
      if (options?.ssr || !/iced-x86[\\/]iced_x86\.js$/.test(id.split('?')[0])) return null;
      const names = [...new Set([...code.matchAll(/^module\.exports\.(\w+)\s*=/gm)].map((m) => m[1]))];
      const body = code
        .replace(/const \{ TextDecoder, TextEncoder \} = require\(`util`\);/, '')
        .replace(/const path = require\('path'\)[\s\S]*$/, '')
        .replace(/module\.exports/g, '__icedExports');
      const exported = names
        .filter((n) => !n.startsWith('__wb'))
        .map((n) => `const __iced_${n} = __icedExports.${n};\nexport { __iced_${n} as ${n} };`)
        .join('\n');
      return {
        code: `const __icedExports = {};\n${body}\n` +
          `const __icedWasmUrl = new URL("./iced_x86_bg.wasm", import.meta.url);\n` +
          `const { instance: __icedInstance } = await WebAssembly.instantiateStreaming(fetch(__icedWasmUrl), imports)` +
          `.catch(async () => WebAssembly.instantiate(await (await fetch(__icedWasmUrl)).arrayBuffer(), imports));\n` +
          `wasm = __icedInstance.exports;\n${exported}\n`,
        map: null,
      };
    },
  };
}
