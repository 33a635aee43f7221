/**
 * The one place that loads iced-x86. In Node the npm package is CommonJS and loads its wasm
 * with fs; in the browser build/icedWasmPlugin.ts turns it into an ES module that fetches the
 * wasm (top-level await), so importing this module is enough in both.
 *
 * iced's npm build has no FinalizationRegistry: every Decoder, Instruction, Encoder,
 * BlockEncoder, Formatter and OpCodeInfo created must be .free()'d.
 */
export * from 'iced-x86';
