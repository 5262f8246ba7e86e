/**
 * Distributed sweeps on BullMQ + Redis (worker code: this module talks to the network).
 *
 * - The coordinator ({@link coordinateSweep}) puts every pending cell on the queue as a job whose id
 *   is `<sweepId>/<cell key>` (sweepId: a hash of the sweep configuration), so enqueueing twice is a
 *   no-op and a restarted coordinator re-attaches to the jobs of the first; it polls their states and
 *   hands each finished (or finally failed) cell to its caller, which records it.
 * - Workers ({@link startSweepWorker}) validate each job, run it through a caller-supplied runner
 *   (a training thread, so locks are renewed while a cell trains) and return the result. A worker
 *   that dies loses its lock; another worker's stalled-job check puts the job back after the stall
 *   interval. Stopping a worker hands its running cells back to the queue at once.
 * - {@link sweepQueueStatus}: pending / active / done / failed, with the failed cells' messages.
 */
import { Job, Queue, UnrecoverableError, WaitingError, Worker, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { ValidationError } from '../../core/errors.ts';
import { jobIdOf, parseSweepJobResult, type SweepJobPayload, type SweepJobResult } from './payload.ts';

/** Default queue name (one queue holds the jobs of every sweep; ids keep them apart). */
export const DEFAULT_QUEUE_NAME = 'iclrnn-sweep';

/** A parsed `redis://` / `rediss://` URL: connection options and a printable form without the password. */
export interface QueueConnection {
  options: RedisOptions;
  /** The URL with the password replaced by `***` (safe to print). */
  display: string;
}

/**
 * Parses `redis://[user[:password]@]host[:port][/db]` or `rediss://...` (TLS).
 * @param flag the flag or variable the URL came from (for the error message)
 * @throws ValidationError (the message never contains the password)
 */
export function parseQueueUrl(url: string, flag = '--queue'): QueueConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ValidationError(`${flag} must be a URL like redis://HOST:PORT[/DB] or rediss://HOST:PORT[/DB] (got something else)`, { flag });
  }
  const display = (() => {
    const c = new URL(u.href);
    if (c.password) c.password = '***';
    return c.href.replace(/\/$/, '');
  })();
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ValidationError(`${flag}: unsupported scheme '${u.protocol}' in ${display} (expected redis:// or rediss://)`, { flag });
  if (!u.hostname) throw new ValidationError(`${flag}: no host in ${display}`, { flag });
  const port = u.port === '' ? 6379 : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ValidationError(`${flag}: bad port in ${display}`, { flag });
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw new ValidationError(`${flag}: the path of ${display} must be a database number (/0, /1, ...)`, { flag });
  if (u.search || u.hash) throw new ValidationError(`${flag}: ${display} must not have a query or fragment`, { flag });
  const options: RedisOptions = {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    db: path === '' ? 0 : Number(path),
    // BullMQ workers block on Redis; commands wait for a reconnect instead of failing.
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
  if (u.username) options.username = decodeURIComponent(u.username);
  if (u.password) options.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') options.tls = { servername: options.host };
  return { options, display };
}

/**
 * Checks that Redis answers (and accepts the password) before anything is queued.
 * @throws ValidationError naming the URL (without the password) and the reason
 */
export async function checkRedis(c: QueueConnection, timeoutMs = 5000): Promise<void> {
  const client = new Redis({ ...c.options, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new ValidationError(`cannot use Redis at ${c.display}: ${(e as Error).message.replace(c.options.password ?? '\u0000', '***')}`, { cause: e });
  } finally {
    client.disconnect();
  }
}

/** ioredis options as BullMQ's connection option (the same object; the declared types differ slightly). */
function bullConnection(o: RedisOptions): ConnectionOptions {
  return o as unknown as ConnectionOptions;
}

/** Says something about the queue (reconnects, re-enqueued jobs) on the caller's log. */
type Log = (line: string) => void;

/** Logs a connection error once until the connection works again. */
function errorReporter(log: Log, what: string) {
  let last = '';
  return {
    error(e: unknown) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== last) log(`${what}: Redis unavailable (${msg}); retrying`);
      last = msg;
    },
    ok() {
      if (last) log(`${what}: Redis reachable again`);
      last = '';
    },
  };
}

