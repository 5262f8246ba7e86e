/**
 * `iclrnn certify MODEL.json`: convexity proof and Lipschitz bounds of a trained model; and the
 * demo's certificate stage.
 *
 * Every Lipschitz number is for the map from the model's scaled, un-augmented input sequence to its
 * scaled output sequence (the space of `iclrnn predict --scaled`), l2 norm over the whole sequence
 * of `--steps` steps. The reference's empirical estimate samples a seeded uniform draw in [0, 1]^d
 * (the scaled domain) by default, or the training inputs of the model's system with `--samples data`.
 * `--local-input` takes a sequence like `predict --input` (physical units unless `--scaled`); the
 * radius is an l_inf radius in the scaled space.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { certify, defaultSteps, formatCertificate, type CertificateReport, type CertifyOptions } from '../../certify/index.ts';
import { loadModel } from '../../io/model-file.ts';
import type { StoredModel } from '../../io/model-format.ts';
import { Rng } from '../../core/rng.ts';
import { splitIndices } from '../../systems/split.ts';
import { loadSystem, type DataOptions } from '../systems.ts';
import { emit, fmt, nonNegative, numberOption, positiveInt, UsageError } from '../util.ts';
import type { DemoContext } from './demo.ts';
import { readPredictInput } from './predict-input.ts';

interface CertifyFlags {
  localInput?: string;
  radius?: string;
  scaled?: boolean;
  steps?: string;
  samples?: string;
  sampleCount?: string;
  seed?: string;
  starts?: string;
  iterations?: string;
  segments?: string;
  lfr?: boolean;
  json?: boolean;
}

/** Scaled training inputs of the model's system (the reference protocol), `count` of them, seeded. */
async function trainingSamples(stored: StoredModel, steps: number, count: number, seed: number): Promise<{ x: Float64Array; source: string }> {
  const data = (stored.metadata.data ?? {}) as Partial<DataOptions>;
  const system = (stored.metadata.system ?? data.system) as DataOptions['system'] | undefined;
  if (!system) throw new UsageError('--samples data needs a model file that records its system; use --samples random');
  const ds = await loadSystem({ ...data, system, splitSeed: data.splitSeed ?? 0 } as DataOptions);
  if (ds.steps !== steps) throw new UsageError(`--samples data: the ${system} sequences have ${ds.steps} steps but the certificate is for ${steps}; pass --steps ${ds.steps} or --samples random`);
  if (ds.inputSize !== stored.model.inputSize) throw new UsageError(`--samples data: ${system} has ${ds.inputSize} input features, the model ${stored.model.inputSize}`);
  const split = splitIndices(ds.count, data.splitSeed ?? 0);
  const idx = Array.from(split.train);
  new Rng(seed).shuffle(idx);
  const k = Math.min(count, idx.length), d = steps * ds.inputSize;
  const x = new Float64Array(k * d);
  for (let i = 0; i < k; i++) x.set(ds.inputs.subarray(idx[i] * d, (idx[i] + 1) * d), i * d);
  return { x: stored.inputScaler ? stored.inputScaler.transform(x, x) : x, source: `${k} training inputs of ${system} (split seed ${data.splitSeed ?? 0})` };
}

async function certifyCommand(file: string, f: CertifyFlags): Promise<void> {
  const stored = loadModel(file);
  const model = stored.model;
  if ((f.localInput === undefined) !== (f.radius === undefined)) throw new UsageError('--local-input and --radius go together');
  if (f.scaled && f.localInput === undefined) throw new UsageError('--scaled applies to --local-input only; remove it or give --local-input and --radius', { flag: '--scaled' });
  const seed = numberOption('--seed', f.seed, 0, Number.isInteger, 'an integer');
  let local: CertifyOptions['local'] = null;
  let steps = f.steps === undefined ? undefined : numberOption('--steps', f.steps, 0, positiveInt, 'a positive integer');
  if (f.localInput !== undefined) {
    if (!existsSync(f.localInput)) throw new UsageError(`${f.localInput}: local input file not found`);
    const radius = numberOption('--radius', f.radius, 0, nonNegative, 'a number >= 0');
    const inp = await readPredictInput(f.localInput, model.inputSize, '--local-input');
    if (inp.batch !== 1) throw new UsageError(`${f.localInput}: --local-input takes one sequence, got a batch of ${inp.batch}`);
    if (steps !== undefined && steps !== inp.steps) throw new UsageError(`--steps is ${steps} but the local input has ${inp.steps} steps`);
    steps = inp.steps;
    const center = f.scaled || !stored.inputScaler ? inp.x : stored.inputScaler.transform(inp.x);
    local = { center, radius };
  }
  steps = steps ?? defaultSteps(stored.metadata);
  const sampleMode = f.samples ?? 'random';
  if (sampleMode !== 'random' && sampleMode !== 'data') throw new UsageError(`--samples must be 'random' or 'data', got '${sampleMode}'`);
  const sampleCount = numberOption('--sample-count', f.sampleCount, 1000, positiveInt, 'a positive integer');
  const options: CertifyOptions = {
    steps,
    seed,
    local,
    sampleCount,
    lfr: f.lfr !== false,
    attack: {
      starts: numberOption('--starts', f.starts, 32, positiveInt, 'a positive integer'),
      iterations: numberOption('--iterations', f.iterations, 80, positiveInt, 'a positive integer'),
    },
    jensen: { segments: numberOption('--segments', f.segments, 2000, positiveInt, 'a positive integer') },
  };
  if (sampleMode === 'data') {
    const s = await trainingSamples(stored, steps, sampleCount, seed);
    options.samples = s.x;
    options.samplesSource = s.source;
  }
  const report = certify(model, options, stored.metadata);
  emit(!!f.json, report, () => formatCertificate(report, `${file}`));
}

