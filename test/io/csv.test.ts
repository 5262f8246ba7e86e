import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DataError } from '../../src/io/errors.ts';
import { csvColumn, numericColumn, numericColumns, parseCsv, parseNumberCell, readCsvFile } from '../../src/io/csv.ts';
import { haveData, throwsData } from '../helpers.ts';

const SOLAR = fileURLToPath(new URL('../../../shared/data/solar/SolarPrediction.csv', import.meta.url));



let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'iclrnn-csv-test-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('parseCsv', () => {
  it('parses a header and rows, by column name', () => {
    const t = parseCsv('a,b,c\n1,2,3\n4,5,6\n');
    assert.deepEqual(t.header, ['a', 'b', 'c']);
    assert.equal(t.rowCount, 2);
    assert.deepEqual(t.columns.get('b'), ['2', '5']);
    assert.deepEqual([...t.lines], [2, 3]);
    assert.equal(t.source, '<csv text>');
  });

  it('handles RFC 4180 quoting, CRLF, a BOM, blank lines and a missing final newline', () => {
    const text = '\uFEFFname,"note, with comma",x\r\n"Smith, J.","said ""hi""\r\nthen left",1\r\n\r\nplain,,2';
    const t = parseCsv(text, { path: 'q.csv' });
    assert.deepEqual(t.header, ['name', 'note, with comma', 'x']);
    assert.deepEqual(t.columns.get('name'), ['Smith, J.', 'plain']);
    assert.deepEqual(t.columns.get('note, with comma'), ['said "hi"\r\nthen left', '']);
    assert.deepEqual([...t.lines], [2, 5]);
    assert.equal(t.source, 'q.csv');
  });

  it('supports another delimiter', () => {
    const t = parseCsv('a;b\n1;"x;y"\n', { delimiter: ';' });
    assert.deepEqual(t.columns.get('b'), ['x;y']);
  });

  it('reports malformed input with file and line', () => {
    throwsData(() => parseCsv('', { path: 'e.csv' }), /e\.csv/, /no header/);
    throwsData(() => parseCsv('\n\n'), /no header/);
    throwsData(() => parseCsv('a,b\n1,"open\n2,3\n', { path: 'u.csv' }), /u\.csv/, /line 2/, /never closed/);
    throwsData(() => parseCsv('a,b\n1,x"y\n'), /line 2, field 2/, /inside an unquoted field/);
    throwsData(() => parseCsv('a,b\n"x"y,1\n'), /line 2, field 1/, /after a closing quote/);
    const e = throwsData(() => parseCsv('a,b\n1,2\n3\n4,5\n', { path: 'r.csv' }), /r\.csv/, /data row 2 \(line 3\) has 1 fields, the header has 2/);
    assert.equal(e.row, 2);
    throwsData(() => parseCsv('a,b,a\n1,2,3\n'), /duplicate column name "a"/);
    assert.throws(() => parseCsv('a\n1', { delimiter: '""' }), DataError);
  });

  it('round-trips arbitrary tables written with RFC 4180 quoting (property)', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'Z', '1', ' ', ',', '"', '\n', '\r', 'é', '\t'), maxLength: 6 });
    const quote = (s: string): string => (s === '' || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const table = fc.integer({ min: 1, max: 4 }).chain((cols) =>
      fc.record({
        header: fc.uniqueArray(cell, { minLength: cols, maxLength: cols }),
        rows: fc.array(fc.array(cell, { minLength: cols, maxLength: cols }), { maxLength: 6 }),
        eol: fc.constantFrom('\n', '\r\n'),
        final: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(table, ({ header, rows, eol, final }) => {
        const text = [header, ...rows].map((r) => r.map(quote).join(',')).join(eol) + (final ? eol : '');
        const t = parseCsv(text);
        assert.deepEqual(t.header, header);
        assert.equal(t.rowCount, rows.length);
        header.forEach((h, j) => assert.deepEqual(t.columns.get(h), rows.map((r) => r[j])));
      }),
      { numRuns: 300 },
    );
  });
});

