/**
 * Experiment (issue 15, "the floor that convexity imposes"): how low the test MSE of an
 * input-convex Lipschitz RNN gets on the CSTR when it is bigger, trained longer, or allowed a larger
 * spectral bound k, now that the WebAssembly kernels make 200-epoch runs cheap. Every variant is
 * the stock `iclrnn` model (CSTR, split seed 0, seed 0, Adam lr 1e-3, batch 256, sigma = 0),
 * certified afterwards (structural convexity; certified global Lipschitz bound without the LFR
 * component, which the bigger models exceed).
 *
 *   nice -n 10 npx tsx scripts/iclrnn-floor.ts [--out results/iclrnn-floor.json] [--only NAME,...]
 *
 * Resumable: results are written after every variant (atomically) and finished variants are
 * skipped on a rerun.
 */
import { existsSync, readFileSync } from 'node:fs';
import { certify } from '../src/certify/certify.ts';
import { enableWasmFma } from '../src/core/wasm-node.ts';
import { writeFileAtomic } from '../src/io/atomic.ts';
import { arg } from '../bench/util.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { fitModel } from '../src/train/pipeline.ts';

interface Variant {
  name: string;
  hidden: number;
  layers: number;
  epochs: number;
  k: number;
}

const VARIANTS: Variant[] = [
  { name: '2x64 k=1 200 epochs', hidden: 64, layers: 2, epochs: 200, k: 1 },
  { name: '2x64 k=2 200 epochs', hidden: 64, layers: 2, epochs: 200, k: 2 },
  { name: '2x64 k=4 200 epochs', hidden: 64, layers: 2, epochs: 200, k: 4 },
  { name: '2x128 k=1 200 epochs', hidden: 128, layers: 2, epochs: 200, k: 1 },
  { name: '2x256 k=1 200 epochs', hidden: 256, layers: 2, epochs: 200, k: 1 },
  { name: '3x128 k=2 300 epochs', hidden: 128, layers: 3, epochs: 300, k: 2 },
];

const out = arg('--out', 'results/iclrnn-floor.json');
const only = arg('--only', '').split(',').filter(Boolean);
const fma = enableWasmFma().relaxedSimd;
const results: Record<string, unknown> = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { variants: Record<string, unknown> }).variants : {};
const dataset = generateCstrDataset();
for (const v of VARIANTS) {
  if (only.length && !only.includes(v.name)) continue;
  if (results[v.name]) continue;
  const t0 = performance.now();
  const fit = fitModel(dataset, { kind: 'iclrnn', hidden: v.hidden, layers: v.layers, epochs: v.epochs, batchSize: 256, learningRate: 1e-3, seed: 0, spectral: { k: v.k, mode: 'projection' } });
  const trainSeconds = (performance.now() - t0) / 1000;
  const cert = certify(fit.model, { steps: 10, attack: { starts: 4, iterations: 20 }, jensen: false, lfr: false, domainBound: false, sampleCount: 200 });
  const h = fit.history;
  results[v.name] = {
    ...v,
    testMse: fit.testMse,
    baselineMse: fit.baselineMse,
    skill: fit.skill,
    bestValLoss: Math.min(...h.valLoss),
    finalTrainLoss: h.trainLoss.at(-1),
    secondsPerEpoch: h.secondsPerEpoch,
    trainSeconds,
    kernels: h.kernels,
    parameters: fit.model.parameterCount(),
    convex: cert.convex,
    certifiedLipschitz: cert.lipschitz.upperBound,
    attack: cert.lipschitz.attack,
    valLossEvery20: h.valLoss.filter((_, i) => (i + 1) % 20 === 0),
  };
  writeFileAtomic(out, JSON.stringify({ experiment: 'iclrnn-floor', system: 'cstr', splitSeed: 0, seed: 0, noise: 0, learningRate: 1e-3, batch: 256, fma, variants: results }, null, 1) + '\n');
  console.log(`${v.name}: test MSE ${fit.testMse.toExponential(3)} (skill ${fit.skill?.toFixed(3)}), ${h.secondsPerEpoch.toFixed(3)} s/epoch, convex ${cert.convex}, certified L ${cert.lipschitz.upperBound?.toFixed(3)}`);
}
