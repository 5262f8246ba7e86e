import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { zlibSync } from 'fflate';
import h5wasm from 'h5wasm/node';
import { DataError } from '../../src/io/errors.ts';
import { listMatVariables, matFileFormat, readMatFile, readMatVariable, writeMatFile, type MatMatrix } from '../../src/io/mat.ts';
import { haveData } from '../helpers.ts';
import { ValidationError } from '../../src/core/errors.ts';

const ENERGY = fileURLToPath(new URL('../../../shared/data/energy/test_collected_data.mat', import.meta.url));


// Written by scipy.io.savemat (format 5), uncompressed and compressed, from
// A=[[1.5,2,3],[4,5,-6e-3]] (double), B=int16([1;-2;300]), L=logical([1 0]), C={1,'x'} (cell),
// S=struct('f',1), T='hello' (char), X=zeros(2,2,2), N=[1 2; NaN 4], Z=1+2i (complex).
const V5_PLAIN =
  'TUFUTEFCIDUuMCBNQVQtZmlsZSBQbGF0Zm9ybTogcG9zaXgsIENyZWF0ZWQgb246IFR1ZSBOb3YgMjQgMDU6NTQ6MzMgMjAyNgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABSU0OAAAAYAAAAAYAAAAIAAAABgAAAAAAAAAFAAAACAAAAAIAAAADAAAAAQABAEEAAAAJAAAAMAAAAAAAAAAAAPg/AAAAAAAAEEAAAAAAAAAAQAAAAAAAABRAAAAAAAAACED6fmq8dJN4vw4AAAA4AAAABgAAAAgAAAAKAAAAAAAAAAUAAAAIAAAAAwAAAAEAAAABAAEAQgAAAAMAAAAGAAAAAQD+/ywBAAAOAAAAMAAAAAYAAAAIAAAACQIAAAAAAAAFAAAACAAAAAEAAAACAAAAAQABAEwAAAACAAIAAQAAAA4AAACgAAAABgAAAAgAAAABAAAAAAAAAAUAAAAIAAAAAQAAAAIAAAABAAEAQwAAAA4AAAA4AAAABgAAAAgAAAAGAAAAAAAAAAUAAAAIAAAAAQAAAAEAAAABAAAAAAAAAAkAAAAIAAAAAAAAAAAA8D8OAAAAMAAAAAYAAAAIAAAABAAAAAAAAAAFAAAACAAAAAEAAAABAAAAAQAAAAAAAAAQAAEAeAAAAA4AAAB4AAAABgAAAAgAAAACAAAAAAAAAAUAAAAIAAAAAQAAAAEAAAABAAEAUwAAAAUABAACAAAAAQACAGYAAAAOAAAAOAAAAAYAAAAIAAAABgAAAAAAAAAFAAAACAAAAAEAAAABAAAAAQAAAAAAAAAJAAAACAAAAAAAAAAAAPA/DgAAADgAAAAGAAAACAAAAAQAAAAAAAAABQAAAAgAAAABAAAABQAAAAEAAQBUAAAAEAAAAAUAAABoZWxsbwAAAA4AAAB4AAAABgAAAAgAAAAGAAAAAAAAAAUAAAAMAAAAAgAAAAIAAAACAAAAAAAAAAEAAQBYAAAACQAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADgAAAFAAAAAGAAAACAAAAAYAAAAAAAAABQAAAAgAAAACAAAAAgAAAAEAAQBOAAAACQAAACAAAAAAAAAAAADwPwAAAAAAAPh/AAAAAAAAAEAAAAAAAAAQQA4AAABIAAAABgAAAAgAAAAGCAAAAAAAAAUAAAAIAAAAAQAAAAEAAAABAAEAWgAAAAkAAAAIAAAAAAAAAAAA8D8JAAAACAAAAAAAAAAAAABA';
