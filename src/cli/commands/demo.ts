/** `iclrnn demo`: the whole job on the CSTR in about a minute. */
import { join } from 'node:path';
import { saveModel } from '../../io/model-file.ts';
import { generateCstrDataset } from '../../systems/cstr.ts';
import { fitModelAsync, type fitModel } from '../../train/pipeline.ts';
import { emit, epochLines, fmt, kernelLabel, onInterrupt, progressBar, restoreTerminal } from '../util.ts';

export interface DemoOptions {
  outDir: string;
  seconds: number;
  json: boolean;
}

/** A step of the demo after training (the certificate, the closed loop, the report). */
export type DemoStage = (ctx: DemoContext) => Promise<void>;
export interface DemoContext {
  options: DemoOptions;
  modelPath: string;
  result: ReturnType<typeof fitModel>;
  summary: Record<string, unknown>;
  lines: string[];
}
/**
 * The demo's steps after training, in order: the certificate, the closed loop, then the report
 * (which shows what the two put in the summary). They live with their commands and are imported
 * only when the demo runs, so `predict` and `train` load no certificate, MPC or report code.
 */
export async function demoStages(): Promise<DemoStage[]> {
  const [certify, mpc, sweep] = await Promise.all([import('./certify.ts'), import('./mpc.ts'), import('./sweep.ts')]);
  return [certify.certifyDemoStage, mpc.mpcDemoStage, sweep.reportDemoStage];
}

export async function runDemo(o: DemoOptions, stages: readonly DemoStage[] = []): Promise<void> {
  const started = Date.now();
  const dataset = generateCstrDataset();
  const maxEpochs = 1000;
  const bar = progressBar(Math.ceil(o.seconds), 'demo: training ICLRNN');
  const progressLines = epochLines('demo: training ICLRNN', maxEpochs);
  const t0 = Date.now();
  // Ctrl-C / SIGTERM during training: stop, restore the terminal, say so (training yields to the event loop).
  const abort = new AbortController();
  let signal: 'SIGINT' | 'SIGTERM' | null = null;
  const release = onInterrupt((s) => {
    signal = s;
    abort.abort();
  });
  let result: Awaited<ReturnType<typeof fitModelAsync>>;
  try {
    result = await fitModelAsync(dataset, {
      kind: 'iclrnn',
      hidden: 64,
      layers: 2,
      epochs: maxEpochs,
      learningRate: 3e-3,
      seed: 0,
      signal: abort.signal,
      onEpoch: (i) => {
        const elapsed = (Date.now() - t0) / 1000;
        bar.update(Math.min(Math.ceil(o.seconds), Math.round(elapsed)), { info: `epoch ${i.epoch} val ${fmt(i.valLoss)}` });
        progressLines(i.epoch, `(${Math.round(elapsed)} of ${o.seconds} s) val ${fmt(i.valLoss)}`);
        return elapsed < o.seconds;
      },
    });
  } finally {
    release();
    bar.stop();
  }
  if (signal !== null) {
    restoreTerminal();
    process.stderr.write(`iclrnn: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'} while training (epoch ${result.history.epochsRun + 1}); nothing was saved; rerun the demo to start again\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }
  for (const w of result.warnings) process.stderr.write(`iclrnn: warning: ${w.message}\n`);
  const modelPath = join(o.outDir, 'model.json');
  saveModel(modelPath, {
    model: result.model,
    inputScaler: result.inputScaler,
    outputScaler: result.outputScaler,
    metadata: {
      system: 'cstr',
      data: { system: 'cstr', splitSeed: 0 },
      training: { epochs: result.history.epochsRun, batchSize: 256, learningRate: 3e-3, optimizer: 'adam', noise: 0, spectralMode: 'projection', k: 1, hidden: 64, layers: 2 },
      seed: 0,
      metrics: { testMse: result.testMse, trainLoss: result.history.trainLoss.at(-1) ?? null, valLoss: result.history.valLoss.at(-1) ?? null },
    },
  });
  const summary: Record<string, unknown> = {
    system: 'cstr',
    samples: dataset.count,
    model: 'iclrnn',
    epochs: result.history.epochsRun,
    secondsPerEpoch: result.history.secondsPerEpoch,
    kernels: result.history.kernels ?? null,
    testMse: result.testMse,
    baselineMse: result.baselineMse,
    skill: result.skill,
    modelPath,
  };
  const lines = [
    `iclrnn demo: CSTR, ${dataset.count} sequences (train ${result.data.train.count}, validation ${result.data.validation.count}, test ${result.data.test.count})`,
    `  ICLRNN 2x64 trained ${result.history.epochsRun} epochs (${fmt(result.history.secondsPerEpoch)} s/epoch, ${kernelLabel(result.history.kernels)})`,
    `  test MSE (scaled) ${fmt(result.testMse, 3)}   (reference after 1000 epochs: 3.0e-4)`,
    `  persistence baseline (the state stays where it is) ${fmt(result.baselineMse, 3)}: skill (test / baseline) ${fmt(result.skill, 3)}`,
    `  model saved to ${modelPath}`,
  ];
  const ctx: DemoContext = { options: o, modelPath, result, summary, lines };
  for (const stage of stages) await stage(ctx);
  summary.totalSeconds = (Date.now() - started) / 1000;
  emit(o.json, summary, () => lines.join('\n'));
}
