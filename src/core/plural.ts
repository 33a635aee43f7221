/** The noun beside a count, for the figures the UI, the lessons, the CLI and the exit path write. Pure. */

/** The noun for n of it: plural(1, 'exit') is "exit", plural(0, 'exit') "exits", plural(2, 'entry', 'entries') "entries". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}
