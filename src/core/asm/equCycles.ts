/**
 * Equ's defined through themselves (`a equ a+1`; `a equ b` with `b equ a`): no pass can give
 * them a value. Without this check the passes settled on whatever the first pass guessed (0 for
 * a symbol not yet seen, so `a equ a+1` was 1), or never settled and said the instruction sizes
 * did not. GNU as refuses them too ("symbol definition loop encountered").
 */
import type { Expr } from './expr';

/** The symbols an expression names. */
function symbolsOf(e: Expr, out: string[] = []): string[] {
  switch (e.k) {
    case 'sym': out.push(e.name); break;
    case 'un': symbolsOf(e.a, out); break;
    case 'bin': symbolsOf(e.a, out); symbolsOf(e.b, out); break;
    default: break;
  }
  return out;
}

/**
 * Each loop among the equ's, as its names in definition order from where the search met it
 * (`['a', 'b']` for a -> b -> a). A name is in at most one loop reported. The search keeps its
 * own stack: a chain of thousands of equ's must not overflow the JS one.
 */
export function equCycles(equs: ReadonlyMap<string, Expr>): string[][] {
  const done = new Set<string>();
  const onPath = new Map<string, number>(); // name -> its index in `path`
  const inCycle = new Set<string>();
  const cycles: string[][] = [];
  for (const root of equs.keys()) {
    if (done.has(root)) continue;
    const path: string[] = [];
    const pending: string[][] = [];
    const enter = (name: string) => {
      onPath.set(name, path.length);
      path.push(name);
      pending.push(symbolsOf(equs.get(name)!).filter((s) => equs.has(s)).reverse());
    };
    enter(root);
    while (path.length > 0) {
      const next = pending[pending.length - 1].pop();
      if (next === undefined) {
        const name = path.pop()!;
        pending.pop();
        onPath.delete(name);
        done.add(name);
        continue;
      }
      const at = onPath.get(next);
      if (at !== undefined) {
        const loop = path.slice(at);
        if (!loop.some((n) => inCycle.has(n))) {
          loop.forEach((n) => inCycle.add(n));
          cycles.push(loop);
        }
      } else if (!done.has(next)) {
        enter(next);
      }
    }
  }
  return cycles;
}
