/**
 * Peak memory (maximum resident set size) of `iclrnn` commands, cold processes (issue 9 item 15):
 * `--help`, `train` of the 2x64 ICLRNN on the CSTR (a few epochs: the peak does not grow with the
 * epoch count), `predict` and `certify` of the trained model. Uses dist/ when built, else the
 * TypeScript sources through tsx (which itself costs memory; `source` says which). The peak is read
 * in the child process (`process.resourceUsage().maxRSS` at exit), so no external tool is needed.
 * Target: `train` under 200 MB.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, writeResult } from './util.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'iclrnn.mjs');
// Prints the peak RSS (kB) on stderr when the process exits, whatever the command does.
const PROBE = `data:text/javascript,import { writeSync } from 'node:fs'; process.on('exit', () => writeSync(2, '\\nICLRNN_MAXRSS_KB ' + process.resourceUsage().maxRSS + '\\n'));`;

function peakMb(args: string[], env: NodeJS.ProcessEnv): { mb: number; seconds: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', PROBE, bin, ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  const m = /ICLRNN_MAXRSS_KB (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`bench memory: iclrnn ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.slice(0, 500)}`);
  return { mb: +(Number(m[1]) / 1024).toFixed(1), seconds: +seconds.toFixed(1) };
}

export async function run(): Promise<Record<string, unknown>> {
  const epochs = arg('--epochs', '2');
  const dist = existsSync(join(root, 'dist', 'cli', 'main.js'));
  const env = { ...process.env, ICLRNN_FROM_SOURCE: dist ? '' : '1' };
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-memory-'));
  try {
    const model = join(dir, 'model.json');
    const input = join(dir, 'x.json');
    writeFileSync(input, JSON.stringify({ X: Array.from({ length: 10 }, () => [-50, 0.5, 1e5, 1]) }));
    const help = peakMb(['--help'], env);
    const train = peakMb(['train', '--system', 'cstr', '--model', 'iclrnn', '--hidden', '64', '--layers', '2', '--epochs', epochs, '--out', model, '--json'], env);
    const predict = peakMb(['predict', model, '--input', input, '--json'], env);
    const certify = peakMb(['certify', model, '--json'], env);
    const result = {
      source: dist ? 'dist' : 'src (tsx)',
      peakMb: { help: help.mb, train: train.mb, predict: predict.mb, certify: certify.mb },
      seconds: { help: help.seconds, train: train.seconds, predict: predict.seconds, certify: certify.seconds },
      trainEpochs: Number(epochs),
      target: { trainMb: 200 },
      withinTarget: { train: train.mb < 200 },
      note: 'maximum resident set size of cold processes (process.resourceUsage().maxRSS at exit); train: ICLRNN 2x64 on the CSTR',
    };
    writeResult('memory', result);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
