/**
 * exitscope command line: `npm run -s cli -- <command> [args]`. Each command is a module
 * exporting `main(args): Promise<number>` (the exit code); add one by adding a line below.
 */
import { pathToFileURL } from 'node:url';
import { CLI_PREFIX, COMMAND_USAGE, type CommandName } from './usage';

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<CommandName, () => Promise<Command>> = {
  asm: async () => (await import('./asm')).main,
  run: async () => (await import('./run')).main,
};

function usage(): string {
  const lines = Object.values(COMMAND_USAGE).map((c) => `  ${c.args}   ${c.does}`);
  return [`${CLI_PREFIX} <command> [args]`, '', ...lines].join('\n');
}

const isCommand = (name: string): name is CommandName => Object.hasOwn(COMMANDS, name);

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
  if (!isCommand(name)) {
    console.error(`unknown command '${name}'\n${usage()}`);
    return 2;
  }
  return (await COMMANDS[name]())(rest);
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
