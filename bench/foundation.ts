/**
 * Foundation benchmark: seconds per epoch of the ICLRNN 2x64 CSTR configuration (training split,
 * batch 256, Adam, constraints after every step), batch-1 forward latency (10 steps) and batch-1
 * forward + input-gradient latency. Prints JSON and writes bench/results/foundation.json.
 * Usage: node --import tsx bench/foundation.ts [--epochs 3]
 */
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { prepareData } from '../src/train/pipeline.ts';
import { buildModel } from '../src/nn/models.ts';
import { train } from '../src/train/trainer.ts';
import { writeResult, median, arg } from './util.ts';

export async function run(): Promise<Record<string, unknown>> {
  const epochs = Number(arg('--epochs', '3'));
  const dataset = generateCstrDataset();
  const data = prepareData(dataset, {});
  const model = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 64, layers: 2, seed: 0 });
  const perEpoch: number[] = [];
  train(model, data.train, null, { epochs, batchSize: 256, optimizer: { learningRate: 1e-3 }, onEpoch: (i) => void perEpoch.push(i.seconds), now: () => performance.now() / 1000 });
  // batch-1 latencies on one 10-step sequence
  const x = data.test.inputs.subarray(0, 10 * 4);
  const xt = Float64Array.from(x);
  const dy = new Float64Array(10 * 2).fill(1);
  const time = (fn: () => void, reps: number): number => {
    for (let i = 0; i < 200; i++) fn();
    const samples: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) fn();
      samples.push(((performance.now() - t0) / reps) * 1000);
    }
    return median(samples);
  };
  const forwardUs = time(() => void model.forwardTimeMajor(xt, 1, 10), 2000);
  const gradUs = time(() => {
    model.forwardTimeMajor(xt, 1, 10);
    model.backwardTimeMajor(dy, true, false);
  }, 2000);
  const result = {
    benchmark: 'foundation',
    config: { model: 'iclrnn', hidden: 64, layers: 2, trainSequences: data.train.count, steps: 10, inputs: 8, batch: 256 },
    secondsPerEpoch: { median: median(perEpoch), all: perEpoch },
    batch1ForwardMicroseconds: forwardUs,
    batch1ForwardInputGradientMicroseconds: gradUs,
    targets: { secondsPerEpoch: 3, peer: { pytorchCpuSecondsPerEpoch: 0.22, pytorchBatch1ForwardMicroseconds: 140 } },
  };
  writeResult('foundation', result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 1));
