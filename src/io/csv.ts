/**
 * CSV reading (RFC 4180) with a header row, and strict numeric column extraction.
 *
 * Dialect: fields separated by a delimiter (default `,`); records end at CRLF, LF or a lone CR;
 * a field may be enclosed in double quotes, inside which delimiters and line breaks are literal
 * and `""` stands for one `"`. A quote inside an unquoted field, text after a closing quote, and a
 * quote left open at the end of the input are errors. A leading byte-order mark is dropped. Lines
 * that are completely empty are skipped (a final line break is therefore harmless). The first
 * record is the header; every other record must have as many fields as the header.
 */
import { readFile } from 'node:fs/promises';
import { DataError } from './errors.ts';

/** A parsed CSV file: text cells by column name. */
export interface CsvTable {
  /** File path, or `'<csv text>'` when parsed from a string without a path. */
  source: string;
  /** Column names, in file order. */
  header: string[];
  /** Number of data rows (the header not counted). */
  rowCount: number;
  /** Cells of each column, `rowCount` strings each (quotes removed). */
  columns: Map<string, string[]>;
  /** 1-based line number in the file where each data row starts (`rowCount` entries). */
  lines: Int32Array;
}

/** Options of {@link parseCsv}. */
export interface CsvOptions {
  /** File path, used in error messages and as {@link CsvTable.source}. */
  path?: string;
  /** Field delimiter, one character. Default `','`. */
  delimiter?: string;
}

const QUOTE = 34;
const CR = 13;
const LF = 10;

/**
 * Parses CSV text with a header row. See the module documentation for the dialect.
 *
 * Throws {@link DataError} (naming the file and 1-based line) for an empty input, a malformed
 * quoted field, a duplicate column name or a ragged row (wrong number of fields).
 */
export function parseCsv(text: string, options: CsvOptions = {}): CsvTable {
  const source = options.path ?? '<csv text>';
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new DataError(`${source}: invalid CSV delimiter ${JSON.stringify(delimiter)}`, { file: source });
  }
  const DELIM = delimiter.charCodeAt(0);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const n = text.length;
  const records: string[][] = [];
  const recordLines: number[] = [];
  let i = 0;
  let line = 1;

  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let blank = true;
    for (;;) {
      // one field starting at i
      if (i < n && text.charCodeAt(i) === QUOTE) {
        blank = false;
        const quoteLine = line;
        i++;
        let value = '';
        let segStart = i;
        for (;;) {
          if (i >= n) {
            throw new DataError(
              `${source}: line ${quoteLine}, field ${fields.length + 1}: quoted field is never closed (missing closing '"')`,
              { file: source, row: quoteLine },
            );
          }
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            if (i + 1 < n && text.charCodeAt(i + 1) === QUOTE) {
              value += text.slice(segStart, i + 1);
              i += 2;
              segStart = i;
              continue;
            }
            value += text.slice(segStart, i);
            i++;
            break;
          }
          if (c === LF) line++;
          else if (c === CR && !(i + 1 < n && text.charCodeAt(i + 1) === LF)) line++;
          i++;
        }
        if (i < n) {
          const c = text.charCodeAt(i);
          if (c !== DELIM && c !== CR && c !== LF) {
            throw new DataError(
              `${source}: line ${line}, field ${fields.length + 1}: unexpected character ${JSON.stringify(text[i])} after a closing quote`,
              { file: source, row: line },
            );
          }
        }
        fields.push(value);
      } else {
        const start = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === DELIM || c === CR || c === LF) break;
          if (c === QUOTE) {
            throw new DataError(
              `${source}: line ${line}, field ${fields.length + 1}: a '"' inside an unquoted field (quote the whole field and double the quote)`,
              { file: source, row: line },
            );
          }
          i++;
        }
        if (i > start) blank = false;
        fields.push(text.slice(start, i));
      }
      if (i >= n) break;
      const c = text.charCodeAt(i);
      if (c === DELIM) {
        blank = false;
        i++;
        continue;
      }
      // end of record
      if (c === CR && i + 1 < n && text.charCodeAt(i + 1) === LF) i += 2;
      else i++;
      line++;
      break;
    }
    if (blank) continue;
    records.push(fields);
    recordLines.push(startLine);
  }

  if (records.length === 0) throw new DataError(`${source}: no header row (the input is empty)`, { file: source });
  const header = records[0];
  const seen = new Set<string>();
  for (let j = 0; j < header.length; j++) {
    if (seen.has(header[j])) {
      throw new DataError(`${source}: duplicate column name "${header[j]}" in the header (column ${j + 1})`, {
        file: source,
        column: header[j],
      });
    }
    seen.add(header[j]);
  }
  const rowCount = records.length - 1;
  const cells: string[][] = header.map(() => new Array<string>(rowCount));
  const lines = new Int32Array(rowCount);
  for (let r = 0; r < rowCount; r++) {
    const rec = records[r + 1];
    if (rec.length !== header.length) {
      throw new DataError(
        `${source}: data row ${r + 1} (line ${recordLines[r + 1]}) has ${rec.length} fields, the header has ${header.length}`,
        { file: source, row: r + 1 },
      );
    }
    for (let j = 0; j < rec.length; j++) cells[j][r] = rec[j];
    lines[r] = recordLines[r + 1];
  }
  const columns = new Map<string, string[]>();
  header.forEach((h, j) => columns.set(h, cells[j]));
  return { source, header: [...header], rowCount, columns, lines };
}

