/**
 * Foundation benchmark: seconds per epoch of the ICLRNN 2x64 CSTR configuration (training split,
 * batch 256, Adam, constraints after every step) with each training path (wasm f32 and f64, with
 * and without FMA, and the plain-JS f64 kernels), batch-1 forward latency (10 steps) and batch-1
 * forward + input-gradient latency, on the JS model (SequenceModel.forwardTimeMajor /
 * backwardTimeMajor) and on the f64 wasm predictor (src/nn/wasm-predictor.ts, FMA when the engine
 * has it), timed in interleaved rounds; the PyTorch one-thread peer (../shared/bench/torch_iclrnn.py)
 * in the same run when python3 has torch. Prints JSON and writes bench/results/foundation.json.
 * `--latency-only` skips the training runs and the peer (the latencies then use the untrained model).
 * Usage: node --import tsx bench/foundation.ts [--epochs 3] [--latency-only]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { enableWasmFma } from '../src/core/wasm-node.ts';
import { jsKernels, kernels, setKernels } from '../src/core/kernels.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { prepareData } from '../src/train/pipeline.ts';
import { buildModel } from '../src/nn/models.ts';
import { train } from '../src/train/trainer.ts';
import { WasmPredictor } from '../src/nn/wasm-predictor.ts';
import { writeResult, median, arg } from './util.ts';

export async function run(): Promise<Record<string, unknown>> {
  const epochs = Number(arg('--epochs', '3'));
  const latencyOnly = process.argv.includes('--latency-only');
  const dataset = generateCstrDataset();
  const data = prepareData(dataset, {});
  const variants: { name: string; precision: 'f32' | 'f64'; wasm: boolean; fma: boolean }[] = [
    { name: 'js-f64', precision: 'f64', wasm: false, fma: false },
    { name: 'js-f64-wasm-gemm', precision: 'f64', wasm: false, fma: false },
    { name: 'wasm-f32', precision: 'f32', wasm: true, fma: false },
    { name: 'wasm-f64', precision: 'f64', wasm: true, fma: false },
    { name: 'wasm-f32-fma', precision: 'f32', wasm: true, fma: true },
    { name: 'wasm-f64-fma', precision: 'f64', wasm: true, fma: true },
  ];
  const epochSeconds: Record<string, { median: number; all: number[]; kernels: unknown } | null> = {};
  enableWasmFma(); // before the default GEMM backend is chosen, so it gets the FMA variant too
  const defaultKernels = kernels();
  let model = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 64, layers: 2, seed: 0 });
  for (const v of latencyOnly ? [] : variants) {
    // each wasm variant asks for its kernels (fma: true / false) explicitly; FMA needs the engine to validate it
    if (v.fma && !enableWasmFma().relaxedSimd) {
      epochSeconds[v.name] = null;
      continue;
    }
    model = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 64, layers: 2, seed: 0 });
    // js-f64: the hand-written cells on the plain-JS GEMM; js-f64-wasm-gemm: the same cells on the
    // default GEMM backend (large products in the f64 wasm GEMM)
    const prevKernels = setKernels(v.name === 'js-f64' ? jsKernels : defaultKernels);
    const perEpoch: number[] = [];
    const h = train(model, data.train, null, { epochs, batchSize: 256, optimizer: { learningRate: 1e-3 }, precision: v.precision, wasm: v.wasm, fma: v.fma, onEpoch: (i) => void perEpoch.push(i.seconds), now: () => performance.now() / 1000 });
    epochSeconds[v.name] = { median: median(perEpoch), all: perEpoch, kernels: h.kernels };
    setKernels(prevKernels);
  }
  const peer = latencyOnly ? { epochSeconds: null, batch1Microseconds: null, version: null, note: 'skipped (--latency-only)' } : torchPeer(epochs);
  const best = latencyOnly ? null : Math.min(...Object.values(epochSeconds).filter((e) => e !== null).map((e) => e!.median));
  // batch-1 latencies on one 10-step sequence
  const x = data.test.inputs.subarray(0, 10 * 4);
  const xt = Float64Array.from(x);
  const dy = new Float64Array(10 * 2).fill(1);
  // rounds of every path in turn, so that load from other jobs falls on all of them alike
  const timeAll = (fns: (() => void)[], reps: number): number[] => {
    for (const fn of fns) for (let i = 0; i < 200; i++) fn();
    const samples: number[][] = fns.map(() => []);
    for (let r = 0; r < 7; r++) {
      fns.forEach((fn, k) => {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) fn();
        samples[k].push(((performance.now() - t0) / reps) * 1000);
      });
    }
    return samples.map(median);
  };
  const wasm = WasmPredictor.create(model); // f64, FMA after enableWasmFma() where the engine has relaxed SIMD
  const yOut = new Float64Array(10 * 2), dxOut = new Float64Array(10 * 4);
  const jsFwd = () => void model.forwardTimeMajor(xt, 1, 10);
  const jsGrad = () => {
    model.forwardTimeMajor(xt, 1, 10);
    model.backwardTimeMajor(dy, true, false);
  };
  const fns = [jsFwd, jsGrad];
  if (wasm) fns.push(() => void wasm.forward(xt, 1, 10, yOut), () => void wasm.inputGradient(xt, dy, 1, 10, dxOut));
  const [forwardUs, gradUs, wasmForwardUs, wasmGradUs] = timeAll(fns, 2000);
  const result = {
    benchmark: 'foundation',
    config: { model: 'iclrnn', hidden: 64, layers: 2, trainSequences: data.train.count, steps: 10, inputs: 8, batch: 256 },
    secondsPerEpoch: { median: best, byKernels: epochSeconds },
    pytorchPeer: peer,
    ratioToPeer: peer.epochSeconds ? Object.fromEntries(Object.entries(epochSeconds).map(([k, e]) => [k, e ? e.median / peer.epochSeconds! : null])) : null,
    batch1ForwardMicroseconds: forwardUs,
    batch1ForwardInputGradientMicroseconds: gradUs,
    batch1Wasm: wasm
      ? { precision: 'f64', fma: wasm.fma, forwardMicroseconds: wasmForwardUs, forwardInputGradientMicroseconds: wasmGradUs }
      : { note: 'wasm SIMD unavailable: no wasm predictor' },
    batch1Model: latencyOnly ? 'untrained (seed 0, --latency-only)' : `trained ${epochs} epochs (the last training variant)`,
    loadAverage: loadavg(),
    targets: { f32EpochRatioToPeer: 0.7, f64EpochRatioToPeer: 1.5, batch1ForwardMicroseconds: 25, batch1ForwardInputGradientMicroseconds: 60 },
  };
  writeResult('foundation', result);
  return result;
}

/** The PyTorch one-thread peer, or why it did not run. */
function torchPeer(epochs: number): { epochSeconds: number | null; batch1Microseconds: number | null; version: string | null; note: string | null } {
  const script = new URL('../../shared/bench/torch_iclrnn.py', import.meta.url).pathname;
  if (!existsSync(script)) return { epochSeconds: null, batch1Microseconds: null, version: null, note: `peer script missing (${script})` };
  // the first interpreter that has torch: PATH's python3 (maybe a pyenv one), then Debian's (python3-torch)
  let why = 'no python3';
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, [script, String(epochs), '1'], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, timeout: 600_000 });
    const m = /torch (\S+) threads=\d+ epoch_s=([\d.]+) infer_batch1_us=([\d.]+)/.exec(r.stdout ?? '');
    if (m) return { epochSeconds: Number(m[2]), batch1Microseconds: Number(m[3]), version: `${m[1]} (${python})`, note: null };
    why = `${python}: ${(r.stderr || r.error?.message || 'no output').trim().split('\n').at(-1)}`;
  }
  return { epochSeconds: null, batch1Microseconds: null, version: null, note: `peer did not run: ${why}` };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 1));