/** Registers `iclrnn certify` (listed in commands/index.ts, loaded when it runs). */
export function registerCertify(program: Command): void {
  program
    .command('certify')
    .description('prove input convexity and bound the Lipschitz constant (empirical, attack, certified global / domain / local)')
    .argument('<model>', 'model file')
    .option('--local-input <file>', 'centre of the local certificate: JSON {"X": [[...]]} (one sequence) or .mat with U')
    .option('--radius <r>', 'l_inf radius of the local box, in the scaled input space')
    .option('--scaled', 'the local input is already in the model scaled space')
    .option('--steps <n>', 'sequence length the bounds are for (default: the training sequence length)')
    .option('--samples <mode>', "inputs of the reference's empirical estimate: 'random' (uniform in [0,1]^d, default) or 'data' (training inputs)", 'random')
    .option('--sample-count <n>', 'number of samples of the empirical estimate', '1000')
    .option('--seed <n>', 'seed of sampling and attack', '0')
    .option('--starts <n>', 'attack: random starts', '32')
    .option('--iterations <n>', 'attack: gradient-ascent iterations per start', '80')
    .option('--segments <n>', 'numerical convexity check: random segments', '2000')
    .option('--no-lfr', 'skip the (slowest) recurrent dissipation bound')
    .option('--json', 'print the report as JSON')
    .action(certifyCommand);
}

/** The demo's certificate: the trained ICLRNN, global, domain and a local box around a test input. */
export async function certifyDemoStage(ctx: DemoContext): Promise<void> {
  const model = ctx.result.model;
  const steps = ctx.result.data.test.steps;
  const d = steps * model.inputSize;
  const center = ctx.result.data.test.inputs.slice(0, d);
  // The demo's one empirical estimate (issue 9 item 9): the reference protocol on the first 1000
  // scaled test sequences; the report stage shows this same number.
  const test = ctx.result.data.test;
  const sampleCount = Math.min(1000, test.count);
  const samples = test.inputs.subarray(0, sampleCount * d);
  const samplesSource = `${sampleCount} scaled test sequences`;
  const noise = 0;
  let r: CertificateReport;
  try {
    r = certify(model, { steps, seed: 0, samples, samplesSource, local: { center, radius: 0.01 }, attack: { starts: 16, iterations: 60 }, jensen: { segments: 1000 } });
  } catch (e) {
    ctx.summary.certificate = { error: (e as Error).message };
    ctx.lines.push(`  certificate failed: ${(e as Error).message}`);
    return;
  }
  const L = r.lipschitz;
  ctx.summary.certificate = {
    convex: r.convex,
    jensenWorstViolation: r.convexity.numerical?.worstViolation ?? null,
    empirical: L.empirical,
    empiricalSamples: samplesSource,
    trainingNoise: noise,
    attack: L.attack,
    upperBound: L.upperBound,
    upperBoundMethod: L.details.global.method,
    domain: L.domain,
    local: L.local,
    localRadius: 0.01,
    steps,
    norm: r.norm,
    space: r.space,
    seconds: r.seconds,
  };
  ctx.lines.push(
    `  certificate: output convex in the inputs ${r.convex ? 'PROVEN' : 'NOT proven'}; Lipschitz (scaled space, l2 over ${steps} steps):`,
    `    empirical (reference protocol, ${samplesSource}, model trained at σ = ${noise}) ${fmt(L.empirical, 4)} <= attack ${fmt(L.attack, 4)} <= certified global ${fmt(L.upperBound, 4)}` +
      (L.upperBound !== null && L.attack ? ` (gap ${fmt(L.upperBound / L.attack, 3)})` : ''),
    `    certified on [0,1]^d ${fmt(L.domain, 4)}, on the box r=0.01 around a test input ${fmt(L.local, 4)} (${fmt(r.seconds, 3)} s)`,
  );
}
