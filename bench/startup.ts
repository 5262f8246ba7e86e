/**
 * Start-up of the installed CLI (dist/, run `npm run build` first), cold processes, against bare
 * Node in the same run: `node -e 0`, `iclrnn --help`, and `iclrnn predict` of a saved ICLRNN (2x64)
 * on one 10-step sequence. Runs are interleaved so machine load hits all three alike; medians are
 * reported. Targets (issue 8): --help within 2x of `node -e 0`, predict within 4x.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveModel } from '../src/io/model-file.ts';
import { buildModel } from '../src/nn/models.ts';
import { MinMaxScaler } from '../src/nn/scaler.ts';
import { median, writeResult } from './util.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'iclrnn.mjs');

export async function run(repeats = 9): Promise<Record<string, unknown>> {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) return { skipped: 'dist/ is missing; run `npm run build` first' };
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-startup-'));
  try {
    const model = join(dir, 'model.json');
    saveModel(model, {
      model: buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 64, layers: 2, seed: 0 }),
      inputScaler: new MinMaxScaler({ min: [-200, -2, -5e5, -3.5], max: [200, 4, 5e5, 3.5] }),
      outputScaler: new MinMaxScaler({ min: [-200, -2], max: [200, 4] }),
      metadata: { system: 'cstr' },
    });
    const input = join(dir, 'x.json');
    writeFileSync(input, JSON.stringify({ X: Array.from({ length: 10 }, () => [-50, 0.5, 1e5, 1]) }));
    const env = { ...process.env, ICLRNN_FROM_SOURCE: '' };
    const cases: Record<string, string[]> = {
      node: ['-e', '0'],
      help: [bin, '--help'],
      predict: [bin, 'predict', model, '--input', input, '--json'],
    };
    const times: Record<string, number[]> = { node: [], help: [], predict: [] };
    for (let i = 0; i < repeats + 1; i++) {
      for (const [name, args] of Object.entries(cases)) {
        const t0 = process.hrtime.bigint();
        const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (r.status !== 0) throw new Error(`bench startup: ${name} failed (exit ${r.status}): ${r.stderr}`);
        if (i > 0) times[name].push(ms); // the first round warms the file-system cache
      }
    }
    const node = median(times.node), help = median(times.help), predict = median(times.predict);
    const result = {
      repeats,
      medianMs: { node: +node.toFixed(1), help: +help.toFixed(1), predict: +predict.toFixed(1) },
      ratio: { help: +(help / node).toFixed(2), predict: +(predict / node).toFixed(2) },
      target: { help: 2, predict: 4 },
      withinTarget: { help: help / node <= 2, predict: predict / node <= 4 },
      note: 'cold processes of bin/iclrnn.mjs (dist/), interleaved with `node -e 0`; predict: ICLRNN 2x64, one 10-step sequence',
    };
    writeResult('startup', result);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
