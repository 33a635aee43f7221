/**
 * Each command's arguments, written once: main.ts lists them (without loading the commands,
 * so that `--help` stays quick) and each command prints its own line on --help or a usage error.
 */
export const COMMAND_USAGE = {
  asm: { args: 'asm FILE.s [--hex | --list]', does: 'assemble a program' },
  run: {
    args: 'run A.s [B.s ...] [--max-insns N] [--json] [--strategy S] [--preset P] [--icache-size N] [--trace OUT.json] [--csv OUT.csv] [--at-exit K]',
    does: 'run programs',
  },
} as const;

export type CommandName = keyof typeof COMMAND_USAGE;

export const CLI_PREFIX = 'usage: npm run -s cli --';

/** One command's usage line, as --help prints it. */
export function commandUsage(name: CommandName): string {
  return `${CLI_PREFIX} ${COMMAND_USAGE[name].args}`;
}
