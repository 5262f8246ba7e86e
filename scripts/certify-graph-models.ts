/**
 * Experiment (issue 10): the certificates of the models that only the cell-program interpreters
 * describe, now that the bound propagation and the step LFR are interpreters too: the committed
 * 200-epoch multi-block ICLSTM (test/control/fixtures/iclstm-blocks-cstr-e200.json) and a 1 x 8 GRU
 * trained 20 epochs on the CSTR (seed 0). For each: the global, domain ([0, 1]^d) and local
 * (radius 0.02 around the domain centre) bounds with their components, an attack inside each box,
 * and the norm-product gain bound alone (what these models got before).
 *
 *   npx tsx scripts/certify-graph-models.ts [--out results/certify-graph-models.json]
 */
import { certify } from '../src/certify/certify.ts';
import { lipschitzAttack } from '../src/certify/empirical.ts';
import { gainBound } from '../src/interp/gain.ts';
import { intervalBounds } from '../src/interp/bounds.ts';
import { programStack } from '../src/nn/program-stack.ts';
import { writeFileAtomic } from '../src/io/atomic.ts';
import { loadModel } from '../src/io/model-file.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { fitModel } from '../src/train/pipeline.ts';
import type { SequenceModel } from '../src/nn/model.ts';

const i = process.argv.indexOf('--out');
const out = i >= 0 ? process.argv[i + 1] : 'results/certify-graph-models.json';
const steps = 10;

function measure(name: string, model: SequenceModel): Record<string, unknown> {
  const d = steps * model.inputSize;
  const centre = new Float64Array(d).fill(0.5);
  const t0 = performance.now();
  const r = certify(model, { steps, seed: 0, attack: { starts: 16, iterations: 60 }, jensen: false, sampleCount: 100, local: { center: centre, radius: 0.02 } });
  const seconds = (performance.now() - t0) / 1000;
  const D = r.lipschitz.details;
  const part = (b: { value: number | null; product: number | null; unrolled: number | null; recurrent: number | null; method: string | null; recurrentNote: string | null } | null) =>
    b && { value: b.value, method: b.method, product: b.product, unrolled: b.unrolled, recurrent: b.recurrent, recurrentNote: b.recurrentNote };
  const stack = programStack(model);
  const boxOf = (r0: number) => ({ lo: centre.map((c) => c - r0), hi: centre.map((c) => c + r0) });
  const gainOnly = (r0: number) => gainBound(stack, steps, { box: boxOf(r0), bounds: intervalBounds(stack, steps, boxOf(r0)) }).value;
  const attackIn = (r0: number) => lipschitzAttack(model, { steps, starts: 16, iterations: 60, seed: 0, box: { center: centre, radius: new Float64Array(d).fill(r0) } }).value;
  const row = {
    model: name,
    layout: model.order.map((o) => `${o.type === 'cell' ? 'cells' : 'head'}.${o.index}`),
    steps,
    seconds,
    global: { ...part(D.global), attack: r.lipschitz.attack, gainOnly: gainBound(stack, steps).value },
    domain: { ...part(D.domain), attack: attackIn(0.5), gainOnly: gainOnly(0.5) },
    local: { ...part(D.local), radius: 0.02, attack: attackIn(0.02), gainOnly: gainOnly(0.02) },
  };
  console.log(JSON.stringify(row));
  return row;
}

const rows = [measure('multi-block ICLSTM (2 x 64, 200 epochs, committed fixture)', loadModel('test/control/fixtures/iclstm-blocks-cstr-e200.json').model)];
const gru = fitModel(generateCstrDataset(), { kind: 'gru', hidden: 8, layers: 1, epochs: 20, batchSize: 256, learningRate: 1e-2, seed: 0 });
rows.push(measure(`GRU (1 x 8, 20 epochs, test MSE ${gru.testMse.toExponential(2)})`, gru.model));
writeFileAtomic(out, JSON.stringify({ experiment: 'certify-graph-models', rows }, null, 1) + '\n');
