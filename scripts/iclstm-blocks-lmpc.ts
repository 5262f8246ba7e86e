/**
 * Experiment (issue 10): the published multi-block ICLSTM (2 blocks of ICLSTM(64) -> Dense(8, ReLU,
 * >= 0) + [x, -x], then Dense(2, linear, >= 0)) trained on the CSTR, certified by the cell-program
 * interpreters, and driving the Lyapunov MPC from the published initial states, nominal and
 * tightened (safe) LMPC, on the true plant.
 *
 *   nice -n 10 npx tsx scripts/iclstm-blocks-lmpc.ts [--epochs 20] [--out results/iclstm-blocks-lmpc.json]
 */
import { CSTR_SAFETY_STATES, createCstrLmpc, createSafeCstrLmpc, runCstrClosedLoop } from '../src/apps/cstr-lmpc.ts';
import { certify } from '../src/certify/certify.ts';
import { writeFileAtomic } from '../src/io/atomic.ts';
import { saveModel } from '../src/io/model-file.ts';
import { summarizeClosedLoop } from '../src/control/closed-loop.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { fitModel } from '../src/train/pipeline.ts';

const arg = (flag: string, def: string) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
};
const epochs = Number(arg('--epochs', '20'));
const out = arg('--out', 'results/iclstm-blocks-lmpc.json');

const t0 = performance.now();
const fit = fitModel(generateCstrDataset(), { kind: 'iclstm', iclstmForm: 'blocks', hidden: 64, layers: 2, epochs, batchSize: 256, learningRate: 1e-3, seed: 0 });
const trainSeconds = (performance.now() - t0) / 1000;
console.log(`trained ${epochs} epochs in ${trainSeconds.toFixed(0)} s: test MSE ${fit.testMse.toExponential(3)}, skill ${fit.skill?.toFixed(3)}, layout ${fit.model.spec.layout?.join(' -> ')}`);
saveModel('.cache/iclstm-blocks.json', { model: fit.model, inputScaler: fit.inputScaler, outputScaler: fit.outputScaler, metadata: { system: 'cstr' } });
const cert = certify(fit.model, { steps: 10, attack: { starts: 8, iterations: 40 }, jensen: { segments: 500 }, sampleCount: 200 });
console.log(`certificate: convex ${cert.convex} (${cert.convexity.structural.reasons.length} reasons; Jensen violations ${cert.convexity.numerical?.violations ?? '-'}), global ${cert.lipschitz.upperBound}, domain ${cert.lipschitz.domain}, attack ${cert.lipschitz.attack}`);
const runs: Record<string, unknown>[] = [];
for (const safety of ['nominal', 'tightened'] as const) {
  const made = safety === 'nominal' ? null : createSafeCstrLmpc(fit);
  for (const x0 of CSTR_SAFETY_STATES) {
    const controller = made ? createSafeCstrLmpc(fit, { errorBound: made.estimate ?? made.errorBound }).controller : createCstrLmpc(fit);
    const r = runCstrClosedLoop(controller, x0);
    const s = summarizeClosedLoop(r);
    const row = { safety, x0: [...x0], converged: r.converged, steps: r.steps, maxV: r.lyapunov.maxV, leftStabilityRegion: r.lyapunov.exited, solveMsMedian: s.solveSeconds.median * 1e3, fallbacks: s.fallbacks, errorBound: made?.errorBound ?? null };
    runs.push(row);
    console.log(JSON.stringify(row));
  }
}
writeFileAtomic(out, JSON.stringify({
  experiment: 'iclstm-blocks-lmpc', epochs, hidden: 64, blocks: 2, seed: 0, trainSeconds, testMse: fit.testMse, skill: fit.skill, baselineMse: fit.baselineMse,
  certificate: { convex: cert.convex, reasons: cert.convexity.structural.reasons.slice(0, 3).map((q) => q.message), jensen: cert.convexity.numerical, upperBound: cert.lipschitz.upperBound, domain: cert.lipschitz.domain, attack: cert.lipschitz.attack },
  runs,
}, null, 1) + '\n');
