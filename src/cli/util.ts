/** Shared helpers of the `iclrnn` command: user errors, output, option parsing, progress bars. */
import { SingleBar } from 'cli-progress';
import { ValidationError, type ErrorContext } from '../core/errors.ts';
import { formatNumber } from '../core/format.ts';

/**
 * A mistake on the command line (bad or missing flag, flag combination, missing input file): a
 * {@link ValidationError}, so the CLI prints it as one line on stderr and exits with status 2.
 * `flag` names the flag at fault where there is one.
 */
export class UsageError extends ValidationError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context);
    this.name = 'UsageError';
  }
}

/**
 * Errors the CLI reports as one line without a stack trace (exit 2): exactly the
 * {@link ValidationError}s. Everything else is an internal error (exit 1).
 */
export function isUserError(e: unknown): e is ValidationError {
  return e instanceof ValidationError;
}

/** Prints a result: JSON on stdout with --json, else the human text. */
export function emit(json: boolean, value: unknown, human: () => string): void {
  if (json) process.stdout.write(JSON.stringify(value) + '\n');
  else process.stdout.write(human() + '\n');
}

/** Parses a number option, naming the flag on error. */
export function numberOption(flag: string, v: string | undefined, def: number, check: (x: number) => boolean = Number.isFinite, what = 'a number'): number {
  if (v === undefined) return def;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || !check(x)) throw new UsageError(`${flag} must be ${what}, got '${v}'`, { flag });
  return x;
}

export const positiveInt = (x: number) => Number.isInteger(x) && x > 0;
export const nonNegativeInt = (x: number) => Number.isInteger(x) && x >= 0;
export const nonNegative = (x: number) => Number.isFinite(x) && x >= 0;
export const positive = (x: number) => Number.isFinite(x) && x > 0;

/** Parses a comma-separated list of numbers (e.g. `--x0 1.5,-70`). */
export function numberList(flag: string, v: string, length?: number): number[] {
  const parts = v.split(',').map((s) => s.trim());
  const xs = parts.map(Number);
  if (parts.some((p) => p === '') || xs.some((x) => !Number.isFinite(x)) || (length !== undefined && xs.length !== length))
    throw new UsageError(`${flag} must be ${length ?? 'a list of'} comma-separated numbers, got '${v}'`, { flag });
  return xs;
}

/** Escape sequences that undo what a progress bar does to a terminal: show the cursor, turn line wrapping back on. */
export const TERMINAL_RESTORE = '\x1b[?25h\x1b[?7h';

const activeBars = new Set<SingleBar>();
let exitHookInstalled = false;

/**
 * Stops every running progress bar and gives the terminal back its cursor and line wrapping. Runs
 * on every exit of the process (normal end, `process.exit`, an uncaught error) once a bar was
 * started; commands that catch SIGINT / SIGTERM call it before they exit (see {@link onInterrupt}).
 * Writes nothing when no bar is running.
 */
export function restoreTerminal(): void {
  if (activeBars.size === 0) return;
  for (const bar of activeBars) {
    try {
      bar.stop();
    } catch {
      // the stream may be gone; the escape sequences below still go out
    }
  }
  activeBars.clear();
  try {
    if (process.stderr.isTTY) process.stderr.write(TERMINAL_RESTORE);
  } catch {
    // nothing more can be done
  }
}

/**
 * A progress bar on stderr when it is a terminal; a no-op otherwise (so pipes and --json stay
 * clean; commands print their own progress lines there). While it runs it hides the cursor and
 * turns line wrapping off; {@link restoreTerminal} undoes that on every exit path.
 */
export function progressBar(total: number, label: string): { update(v: number, payload?: Record<string, string>): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar(
    { format: `${label} [{bar}] {value}/{total} {info}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
  );
  if (!exitHookInstalled) {
    process.on('exit', restoreTerminal);
    exitHookInstalled = true;
  }
  activeBars.add(bar);
  bar.start(total, 0, { info: '' });
  return {
    update: (v, payload) => bar.update(v, payload ?? {}),
    stop: () => {
      if (!activeBars.delete(bar)) return;
      bar.stop();
    },
  };
}

/**
 * Catches SIGINT and SIGTERM while a long, interruptible step runs (training that yields to the
 * event loop): the first signal calls `handler` (which should make the step stop soon); a second
 * one restores the terminal and exits at once (status 128 + signal number). Returns the function
 * that removes the handlers; call it as soon as the step is over, so that later (synchronous)
 * steps keep Node's default: die at once on Ctrl-C.
 */
export function onInterrupt(handler: (signal: 'SIGINT' | 'SIGTERM') => void): () => void {
  let caught = false;
  const make = (signal: 'SIGINT' | 'SIGTERM') => () => {
    if (caught) {
      restoreTerminal();
      process.stderr.write(`\niclrnn: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'} again; exiting now\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    caught = true;
    handler(signal);
  };
  const onInt = make('SIGINT'), onTerm = make('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}

/**
 * Progress of an epoch loop without a terminal (a log file, a pipe): one line on stderr per block
 * of epochs (about 20 lines per run, and at least one every 30 s), plus the last epoch. A no-op on a
 * terminal, where the progress bar shows the same.
 */
export function epochLines(label: string, epochs: number, now: () => number = () => Date.now() / 1000): (epoch: number, info: string) => void {
  if (process.stderr.isTTY) return () => {};
  const block = Math.max(1, Math.ceil(epochs / 20));
  let last = now();
  return (epoch, info) => {
    const t = now();
    if (epoch % block === 0 || epoch === epochs || epoch === 1 || t - last >= 30) {
      process.stderr.write(`${label}: epoch ${epoch}/${epochs} ${info}\n`);
      last = t;
    }
  };
}

/** Formats a number for the human tables. */
export function fmt(x: number | null | undefined, digits = 3): string {
  return formatNumber(x, { digits, expFrom: 1e4 });
}

/** 'wasm f32 SIMD+FMA', 'wasm f64 SIMD', 'js f64': which kernels trained a model. */
export function kernelLabel(k: { backend: 'wasm' | 'js'; precision: 'f32' | 'f64'; fma: boolean; threads?: number } | undefined): string {
  if (!k) return 'js f64';
  return k.backend === 'js' ? 'js f64' : `wasm ${k.precision} SIMD${k.fma ? '+FMA' : ''}${k.threads && k.threads > 1 ? `, ${k.threads} threads` : ''}`;
}