const V5_COMPRESSED =
  'TUFUTEFCIDUuMCBNQVQtZmlsZSBQbGF0Zm9ybTogcG9zaXgsIENyZWF0ZWQgb246IFR1ZSBOb3YgMjQgMDU6NTQ6MzMgMjAyNgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABSU0PAAAAPgAAAHic42NgYEgAYjYg5oDSIMAK5TMBMTMQMwKhI5DmBGIDBhj4YQ+hBRygAlBaBEpzOPyqy9pTMrliPwC1xwhQDwAAACsAAAB4nONjYGCwAGI2IOYAYi4GCGCF8pmBmBGMGRmcoHw2MP/ffx2gBAApjALoDwAAACcAAAB4nONjYGAwAGI2IOYAYk4mBjBghfIZgZgJTDMy+IDZTGAxABbMALsPAAAAQQAAAHic42NgYFgAxGxAzAHEjAwQwIrEZwLTjAzOQJoPiC2Q1LNhUc+IZA4nVBwCPtiD9Bsg6WchoF8AyKoA0gAvDgOmDwAAADoAAAB4nONjYGCoAGI2IOYAYiYGCGCF8hnhmJEhGCzOAlbDCCTTgDQfEFsg6WfDqR8COKHiEPDBHgCkBQMZDwAAACsAAAB4nONjYGCwAGI2IOYAYhYGCGCF8hmhbEYgDAHSAlB+RmpOTj6QBgArgQLrDwAAACkAAAB4nONjYGCoAGI2IOaA0iDACsQ8QMyEhEGAEQgjgDQnEDswUA4AgdYBVQ8AAAAyAAAAeJzjY2BgCABiNiDmgNIgwArlM0ExIxD6AWlOIFZggIEP9hD6Rz1UwAFCCTgAAHgEBDMPAAAAKwAAAHic42NgYPAAYjYg5gDRIAIIWKF8RjhmZIgC0pxQcQj4YI/KZ3AAAEmhAm8=';

/** A minimal MAT v5 writer for double matrices (column-major data), little- or big-endian. */
function v5File(vars: Array<{ name: string; rows: number; cols: number; colMajor: number[] }>, le = true, compress = false): Uint8Array {
  const chunks: Uint8Array[] = [];
  const header = new Uint8Array(128);
  const text = 'MATLAB 5.0 MAT-file, written by the iclrnn tests'.padEnd(116, ' ');
  for (let i = 0; i < 116; i++) header[i] = text.charCodeAt(i);
  const hv = new DataView(header.buffer);
  hv.setUint16(124, 0x0100, le);
  header[126] = le ? 0x49 : 0x4d; // 'IM' little-endian, 'MI' big-endian
  header[127] = le ? 0x4d : 0x49;
  chunks.push(header);
  const element = (type: number, body: Uint8Array, pad = true): Uint8Array => {
    const len = 8 + body.length + (pad ? (8 - (body.length % 8)) % 8 : 0);
    const out = new Uint8Array(len);
    const v = new DataView(out.buffer);
    v.setUint32(0, type, le);
    v.setUint32(4, body.length, le);
    out.set(body, 8);
    return out;
  };
  const concat = (parts: Uint8Array[]): Uint8Array => {
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  for (const v of vars) {
    const flags = new Uint8Array(8);
    new DataView(flags.buffer).setUint32(0, 6, le); // mxDOUBLE_CLASS
    const dims = new Uint8Array(8);
    new DataView(dims.buffer).setInt32(0, v.rows, le);
    new DataView(dims.buffer).setInt32(4, v.cols, le);
    const name = new Uint8Array([...v.name].map((c) => c.charCodeAt(0)));
    const real = new Uint8Array(8 * v.colMajor.length);
    v.colMajor.forEach((x, i) => new DataView(real.buffer).setFloat64(8 * i, x, le));
    const matrix = element(14, concat([element(6, flags), element(5, dims), element(1, name), element(9, real)]));
    chunks.push(compress ? element(15, zlibSync(matrix), false) : matrix);
  }
  return concat(chunks);
}

let dir: string;
let counter = 0;
const tmp = (name: string): string => join(dir, `${++counter}-${name}`);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'iclrnn-mat-test-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function rejectsData(p: Promise<unknown>, ...patterns: RegExp[]): Promise<DataError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DataError, `expected DataError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    for (const re of patterns) assert.match(e.message, re);
    return e;
  }
  assert.fail('expected a DataError');
}

