/**
 * The `iclrnn` command: parses arguments, calls the library, prints.
 *
 * Errors: a {@link ValidationError} (bad flag, missing file, bad data or model file; the CLI's
 * `UsageError` is one) and the argument parser's own errors print one line on stderr and exit with
 * status 2. Anything else is an internal error (a bug or a broken invariant): one line saying so
 * and how to see the stack trace (`--debug` or `ICLRNN_DEBUG=1`), exit status 1.
 *
 * Start-up: commands are registered explicitly in `commands/index.ts`; a command's module is
 * imported only when that command runs (`--help` imports none).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isValidationError } from '../core/errors.ts';
import { COMMANDS, findCommand } from './commands/index.ts';

const DESCRIPTION = 'Input Convex Lipschitz RNNs: train, certify and control process models';
const DEBUG_HINT = 'run again with --debug (or ICLRNN_DEBUG=1) for the stack trace';

/** The package version (package.json is two levels up from both src/cli and dist/cli). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** A program with the global options and no subcommands. */
function baseProgram(): Command {
  return new Command('iclrnn')
    .description(DESCRIPTION)
    .version(packageVersion())
    .option('--debug', 'print the stack trace of internal errors (also: ICLRNN_DEBUG=1)')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? '' : s) });
}

/**
 * Builds the command tree for `argv`: when its first word names a command, that command's module is
 * loaded and registers the real command(s); otherwise (help, version, unknown command) every
 * command is listed by name and description without loading any module.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = baseProgram();
  const entry = findCommand(argv[0]);
  if (entry) {
    // The fused multiply-add (relaxed SIMD) wasm kernels need a V8 flag on Node 20, set before any
    // module compiles; loaded only when a command runs (`--help` stays light).
    (await import('../core/wasm-node.ts')).enableWasmFma();
    const register = await entry.load();
    register(program);
  } else {
    for (const c of COMMANDS) program.command(c.name).description(c.description).allowUnknownOption().allowExcessArguments();
  }
  return program;
}

/** Runs the CLI; resolves to the exit code (0 ok, 1 internal error, 2 user error). */
export async function main(argv: string[]): Promise<number> {
  const dashdash = argv.indexOf('--');
  const flagEnd = dashdash < 0 ? argv.length : dashdash;
  const debugAt = argv.slice(0, flagEnd).indexOf('--debug');
  const debug = debugAt >= 0 || process.env.ICLRNN_DEBUG === '1';
  const args = debugAt >= 0 ? [...argv.slice(0, debugAt), ...argv.slice(debugAt + 1)] : argv;
  // `iclrnn help train` is `iclrnn train --help`.
  const effective = args[0] === 'help' && findCommand(args[1]) ? [args[1], '--help', ...args.slice(2)] : args;
  try {
    const program = await buildProgram(effective);
    await program.parseAsync(effective, { from: 'user' });
    return 0;
  } catch (e) {
    return reportError(e, debug);
  }
}

/**
 * Prints an error the way the CLI reports it and returns the exit status: the parser's errors and
 * {@link ValidationError}s as one line (status 2; with `debug` also the stack), anything else as an
 * internal error (status 1): one line naming it and how to see the stack, or the stack with `debug`.
 */
export function reportError(e: unknown, debug: boolean, write: (s: string) => void = (s) => void process.stderr.write(s)): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    write(`iclrnn: ${oneLine(e.message.replace(/^error: /, ''))}\n`);
    return 2;
  }
  if (isValidationError(e)) {
    write(`iclrnn: ${oneLine(e.message)}\n`);
    if (debug && e.stack) write(`${e.stack}\n`);
    return 2;
  }
  if (debug) {
    write(`iclrnn: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  } else {
    const what = e instanceof Error ? `${e.name}: ${oneLine(e.message)}` : oneLine(String(e));
    write(`iclrnn: internal error (a bug, please report it): ${what}; ${DEBUG_HINT}\n`);
  }
  return 1;
}

/** Collapses a message onto one line. */
function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
