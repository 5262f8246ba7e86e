/**
 * Error type for bad input data: unreadable, malformed or inconsistent files and tables.
 *
 * This module uses no Node APIs, so `src/systems/` (browser code) may import it too.
 */

/** Where in the input a {@link DataError} was found. Every field is optional. */
export interface DataErrorContext {
  /** File path (or a label such as `'<csv text>'`). */
  file?: string;
  /** Variable (MAT / HDF5) or column (CSV) name. */
  variable?: string;
  /** 1-based row, in the orientation the message describes (MATLAB orientation for MAT files, data row for CSV). */
  row?: number;
  /** 1-based column (MAT files) or column name (CSV). */
  column?: number | string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * Thrown for any problem with input data: missing, truncated or corrupt files, unsupported
 * formats, missing variables or columns, non-numeric or non-finite values, wrong shapes, windows
 * longer than the data. The message is complete on its own (it names the file, variable, row and
 * column where known); the same facts are also available as fields for programmatic use.
 */
export class DataError extends Error {
  /** File path or label, if known. */
  readonly file?: string;
  /** Variable or column name, if known. */
  readonly variable?: string;
  /** 1-based row, if known. */
  readonly row?: number;
  /** 1-based column index or column name, if known. */
  readonly column?: number | string;

  /**
   * @param message full human-readable description (should already name file / variable / position)
   * @param context structured location of the problem
   */
  constructor(message: string, context: DataErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'DataError';
    if (context.file !== undefined) this.file = context.file;
    if (context.variable !== undefined) this.variable = context.variable;
    if (context.row !== undefined) this.row = context.row;
    if (context.column !== undefined) this.column = context.column;
  }
}