const KEEP_SECONDS = 7 * 24 * 3600;

export interface CoordinateOptions {
  connection: QueueConnection;
  queueName?: string;
  sweepId: string;
  /** The cells to collect (every pending cell of the plan). */
  jobs: SweepJobPayload[];
  /** Attempts per cell before it is marked failed (default 3). */
  attempts?: number;
  /** First retry delay in ms, doubled on each further attempt (default 2000). */
  backoffMs?: number;
  /** How often the job states are polled (default 500 ms). */
  pollMs?: number;
  /** Records a finished cell (writes the model file and the results file). */
  onResult: (job: SweepJobPayload, result: SweepJobResult) => Promise<void> | void;
  /** Records a cell that failed on every attempt. */
  onFailed: (job: SweepJobPayload, message: string) => Promise<void> | void;
  /** Progress: cells still waiting, running ones with their fraction done. */
  onProgress?: (p: { waiting: number; active: { key: string; fraction: number }[] }) => void;
  log: Log;
  /** Stops following (the jobs stay queued; a later coordinator re-attaches). */
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Enqueues the cells (a cell already queued, running or finished under the same id is left as it
 * is; one that failed in an earlier run is retried) and follows them until every one is finished or
 * failed, or `signal` aborts. A job that vanished (Redis lost its data) is enqueued again.
 */
export async function coordinateSweep(o: CoordinateOptions): Promise<void> {
  const queue = new Queue(o.queueName ?? DEFAULT_QUEUE_NAME, { connection: bullConnection(o.connection.options) });
  const health = errorReporter(o.log, 'coordinator');
  queue.on('error', (e) => health.error(e));
  const opts: JobsOptions = {
    attempts: o.attempts ?? 3,
    backoff: { type: 'exponential', delay: o.backoffMs ?? 2000 },
    removeOnComplete: { age: KEEP_SECONDS },
    removeOnFail: { age: KEEP_SECONDS },
  };
  const outstanding = new Map<string, SweepJobPayload>();
  for (const j of o.jobs) outstanding.set(jobIdOf(o.sweepId, j.cell.key), j);
  const add = (id: string, j: SweepJobPayload) => queue.add(j.cell.key, j, { ...opts, jobId: id });
  try {
    // Enqueue (retrying while Redis is away).
    const toEnqueue = [...outstanding.entries()];
    while (toEnqueue.length && !o.signal?.aborted) {
      const [id, j] = toEnqueue[0];
      try {
        const state = await queue.getJobState(id);
        if (state === 'failed' || state === 'completed') {
          const job = await Job.fromId(queue, id);
          const stale = job && (job.data as SweepJobPayload | undefined)?.dataSha256 !== j.dataSha256;
          if (job && stale) {
            await job.remove();
            await add(id, j);
            o.log(`${j.cell.key}: the queue held a result for another data file; enqueued again`);
          } else if (job && state === 'failed') {
            await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
            o.log(`${j.cell.key}: failed in an earlier run (${job.failedReason}); retrying`);
          }
        } else if (state === 'unknown') await add(id, j);
        toEnqueue.shift();
        health.ok();
      } catch (e) {
        health.error(e);
        await sleep(1000, o.signal);
      }
    }
    // Follow.
    while (outstanding.size && !o.signal?.aborted) {
      try {
        let waiting = 0;
        const active: { key: string; fraction: number }[] = [];
        for (const [id, j] of [...outstanding]) {
          if (o.signal?.aborted) break;
          const state = await queue.getJobState(id);
          if (state === 'completed') {
            const job = await Job.fromId(queue, id);
            if (!job) continue;
            let result: SweepJobResult;
            try {
              result = parseSweepJobResult(job.returnvalue, j.cell.key);
            } catch (e) {
              await o.onFailed(j, (e as Error).message);
              outstanding.delete(id);
              continue;
            }
            await o.onResult(j, result);
            outstanding.delete(id);
          } else if (state === 'failed') {
            const job = await Job.fromId(queue, id);
            await o.onFailed(j, `${job?.failedReason ?? 'failed'} (after ${job?.attemptsMade ?? '?'} attempt(s))`);
            outstanding.delete(id);
          } else if (state === 'unknown') {
            o.log(`${j.cell.key}: its job is gone from Redis (restarted without persistence?); enqueued again`);
            await add(id, j);
            waiting++;
          } else if (state === 'active') {
            const job = await Job.fromId(queue, id);
            const p = job?.progress as { epoch?: number; epochs?: number } | undefined;
            active.push({ key: j.cell.key, fraction: p && typeof p.epoch === 'number' && p.epochs ? Math.min(1, p.epoch / p.epochs) : 0 });
          } else waiting++;
        }
        health.ok();
        o.onProgress?.({ waiting, active });
      } catch (e) {
        health.error(e);
      }
      if (outstanding.size) await sleep(o.pollMs ?? 500, o.signal);
    }
  } finally {
    await queue.close().catch(() => {});
  }
}

export interface SweepWorkerOptions {
  connection: QueueConnection;
  queueName?: string;
  /** Cells run at the same time (each in its own runner slot). */
  concurrency: number;
  /** Lock duration and stalled-job check interval in ms (default 30000): how soon a dead worker's cell is retried. */
  stallIntervalMs?: number;
  /** Validates a job's data (throws a message for malformed or foreign jobs). */
  validate: (data: unknown) => SweepJobPayload;
  /** Runs a cell in runner slot `slot` (0..concurrency-1); rejects with `handBackError` when stopped. */
  runCell: (job: SweepJobPayload, slot: number, progress: (p: { epoch: number; epochs: number }) => void) => Promise<SweepJobResult>;
  /** True for the error `runCell` rejects with when the worker is stopping (the cell is handed back). */
  isHandBack: (e: unknown) => boolean;
  log: Log;
}

/** A running worker. */
export interface SweepWorkerHandle {
  /** Resolves when the worker has connected. */
  ready: Promise<void>;
  /** Stops fetching, waits for the running cells to finish or be handed back (after `stopRunners`), disconnects. */
  close(stopRunners: () => Promise<void>): Promise<void>;
  /** Cells finished, failed and handed back so far. */
  counts: { done: number; failed: number; handedBack: number };
}

/** Starts a worker that runs sweep cells from the queue until closed. */
export function startSweepWorker(o: SweepWorkerOptions): SweepWorkerHandle {
  const stall = o.stallIntervalMs ?? 30000;
  const free = Array.from({ length: o.concurrency }, (_, i) => i);
  const counts = { done: 0, failed: 0, handedBack: 0 };
  const health = errorReporter(o.log, 'worker');
  const worker = new Worker(
    o.queueName ?? DEFAULT_QUEUE_NAME,
    async (job, token) => {
      let payload: SweepJobPayload;
      try {
        payload = o.validate(job.data);
      } catch (e) {
        counts.failed++;
        o.log(`job ${job.id}: rejected: ${(e as Error).message}`);
        throw new UnrecoverableError((e as Error).message);
      }
      const slot = free.shift() ?? 0;
      const started = Date.now();
      o.log(`${payload.cell.key}: started (attempt ${job.attemptsMade + 1}${job.opts.attempts ? ` of ${job.opts.attempts}` : ''}${job.stalledCounter > 0 ? `; its worker was lost ${job.stalledCounter} time(s)` : ''})`);
      let lastProgress = 0;
      try {
        const result = await o.runCell(payload, slot, (p) => {
          const now = Date.now();
          if (now - lastProgress < 1000 && p.epoch < p.epochs) return;
          lastProgress = now;
          job.updateProgress({ epoch: p.epoch, epochs: p.epochs }).catch(() => {});
        });
        counts.done++;
        o.log(`${payload.cell.key}: done in ${((Date.now() - started) / 1000).toFixed(1)} s, test MSE ${result.metrics.testMse}`);
        return result;
      } catch (e) {
        if (o.isHandBack(e)) {
          counts.handedBack++;
          await job.moveToWait(token);
          o.log(`${payload.cell.key}: handed back to the queue`);
          throw new WaitingError();
        }
        counts.failed++;
        o.log(`${payload.cell.key}: failed: ${(e as Error).message}`);
        throw e;
      } finally {
        free.push(slot);
      }
    },
    {
      connection: bullConnection(o.connection.options),
      concurrency: o.concurrency,
      lockDuration: stall,
      stalledInterval: stall,
      maxStalledCount: 2,
      autorun: true,
    },
  );
  worker.on('error', (e) => health.error(e));
  worker.on('ready', () => health.ok());
  const ready = worker.waitUntilReady().then(() => undefined);
  return {
    ready,
    counts,
    async close(stopRunners) {
      const closing = worker.close();
      await stopRunners();
      await closing;
    },
  };
}

/** State of a sweep's cells on the queue. */
export interface SweepQueueStatus {
  queue: string;
  counts: { pending: number; active: number; done: number; failed: number };
  failed: { id: string; key: string; message: string; attempts: number }[];
  active: { id: string; key: string; fraction: number }[];
}

/**
 * Counts the jobs of the queue, or of the given job ids only (a sweep's cells); lists the failed
 * ones with their messages.
 */
export async function sweepQueueStatus(c: QueueConnection, queueName = DEFAULT_QUEUE_NAME, ids?: string[]): Promise<SweepQueueStatus> {
  const queue = new Queue(queueName, { connection: bullConnection({ ...c.options, maxRetriesPerRequest: 1, retryStrategy: () => null }) });
  queue.on('error', () => {});
  try {
    const out: SweepQueueStatus = { queue: queueName, counts: { pending: 0, active: 0, done: 0, failed: 0 }, failed: [], active: [] };
    const describe = async (job: Job) => {
      const key = (job.data as SweepJobPayload | undefined)?.cell?.key ?? job.name;
      return { id: job.id ?? '?', key };
    };
    if (ids) {
      for (const id of ids) {
        const state = await queue.getJobState(id);
        if (state === 'unknown') continue;
        if (state === 'completed') out.counts.done++;
        else if (state === 'failed') {
          out.counts.failed++;
          const job = await Job.fromId(queue, id);
          if (job) out.failed.push({ ...(await describe(job)), message: job.failedReason, attempts: job.attemptsMade });
        } else if (state === 'active') {
          out.counts.active++;
          const job = await Job.fromId(queue, id);
          const p = job?.progress as { epoch?: number; epochs?: number } | undefined;
          if (job) out.active.push({ ...(await describe(job)), fraction: p?.epochs ? (p.epoch ?? 0) / p.epochs : 0 });
        } else out.counts.pending++;
      }
      return out;
    }
    const n = await queue.getJobCounts('wait', 'delayed', 'prioritized', 'waiting-children', 'active', 'completed', 'failed');
    out.counts.pending = (n.wait ?? 0) + (n.delayed ?? 0) + (n.prioritized ?? 0) + (n['waiting-children'] ?? 0);
    out.counts.active = n.active ?? 0;
    out.counts.done = n.completed ?? 0;
    out.counts.failed = n.failed ?? 0;
    for (const job of await queue.getFailed(0, 99)) out.failed.push({ ...(await describe(job as Job)), message: job.failedReason, attempts: job.attemptsMade });
    for (const job of await queue.getActive(0, 99)) {
      const p = job.progress as { epoch?: number; epochs?: number } | undefined;
      out.active.push({ ...(await describe(job as Job)), fraction: p?.epochs ? (p.epoch ?? 0) / p.epochs : 0 });
    }
    return out;
  } finally {
    await queue.close().catch(() => {});
  }
}
