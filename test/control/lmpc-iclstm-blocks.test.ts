// Issue 10: the published multi-block ICLSTM (2 blocks of ICLSTM(64) -> Dense(8, ReLU, >= 0) +
// [x, -x], then Dense(2, linear, >= 0)), trained 200 epochs on the CSTR (seed 0, test MSE 1.27e-4;
// scripts/iclstm-blocks-lmpc.ts; committed so CI does not train it), is certified by the cell-program
// interpreters and drives the safe LMPC from the four test states to the target on the true plant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { CSTR_SAFETY_STATES, createSafeCstrLmpc, estimateCstrPredictionError, runCstrClosedLoop } from '../../src/apps/index.ts';
import { certify } from '../../src/certify/certify.ts';
import { lipschitzAttack } from '../../src/certify/empirical.ts';
import { loadModel } from '../../src/io/model-file.ts';
import { CSTR_STABILITY_LEVEL } from '../../src/systems/cstr.ts';

const fixture = fileURLToPath(new URL('./fixtures/iclstm-blocks-cstr-e200.json', import.meta.url));
const model = loadModel(fixture);

test('multi-block ICLSTM: the layout is the published one and the certificate comes from the program interpreters', () => {
  assert.equal(model.model.spec.kind, 'iclstm');
  assert.deepEqual(model.model.spec.layout, ['cells.0', 'head.0', 'cells.1', 'head.1', 'head.2']);
  const r = certify(model, { steps: 10, attack: { starts: 4, iterations: 20 }, jensen: { segments: 100 }, sampleCount: 100, local: { center: new Float64Array(40).fill(0.5), radius: 0.02 } });
  assert.equal(r.convex, false, 'the gate products are not proven convex');
  assert.ok(r.convexity.structural.reasons.every((q) => q.kind === 'product'), JSON.stringify(r.convexity.structural.reasons.map((q) => q.kind)));
  assert.equal(r.lipschitz.upperBound, null);
  // the global attack may leave the domain: the domain bound is checked against an attack inside it,
  // and it is nearly tight (0.925 against 0.923: the interpreted secant-Jacobian enclosure)
  const inDomain = lipschitzAttack(model.model, { steps: 10, starts: 4, iterations: 40, seed: 0, box: { center: new Float64Array(40).fill(0.5), radius: new Float64Array(40).fill(0.5) } }).value;
  assert.ok(r.lipschitz.domain !== null && r.lipschitz.domain >= inDomain && r.lipschitz.domain < 1.05 * inDomain + 0.05, `domain ${r.lipschitz.domain} vs attack ${inDomain}`);
  assert.ok(r.lipschitz.local !== null && r.lipschitz.local <= r.lipschitz.domain && r.lipschitz.local >= (r.lipschitz.details.local!.attack ?? 0));
});

test('multi-block ICLSTM: the safe (tightened) LMPC reaches the target from the four states, true V below 372', () => {
  const estimate = estimateCstrPredictionError(model);
  for (const x0 of CSTR_SAFETY_STATES) {
    const safe = createSafeCstrLmpc(model, { errorBound: estimate });
    const r = runCstrClosedLoop(safe.controller, x0, { maxSteps: 40 });
    assert.ok(r.lyapunov.maxV < CSTR_STABILITY_LEVEL, `from (${x0}): max V ${r.lyapunov.maxV}`);
    assert.equal(r.converged, true, `from (${x0}): target not reached in ${r.steps} steps`);
    // the learned model acts on most steps (the backup is the exception)
    const fallbacks = r.fallbacks.filter((f) => f !== 'none').length;
    assert.ok(fallbacks <= r.steps / 2, `from (${x0}): ${fallbacks} of ${r.steps} steps by the backup`);
  }
});
