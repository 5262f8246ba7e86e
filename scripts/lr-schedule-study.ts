/**
 * Experiment (issue 15, "learning-rate schedules"): does decaying the learning rate bring the
 * input-convex models (ICLRNN, ICRNN; 2 x 64, CSTR, split seed 0, seed 0, batch 256, Adam) closer to
 * the accuracy goal (skill <= 0.02 at sigma = 0, <= 0.2 at sigma = 0.9, within 200 epochs)? Every
 * variant trains 200 epochs at lr 1e-3 with a constant rate or a cosine decay to 1 % (and at lr 3e-3
 * with the cosine decay), then is certified (structural convexity, certified global Lipschitz bound).
 *
 *   nice -n 10 npx tsx scripts/lr-schedule-study.ts [--out results/lr-schedule.json] [--only NAME,...]
 *
 * Resumable: results are written after every variant (atomically); finished variants are skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { certify } from '../src/certify/certify.ts';
import { enableWasmFma } from '../src/core/wasm-node.ts';
import { writeFileAtomic } from '../src/io/atomic.ts';
import { arg } from '../bench/util.ts';
import type { BuiltinModelKind } from '../src/nn/models.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import type { LearningRateSchedule } from '../src/train/optimizers.ts';
import { fitModel } from '../src/train/pipeline.ts';

interface Variant {
  name: string;
  kind: BuiltinModelKind;
  noise: number;
  learningRate: number;
  schedule: LearningRateSchedule;
}

const VARIANTS: Variant[] = [];
for (const kind of ['iclrnn', 'icrnn'] as BuiltinModelKind[])
  for (const noise of [0, 0.9])
    for (const [learningRate, schedule] of [[1e-3, { type: 'constant' }], [1e-3, { type: 'cosine', minFactor: 0.01 }], [3e-3, { type: 'cosine', minFactor: 0.01 }]] as [number, LearningRateSchedule][])
      VARIANTS.push({ name: `${kind} sigma=${noise} lr=${learningRate} ${schedule.type}`, kind, noise, learningRate, schedule });

const out = arg('--out', 'results/lr-schedule.json');
const only = arg('--only', '').split(',').filter(Boolean);
const fma = enableWasmFma().relaxedSimd;
const epochs = 200;
const results: Record<string, unknown> = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { variants: Record<string, unknown> }).variants : {};
const dataset = generateCstrDataset();
for (const v of VARIANTS) {
  if (only.length && !only.includes(v.name)) continue;
  if (results[v.name]) continue;
  const t0 = performance.now();
  const fit = fitModel(dataset, { kind: v.kind, hidden: 64, layers: 2, epochs, batchSize: 256, learningRate: v.learningRate, learningRateSchedule: v.schedule, noise: v.noise, seed: 0 });
  const trainSeconds = (performance.now() - t0) / 1000;
  const cert = certify(fit.model, { steps: 10, attack: { starts: 4, iterations: 20 }, jensen: false, lfr: false, domainBound: false, sampleCount: 200 });
  const h = fit.history;
  results[v.name] = {
    ...v,
    epochs,
    testMse: fit.testMse,
    baselineMse: fit.baselineMse,
    skill: fit.skill,
    bestValLoss: Math.min(...h.valLoss),
    bestEpoch: h.bestEpoch,
    finalValLoss: h.valLoss.at(-1),
    secondsPerEpoch: h.secondsPerEpoch,
    trainSeconds,
    kernels: h.kernels,
    convex: cert.convex,
    certifiedLipschitz: cert.lipschitz.upperBound,
    attack: cert.lipschitz.attack,
    valLossEvery20: h.valLoss.filter((_, i) => (i + 1) % 20 === 0),
  };
  writeFileAtomic(out, JSON.stringify({ experiment: 'lr-schedule', system: 'cstr', splitSeed: 0, seed: 0, hidden: 64, layers: 2, batch: 256, fma, variants: results }, null, 1) + '\n');
  console.log(`${v.name}: test MSE ${fit.testMse.toExponential(3)} (skill ${fit.skill?.toFixed(3)}), ${h.secondsPerEpoch.toFixed(3)} s/epoch, convex ${cert.convex}, certified L ${cert.lipschitz.upperBound?.toFixed(3)}`);
}