describe('MAT v7.3: the energy file of REFERENCE section 2', () => {
  it('holds U and Y with 20001 time steps of 2 channels', async (t) => {
    if (!haveData(t, ENERGY)) return;
    assert.equal(await matFileFormat(ENERGY), 'v7.3');
    const infos = await listMatVariables(ENERGY);
    assert.deepEqual(
      infos.map((i) => [i.name, i.class, i.dims, i.readable]),
      [
        ['U', 'double', [2, 20001], true],
        ['Y', 'double', [2, 20001], true],
      ],
    );
    // MATLAB orientation: the file stores HDF5 [20001, 2], which MATLAB shows as 2 x 20001
    const all = await readMatFile(ENERGY);
    assert.deepEqual([...all.keys()], ['U', 'Y']);
    const U = all.get('U')!;
    assert.equal(U.rows, 2);
    assert.equal(U.cols, 20001);
    // HDF5 (h5py) orientation: 20001 x 2, time-major as the reference code sees it
    const Uh = await readMatVariable(ENERGY, 'U', { orientation: 'hdf5' });
    const Yh = await readMatVariable(ENERGY, 'Y', { orientation: 'hdf5' });
    assert.deepEqual([Uh.rows, Uh.cols, Yh.rows, Yh.cols], [20001, 2, 20001, 2]);
    assert.ok(Math.abs(Uh.data[0] - 16.192416660576654) < 1e-12);
    assert.ok(Math.abs(Uh.data[1] - 15.769331926707657) < 1e-12);
    assert.equal(Yh.data[0], 1);
    for (let r = 0; r < 20001; r += 997) for (let c = 0; c < 2; c++) assert.equal(U.data[c * 20001 + r], Uh.data[r * 2 + c]);
    for (const x of Yh.data) assert.ok(Number.isFinite(x));
  });

  it('names the available variables when one is missing', async (t) => {
    if (!haveData(t, ENERGY)) return;
    const e = await rejectsData(readMatVariable(ENERGY, 'X'), /no variable "X"/, /available: "U", "Y"/);
    assert.equal(e.variable, 'X');
    assert.ok(e.message.includes(ENERGY));
  });
});

describe('writeMatFile / read round trip', () => {
  it('writes a MATLAB v7.3 file that reads back identically in MATLAB orientation', async () => {
    const p = tmp('rt.mat');
    const A: MatMatrix = { rows: 2, cols: 3, data: new Float64Array([1, 2, 3, 4, 5, 6]) };
    const b: MatMatrix = { rows: 1, cols: 1, data: new Float64Array([-0.5]) };
    await writeMatFile(p, { A, b });
    const bytes = readFileSync(p);
    assert.equal(bytes.subarray(0, 19).toString('latin1'), 'MATLAB 7.3 MAT-file');
    assert.equal(bytes.subarray(126, 128).toString('latin1'), 'IM');
    assert.equal(bytes.subarray(513, 516).toString('latin1'), 'HDF');
    assert.equal(await matFileFormat(p), 'v7.3');
    const back = await readMatFile(p);
    assert.deepEqual(back.get('A'), A);
    assert.deepEqual(back.get('b'), b);
    // stored as MATLAB does: HDF5 dataset [cols, rows] with MATLAB_class 'double'
    const h = await readMatVariable(p, 'A', { orientation: 'hdf5' });
    assert.deepEqual([h.rows, h.cols, [...h.data]], [3, 2, [1, 4, 2, 5, 3, 6]]);
    await h5wasm.ready;
    const f = new h5wasm.File(p, 'r');
    try {
      const ds = f.get('A') as InstanceType<typeof h5wasm.Dataset>;
      assert.deepEqual(ds.shape, [3, 2]);
      assert.equal(ds.attrs['MATLAB_class'].value, 'double');
    } finally {
      f.close();
    }
    assert.deepEqual(
      (await listMatVariables(p)).map((i) => [i.name, i.class, i.dims]),
      [
        ['A', 'double', [2, 3]],
        ['b', 'double', [1, 1]],
      ],
    );
  });

  it('round-trips random matrices in both formats (property)', async () => {
    const matrix = fc
      .record({ rows: fc.integer({ min: 1, max: 5 }), cols: fc.integer({ min: 1, max: 5 }) })
      .chain(({ rows, cols }) =>
        fc
          .array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: rows * cols, maxLength: rows * cols })
          .map((v) => ({ rows, cols, data: Float64Array.from(v) })),
      );
    await fc.assert(
      fc.asyncProperty(matrix, matrix, fc.constantFrom('v7.3' as const, 'hdf5' as const), async (X, Y, format) => {
        const p = tmp(`prop.${format === 'v7.3' ? 'mat' : 'h5'}`);
        await writeMatFile(p, { X, Y }, { format });
        assert.equal(await matFileFormat(p), format);
        const back = await readMatFile(p);
        assert.deepEqual(back.get('X'), X);
        assert.deepEqual(back.get('Y'), Y);
      }),
      { numRuns: 15 },
    );
  });

  it('keeps NaN and Inf when asked, and reports their row and column otherwise', async () => {
    const p = tmp('nan.mat');
    const data = new Float64Array(12).map((_, i) => i);
    data[1 * 4 + 2] = NaN; // row 2, column 3 (1-based)
    await writeMatFile(p, { Q: { rows: 3, cols: 4, data } });
    const e = await rejectsData(readMatVariable(p, 'Q'), /variable "Q"/, /row 2, column 3/, /NaN/);
    assert.deepEqual([e.row, e.column, e.file], [2, 3, p]);
    await rejectsData(readMatFile(p), /row 2, column 3/);
    const q = await readMatVariable(p, 'Q', { allowNonFinite: true });
    assert.ok(Number.isNaN(q.data[6]));
    const p2 = tmp('inf.mat');
    await writeMatFile(p2, { W: { rows: 2, cols: 2, data: new Float64Array([1, 2, 3, -Infinity]) } });
    await rejectsData(readMatVariable(p2, 'W'), /row 2, column 2/, /-Infinity/);
  });

  it('rejects invalid names and shapes when writing', async () => {
    await assert.rejects(writeMatFile(tmp('x.mat'), { '1bad': { rows: 1, cols: 1, data: new Float64Array(1) } }), ValidationError);
    await assert.rejects(writeMatFile(tmp('x.mat'), { A: { rows: 2, cols: 2, data: new Float64Array(3) } }), ValidationError);
  });
});

