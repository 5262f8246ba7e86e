import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DataError } from '../../src/io/errors.ts';
import { readMatVariable, writeMatFile } from '../../src/io/mat.ts';
import { loadEnergyDataset, loadTimeSeries } from '../../src/io/datasets.ts';
import { assertFiniteDataset } from '../../src/systems/dataset.ts';
import { energyDataset } from '../../src/systems/energy.ts';
import { toTimeMajor, transposeMatrix, windowedDataset, windowStarts, type NumericMatrix } from '../../src/systems/timeseries.ts';
import { haveData, throwsData } from '../helpers.ts';

const ENERGY = fileURLToPath(new URL('../../../shared/data/energy/test_collected_data.mat', import.meta.url));



/** rows x cols matrix with value 100*r + c (row-major). */
function ramp(rows: number, cols: number, offset = 0): NumericMatrix {
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = offset + 100 * r + c;
  return { rows, cols, data };
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'iclrnn-energy-test-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('energy dataset (reference file)', () => {
  it('U and Y are 20001 x 2 time-major, giving 4000 windows of 5 steps', async (t) => {
    if (!haveData(t, ENERGY)) return;
    const U = toTimeMajor(await readMatVariable(ENERGY, 'U'), { channels: 2 });
    const Y = toTimeMajor(await readMatVariable(ENERGY, 'Y'), { channels: 2 });
    assert.deepEqual([U.rows, U.cols, Y.rows, Y.cols], [20001, 2, 20001, 2]);
    const d = await loadEnergyDataset(ENERGY);
    assert.equal(d.name, 'energy');
    assert.deepEqual([d.count, d.steps, d.inputSize, d.outputSize], [4000, 5, 2, 2]);
    assert.deepEqual(d.inputNames, ['u1', 'u2']);
    assert.deepEqual(d.outputNames, ['y1', 'y2']);
    assertFiniteDataset(d);
    // window k holds rows 5k .. 5k+4
    for (const k of [0, 1, 1234, 3999]) {
      for (let s = 0; s < 5; s++) {
        for (let f = 0; f < 2; f++) {
          assert.equal(d.inputs[(k * 5 + s) * 2 + f], U.data[(5 * k + s) * 2 + f]);
          assert.equal(d.targets[(k * 5 + s) * 2 + f], Y.data[(5 * k + s) * 2 + f]);
        }
      }
    }
    assert.ok(Math.abs(d.inputs[0] - 16.192416660576654) < 1e-12);
    assert.ok(Math.abs(d.inputs[1] - 15.769331926707657) < 1e-12);
  });
});

