/**
 * Experiment (issue 15, "residual output"): the ICLRNN predicting the change from persistence
 * instead of the state itself, without touching the model structure.
 *
 * The full predictor is `y(x) = P(x) - delta + f(x)`, where `f` is the stock ICLRNN (convex in x,
 * certified Lipschitz bound L_f), `P` the persistence forecast in the scaled space (for the CSTR a
 * fixed diagonal affine map of the initial state: scaled input x2, x1 -> scaled output x2, x1) and
 * `delta` a constant that makes the training residuals non-negative (the ICLRNN head is a ReLU).
 * Affine + convex is convex, and the Lipschitz bound grows by ||P|| (the largest diagonal factor).
 * Training `f` on the residual targets `y - P(x) + delta` is exactly training the full predictor
 * on `y`, so the test MSE of `f` on the residual targets is the test MSE of `y` on the targets.
 *
 *   nice -n 10 npx tsx scripts/iclrnn-residual.ts --epochs 30 [--noise 0] [--seed 0] [--lr 1e-3]
 *     [--variant both|plain|residual] [--kind iclrnn] [--certify 1] [--delta clean|noisy|NUMBER]
 *     [--schedule constant|cosine]   (cosine: the learning rate decays to 1 % at the last epoch)
 *
 * `delta` (the shift that keeps the residual targets non-negative): `clean` (default) from the
 * plant's own persistence residuals over the training inputs (noise-free targets; one scalar, a
 * property of the plant like the scaler ranges), `noisy` from the noisy training targets (with
 * sigma = 0.9 that is about 4 and the ReLU head spends its epochs learning the offset), or a number.
 */
import { certify } from '../src/certify/certify.ts';
import { buildModel, type BuiltinModelKind } from '../src/nn/models.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { prepareData } from '../src/train/pipeline.ts';
import { evaluateMse, train, type TrainingData } from '../src/train/trainer.ts';
import { evaluateBaselines, naiveForecastPlan } from '../src/train/metrics.ts';
import type { MinMaxScaler } from '../src/nn/scaler.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const num = (k: string, d: number) => (args.has(k) ? Number(args.get(k)) : d);
const epochs = num('epochs', 30), noise = num('noise', 0), seed = num('seed', 0), lr = num('lr', 1e-3);
const variant = args.get('variant') ?? 'both';
const kind = (args.get('kind') ?? 'iclrnn') as BuiltinModelKind;
const schedule = args.get('schedule') ?? 'constant';
if (schedule !== 'constant' && schedule !== 'cosine') throw new Error(`--schedule must be constant or cosine, got ${schedule}`);

const dataset = generateCstrDataset();
const data = prepareData(dataset, { splitSeed: 0, noise, noiseSeed: seed + 1 });
const plan = naiveForecastPlan(dataset);
if (plan.kind === 'none') throw new Error('no persistence baseline for this data set');
const base = evaluateBaselines(dataset, data.split, data.outputScaler);

/** Persistence forecast in the scaled output space, from the scaled inputs of a part. */
function persistence(part: TrainingData, inS: MinMaxScaler, outS: MinMaxScaler): Float64Array {
  const ni = dataset.inputSize, no = dataset.outputSize, rows = part.count * part.steps;
  const p = new Float64Array(rows * no);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < no; j++) {
      const c = plan.sources[j]!;
      const physical = part.inputs[r * ni + c] / inS.factor(c) + inS.min[c];
      p[r * no + j] = (physical - outS.min[j]) * outS.factor(j);
    }
  return p;
}
const pTrain = persistence(data.train, data.inputScaler, data.outputScaler);
const pVal = persistence(data.validation, data.inputScaler, data.outputScaler);
const pTest = persistence(data.test, data.inputScaler, data.outputScaler);
const deltaOption = args.get('delta') ?? 'clean';
let delta: number;
if (deltaOption === 'clean' || deltaOption === 'noisy') {
  const clean = deltaOption === 'clean' ? prepareData(dataset, { splitSeed: 0 }).train.targets : data.train.targets;
  let minResidual = Infinity;
  for (let i = 0; i < pTrain.length; i++) minResidual = Math.min(minResidual, clean[i] - pTrain[i]);
  delta = Math.max(0, -minResidual) + 0.05;
} else delta = Number(deltaOption);
if (!Number.isFinite(delta)) throw new Error(`--delta must be clean, noisy or a number, got ${deltaOption}`);
const residual = (part: TrainingData, p: Float64Array): TrainingData => ({ ...part, targets: part.targets.map((y, i) => y - p[i] + delta) });
let pNorm = 0;
plan.sources.forEach((c, j) => (pNorm = Math.max(pNorm, data.outputScaler.factor(j) / data.inputScaler.factor(c!))));

console.log(`# ${kind} 2x64, ${epochs} epochs, lr ${lr} (${schedule}), noise ${noise}, seed ${seed}; persistence ${base.baselineMse!.toExponential(3)}, mean ${base.meanMse.toExponential(3)}`);
console.log(`# residual: delta ${delta.toFixed(4)} (${deltaOption}), ||P|| = ${pNorm.toFixed(4)} (added to the certified Lipschitz bound)`);
for (const v of variant === 'both' ? ['plain', 'residual'] : [variant]) {
  const model = buildModel(kind, { inputSize: 4, outputSize: 2, hidden: 64, layers: 2, seed });
  const [tr, va, te] = v === 'residual' ? [residual(data.train, pTrain), residual(data.validation, pVal), residual(data.test, pTest)] : [data.train, data.validation, data.test];
  const t0 = performance.now();
  train(model, tr, va, {
    epochs, batchSize: 256, optimizer: { type: 'adam', learningRate: lr }, seed: seed + 2,
    learningRateSchedule: schedule === 'cosine' ? { type: 'cosine', minFactor: 0.01 } : { type: 'constant' },
    onEpoch: (e) => {
      if (e.epoch % 5 === 0 || e.epoch === epochs || e.epoch === 1) {
        const test = evaluateMse(model, te);
        console.log(`${v.padEnd(8)} epoch ${String(e.epoch).padStart(4)}  val ${(e.valLoss ?? NaN).toExponential(3)}  test ${test.toExponential(3)}  skill ${(test / base.baselineMse!).toFixed(3)}`);
      }
    },
  });
  model.finalizeConstraints();
  const test = evaluateMse(model, te);
  if (args.get('certify') === '1') {
    const c = certify(model, { steps: dataset.steps, attack: false, jensen: { segments: 200 }, domainBound: false, sampleCount: 200 });
    const total = c.lipschitz.upperBound === null ? null : c.lipschitz.upperBound + (v === 'residual' ? pNorm : 0);
    console.log(`${v.padEnd(8)} certificate: convex ${c.convex ? 'PROVEN' : 'not proven'}; certified Lipschitz bound of the network ${c.lipschitz.upperBound?.toFixed(4)}; of the whole predictor ${total?.toFixed(4)} (${c.seconds.toFixed(1)} s)`);
  }
  console.log(`${v.padEnd(8)} final test MSE ${test.toExponential(3)}  skill vs persistence ${(test / base.baselineMse!).toFixed(3)}  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
