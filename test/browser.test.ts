// The browser entry point bundles for the browser (no Node built-ins anywhere in its import graph)
// and runs in a bare JavaScript context without Node globals (no process, require, Buffer, fs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

test('src/browser.ts bundles for the browser and trains, predicts and certifies without Node globals', async () => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../src/browser.ts', import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'iclrnn',
    write: false,
    logLevel: 'silent',
  });
  assert.equal(result.errors.length, 0);
  const code = result.outputFiles[0].text;
  assert.doesNotMatch(code, /require\(["']node:/);
  // What a browser page provides besides the language itself.
  const context: Record<string, unknown> = { performance: { now: () => performance.now() }, structuredClone, console: { log() {}, error() {}, warn() {} } };
  runInNewContext(code, context);
  const lib = context.iclrnn as typeof import('../src/browser.ts');
  assert.equal(typeof (context as { process?: unknown }).process, 'undefined');
  const data = lib.generateCstrDataset();
  assert.equal(data.count, 12352);
  const small = { ...data, count: 200, inputs: data.inputs.subarray(0, 200 * 40), targets: data.targets.subarray(0, 200 * 20) };
  const fit = lib.fitModel(small, { kind: 'iclrnn', hidden: 6, layers: 1, epochs: 2, seed: 1 });
  assert.ok(Number.isFinite(fit.testMse));
  // the bundle carries the WebAssembly SIMD kernels and trains the ICLRNN with them (f32 by default)
  assert.equal(fit.history.kernels?.backend, 'wasm');
  assert.equal(fit.history.kernels?.precision, 'f32');
  const json = lib.modelToJson({ ...fit, metadata: {} });
  const back = lib.modelFromJson(JSON.parse(JSON.stringify(json)));
  const x = small.inputs.subarray(0, 40);
  assert.deepEqual(Array.from(lib.predictPhysical(back, x, 1, 10)), Array.from(lib.predictPhysical(fit, x, 1, 10)));
  const report = lib.certify(fit.model, { steps: 3, sampleCount: 20, attack: { starts: 2, iterations: 5 }, jensen: { segments: 20 } });
  assert.equal(report.convex, true);
  assert.ok(report.lipschitz.upperBound !== null && report.lipschitz.upperBound >= report.lipschitz.empirical);
});