describe('energyDataset', () => {
  it('follows the reference windowing for any length (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }), (rows, window, stride) => {
        const U = ramp(rows, 2);
        const Y = ramp(rows, 3, 0.5);
        if (window > rows) {
          throwsData(() => energyDataset(U, Y, { window, stride }), /window of \d+ steps is longer than the data/);
          return;
        }
        const d = energyDataset(U, Y, { window, stride });
        assert.equal(d.count, Math.floor((rows - window) / stride) + 1);
        assert.deepEqual([d.inputSize, d.outputSize, d.steps], [2, 3, window]);
        assert.deepEqual(d.outputNames, ['y1', 'y2', 'y3']);
        for (let k = 0; k < d.count; k++) {
          for (let s = 0; s < window; s++) {
            assert.equal(d.inputs[(k * window + s) * 2 + 1], 100 * (k * stride + s) + 1);
            assert.equal(d.targets[(k * window + s) * 3 + 2], 100 * (k * stride + s) + 2.5);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('defaults to window 5, stride 5: 20001 rows give 4000 windows', () => {
    const d = energyDataset(ramp(20001, 2), ramp(20001, 2));
    assert.deepEqual([d.count, d.steps], [4000, 5]);
    assert.equal(d.inputs[d.inputs.length - 2], 100 * 19999);
  });

  it('rejects mismatched lengths and non-finite values', () => {
    throwsData(() => energyDataset(ramp(10, 2), ramp(11, 2), { source: 'e.mat' }), /e\.mat/, /U has 10 rows .* Y has 11/);
    const U = ramp(10, 2);
    U.data[7 * 2 + 1] = Number.NaN;
    throwsData(() => energyDataset(U, ramp(10, 2)), /column "u2", row 8/);
  });
});

describe('windowedDataset / loadTimeSeries', () => {
  it('windows named columns and reports unknown ones', () => {
    const cols = { t: Float64Array.from([0, 1, 2, 3, 4, 5, 6]), a: Float64Array.from([10, 11, 12, 13, 14, 15, 16]) };
    const d = windowedDataset(cols, { inputs: ['t', 'a'], outputs: ['a'], window: 3, stride: 2 });
    assert.equal(d.name, 'timeseries');
    assert.deepEqual([d.count, d.steps, d.inputSize, d.outputSize], [3, 3, 2, 1]);
    assert.deepEqual([...d.targets], [10, 11, 12, 12, 13, 14, 14, 15, 16]);
    assert.deepEqual(windowStarts(7, 3, 2), [0, 2, 4]);
    throwsData(() => windowedDataset(cols, { inputs: ['b'], outputs: ['a'], window: 2 }), /unknown column "b"; available: "t", "a"/);
    throwsData(() => windowedDataset(cols, { inputs: ['t'], outputs: ['a'], window: 8 }), /window of 8 steps is longer than the data \(7 rows\)/);
    throwsData(() => windowedDataset(cols, { inputs: ['t'], outputs: ['a'], window: 2, stride: 0 }), /stride must be an integer >= 1/);
    throwsData(() => windowedDataset({ x: [1, 2], y: [1, 2, 3] }, { inputs: ['x'], outputs: ['y'], window: 1 }), /column "y" has 3 rows/);
  });

  it('transposes and orients matrices', () => {
    const m = ramp(2, 3);
    assert.deepEqual([...transposeMatrix(m).data], [0, 100, 1, 101, 2, 102]);
    assert.equal(toTimeMajor(m).rows, 3);
    assert.equal(toTimeMajor(m, { channels: 3 }), m);
    throwsData(() => toTimeMajor(m, { channels: 4, label: 'V' }), /V is 2x3; expected 4 channels/);
  });

  it('loads CSV columns by name', async () => {
    const p = join(dir, 'ts.csv');
    writeFileSync(p, 'time,u,y\n' + Array.from({ length: 10 }, (_, i) => `${i},${i * 2},${i * 3}`).join('\n'));
    const d = await loadTimeSeries(p, { inputs: ['u', 'time'], outputs: ['y'], window: 4, stride: 3 });
    assert.deepEqual([d.count, d.inputNames, d.outputNames], [3, ['u', 'time'], ['y']]);
    assert.deepEqual([...d.targets.subarray(4, 8)], [9, 12, 15, 18]);
    await assert.rejects(loadTimeSeries(p, { inputs: ['v'], outputs: ['y'], window: 2 }), (e: unknown) => e instanceof DataError && /unknown column "v"; available: "time", "u", "y"/.test(e.message));
  });

  it('loads MAT variables as VAR:k channels or whole variables', async () => {
    const p = join(dir, 'ts.mat');
    // U stored 2 x 12 in MATLAB orientation (time along columns, like the energy file); Y 12 x 1
    await writeMatFile(p, { U: transposeMatrix(ramp(12, 2)), Y: ramp(12, 1, 0.25) });
    const d = await loadTimeSeries(p, { inputs: ['U'], outputs: ['Y:1', 'U:2'], window: 5 });
    assert.deepEqual([d.count, d.steps, d.inputNames, d.outputNames], [2, 5, ['U:1', 'U:2'], ['Y:1', 'U:2']]);
    assert.deepEqual([...d.inputs.subarray(0, 4)], [0, 1, 100, 101]);
    assert.deepEqual([...d.targets.subarray(0, 4)], [0.25, 1, 100.25, 101]);
    await assert.rejects(loadTimeSeries(p, { inputs: ['U:3'], outputs: ['Y'], window: 2 }), (e: unknown) => e instanceof DataError && /variable "U" has 2 channel\(s\)/.test(e.message));
    await assert.rejects(loadTimeSeries(p, { inputs: ['W'], outputs: ['Y'], window: 2 }), (e: unknown) => e instanceof DataError && /no variable "W"; available: "U", "Y"/.test(e.message));
    await assert.rejects(loadTimeSeries(p, { inputs: ['U'], outputs: ['Y'], window: 13 }), (e: unknown) => e instanceof DataError && /longer than the data \(12 rows\)/.test(e.message));
    await assert.rejects(loadTimeSeries(join(dir, 'x.parquet'), { inputs: ['U'], outputs: ['Y'], window: 2 }), (e: unknown) => e instanceof DataError && /unsupported file type/.test(e.message));
  });
});
