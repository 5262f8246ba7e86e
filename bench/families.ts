/**
 * Seconds per training epoch of every model family at the protocol's size (2 x 64 units on the
 * CSTR training split, batch 256, Adam lr 1e-3, constraints after every step), on the path the CLI
 * takes (the WebAssembly trainer in f32 where it covers the family) and on the JavaScript f64 path
 * (hand-written cells or program interpreters on the default GEMM backend), epochs alternating
 * between the two so that machine load falls on both alike. Prints JSON and writes
 * bench/results/families.json.
 * Usage: node --import tsx bench/families.ts [--epochs 2] [--kinds gru,icrnn]
 */
import { loadavg } from 'node:os';
import { enableWasmFma } from '../src/core/wasm-node.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { prepareData } from '../src/train/pipeline.ts';
import { buildModel, type BuiltinModelKind } from '../src/nn/models.ts';
import { MODEL_KINDS } from '../src/nn/model-kinds.ts';
import { train } from '../src/train/trainer.ts';
import { median, arg, writeResult } from './util.ts';

export async function run(): Promise<Record<string, unknown>> {
  const epochs = Number(arg('--epochs', '2'));
  const kinds = arg('--kinds', MODEL_KINDS.join(',')).split(',') as BuiltinModelKind[];
  enableWasmFma();
  const data = prepareData(generateCstrDataset(), {});
  const load = loadavg()[0];
  const families: Record<string, unknown> = {};
  for (const kind of kinds) {
    const paths = { default: { wasm: true, seconds: [] as number[], kernels: null as unknown }, js: { wasm: false, seconds: [] as number[], kernels: null as unknown } };
    const models = { default: buildModel(kind, { inputSize: 4, outputSize: 2, hidden: 64, layers: 2, seed: 0 }), js: buildModel(kind, { inputSize: 4, outputSize: 2, hidden: 64, layers: 2, seed: 0 }) };
    for (let e = 0; e < epochs; e++)
      for (const name of ['default', 'js'] as const) {
        const p = paths[name];
        const h = train(models[name], data.train, null, { epochs: 1, batchSize: 256, optimizer: { learningRate: 1e-3 }, wasm: p.wasm, seed: e, onEpoch: (i) => void p.seconds.push(i.seconds), now: () => performance.now() / 1000 });
        p.kernels = h.kernels;
      }
    const d = median(paths.default.seconds), j = median(paths.js.seconds);
    families[kind] = {
      defaultPath: { kernels: paths.default.kernels, secondsPerEpoch: d, all: paths.default.seconds },
      jsF64: { kernels: paths.js.kernels, secondsPerEpoch: j, all: paths.js.seconds },
      speedup: j / d,
    };
  }
  const result = { config: { system: 'cstr', hidden: 64, layers: 2, batch: 256, epochs }, loadAverageAtStart: load, families };
  writeResult('families', result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 1));
