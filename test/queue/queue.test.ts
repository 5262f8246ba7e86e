// Distributed sweeps on a real redis-server (issue 14): same results as in-process, bit for bit;
// a worker killed mid-cell, a cell that fails on every attempt (restarts: restart.test.ts). In each:
// every cell once in the results file, nothing lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSweepResults, type SweepCellResult, type SweepResults } from '../../src/train/sweep.ts';
import { count, runCli, sleep, startCli, testRedis } from './helpers.ts';

const tiny = ['--system', 'cstr', '--hidden', '3', '--layers', '1', '--batch', '512', '--lipschitz-samples', '20'];
let queueNo = 0;
const queueName = () => `iclrnn-test-${process.pid}-${++queueNo}`;
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `iclrnn-queue-${name}-`));
const read = (path: string): SweepResults => parseSweepResults(JSON.parse(readFileSync(path, 'utf8')));
/** A cell without its wall-clock fields. */
const timeless = (c: SweepCellResult) => {
  const { trainSeconds: _a, secondsPerEpoch: _b, finishedAt: _c, modelFile, ...rest } = c;
  return { ...rest, modelFile: typeof modelFile === 'string' ? modelFile.replace(/^[ab]\.models\//, '') : modelFile };
};

test('distributed results equal in-process results bit for bit; a results file finished by a mix of both', async (t) => {
  const url = await testRedis(t);
  if (!url) return;
  const q = queueName();
  const dir = tmp('same');
  const plan = [...tiny, '--models', 'iclrnn,rnn', '--noise', '0,0.9', '--epochs', '2'];
  const worker = startCli(t, ['worker', '--queue', url, '--queue-name', q, '--stall-interval', '5']);
  const inProcess = runCli(t, ['sweep', ...plan, '--out', join(dir, 'a.json')]);
  // b.json: the ICLRNN cells in-process, then the whole plan through the queue (only the RNN cells are queued)
  const half = await runCli(t, ['sweep', ...tiny, '--models', 'iclrnn', '--noise', '0,0.9', '--epochs', '2', '--out', join(dir, 'b.json')]);
  assert.equal(half.code, 0, half.stderr);
  await worker.waitFor(/waiting for cells/);
  const queued = await runCli(t, ['sweep', ...plan, '--out', join(dir, 'b.json'), '--queue', url, '--queue-name', q, '--json']);
  assert.equal(queued.code, 0, queued.stderr);
  const j = JSON.parse(queued.stdout);
  assert.equal(j.ran, 2);
  assert.equal(j.skipped, 2);
  const a = await inProcess;
  assert.equal(a.code, 0, a.stderr);
  const A = read(join(dir, 'a.json')), B = read(join(dir, 'b.json'));
  assert.deepEqual(Object.keys(B.cells).sort(), Object.keys(A.cells).sort());
  for (const key of Object.keys(A.cells)) {
    assert.equal(B.cells[key].status, 'done');
    assert.deepEqual(timeless(B.cells[key]), timeless(A.cells[key]), `cell ${key}`);
    const ma = JSON.parse(readFileSync(join(dir, A.cells[key].modelFile as string), 'utf8'));
    const mb = JSON.parse(readFileSync(join(dir, B.cells[key].modelFile as string), 'utf8'));
    delete ma.metadata.metrics.secondsPerEpoch;
    delete mb.metadata.metrics.secondsPerEpoch;
    assert.deepEqual(mb, ma, `model file of ${key}`);
  }
  // each queued cell ran once; enqueueing the same sweep again is a no-op (nothing is trained)
  assert.equal(count(worker.stderr(), /: started/), 2);
  const again = await runCli(t, ['sweep', ...plan, '--out', join(dir, 'b.json'), '--queue', url, '--queue-name', q, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).skipped, 4);
  assert.equal(count(worker.stderr(), /: started/), 2);
  // the password is never printed (this Redis has none: it warns and goes on, everything is already done)
  const withPassword = await runCli(t, ['sweep', ...plan, '--out', join(dir, 'c.json'), '--queue', url.replace('redis://', 'redis://:s3cret-pw@'), '--queue-name', q]);
  assert.doesNotMatch(withPassword.stderr + withPassword.stdout, /s3cret-pw/);
  assert.match(withPassword.stderr, /\*\*\*/);
  worker.proc.kill('SIGINT');
  const w = await worker.exit;
  assert.equal(w.code, 0, worker.stderr());
});

test('a worker killed mid-cell: another worker retries the cell after the stall interval; the result appears once', async (t) => {
  const url = await testRedis(t);
  if (!url) return;
  const q = queueName();
  const dir = tmp('kill');
  // w1 takes both cells (concurrency 2) and is killed mid-cell
  const w1 = startCli(t, ['worker', '--queue', url, '--queue-name', q, '--stall-interval', '2', '--concurrency', '2']);
  await w1.waitFor(/waiting for cells/);
  const coord = startCli(t, ['sweep', ...tiny, '--models', 'iclrnn', '--noise', '0,0.9', '--epochs', '80', '--out', join(dir, 'r.json'), '--queue', url, '--queue-name', q, '--json']);
  for (let i = 0; i < 6000 && count(w1.stderr(), /: started/) < 2; i++) await sleep(20);
  assert.equal(count(w1.stderr(), /: started/), 2);
  w1.proc.kill('SIGKILL');
  await w1.exit;
  assert.equal(count(w1.stderr(), /: done in/), 0, 'killed mid-cell');
  const w2 = startCli(t, ['worker', '--queue', url, '--queue-name', q, '--stall-interval', '2']);
  // w2 takes the killed cells after the stall interval: it finishes the first, starts the second;
  // Ctrl-C then hands that one back at once (exit 0) and a third worker finishes it
  const [, first] = await w2.waitFor(/: (\S+): done in/, 120000);
  for (let i = 0; i < 6000 && count(w2.stderr(), /: started/) < 2; i++) await sleep(20);
  const second = [...w2.stderr().matchAll(/: (\S+): started/g)].at(-1)![1];
  assert.notEqual(second, first);
  w2.proc.kill('SIGINT');
  assert.equal((await w2.exit).code, 0, w2.stderr());
  const handedBack = count(w2.stderr(), /handed back to the queue/);
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (!new RegExp(`${esc(second)}: done in`).test(w2.stderr())) assert.equal(handedBack, 1, `the running cell is handed back on SIGINT:\n${w2.stderr()}`);
  const w3 = startCli(t, ['worker', '--queue', url, '--queue-name', q, '--stall-interval', '2']);
  const done = await coord.exit;
  assert.equal(done.code, 0, coord.stderr());
  const r = read(join(dir, 'r.json'));
  assert.equal(Object.keys(r.cells).length, 2);
  assert.ok(Object.values(r.cells).every((c) => c.status === 'done'));
  assert.equal(count(w2.stderr(), /: done in/) + count(w3.stderr(), /: done in/), 2, 'every cell finished once after the kill');
  if (handedBack) assert.match(w3.stderr(), new RegExp(`${second.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: started`), 'the handed-back cell ran on the third worker');
  assert.equal(count(coord.stderr(), /cell \d\/2 done/), 2, 'each result recorded once');
  w3.proc.kill('SIGTERM');
  assert.equal((await w3.exit).code, 0);
});

test('a cell that fails on every attempt is marked failed with its message; a foreign job does not stop the worker', async (t) => {
  const url = await testRedis(t);
  if (!url) return;
  const q = queueName();
  const dir = tmp('fail');
  const csv = join(dir, 'bad.csv');
  writeFileSync(csv, 'u,y\n' + Array.from({ length: 40 }, (_, i) => (i === 17 ? '0.5,oops' : `${i / 40},${(i * 7) % 5}`)).join('\n') + '\n');
  const worker = startCli(t, ['worker', '--queue', url, '--queue-name', q, '--stall-interval', '5']);
  await worker.waitFor(/waiting for cells/);
  // a job that is not an iclrnn sweep job
  const { Queue } = await import('bullmq');
  const { parseQueueUrl } = await import('../../src/train/distributed/queue.ts');
  const foreign = new Queue(q, { connection: parseQueueUrl(url).options as never });
  t.after(() => foreign.close());
  await foreign.add('paint', { color: 'blue' }, { jobId: 'foreign-1' });
  await worker.waitFor(/job foreign-1: rejected: not a valid iclrnn sweep job/);
  for (let i = 0; i < 100 && (await foreign.getJobState('foreign-1')) !== 'failed'; i++) await sleep(50);
  assert.equal(await foreign.getJobState('foreign-1'), 'failed');
  const coord = await runCli(t, ['sweep', '--system', 'timeseries', '--data', csv, '--inputs', 'u', '--outputs', 'y', '--window', '5', '--models', 'rnn', '--noise', '0', '--epochs', '1', '--hidden', '3', '--layers', '1', '--out', join(dir, 'r.json'), '--queue', url, '--queue-name', q, '--attempts', '2', '--retry-delay', '0.2', '--json']);
  assert.equal(coord.code, 0, coord.stderr);
  const j = JSON.parse(coord.stdout);
  assert.equal(j.failed, 1);
  const cell = read(join(dir, 'r.json')).cells['rnn/noise=0/seed=0'];
  assert.equal(cell.status, 'failed');
  assert.match(cell.error ?? '', /bad\.csv/);
  assert.match(cell.error ?? '', /after 2 attempt/);
  assert.equal(count(worker.stderr(), /rnn\/noise=0\/seed=0: started/), 2, 'bounded attempts');
  const status = await runCli(t, ['sweep', 'status', '--queue', url, '--queue-name', q, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const st = JSON.parse(status.stdout);
  assert.equal(st.failed, 2);
  assert.ok(st.failedCells.some((c: { key: string; message: string }) => c.key === 'rnn/noise=0/seed=0' && /bad\.csv/.test(c.message)));
  worker.proc.kill('SIGINT');
  assert.equal((await worker.exit).code, 0, worker.stderr());
});
