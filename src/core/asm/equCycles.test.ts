import { describe, expect, it } from 'vitest';
import { equCycles } from './equCycles';
import type { Expr } from './expr';

const sym = (name: string): Expr => ({ k: 'sym', name, col: 1 });
const num = (v: number): Expr => ({ k: 'num', v: BigInt(v), col: 1 });
const add = (a: Expr, b: Expr): Expr => ({ k: 'bin', op: '+', a, b, col: 1 });

describe('equCycles', () => {
  it('finds an equ defined through itself, directly or through others', () => {
    expect(equCycles(new Map([['a', add(sym('a'), num(1))]]))).toEqual([['a']]);
    expect(equCycles(new Map([['a', sym('b')], ['b', add(sym('c'), num(1))], ['c', sym('a')]]))).toEqual([['a', 'b', 'c']]);
  });

  it('finds none where equs only chain, share a dependency or name labels', () => {
    // d and e both use f; g names a label (not an equ), which the passes resolve.
    expect(equCycles(new Map([['d', add(sym('f'), sym('e'))], ['e', sym('f')], ['f', num(5)], ['g', sym('start')]]))).toEqual([]);
  });

  it('reports a name in one loop only, and leaves an equ that merely uses a loop out of it', () => {
    // a is in two loops (a -> b -> a, and a -> a): one is reported; x only uses a.
    expect(equCycles(new Map([['x', sym('a')], ['a', add(sym('b'), sym('a'))], ['b', sym('a')]]))).toEqual([['a', 'b']]);
  });

  it('follows a chain of 100,000 equs without overflowing the stack', () => {
    const equs = new Map<string, Expr>();
    for (let i = 0; i < 100_000; i++) equs.set(`s${i}`, sym(`s${i + 1}`));
    equs.set('s100000', sym('s0'));
    const cycles = equCycles(equs);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(100_001);
  });
});
