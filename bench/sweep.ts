/**
 * Distributed sweep benchmark (issue 14): a sweep of 4 cells (ICLRNN and RNN x noise 0 and 0.9,
 * 20 epochs each, the sweep's default 2x64 architecture) run in-process, then through a private
 * redis-server by 2 local `iclrnn worker`s (started and ready before the clock starts: workers are
 * long-lived). Reports both wall-clock times (the whole `iclrnn sweep` command, start-up included),
 * the speed-up, and the machine's load average (other processes share the cores).
 * Options: --hidden N --layers N --epochs N (defaults 64, 2, 20).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, writeResult } from './util.ts';

const bin = fileURLToPath(new URL('../bin/iclrnn.mjs', import.meta.url));
const env = { ...process.env, ICLRNN_FROM_SOURCE: process.env.ICLRNN_FROM_SOURCE ?? '1' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function timed(args: string[]): Promise<{ seconds: number; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ seconds: (performance.now() - t0) / 1000, code, stderr }));
  });
}

function waitFor(p: ChildProcess, re: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let err = '';
    p.stderr!.on('data', (d) => {
      err += d;
      if (re.test(err)) resolve();
    });
    p.on('close', () => reject(new Error(`worker exited: ${err}`)));
  });
}

export async function run(): Promise<Record<string, unknown>> {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    const r = { skipped: 'redis-server not found (apt-get install redis-server)' };
    console.error(`sweep bench: ${r.skipped}`);
    return r;
  }
  const hidden = arg('--hidden', '64'), layers = arg('--layers', '2'), epochs = arg('--epochs', '20');
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-bench-sweep-'));
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const workers: ChildProcess[] = [];
  try {
    for (let i = 0; i < 50 && spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 100));
    const plan = ['sweep', '--system', 'cstr', '--models', 'iclrnn,rnn', '--noise', '0,0.9', '--epochs', epochs, '--hidden', hidden, '--layers', layers, '--lipschitz-samples', '200'];
    const loadBefore = loadavg()[0];
    console.error(`sweep bench: in-process (4 cells, ${layers}x${hidden}, ${epochs} epochs)...`);
    const inProcess = await timed([...plan, '--out', join(dir, 'in-process.json')]);
    if (inProcess.code !== 0) throw new Error(`in-process sweep failed: ${inProcess.stderr}`);
    for (let i = 0; i < 2; i++) {
      const w = spawn(process.execPath, [bin, 'worker', '--queue', url], { stdio: ['ignore', 'ignore', 'pipe'], env });
      workers.push(w);
    }
    await Promise.all(workers.map((w) => waitFor(w, /waiting for cells/)));
    console.error('sweep bench: 2 workers...');
    const distributed = await timed([...plan, '--out', join(dir, 'distributed.json'), '--queue', url]);
    if (distributed.code !== 0) throw new Error(`distributed sweep failed: ${distributed.stderr}`);
    const loadAfter = loadavg()[0];
    const cellsOf = (f: string) => Object.values((JSON.parse(readFileSync(join(dir, f), 'utf8')) as { cells: Record<string, { key: string; testMse: number; trainSeconds: number }> }).cells);
    const a = cellsOf('in-process.json'), b = cellsOf('distributed.json');
    const sameMse = a.every((c) => b.find((d) => d.key === c.key)?.testMse === c.testMse);
    const result = {
      cells: 4,
      architecture: `${layers}x${hidden}`,
      epochs: Number(epochs),
      inProcessSeconds: +inProcess.seconds.toFixed(2),
      twoWorkersSeconds: +distributed.seconds.toFixed(2),
      speedup: +(inProcess.seconds / distributed.seconds).toFixed(2),
      cellSecondsInProcess: a.map((c) => +c.trainSeconds.toFixed(2)),
      cellSecondsTwoWorkers: b.map((c) => +c.trainSeconds.toFixed(2)),
      sameTestMse: sameMse,
      cores: cpus().length,
      loadAverageBefore: +loadBefore.toFixed(2),
      loadAverageAfter: +loadAfter.toFixed(2),
      note: 'wall-clock of the whole `iclrnn sweep` command (start-up included); workers started beforehand; other processes share the cores (see the load averages)',
    };
    writeResult('sweep', result);
    return result;
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.on('close', r)))));
    spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
    redis.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
