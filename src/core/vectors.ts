/** Names of the x86 exception vectors (SDM Vol. 3A Table 6-1), for messages and the panels. */
const NAMES: Readonly<Record<number, string>> = { 0: '#DE', 1: '#DB', 3: '#BP', 4: '#OF', 6: '#UD', 8: '#DF', 10: '#TS', 11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF' };

/** "#UD" for an exception vector the model raises, "vector 33" otherwise. */
export function vecName(v: number): string {
  return NAMES[v] ?? `vector ${v}`;
}
