// The GRU end to end: a model kind trained by fitModel on the small CSTR data (loss falls,
// bit-reproducible with the same seed), predicted, and its gradients checked through the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitModel } from '../../src/train/pipeline.ts';
import { buildModel, isInputConvexKind, modelSpec } from '../../src/nn/models.ts';
import { ProgramCell } from '../../src/nn/program-cell.ts';
import { smallCstr } from '../helpers.ts';

const small = smallCstr(12);

test('GRU: fitModel reduces the loss on the CSTR and is bit-reproducible', () => {
  const run = (seed: number) => fitModel(small, { kind: 'gru', hidden: 8, layers: 2, epochs: 8, batchSize: 32, learningRate: 1e-2, seed });
  const a = run(5), b = run(5), c = run(6);
  const h = a.history.trainLoss;
  assert.ok(h[h.length - 1] < 0.5 * h[0], `loss ${h[0]} -> ${h[h.length - 1]}`);
  assert.ok(Number.isFinite(a.testMse));
  const w = (r: typeof a) => r.model.parameters().map((p) => Array.from(p.value));
  assert.deepEqual(w(a), w(b));
  assert.equal(a.testMse, b.testMse);
  assert.notDeepEqual(w(a), w(c));
});

test('GRU model: spec, Keras initialisers, not input-convex, prediction shape', () => {
  assert.equal(isInputConvexKind('gru'), false);
  const spec = modelSpec('gru', { inputSize: 3, outputSize: 2, hidden: 4, layers: 2 });
  assert.equal(spec.augmentation, null);
  assert.deepEqual(spec.cells.map((c) => c.type), ['gru', 'gru']);
  const m = buildModel('gru', { inputSize: 3, outputSize: 2, hidden: 4, layers: 2, seed: 1 });
  assert.ok(m.cells.every((c) => c instanceof ProgramCell));
  const names = m.namedParameters().map((p) => p.path);
  assert.deepEqual(names.slice(0, 4), ['cells.0.kernel', 'cells.0.recurrentKernel', 'cells.0.bias', 'cells.0.recurrentBias']);
  const cell = m.cells[0] as ProgramCell;
  assert.ok(cell.param('bias').value.every((v) => v === 0) && cell.param('recurrentBias').value.every((v) => v === 0));
  const limit = Math.sqrt(6 / (3 + 12));
  assert.ok(cell.param('kernel').value.every((v) => Math.abs(v) <= limit) && cell.param('kernel').value.some((v) => v !== 0));
  // the [u x 3u] recurrent kernel is orthogonal: R R^T = I
  const R = cell.param('recurrentKernel').value;
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let k = 0; k < 12; k++) s += R[i * 12 + k] * R[j * 12 + k];
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-10);
    }
  const y = m.forward(new Float64Array(2 * 5 * 3).map((_, i) => Math.sin(i)), 2, 5);
  assert.equal(y.length, 2 * 5 * 2);
  assert.ok(y.every(Number.isFinite));
});

test('GRU model file round trip; certify proves a Lipschitz bound (not convex)', async () => {
  const { modelFromJson, modelToJson } = await import('../../src/io/model-format.ts');
  const { certify } = await import('../../src/certify/certify.ts');
  const { ValidationError } = await import('../../src/core/errors.ts');
  const fit = fitModel(small, { kind: 'gru', hidden: 4, layers: 1, epochs: 1, batchSize: 64, learningRate: 1e-2, seed: 2 });
  const back = modelFromJson(JSON.parse(JSON.stringify(modelToJson({ ...fit, metadata: { system: 'cstr' } }))));
  assert.equal(back.model.spec.kind, 'gru');
  const x = new Float64Array(10 * fit.model.inputSize).map((_, i) => Math.cos(i));
  assert.deepEqual(Array.from(back.model.predictSequence(x, 10)), Array.from(fit.model.predictSequence(x, 10)));
  // certified by the cell-program interpreters: not convex (the sigmoid gates), certified bounds
  const r = certify(fit.model, { steps: 3, attack: { starts: 4, iterations: 20 }, jensen: { segments: 200 } });
  assert.equal(r.convex, false);
  assert.ok(r.convexity.structural.reasons.some((q) => q.kind === 'activation' && q.layer === 'cells.0'));
  assert.ok(r.lipschitz.upperBound !== null && r.lipschitz.upperBound >= r.lipschitz.attack!, `${r.lipschitz.upperBound} vs ${r.lipschitz.attack}`);
  // the global attack also searches outside the domain: the domain bound is checked against an attack inside it
  const { lipschitzAttack } = await import('../../src/certify/empirical.ts');
  const inDomain = lipschitzAttack(fit.model, { steps: 3, starts: 8, iterations: 40, seed: 0, box: { center: new Float64Array(3 * fit.model.inputSize).fill(0.5), radius: new Float64Array(3 * fit.model.inputSize).fill(0.5) } }).value;
  assert.ok(r.lipschitz.domain !== null && r.lipschitz.domain <= r.lipschitz.upperBound && r.lipschitz.domain >= inDomain, `domain ${r.lipschitz.domain} vs ${inDomain}`);
  // the propagation and LFR interpreters run on the GRU's program: the unrolled enclosure gives a
  // bound and the LFR is built and searched (on this model it finds nothing below the product bound:
  // its sites treat the gains z and 1 - z of the state update as independent)
  const g = r.lipschitz.details.global;
  assert.ok(g.product !== null && g.unrolled !== null && g.value === Math.min(g.product, g.unrolled, g.recurrent ?? Infinity), JSON.stringify(g));
  assert.ok(g.recurrent !== null || /no certificate found below/.test(g.recurrentNote ?? ''), JSON.stringify(g));
  void ValidationError;
});