describe('MAT v5 (scipy-written, plain and compressed)', () => {
  for (const [label, b64] of [
    ['uncompressed', V5_PLAIN],
    ['compressed', V5_COMPRESSED],
  ] as const) {
    it(`reads numeric matrices and explains the rest (${label})`, async () => {
      const p = tmp(`v5-${label}.mat`);
      writeFileSync(p, Buffer.from(b64, 'base64'));
      assert.equal(await matFileFormat(p), 'v5');
      const A = await readMatVariable(p, 'A');
      assert.deepEqual([A.rows, A.cols, [...A.data]], [2, 3, [1.5, 2, 3, 4, 5, -6e-3]]);
      assert.deepEqual([...(await readMatVariable(p, 'B')).data], [1, -2, 300]);
      const L = await readMatVariable(p, 'L');
      assert.deepEqual([L.rows, L.cols, [...L.data]], [1, 2, [1, 0]]);
      const Ah = await readMatVariable(p, 'A', { orientation: 'hdf5' });
      assert.deepEqual([Ah.rows, Ah.cols, [...Ah.data]], [3, 2, [1.5, 4, 2, 5, 3, -6e-3]]);
      const infos = new Map((await listMatVariables(p)).map((i) => [i.name, i]));
      assert.equal(infos.get('B')?.class, 'int16');
      assert.equal(infos.get('L')?.class, 'logical');
      await rejectsData(readMatVariable(p, 'C'), /variable "C"/, /"cell"/);
      await rejectsData(readMatVariable(p, 'S'), /variable "S"/, /"struct"/);
      await rejectsData(readMatVariable(p, 'T'), /variable "T"/, /"char"/);
      await rejectsData(readMatVariable(p, 'X'), /variable "X"/, /2x2x2 \(3-D\)/);
      await rejectsData(readMatVariable(p, 'Z'), /variable "Z"/, /complex/);
      await rejectsData(readMatVariable(p, 'N'), /variable "N"/, /row 2, column 1/);
      await rejectsData(readMatVariable(p, 'nope'), /no variable "nope"; available: "A", "B", "L", "C", "S", "T", "X", "N", "Z"/);
      const all = await readMatFile(p, { allowNonFinite: true });
      assert.deepEqual([...all.keys()], ['A', 'B', 'L', 'N']);
    });
  }

  it('reads big-endian and little-endian files alike', async () => {
    const vars = [{ name: 'M', rows: 2, cols: 2, colMajor: [1, 3, 2, 4.25] }];
    for (const le of [true, false]) {
      for (const compress of [false, true]) {
        const p = tmp(`v5-${le}-${compress}.mat`);
        writeFileSync(p, v5File(vars, le, compress));
        const M = await readMatVariable(p, 'M');
        assert.deepEqual([M.rows, M.cols, [...M.data]], [2, 2, [1, 2, 3, 4.25]]);
      }
    }
  });
});

