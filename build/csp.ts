import type { Plugin } from 'vite';

/**
 * Content-Security-Policy of the built app. Share links carry guest programs from strangers
 * and the machine Worker compiles guest code with `new Function`, so the page allows nothing
 * but its own files:
 *
 * - DOCUMENT_CSP, a <meta> tag in the built index.html (every host serves it, headers or not):
 *   scripts only from the app's origin (no inline script, no eval), no remote origins at all.
 *   Styles allow 'unsafe-inline' because Monaco adds <style> elements at run time (its themes
 *   and token colours); images and fonts allow data: (Monaco's CSS icons).
 * - WORKER_CSP, a response header from `vite preview` on every file (a dedicated Worker takes
 *   its policy from its script's response, not from the page's <meta>: CSP Level 3,
 *   "Initialize a global object's CSP list"): the same origins, plus 'unsafe-eval' (the vCPU's
 *   generated blocks) and 'wasm-unsafe-eval' (iced-x86). The document gets this header too,
 *   and a page under two policies must satisfy both, so the <meta> keeps eval out of the page.
 *
 * The dev server (`vite`) gets neither: React's fast refresh needs an inline script there.
 */
const COMMON = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
];

export const DOCUMENT_CSP = ["script-src 'self'", ...COMMON].join('; ');

export const WORKER_CSP = ["script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'", ...COMMON].join('; ');

/** Puts DOCUMENT_CSP into the built index.html (build only) and WORKER_CSP on `vite preview`. */
export function cspPlugin(): Plugin {
  return {
    name: 'exitscope:csp',
    apply: (_config, env) => env.command === 'build' || env.isPreview === true,
    transformIndexHtml: {
      order: 'post',
      handler: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: DOCUMENT_CSP }, injectTo: 'head-prepend' }],
    },
    configurePreviewServer(server) {
      server.middlewares.use((_req, res, next) => {
        res.setHeader('Content-Security-Policy', WORKER_CSP);
        next();
      });
    },
  };
}
