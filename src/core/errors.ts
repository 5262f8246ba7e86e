/**
 * The error classes of iclrnn. Every problem a user can fix (a bad flag, a bad file, a bad value
 * passed to the API) is a {@link ValidationError} or one of its subclasses; the CLI prints exactly
 * these as one line and exits with status 2. Any other error is an internal fault (a bug or an
 * invariant that broke): the CLI says so and exits with status 1.
 *
 * This module uses no Node APIs, so every layer (browser code included) may import it.
 */

/** Where in the input a problem was found. Every field is optional. */
export interface ErrorContext {
  /** File path (or a label such as `'<csv text>'`). */
  file?: string;
  /** Variable (MAT / HDF5), column (CSV), JSON field or API option name. */
  variable?: string;
  /** 1-based row, in the orientation the message describes. */
  row?: number;
  /** 1-based column index or column name. */
  column?: number | string;
  /** Command-line flag at fault, e.g. `'--lr'`. */
  flag?: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * A problem the user can fix: an invalid argument, option, flag, file or value. The message is
 * complete on its own (it names the file, field or flag at fault); the same facts are available
 * as fields for programmatic use.
 *
 * @example
 * ```ts
 * try { fitModel(model, data, { epochs: -1 }); }
 * catch (e) { if (e instanceof ValidationError) console.error(e.message); else throw e; }
 * ```
 */
export class ValidationError extends Error {
  /** File path or label, if known. */
  readonly file?: string;
  /** Variable, column, field or option name, if known. */
  readonly variable?: string;
  /** 1-based row, if known. */
  readonly row?: number;
  /** 1-based column index or column name, if known. */
  readonly column?: number | string;
  /** Command-line flag at fault, if known. */
  readonly flag?: string;

  /**
   * @param message full human-readable description (already naming the file / field / flag)
   * @param context structured location of the problem
   */
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'ValidationError';
    if (context.file !== undefined) this.file = context.file;
    if (context.variable !== undefined) this.variable = context.variable;
    if (context.row !== undefined) this.row = context.row;
    if (context.column !== undefined) this.column = context.column;
    if (context.flag !== undefined) this.flag = context.flag;
  }
}

/**
 * Bad input data: missing, truncated or corrupt files, unsupported formats, missing variables or
 * columns, non-numeric or non-finite values, wrong shapes, windows longer than the data.
 *
 * @example
 * ```ts
 * try { readCsv('plant.csv'); } catch (e) { if (e instanceof DataError) console.error(e.file, e.row, e.message); }
 * ```
 */
export class DataError extends ValidationError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context);
    this.name = 'DataError';
  }
}

/**
 * A model file (iclrnn JSON, Keras `.keras` / `.h5`) that cannot be read or does not describe a
 * valid model: unknown version or kind, missing or mis-shaped weights, invalid scalers.
 *
 * @example
 * ```ts
 * try { loadModel('model.json'); } catch (e) { if (e instanceof ModelFileError) console.error(e.message); }
 * ```
 */
export class ModelFileError extends ValidationError {
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context);
    this.name = 'ModelFileError';
  }
}

/**
 * True for the errors a user can fix (the CLI prints these as one line, exit status 2).
 *
 * @example
 * ```ts
 * try { loadModel('missing.json'); }
 * catch (e) { if (isValidationError(e)) console.error(e.message); else throw e; }
 * ```
 */
export function isValidationError(e: unknown): e is ValidationError {
  return e instanceof ValidationError;
}
