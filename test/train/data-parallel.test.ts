// Data-parallel training on threads (src/train/data-parallel.ts, `train --threads N`): the summed
// minibatch gradient equals the one-thread gradient to rounding (f64), the same thread count gives
// bit-identical models, and a thread that fails or never starts becomes an error, not a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wasmSupport } from '../../src/core/wasm.ts';
import { buildModel } from '../../src/nn/models.ts';
import { prepareData } from '../../src/train/pipeline.ts';
import { train } from '../../src/train/trainer.ts';
import { WasmTrainer } from '../../src/train/wasm-trainer.ts';
import { DataParallelGradients, type TrainingThreads } from '../../src/train/data-parallel.ts';
import { nodeTrainingThreads } from '../../src/train/distributed/training-threads.ts';
import { smallCstr } from '../helpers.ts';

const skip = wasmSupport().simd ? false : 'no WebAssembly SIMD in this engine';
if (skip && process.env.CI === 'true') throw new Error('WebAssembly SIMD is required under CI (Node >= 16 has it)');

const data = prepareData(smallCstr(12), {}).train;
const adam = { type: 'adam' as const, learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
const model = () => buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 16, layers: 2, seed: 3 });
const weightsOf = (m: ReturnType<typeof model>) => m.parameters().map((p) => Float64Array.from(p.value));

test('the gradient summed over 3 threads equals the one-thread gradient of the minibatch (f64, to rounding)', { skip }, () => {
  const m = model();
  const one = WasmTrainer.create(m, { precision: 'f64', fma: false, batchCapacity: 64, steps: data.steps, optimizer: adam })!;
  const idx = new Int32Array(data.count).map((_, i) => (i * 7) % data.count);
  const sseOne = one.computeGradients(data, idx, 5, 69);
  const expected = new Float64Array(one.blockLength);
  one.readGradients(expected);
  const main = WasmTrainer.create(m, { precision: 'f64', fma: false, batchCapacity: 64, steps: data.steps, optimizer: adam })!;
  const par = new DataParallelGradients(main, m, data, 64, adam, nodeTrainingThreads(3));
  try {
    par.order.set(idx);
    const sse = par.gradientsOf(5, 69);
    const got = new Float64Array(main.blockLength);
    main.readGradients(got);
    let num = 0, den = 0;
    for (let i = 0; i < got.length; i++) {
      num += (got[i] - expected[i]) ** 2;
      den += expected[i] ** 2;
    }
    assert.ok(den > 0);
    assert.ok(Math.sqrt(num / den) < 1e-12, `relative gradient error ${Math.sqrt(num / den)}`);
    assert.ok(Math.abs(sse - sseOne) <= 1e-12 * sseOne, `sse ${sse} vs ${sseOne}`);
  } finally {
    par.close();
  }
});

test('threads: same count, bit-identical models; a different count agrees to rounding (f64) and history says how many ran', { skip }, () => {
  const run = (threads: number) => {
    const m = model();
    const h = train(m, data, null, { epochs: 2, batchSize: 64, precision: 'f64', seed: 1, threads: threads > 1 ? nodeTrainingThreads(threads) : undefined });
    return { w: weightsOf(m), h };
  };
  const a = run(2), b = run(2), one = run(1);
  assert.equal(a.h.kernels?.threads, 2);
  assert.equal(one.h.kernels?.threads, undefined);
  a.w.forEach((w, i) => assert.deepEqual(w, b.w[i]));
  a.w.forEach((w, i) => {
    for (let j = 0; j < w.length; j++) {
      assert.ok(Math.abs(w[j] - one.w[i][j]) <= 1e-9 * (1 + Math.abs(one.w[i][j])), `weight ${i}[${j}]: ${w[j]} vs ${one.w[i][j]}`);
    }
  });
  assert.ok(Math.abs(a.h.trainLoss[1] - one.h.trainLoss[1]) <= 1e-9 * one.h.trainLoss[1]);
});

test('a thread that fails reports its error; one that never starts times out with a clear message', { skip }, () => {
  const m = model();
  const main = () => WasmTrainer.create(m, { precision: 'f32', batchCapacity: 64, steps: data.steps, optimizer: adam })!;
  const node = nodeTrainingThreads(2);
  const broken: TrainingThreads = { count: 2, spawn: (init) => node.spawn({ ...init, spec: { ...init.spec, cells: [] } }) };
  assert.throws(() => new DataParallelGradients(main(), m, data, 64, adam, broken), /training thread 1 failed: .+/);
  const silent: TrainingThreads = { count: 2, spawn: () => ({ terminate: () => undefined }), startTimeoutMs: 300 };
  assert.throws(() => new DataParallelGradients(main(), m, data, 64, adam, silent), /training threads did not start within/);
});

test('iclrnn train --threads: trains on 2 threads and says so; a model outside the wasm path is a usage error (exit 2)', { skip }, (t) => {
  const bin = new URL('../../bin/iclrnn.mjs', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-threads-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ok = spawnSync(process.execPath, [bin, 'train', '--system', 'cstr', '--model', 'rnn', '--hidden', '8', '--layers', '1', '--epochs', '1', '--threads', '2', '--json', '--out', join(dir, 'm.json')], { encoding: 'utf8', env: { ...process.env, ICLRNN_FROM_SOURCE: '1' } });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).kernels.threads, 2);
  const bad = spawnSync(process.execPath, [bin, 'train', '--system', 'cstr', '--model', 'iclstm', '--epochs', '1', '--threads', '2', '--out', join(dir, 'l.json')], { encoding: 'utf8', env: { ...process.env, ICLRNN_FROM_SOURCE: '1' } });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^iclrnn: --threads applies to the WebAssembly training path.*\(cell type 'iclstm'\)/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});
