/**
 * exitscope command line: `npm run -s cli -- <command> [args]`. Each command is a module
 * exporting `main(args): Promise<number>` (the exit code); add one by adding a line below.
 */
import { pathToFileURL } from 'node:url';

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  asm: { summary: 'asm FILE.s [--hex | --list]   assemble a program', load: async () => (await import('./asm')).main },
  run: {
    summary: 'run A.s [B.s ...] [--max-insns N] [--json] [--strategy S] [--preset P] [--icache-size N] [--trace OUT.json] [--csv OUT.csv] [--at-exit K]   run programs',
    load: async () => (await import('./run')).main,
  },
};

function usage(): string {
  return ['usage: npm run -s cli -- <command> [args]', '', ...Object.values(COMMANDS).map((c) => '  ' + c.summary)].join('\n');
}

export async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '-h' || name === '--help') {
    console.log(usage());
    return 0;
  }
  if (!name) {
    console.error(usage());
    return 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`unknown command '${name}'\n${usage()}`);
    return 2;
  }
  return (await cmd.load())(rest);
}

// A reader that goes away (`| head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

// Run only when started as the program (tests import dispatch without running it).
const invoked = process.argv[1] ? pathToFileURL(process.argv[1]).href === import.meta.url : false;
if (invoked) dispatch(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    console.error(e instanceof Error ? e.stack ?? e.message : String(e));
    process.exitCode = 1;
  },
);
