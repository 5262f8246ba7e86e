/**
 * Training speed in the dashboard page (the Web Worker in Debian's Chromium) vs in Node, on the same
 * model and data: the CSTR data set (every `--every`-th sample), an ICLRNN `--layers` x `--hidden`,
 * batch 128, Adam 3e-3, `--epochs` epochs. Reports the median seconds per epoch over epochs 2..N
 * (the first one warms up the JIT; Node trains twice, before and after the page) and the ratio
 * page / Node.
 *
 * `npm run bench -- dashboard [--every 4 --hidden 32 --layers 2 --epochs 6]`
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { serveStatic } from '../src/cli/commands/dashboard.ts';
import { buildModel } from '../src/nn/models.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import type { SequenceDataset } from '../src/systems/dataset.ts';
import { prepareData } from '../src/train/pipeline.ts';
import { train } from '../src/train/trainer.ts';
import { arg, median, writeResult } from './util.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const CHROMIUM = process.env.ICLRNN_CHROMIUM ?? '/usr/bin/chromium';

/** The dashboard's subsampling (src/web/worker/worker.ts, 'simulate'). */
function everyKth(every: number): SequenceDataset {
  const full = generateCstrDataset();
  if (every <= 1) return full;
  const keep = Math.floor(full.count / every), s = full.steps;
  const inputs = new Float64Array(keep * s * 4), targets = new Float64Array(keep * s * 2);
  for (let i = 0; i < keep; i++) {
    inputs.set(full.inputs.subarray(i * every * s * 4, (i * every + 1) * s * 4), i * s * 4);
    targets.set(full.targets.subarray(i * every * s * 2, (i * every + 1) * s * 2), i * s * 2);
  }
  return { ...full, count: keep, inputs, targets };
}

export async function run(): Promise<Record<string, unknown>> {
  const every = Number(arg('--every', '4')), hidden = Number(arg('--hidden', '32')), layers = Number(arg('--layers', '2')), epochs = Number(arg('--epochs', '6'));
  const settings = { kind: 'iclrnn' as const, hidden, layers, epochs, batchSize: 128, learningRate: 3e-3, noise: 0, seed: 0 };

  // Node: the same preparation and trainer the worker runs
  const data = everyKth(every);
  const p = prepareData(data, { splitSeed: 0, noise: 0, noiseSeed: 1 });
  const nodeSeconds: number[] = [];
  /** One Node training run; its epochs 2..N join nodeSeconds. Run before and after the page so drifting load hits both sides. */
  const nodeRun = () => {
    const model = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden, layers, seed: 0 });
    const seconds: number[] = [];
    train(model, p.train, p.validation, {
      epochs,
      batchSize: settings.batchSize,
      optimizer: { type: 'adam', learningRate: settings.learningRate },
      seed: 2,
      now: () => performance.now() / 1000,
      onEpoch: (e) => void seconds.push(e.seconds),
    });
    nodeSeconds.push(...seconds.slice(1));
  };
  nodeRun();

  // the page
  if (!existsSync(CHROMIUM)) return { skipped: `no Chromium at ${CHROMIUM}` };
  const out = mkdtempSync(join(tmpdir(), 'iclrnn-bench-web-'));
  const profile = mkdtempSync(join(tmpdir(), 'iclrnn-bench-chromium-'));
  const { buildWeb } = (await import(join(root, 'scripts', 'build-web.mjs'))) as { buildWeb: (o: { outdir: string; quiet: boolean }) => Promise<string> };
  await buildWeb({ outdir: out, quiet: true });
  const server = await serveStatic(out, 0, '127.0.0.1');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let pageSeconds: number[] = [];
  try {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/#view=data`);
    await page.fill('#cstr-every', String(every));
    await page.click('[data-testid="simulate"]');
    await page.waitForSelector('[data-testid="data-count"]', { timeout: 60_000 });
    await page.click('#tab-train');
    await page.selectOption('#train-kind', 'iclrnn');
    for (const [id, v] of [['train-hidden', hidden], ['train-layers', layers], ['train-epochs', epochs], ['train-batch', 128], ['train-lr', 3e-3], ['train-noise', 0], ['train-seed', 0]] as const)
      await page.fill(`#${id}`, String(v));
    await page.click('[data-testid="train-start"]');
    await page.waitForSelector('[data-testid="train-summary"]', { timeout: 600_000 });
    pageSeconds = ((await page.getAttribute('[data-testid="train-summary"]', 'data-epoch-seconds')) ?? '').split(',').map(Number);
  } finally {
    await context.close();
    server.close();
    rmSync(out, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
  nodeRun();
  const nodeMedian = median(nodeSeconds), pageMedian = median(pageSeconds.slice(1));
  const result = {
    model: `iclrnn ${layers}x${hidden}`,
    trainSequences: p.train.count,
    epochs,
    nodeSecondsPerEpoch: nodeMedian,
    pageSecondsPerEpoch: pageMedian,
    ratioPageOverNode: pageMedian / nodeMedian,
    nodeEpochSeconds: nodeSeconds,
    pageEpochSeconds: pageSeconds,
    chromium: CHROMIUM,
  };
  writeResult('dashboard', result);
  return result;
}
