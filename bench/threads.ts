/**
 * Data-parallel training benchmark (`train --threads N`): seconds per epoch of the ICLRNN 2x64 on
 * the CSTR (batch 256, wasm f32 + FMA where the engine has it) on 1, 2, ... threads up to the
 * machine's cores (`--threads 1,2` to choose), medians over `--epochs` epochs (default 4) after one
 * warm-up epoch. Reports the load average so that a loaded machine's numbers read as such: the
 * speed-up only shows on idle cores.
 *
 * Usage: node --import tsx bench/threads.ts [--epochs 4] [--threads 1,2]
 */
import { availableParallelism, loadavg } from 'node:os';
import { enableWasmFma } from '../src/core/wasm-node.ts';
import { buildModel } from '../src/nn/models.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { nodeTrainingThreads } from '../src/train/distributed/training-threads.ts';
import { prepareData } from '../src/train/pipeline.ts';
import { train } from '../src/train/trainer.ts';
import { arg, median, writeResult } from './util.ts';

export async function run(): Promise<Record<string, unknown>> {
  const epochs = Number(arg('--epochs', '4'));
  const cores = availableParallelism();
  const counts = arg('--threads', Array.from({ length: Math.max(2, cores) }, (_, i) => i + 1).join(',')).split(',').map(Number);
  enableWasmFma();
  const data = prepareData(generateCstrDataset(), {});
  const loadBefore = loadavg()[0];
  const rows: Record<string, unknown>[] = [];
  for (const n of counts) {
    const model = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 64, layers: 2, seed: 0 });
    const perEpoch: number[] = [];
    const h = train(model, data.train, null, {
      epochs: epochs + 1, batchSize: 256, seed: 0, threads: n > 1 ? nodeTrainingThreads(n) : undefined,
      onEpoch: (i) => void (i.epoch > 1 && perEpoch.push(i.seconds)), now: () => performance.now() / 1000,
    });
    rows.push({ threads: n, secondsPerEpoch: median(perEpoch), all: perEpoch, kernels: h.kernels });
  }
  const base = rows[0].secondsPerEpoch as number;
  const result = {
    benchmark: 'threads',
    config: { model: 'iclrnn', hidden: 64, layers: 2, batch: 256, trainSequences: data.train.count, epochs },
    cores,
    loadAverage: { before: loadBefore, after: loadavg()[0] },
    rows: rows.map((r) => ({ ...r, speedUp: base / (r.secondsPerEpoch as number) })),
  };
  writeResult('threads', result);
  return result;
}
