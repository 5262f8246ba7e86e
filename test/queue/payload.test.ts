// Distributed-sweep logic that needs no Redis: URLs (the password never shows), job ids, job payload
// and result validation, merging of results files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationError } from '../../src/core/errors.ts';
import { jobIdOf, parseSweepJob, parseSweepJobResult, SWEEP_JOB_FORMAT, SWEEP_JOB_RESULT_FORMAT, type SweepJobPayload } from '../../src/train/distributed/payload.ts';
import { parseQueueUrl } from '../../src/train/distributed/queue.ts';
import { sweepIdOf } from '../../src/train/distributed/sweep-id.ts';
import { cellKey, emptySweepResults, failedCellResult, doneCellResult, mergeSweepResults, SweepConfigMismatchError } from '../../src/train/sweep.ts';

const config = {
  system: 'cstr',
  data: { system: 'cstr', splitSeed: 0 },
  hidden: 3, layers: 1, epochs: 2, batchSize: 512, learningRate: 1e-3,
  optimizer: 'adam', spectralMode: 'projection', k: 1,
  lipschitz: { method: 'reference-perturbation', eps: 1e-4, samples: 20 },
};
const known = { models: ['iclrnn', 'rnn'], systems: ['cstr', 'timeseries'] };
const job = (over: Partial<SweepJobPayload> = {}): SweepJobPayload => ({
  format: SWEEP_JOB_FORMAT, version: 1, sweepId: sweepIdOf(config), config,
  cell: { key: cellKey('rnn', 0.9, 0), model: 'rnn', noise: 0.9, seed: 0 }, dataSha256: null, saveModels: true, ...over,
});

test('queue URLs: host, port, db, TLS; the password is never in the printable form or the errors', () => {
  const c = parseQueueUrl('redis://user:p%40ss-word@example.org:6380/2');
  assert.equal(c.options.host, 'example.org');
  assert.equal(c.options.port, 6380);
  assert.equal(c.options.db, 2);
  assert.equal(c.options.username, 'user');
  assert.equal(c.options.password, 'p@ss-word');
  assert.equal(c.options.tls, undefined);
  assert.equal(c.display, 'redis://user:***@example.org:6380/2');
  const s = parseQueueUrl('rediss://:secret@10.0.0.5');
  assert.equal(s.options.port, 6379);
  assert.equal(s.options.db, 0);
  assert.deepEqual(s.options.tls, { servername: '10.0.0.5' });
  assert.doesNotMatch(s.display, /secret/);
  for (const bad of ['http://:secret@h:1', 'redis://:secret@h:1/x', 'redis://:secret@h:99999', 'not a url secret', 'redis://:secret@h:1/0?tls=1']) {
    const e = (() => {
      try {
        parseQueueUrl(bad);
      } catch (err) {
        return err as ValidationError;
      }
      return null;
    })();
    assert.ok(e instanceof ValidationError, bad);
    assert.doesNotMatch(e.message, /secret/, e.message);
    assert.equal(e.flag, '--queue');
  }
});

test('sweep ids and job ids: deterministic, independent of key order, no ":" (BullMQ); different configs differ', () => {
  const reordered = Object.fromEntries(Object.entries(config).reverse());
  assert.equal(sweepIdOf(reordered), sweepIdOf(config));
  assert.match(sweepIdOf(config), /^[0-9a-f]{16}$/);
  assert.notEqual(sweepIdOf({ ...config, epochs: 3 }), sweepIdOf(config));
  fc.assert(
    fc.property(fc.constantFrom('iclrnn', 'rnn', 'lstm'), fc.double({ min: 0, max: 10, noNaN: true }), fc.integer(), (m, n, s) => {
      const id = jobIdOf(sweepIdOf(config), cellKey(m, n, s));
      return !id.includes(':') && id.startsWith(sweepIdOf(config) + '/');
    }),
  );
});

test('job payloads: a valid one passes; malformed and foreign ones fail with a message naming the problem', () => {
  assert.deepEqual(parseSweepJob(job(), known, sweepIdOf), job());
  const cases: [unknown, RegExp][] = [
    [null, /not an object/],
    [{ color: 'blue' }, /format/],
    [{ ...job(), version: 2 }, /version 2/],
    [{ ...job(), cell: { ...job().cell, model: 'transformer', key: cellKey('transformer', 0.9, 0) } }, /unknown model "transformer"/],
    [{ ...job(), cell: { ...job().cell, key: 'rnn/noise=0/seed=0' } }, /does not match/],
    [{ ...job(), cell: { ...job().cell, noise: -1, key: cellKey('rnn', -1, 0) } }, /noise/],
    [{ ...job(), config: { ...config, hidden: 0 } }, /hidden/],
    [{ ...job(), config: { ...config, system: 'mars' } }, /unknown system "mars"/],
    [{ ...job(), config: { ...config, data: { system: 'cstr', splitSeed: 0, data: 'x.csv' } } }, /without its SHA-256/],
    [{ ...job(), dataSha256: 'abc' }, /dataSha256/],
    [{ ...job(), saveModels: 'yes' }, /saveModels/],
    [{ ...job(), config: { ...config, epochs: 7 } }, /sweepId/],
  ];
  for (const [data, re] of cases) {
    assert.throws(() => parseSweepJob(data, known, sweepIdOf), (e: unknown) => e instanceof ValidationError && re.test(e.message) && /not a valid iclrnn sweep job/.test(e.message), `${JSON.stringify(data)?.slice(0, 80)} should match ${re}`);
  }
});

test('job results are validated', () => {
  const key = cellKey('rnn', 0.9, 0);
  const ok = { format: SWEEP_JOB_RESULT_FORMAT, version: 1, key, metrics: { testMse: 0.5 }, modelText: null, worker: 'h:1' };
  assert.equal(parseSweepJobResult(ok, key).metrics.testMse, 0.5);
  assert.throws(() => parseSweepJobResult({ ...ok, key: 'other' }, key), /is for "other"/);
  assert.throws(() => parseSweepJobResult({ ...ok, metrics: { testMse: 'x' } }, key), /testMse/);
  assert.throws(() => parseSweepJobResult(42, key), /not an object/);
});

test('merging results files keeps every finished cell of both; done beats failed; configs must match', () => {
  const a = emptySweepResults(config, '2026-01-01T00:00:00Z');
  const b = emptySweepResults(config, '2026-01-02T00:00:00Z');
  const c1 = { key: cellKey('iclrnn', 0, 0), model: 'iclrnn', noise: 0, seed: 0 };
  const c2 = { key: cellKey('rnn', 0, 0), model: 'rnn', noise: 0, seed: 0 };
  a.models = ['iclrnn'];
  b.models = ['rnn'];
  a.cells[c1.key] = doneCellResult(c1, { testMse: 0.1 }, 't1');
  b.cells[c2.key] = doneCellResult(c2, { testMse: 0.2 }, 't2');
  b.cells[c1.key] = failedCellResult(c1, 'diverged', 't3');
  const m = mergeSweepResults(a, b);
  assert.deepEqual(Object.keys(m.cells).sort(), [c1.key, c2.key].sort());
  assert.equal(m.cells[c1.key].status, 'done', 'a finished cell is never replaced by a failure');
  assert.deepEqual(m.models, ['iclrnn', 'rnn']);
  assert.equal(m.createdAt, '2026-01-01T00:00:00Z');
  // a newer finished copy of a failed cell wins
  const back = mergeSweepResults(b, a);
  assert.equal(back.cells[c1.key].status, 'done');
  assert.throws(() => mergeSweepResults(a, emptySweepResults({ ...config, epochs: 9 })), SweepConfigMismatchError);
});
