/** Shared helpers of the `iclrnn` command: user errors, output, option parsing, progress bars. */
import { SingleBar } from 'cli-progress';
import { DataError } from '../io/errors.ts';

/** A mistake of the user (bad flag, missing file, bad data): one line on stderr, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Errors the CLI reports as one line without a stack trace. */
export function isUserError(e: unknown): e is Error {
  return e instanceof UsageError || e instanceof DataError || e instanceof RangeError;
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
  if (v.trim() === '' || !Number.isFinite(x) || !check(x)) throw new UsageError(`${flag} must be ${what}, got '${v}'`);
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
    throw new UsageError(`${flag} must be ${length ?? 'a list of'} comma-separated numbers, got '${v}'`);
  return xs;
}

/** A progress bar on stderr when it is a terminal; a no-op otherwise (so pipes and --json stay clean). */
export function progressBar(total: number, label: string): { update(v: number, payload?: Record<string, string>): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar(
    { format: `${label} [{bar}] {value}/{total} {info}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
  );
  bar.start(total, 0, { info: '' });
  return {
    update: (v, payload) => bar.update(v, payload ?? {}),
    stop: () => bar.stop(),
  };
}

/** Formats a number for the human tables. */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(digits - 1) : x.toPrecision(digits);
}
