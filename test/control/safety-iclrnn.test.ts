// Issue 16: the closed loop of the CSTR with a trained ICLRNN as the LMPC's predictor must keep the
// TRUE plant inside the stability region V < 372 from the four test states. The model is a committed
// fixture (2 x 64 ICLRNN, 200 epochs, seed 0, test MSE 8.9e-5), so CI does not train for 200 epochs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  CSTR_SAFE_LEVEL_FLOOR, CSTR_SAFETY_STATES, SafeLmpcController, createCstrLmpc, createSafeCstrLmpc, estimateCstrPredictionError, runCstrClosedLoop,
} from '../../src/apps/index.ts';
import { loadModel } from '../../src/io/model-file.ts';
import { CSTR_STABILITY_LEVEL } from '../../src/systems/cstr.ts';

const fixture = fileURLToPath(new URL('./fixtures/iclrnn-cstr-e200.json', import.meta.url));
const model = loadModel(fixture);
const estimate = estimateCstrPredictionError(model);

test('trained ICLRNN (200 epochs): the safe LMPC keeps the true V below 372 from the four states and reaches the target', () => {
  assert.equal(model.model.spec.kind, 'iclrnn');
  const safe = createSafeCstrLmpc(model, { errorBound: estimate });
  assert.equal(safe.safety, 'tightened');
  assert.ok(safe.controller instanceof SafeLmpcController);
  for (const x0 of CSTR_SAFETY_STATES) {
    const r = runCstrClosedLoop(safe.controller, x0, { maxSteps: 40 });
    const V = r.lyapunov.V;
    for (let k = 0; k < V.length; k++) assert.ok(V[k] < CSTR_STABILITY_LEVEL, `from (${x0}): true V = ${V[k]} >= 372 at step ${k}`);
    // the guarantee: V never exceeds max(V0, level floor) while the error bound holds (and the monitor saw it hold)
    assert.ok(r.lyapunov.maxV <= Math.max(V[0], CSTR_SAFE_LEVEL_FLOOR) * (1 + 1e-9), `from (${x0}): max V ${r.lyapunov.maxV}`);
    assert.equal(safe.controller.stats.assumptionViolations, 0, `from (${x0}): the measured state broke the error bound`);
    assert.equal(r.converged, true, `from (${x0}): target not reached in ${r.steps} steps`);
    const fp = runCstrClosedLoop(createCstrLmpc('first-principles'), x0, { maxSteps: 40 });
    assert.ok(r.steps <= 1.5 * fp.steps, `from (${x0}): ${r.steps} steps, first-principles ${fp.steps}`);
  }
});

test('the same model under the nominal (published) LMPC leaves the stability region: what the safe mode fixes', () => {
  const nominal = createCstrLmpc(model);
  const maxV = CSTR_SAFETY_STATES.map((x0) => runCstrClosedLoop(nominal, x0, { maxSteps: 40 }).lyapunov.maxV);
  assert.ok(maxV.some((v) => v >= CSTR_STABILITY_LEVEL), `max V ${maxV.map((v) => v.toFixed(0))}`);
});