/**
 * Reads and parses a CSV file (UTF-8) with {@link parseCsv}.
 * Throws {@link DataError} if the file cannot be read or is malformed.
 */
export async function readCsvFile(path: string, options: Omit<CsvOptions, 'path'> = {}): Promise<CsvTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new DataError(`${path}: cannot read file: ${(e as Error).message}`, { file: path, cause: e });
  }
  return parseCsv(text, { ...options, path });
}

/** The text cells of one column; throws {@link DataError} listing the available columns if absent. */
export function csvColumn(table: CsvTable, name: string): string[] {
  const col = table.columns.get(name);
  if (col === undefined) {
    throw new DataError(
      `${table.source}: unknown column "${name}"; available: ${table.header.map((h) => `"${h}"`).join(', ')}`,
      { file: table.source, variable: name },
    );
  }
  return col;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses one cell as a finite decimal number (surrounding spaces allowed), or returns a reason why
 * it is not one.
 */
export function parseNumberCell(cell: string): number | string {
  const s = cell.trim();
  if (s === '') return 'empty cell';
  if (/^[+-]?nan$/i.test(s)) return `"${cell}" is NaN (missing values are not allowed)`;
  if (/^[+-]?inf(inity)?$/i.test(s)) return `"${cell}" is infinite`;
  if (!NUMBER.test(s)) return `"${cell.length > 40 ? cell.slice(0, 40) + '...' : cell}" is not a number`;
  const v = Number(s);
  if (!Number.isFinite(v)) return `"${cell}" overflows to an infinite value`;
  return v;
}

/**
 * One column as finite float64 numbers. Throws {@link DataError} naming the file, the column and
 * the 1-based data row (and file line) of the first empty, non-numeric, NaN or infinite cell, or
 * listing the available columns if `name` is not one.
 */
export function numericColumn(table: CsvTable, name: string): Float64Array {
  const col = csvColumn(table, name);
  const out = new Float64Array(col.length);
  for (let r = 0; r < col.length; r++) {
    const v = parseNumberCell(col[r]);
    if (typeof v === 'string') {
      throw new DataError(`${table.source}: column "${name}", data row ${r + 1} (line ${table.lines[r]}): ${v}`, {
        file: table.source,
        variable: name,
        row: r + 1,
        column: name,
      });
    }
    out[r] = v;
  }
  return out;
}

/** Several columns as finite float64 numbers, by name (see {@link numericColumn}). */
export function numericColumns(table: CsvTable, names: readonly string[]): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const name of names) out.set(name, numericColumn(table, name));
  return out;
}
