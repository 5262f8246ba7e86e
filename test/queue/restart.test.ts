// Distributed sweeps on a real redis-server (issue 14), restarts: the coordinator killed and
// restarted, Redis restarted mid-sweep. In each: every cell once in the results file, nothing lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSweepResults, type SweepResults } from '../../src/train/sweep.ts';
import { count, runCli, sleep, startCli, startRedis, testRedis } from './helpers.ts';

// cells long enough (150 epochs, about 1 s each) that the coordinator, which polls job states every
// 500 ms, cannot have saved every cell before the test kills it or stops Redis
const tiny = ['--system', 'cstr', '--hidden', '3', '--layers', '1', '--batch', '512', '--lipschitz-samples', '20'];
let queueNo = 0;
const queueName = () => `iclrnn-test-restart-${process.pid}-${++queueNo}`;
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `iclrnn-queue-${name}-`));
const read = (path: string): SweepResults => parseSweepResults(JSON.parse(readFileSync(path, 'utf8')));

test('the coordinator killed and restarted re-attaches and collects; nothing finished is trained again', async (t) => {
  const url = await testRedis(t);
  if (!url) return;
  const q = queueName();
  const dir = tmp('coord');
  const out = join(dir, 'r.json');
  const args = ['sweep', ...tiny, '--models', 'iclrnn', '--noise', '0,0.3,0.6', '--epochs', '150', '--out', out, '--queue', url, '--queue-name', q, '--json'];
  const worker = startCli(t, ['worker', '--queue', url, '--queue-name', q, '--stall-interval', '5']);
  await worker.waitFor(/waiting for cells/);
  const first = startCli(t, args);
  await first.waitFor(/cell 1\/3 done/);
  first.proc.kill('SIGKILL');
  await first.exit;
  const saved = Object.keys(read(out).cells).length;
  assert.ok(saved >= 1 && saved < 3, `${saved} cells saved before the kill`);
  // the worker finishes the queued cells while no coordinator runs
  for (let i = 0; i < 600 && count(worker.stderr(), /: done in/) < 3; i++) await sleep(100);
  assert.equal(count(worker.stderr(), /: done in/), 3);
  const second = await runCli(t, args);
  assert.equal(second.code, 0, second.stderr);
  const r = read(out);
  assert.equal(Object.keys(r.cells).length, 3);
  assert.ok(Object.values(r.cells).every((c) => c.status === 'done'));
  assert.equal(count(worker.stderr(), /: started/), 3, 'no cell trained twice');
  assert.equal(JSON.parse(second.stdout).skipped, saved);
  worker.proc.kill('SIGINT');
  assert.equal((await worker.exit).code, 0, worker.stderr());
});

test('Redis restarted mid-sweep: coordinator and worker reconnect; every cell once', async (t) => {
  if (!(await testRedis(t))) return;
  const redis = await startRedis(t);
  const q = queueName();
  const dir = tmp('restart');
  const out = join(dir, 'r.json');
  const worker = startCli(t, ['worker', '--queue', redis.url, '--queue-name', q, '--stall-interval', '10']);
  await worker.waitFor(/waiting for cells/);
  const coord = startCli(t, ['sweep', ...tiny, '--models', 'iclrnn', '--noise', '0,0.3,0.6', '--epochs', '150', '--out', out, '--queue', redis.url, '--queue-name', q, '--json']);
  await coord.waitFor(/cell 1\/3 done/);
  await redis.stop();
  await sleep(1500);
  await redis.start();
  const done = await coord.exit;
  assert.equal(done.code, 0, coord.stderr());
  assert.match(coord.stderr() + worker.stderr(), /Redis unavailable/);
  const r = read(out);
  assert.equal(Object.keys(r.cells).length, 3);
  assert.ok(Object.values(r.cells).every((c) => c.status === 'done'));
  assert.equal(count(coord.stderr(), /cell \d\/3 done/), 3, 'each result recorded once');
  worker.proc.kill('SIGINT');
  assert.equal((await worker.exit).code, 0, worker.stderr());
});