describe('numeric columns', () => {
  it('parses decimal numbers, with spaces and exponents', () => {
    const t = parseCsv('x,y\n1,-2.5e3\n .5 ,+7\n3.,1E-2\n');
    assert.deepEqual([...numericColumn(t, 'x')], [1, 0.5, 3]);
    assert.deepEqual([...numericColumn(t, 'y')], [-2500, 7, 0.01]);
    const m = numericColumns(t, ['y', 'x']);
    assert.deepEqual([...m.keys()], ['y', 'x']);
  });

  it('names file, data row, line and column for bad cells', () => {
    const t = parseCsv('time,Radiation\n1,2\n2,abc\n3,\n4,NaN\n5,inf\n6,1e400\n7,0x10\n', { path: 'w.csv' });
    const col = (rows: number[]): string => ['time,Radiation', ...rows.map((r) => `${r},${t.columns.get('Radiation')![r - 1]}`)].join('\n');
    const e = throwsData(() => numericColumn(t, 'Radiation'), /w\.csv/, /column "Radiation"/, /data row 2 \(line 3\)/, /"abc" is not a number/);
    assert.deepEqual([e.file, e.row, e.column], ['w.csv', 2, 'Radiation']);
    const cases: Array<[number, RegExp]> = [
      [3, /empty cell/],
      [4, /NaN/],
      [5, /infinite/],
      [6, /overflows/],
      [7, /not a number/],
    ];
    for (const [row, re] of cases) {
      const sub = parseCsv(col([row]), { path: 'w.csv' });
      throwsData(() => numericColumn(sub, 'Radiation'), /data row 1 \(line 2\)/, re);
    }
    assert.deepEqual([...numericColumn(t, 'time')], [1, 2, 3, 4, 5, 6, 7]);
  });

  it('lists the available columns for an unknown one', () => {
    const t = parseCsv('a,b\n1,2\n', { path: 'k.csv' });
    throwsData(() => numericColumn(t, 'c'), /k\.csv/, /unknown column "c"; available: "a", "b"/);
    throwsData(() => csvColumn(t, 'A'), /unknown column "A"/);
  });

  it('parseNumberCell agrees with Number() on what it accepts (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        assert.equal(parseNumberCell(String(x)), Object.is(x, -0) ? 0 : x); // String(-0) is "0"
      }),
      { numRuns: 300 },
    );
  });
});

describe('readCsvFile', () => {
  it('reads a file and names it in errors', async () => {
    const p = join(dir, 'a.csv');
    writeFileSync(p, 'u,y\n1,2\n3,oops\n');
    const t = await readCsvFile(p);
    assert.equal(t.source, p);
    throwsData(() => numericColumn(t, 'y'), new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: column "y", data row 2 \\(line 3\\)`));
    await assert.rejects(readCsvFile(join(dir, 'missing.csv')), (e: unknown) => e instanceof DataError && /missing\.csv: cannot read file/.test(e.message));
  });

  it('reads the solar record: 32686 rows with the expected header', async (t) => {
    if (!haveData(t, SOLAR)) return;
    const table = await readCsvFile(SOLAR);
    assert.equal(table.rowCount, 32686);
    assert.deepEqual(table.header, [
      'UNIXTime',
      'Data',
      'Time',
      'Temperature',
      'Pressure',
      'Humidity',
      'WindDirection(Degrees)',
      'Speed',
      'TimeSunRise',
      'TimeSunSet',
      'Radiation',
    ]);
    const cols = numericColumns(table, ['UNIXTime', 'Radiation', 'Temperature', 'Pressure', 'Humidity', 'WindDirection(Degrees)', 'Speed']);
    for (const c of cols.values()) assert.equal(c.length, 32686);
    throwsData(() => numericColumn(table, 'Data'), /column "Data", data row 1 \(line 2\)/, /is not a number/);
  });
});

describe('fuzz', () => {
  it('random text parses or throws DataError, never anything else', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: fc.constantFrom(',', '"', '\n', '\r', 'a', '1', '.', 'e', '-', ' ', 'N'), maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
    fc.assert(
      fc.property(text, (s) => {
        try {
          const t = parseCsv(s, { path: 'fuzz.csv' });
          for (const h of t.header) {
            assert.equal(t.columns.get(h)!.length, t.rowCount);
            try {
              const v = numericColumn(t, h);
              for (const x of v) assert.ok(Number.isFinite(x));
            } catch (e) {
              if (!(e instanceof DataError)) throw e;
            }
          }
        } catch (e) {
          if (!(e instanceof DataError)) throw e;
          assert.match(e.message, /^fuzz\.csv: /);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
