/**
 * Experiment: learning curve of the LRNN (or any family) on the CSTR, with the cell initialiser
 * switchable between the library's and the reference notebook's (Keras `random_normal`, std 0.05,
 * for U, B and C; zero bias). Prints one line per epoch: train loss, validation loss, clean test MSE.
 *
 *   nice -n 10 npx tsx scripts/lrnn-curve.ts --epochs 20 --init library|reference [--lr 1e-3]
 *     [--noise 0] [--seed 0] [--kind lrnn] [--hidden 64] [--layers 2] [--eps 0.01] [--json]
 */
import { Rng } from '../src/core/rng.ts';
import { buildModel, type BuiltinModelKind } from '../src/nn/models.ts';
import { LipschitzCell } from '../src/nn/lipschitz-cell.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { prepareData } from '../src/train/pipeline.ts';
import { evaluateMse, train } from '../src/train/trainer.ts';
import { evaluateBaselines } from '../src/train/metrics.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
  const next = process.argv[i + 1];
  if (next === undefined || next.startsWith('--')) args.set(a.slice(2), 'true');
  else { args.set(a.slice(2), next); i++; }
}
const num = (k: string, d: number) => (args.has(k) ? Number(args.get(k)) : d);
const epochs = num('epochs', 20), lr = num('lr', 1e-3), noise = num('noise', 0), seed = num('seed', 0);
const kind = (args.get('kind') ?? 'lrnn') as BuiltinModelKind;
const init = args.get('init') ?? 'library';
const hidden = num('hidden', 64), layers = num('layers', 2), eps = num('eps', 0.01);

const dataset = generateCstrDataset();
const data = prepareData(dataset, { splitSeed: 0, noise, noiseSeed: seed + 1 });
const model = buildModel(kind, { inputSize: 4, outputSize: 2, hidden, layers, seed, lipschitz: { eps } });
if (init === 'reference') {
  // Keras RandomNormal(mean 0, stddev 0.05) for C, B, U (creation order C, B, U, b); zero bias.
  const rng = new Rng(seed + 1000);
  for (const cell of model.cells) {
    if (!(cell instanceof LipschitzCell)) continue;
    for (const p of [cell.C, cell.B, cell.kernel]) for (let i = 0; i < p.value.length; i++) p.value[i] = 0.05 * rng.normal();
    cell.bias.value.fill(0);
  }
} else if (init !== 'library') throw new Error(`--init must be library or reference, got ${init}`);

const base = evaluateBaselines(dataset, data.split, data.outputScaler);
console.log(`# ${kind} init=${init} lr=${lr} noise=${noise} seed=${seed} hidden=${hidden} layers=${layers} eps=${eps}`);
console.log(`# baselines on the test split: ${base.kind} ${base.baselineMse?.toExponential(3)}, mean ${base.meanMse.toExponential(3)}`);
const rows: { epoch: number; train: number; val: number; test: number; seconds: number }[] = [];
train(model, data.train, data.validation, {
  epochs, batchSize: 256, optimizer: { type: 'adam', learningRate: lr }, seed: seed + 2,
  onEpoch: (e) => {
    const test = evaluateMse(model, data.test);
    rows.push({ epoch: e.epoch, train: e.trainLoss, val: e.valLoss ?? NaN, test, seconds: e.seconds });
    console.log(`epoch ${String(e.epoch).padStart(4)}  train ${e.trainLoss.toExponential(3)}  val ${(e.valLoss ?? NaN).toExponential(3)}  test ${test.toExponential(3)}  (${e.seconds.toFixed(2)} s)`);
  },
});
if (args.get('json') === 'true') console.log(JSON.stringify({ kind, init, lr, noise, seed, hidden, layers, eps, baselines: base, rows }));
