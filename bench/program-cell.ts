/**
 * Micro-benchmark: the generic cell-program interpreters (`ProgramCell`) against the hand-written
 * `SimpleCell` on the foundation configuration (ICLRNN 2x64 on the CSTR training split, batch 256,
 * Adam, constraints after every step), plus batch-1 forward and forward + input-gradient latency.
 * Both models start from the same weights; epochs alternate between the two so that machine load
 * affects both alike. Both train on the plain-JS f64 path (`wasm: false`: the wasm trainer would
 * run both the same way). Prints JSON and writes bench/results/program-cell.json.
 * Usage: node --import tsx bench/program-cell.ts [--epochs 3]
 */
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { prepareData } from '../src/train/pipeline.ts';
import { buildModel } from '../src/nn/models.ts';
import type { SequenceModel } from '../src/nn/model.ts';
import type { RecurrentCell } from '../src/nn/cell.ts';
import { ProgramCell } from '../src/nn/program-cell.ts';
import { train } from '../src/train/trainer.ts';
import { median, arg, writeResult } from './util.ts';

/** Replaces every cell of a model by a ProgramCell of the same config and weights (bench only). */
function toProgramCells(model: SequenceModel): void {
  const stages = (model as unknown as { stages: { cell: RecurrentCell | null }[] }).stages;
  model.cells.forEach((c, i) => {
    const p = new ProgramCell(c.config());
    p.params.forEach((q, k) => q.value.set(c.params[k].value));
    (model.cells as RecurrentCell[])[i] = p;
    for (const st of stages) if (st.cell === c) st.cell = p;
  });
}

export async function run(): Promise<Record<string, unknown>> {
  const epochs = Number(arg('--epochs', '3'));
  const data = prepareData(generateCstrDataset(), {});
  const hand = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 64, layers: 2, seed: 0 });
  const prog = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 64, layers: 2, seed: 0 });
  toProgramCells(prog);
  const perEpoch: Record<'hand' | 'program', number[]> = { hand: [], program: [] };
  for (let e = 0; e < epochs; e++)
    for (const [name, m] of [['hand', hand], ['program', prog]] as const)
      train(m, data.train, null, { epochs: 1, batchSize: 256, optimizer: { learningRate: 1e-3 }, wasm: false, onEpoch: (i) => void perEpoch[name].push(i.seconds), now: () => performance.now() / 1000 });
  // the two trainings must agree (same arithmetic up to rounding)
  let maxDiff = 0;
  hand.parameters().forEach((p, k) => p.value.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - prog.parameters()[k].value[i])))));

  const xt = Float64Array.from(data.test.inputs.subarray(0, 10 * 4));
  const dy = new Float64Array(10 * 2).fill(1);
  // batch-1 latencies: rounds alternate between the two models; the minimum over rounds is the
  // least disturbed by other load on the machine
  const fwd = (m: SequenceModel) => () => void m.forwardTimeMajor(xt, 1, 10);
  const grad = (m: SequenceModel) => () => {
    m.forwardTimeMajor(xt, 1, 10);
    m.backwardTimeMajor(dy, true, false);
  };
  const fns = { handF: fwd(hand), progF: fwd(prog), handG: grad(hand), progG: grad(prog) };
  const best: Record<keyof typeof fns, number> = { handF: Infinity, progF: Infinity, handG: Infinity, progG: Infinity };
  for (const f of Object.values(fns)) for (let i = 0; i < 300; i++) f();
  for (let r = 0; r < 15; r++)
    for (const [k, f] of Object.entries(fns) as [keyof typeof fns, () => void][]) {
      const t0 = performance.now();
      for (let i = 0; i < 300; i++) f();
      best[k] = Math.min(best[k], ((performance.now() - t0) / 300) * 1000);
    }
  const lh = { forwardUs: best.handF, forwardInputGradientUs: best.handG }, lp = { forwardUs: best.progF, forwardInputGradientUs: best.progG };
  const mh = median(perEpoch.hand), mp = median(perEpoch.program);
  const result = {
    benchmark: 'program-cell vs hand-written SimpleCell (ICLRNN 2x64, CSTR, batch 256)',
    secondsPerEpoch: {
      hand: perEpoch.hand, program: perEpoch.program, medianHand: mh, medianProgram: mp, ratio: mp / mh,
      minRatio: Math.min(...perEpoch.program) / Math.min(...perEpoch.hand),
    },
    batch1: { hand: lh, program: lp, forwardRatio: lp.forwardUs / lh.forwardUs, gradientRatio: lp.forwardInputGradientUs / lh.forwardInputGradientUs },
    maxWeightDifferenceAfterTraining: maxDiff,
  };
  writeResult('program-cell', result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 1));