describe('malformed files', () => {
  it('rejects a missing file, an empty file and a text file renamed .mat', async () => {
    await rejectsData(readMatFile(join(dir, 'does-not-exist.mat')), /does-not-exist\.mat/, /cannot read/);
    const empty = tmp('empty.mat');
    writeFileSync(empty, '');
    await rejectsData(readMatFile(empty), /not a MATLAB MAT-file/);
    const text = tmp('text.mat');
    writeFileSync(text, 'time,u1,u2\n0,1,2\n'.repeat(20));
    const e = await rejectsData(readMatVariable(text, 'U'), /text\.mat/, /not a MATLAB MAT-file/, /-v7\.3/);
    assert.equal(e.file, text);
  });

  it('rejects truncated HDF5 / MAT v7.3 files', async () => {
    const p = tmp('whole.mat');
    await writeMatFile(p, { A: { rows: 40, cols: 3, data: new Float64Array(120).map((_, i) => i) } });
    const bytes = readFileSync(p);
    for (const cut of [100, 520, 700, Math.floor(bytes.length / 2), bytes.length - 8]) {
      const q = tmp(`cut${cut}.mat`);
      writeFileSync(q, bytes.subarray(0, cut));
      await rejectsData(readMatFile(q), /cut\d+\.mat/, /truncated|corrupt/);
    }
  });

  it('rejects truncated and corrupt v5 files', async () => {
    const bytes = Buffer.from(V5_PLAIN, 'base64');
    for (const cut of [60, 130, 200, bytes.length - 3]) {
      const q = tmp(`v5cut${cut}.mat`);
      writeFileSync(q, bytes.subarray(0, cut));
      await rejectsData(readMatFile(q), /v5cut\d+\.mat/, /truncated|corrupt|not a MATLAB/);
    }
    const z = Buffer.from(V5_COMPRESSED, 'base64');
    z[150] ^= 0xff; // inside the first zlib stream
    const q = tmp('v5bad.mat');
    writeFileSync(q, z);
    await rejectsData(readMatFile(q), /corrupt/);
  });

  it('rejects non-numeric and N-D datasets of plain HDF5 files, naming them', async () => {
    const p = tmp('plain.h5');
    await h5wasm.ready;
    const f = new h5wasm.File(p, 'w');
    try {
      f.create_dataset({ name: 'ok', data: new Float64Array([1, 2, 3, 4, 5, 6]), shape: [3, 2] });
      f.create_dataset({ name: 'ints', data: new Int32Array([7, -8]), shape: [2] });
      f.create_dataset({ name: 'cube', data: new Float64Array(8), shape: [2, 2, 2] });
      f.create_dataset({ name: 'words', data: ['a', 'b'] });
      f.create_dataset({ name: 'cellish', data: new Float64Array([1]), shape: [1, 1] }).create_attribute('MATLAB_class', 'cell', null, 'A4');
      f.create_group('grp').create_dataset({ name: 'inner', data: new Float64Array([9, 10]), shape: [1, 2] });
    } finally {
      f.close();
    }
    assert.equal(await matFileFormat(p), 'hdf5');
    const ok = await readMatVariable(p, 'ok'); // plain HDF5: C order by default
    assert.deepEqual([ok.rows, ok.cols, [...ok.data]], [3, 2, [1, 2, 3, 4, 5, 6]]);
    const ints = await readMatVariable(p, 'ints');
    assert.deepEqual([ints.rows, ints.cols, [...ints.data]], [2, 1, [7, -8]]);
    const inner = await readMatVariable(p, 'grp/inner');
    assert.deepEqual([inner.rows, inner.cols, [...inner.data]], [1, 2, [9, 10]]);
    await rejectsData(readMatVariable(p, 'cube'), /variable "cube"/, /3-D/);
    await rejectsData(readMatVariable(p, 'words'), /variable "words"/, /string/);
    await rejectsData(readMatVariable(p, 'cellish'), /"cell"/);
    await rejectsData(readMatVariable(p, 'grp'), /group/);
    const all = await readMatFile(p);
    assert.deepEqual([...all.keys()].sort(), ['ints', 'ok']);
  });

  it('reads a file correctly after a corrupt version of it failed at the same path', async () => {
    const good = tmp('good.mat');
    await writeMatFile(good, { A: { rows: 2, cols: 2, data: new Float64Array([1, 2, 3, 4]) } });
    const bytes = readFileSync(good);
    const p = tmp('same-path.mat');
    assert.equal(bytes[512 + 8], 0, 'version-0 superblock, as MATLAB writes');
    let failed = 0;
    for (let k = 0; k < 6; k++) {
      const bad = Buffer.from(bytes);
      // k = 0: superblock "group leaf node K" = 255, which makes HDF5 fail after opening and
      // leave its state for this inode behind; the reader must not reuse that state.
      if (k === 0) bad[512 + 16] = 0xff;
      else bad[600 + k * 37] ^= 0xff;
      writeFileSync(p, bad);
      await readMatFile(p).catch((e) => {
        assert.ok(e instanceof DataError);
        failed++;
      });
      writeFileSync(p, bytes); // same path, same inode, good content
      assert.deepEqual([...(await readMatFile(p)).get('A')!.data], [1, 2, 3, 4]);
    }
    assert.ok(failed > 0, 'some mutations should have failed');
  });
});

