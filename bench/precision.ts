/**
 * Precision benchmark: the 30-epoch ICLRNN 2x64 on the CSTR (split seed 0, seed 0, batch 256,
 * lr 1e-3) trained with the plain-JS f64 kernels and with the wasm kernels in f32 and f64; reports
 * each test MSE, its ratio to the JS f64 one (target: f32 within 10 %), the skill against
 * persistence and the seconds per epoch. Writes bench/results/precision.json.
 * Usage: node --import tsx bench/precision.ts [--epochs 30]
 */
import { enableWasmFma } from '../src/core/wasm-node.ts';
import { jsKernels, kernels, setKernels } from '../src/core/kernels.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { fitModel } from '../src/train/pipeline.ts';
import { writeResult, arg } from './util.ts';

export async function run(): Promise<Record<string, unknown>> {
  const epochs = Number(arg('--epochs', '30'));
  const fma = enableWasmFma().relaxedSimd;
  const dataset = generateCstrDataset();
  const variants = [
    { name: 'js-f64', precision: 'f64' as const, wasm: false },
    { name: 'wasm-f64', precision: 'f64' as const, wasm: true },
    { name: 'wasm-f32', precision: 'f32' as const, wasm: true },
  ];
  const runs: Record<string, { testMse: number; skill: number | null; secondsPerEpoch: number; kernels: unknown }> = {};
  for (const v of variants) {
    const prevKernels = setKernels(v.wasm ? kernels() : jsKernels); // js-f64: plain JS throughout
    const r = fitModel(dataset, { kind: 'iclrnn', hidden: 64, layers: 2, epochs, batchSize: 256, learningRate: 1e-3, seed: 0, precision: v.precision, wasm: v.wasm });
    setKernels(prevKernels);
    runs[v.name] = { testMse: r.testMse, skill: r.skill, secondsPerEpoch: r.history.secondsPerEpoch, kernels: r.history.kernels };
  }
  const ref = runs['js-f64'].testMse;
  const result = {
    benchmark: 'precision',
    config: { model: 'iclrnn', hidden: 64, layers: 2, epochs, batch: 256, learningRate: 1e-3, seed: 0, splitSeed: 0, fma },
    runs,
    testMseRatioToJsF64: Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, r.testMse / ref])),
    targets: { f32TestMseWithin: 0.1 },
  };
  writeResult('precision', result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 1));
