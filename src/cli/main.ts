/**
 * The `iclrnn` command: parses arguments, calls the library, prints. User errors (bad flags,
 * missing files, bad data) give one line on stderr and exit code 2; no stack traces.
 */
import { Command, CommanderError } from 'commander';
import { registerCore } from './commands/core.ts';
import { isUserError } from './util.ts';

/** Builds the command tree; each command file registers its own subcommands. */
export function buildProgram(): Command {
  const program = new Command('iclrnn')
    .description('Input Convex Lipschitz RNNs: train, certify and control process models')
    .version('0.1.0')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? '' : s) });
  registerCore(program);
  for (const register of extraCommands) register(program);
  return program;
}

const extraCommands: ((p: Command) => void)[] = [];

/** Lets command modules add subcommands (certify, mpc, import, sweep). */
export function addCommands(register: (p: Command) => void): void {
  extraCommands.push(register);
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  await import('./commands/index.ts');
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      process.stderr.write(`iclrnn: ${e.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    if (isUserError(e)) {
      process.stderr.write(`iclrnn: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`iclrnn: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}