describe('fuzz: mutated MAT bytes', () => {
  it('either reads or throws DataError, never another error, and prints nothing', async () => {
    const v73 = tmp('fuzz-base.mat');
    await writeMatFile(v73, {
      U: { rows: 5, cols: 2, data: new Float64Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) },
      Y: { rows: 1, cols: 3, data: new Float64Array([0.5, 0.25, 0.125]) },
    });
    const bases = [
      readFileSync(v73),
      Buffer.from(V5_PLAIN, 'base64'),
      Buffer.from(V5_COMPRESSED, 'base64'),
      Buffer.from(v5File([{ name: 'M', rows: 2, cols: 3, colMajor: [1, 2, 3, 4, 5, 6] }], false, false)),
    ];
    const mutation = fc.record({
      base: fc.nat({ max: bases.length - 1 }),
      edits: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }),
      cut: fc.option(fc.nat(), { freq: 4 }),
      samePath: fc.boolean(),
    });
    const written: string[] = [];
    const stderr = process.stderr;
    const original = stderr.write;
    stderr.write = ((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    }) as typeof stderr.write;
    let ok = 0;
    let rejected = 0;
    try {
      await fc.assert(
        fc.asyncProperty(mutation, async ({ base, edits, cut, samePath }) => {
          const b = Buffer.from(bases[base]);
          for (const { at, byte } of edits) b[at % b.length] = byte;
          const bytes = cut === null ? b : b.subarray(0, cut % (b.length + 1));
          const p = samePath ? join(dir, 'fuzz-same.mat') : tmp('fuzz.mat');
          writeFileSync(p, bytes);
          try {
            const m = await readMatFile(p, { allowNonFinite: true });
            for (const v of m.values()) assert.equal(v.data.length, v.rows * v.cols);
            await listMatVariables(p);
            ok++;
          } catch (e) {
            if (!(e instanceof DataError)) throw e;
            assert.ok(e.message.includes(p), `message should name the file: ${e.message}`);
            rejected++;
          }
        }),
        { numRuns: 160, seed: 20240 },
      );
    } finally {
      stderr.write = original;
    }
    assert.deepEqual(written, [], 'nothing may be written to stderr');
    assert.ok(ok > 0 && rejected > 0, `ok ${ok}, rejected ${rejected}`);
  });
});
