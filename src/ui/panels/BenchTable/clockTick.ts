/**
 * The step of the page's clock, in ns: browsers coarsen performance.now() (Chrome: 100 µs, 5 µs
 * when the page is cross-origin isolated), and the Worker that times the VMM reads the same
 * clock. Measured once, by watching it change five times (at most 3 ms).
 */
let measured: number | null = null;

export function clockTickNs(): number {
  if (measured !== null) return measured;
  let step = Infinity;
  let last = performance.now();
  const until = last + 3;
  for (let changes = 0; changes < 5;) {
    const t = performance.now();
    if (t !== last) { step = Math.min(step, t - last); last = t; changes++; }
    if (t > until) break;
  }
  measured = Number.isFinite(step) ? step * 1e6 : 3e6;
  return measured;
}
