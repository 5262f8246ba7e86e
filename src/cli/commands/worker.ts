/**
 * `iclrnn worker --queue URL [--concurrency N]`: runs the cells of distributed sweeps
 * (`iclrnn sweep --queue URL`) until stopped. Each job is validated before it runs (a malformed or
 * foreign job fails with a message, the worker goes on); the data file of file-based systems must
 * have the SHA-256 the coordinator recorded. SIGINT / SIGTERM hand the running cells back to the
 * queue (another worker takes them at once) and exit 0. One line per event on stderr.
 */
import type { Command } from 'commander';
import { MODEL_KINDS } from '../../nn/models.ts';
import { parseSweepJob } from '../../train/distributed/payload.ts';
import { sweepIdOf } from '../../train/distributed/sweep-id.ts';
import { CellRunner, CellRunnerStopped } from '../sweep-cell-runner.ts';
import { SYSTEMS } from '../systems.ts';
import { numberOption, positive, positiveInt, UsageError } from '../util.ts';

/** Seconds a stop may wait for Redis before the worker exits anyway. */
const STOP_TIMEOUT_S = 15;

interface WorkerFlags {
  queue?: string | true;
  queueName?: string;
  concurrency?: string;
  stallInterval?: string;
}

async function workerCommand(f: WorkerFlags): Promise<void> {
  const url = typeof f.queue === 'string' ? f.queue : process.env.ICLRNN_REDIS_URL;
  if (!url) throw new UsageError('worker needs --queue redis://HOST:PORT[/DB] (or ICLRNN_REDIS_URL in the environment)', { flag: '--queue' });
  const concurrency = numberOption('--concurrency', f.concurrency, 1, positiveInt, 'a positive integer');
  const stallSeconds = numberOption('--stall-interval', f.stallInterval, 30, (x) => positive(x) && x >= 0.5, 'a number of seconds >= 0.5');
  const { checkRedis, parseQueueUrl, startSweepWorker, DEFAULT_QUEUE_NAME } = await import('../../train/distributed/queue.ts');
  const connection = parseQueueUrl(url, typeof f.queue === 'string' ? '--queue' : 'ICLRNN_REDIS_URL');
  await checkRedis(connection);
  const log = (line: string) => process.stderr.write(`worker ${process.pid}: ${line}\n`);
  const runners = Array.from({ length: concurrency }, () => new CellRunner());
  const handle = startSweepWorker({
    connection,
    queueName: f.queueName,
    concurrency,
    stallIntervalMs: Math.round(stallSeconds * 1000),
    validate: (data) => parseSweepJob(data, { models: MODEL_KINDS, systems: SYSTEMS }, sweepIdOf),
    runCell: (job, slot, progress) => runners[slot].run(job, (e) => progress({ epoch: e.epoch, epochs: e.epochs })),
    isHandBack: (e) => e instanceof CellRunnerStopped,
    log,
  });
  await handle.ready;
  log(`waiting for cells on ${connection.display} (queue ${f.queueName ?? DEFAULT_QUEUE_NAME}, concurrency ${concurrency}, stall interval ${stallSeconds} s); Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log(`${sig}: handing the running cells back to the queue and stopping`);
      // a connection that is still re-establishing itself (Redis restarted) can hold the close
      // forever: stop anyway, the queue's stall check gives any cell still held to another worker
      const deadline = setTimeout(() => {
        log(`Redis did not confirm the stop within ${STOP_TIMEOUT_S} s; exiting (a cell still held returns to the queue after the stall interval)`);
        process.exit(0);
      }, STOP_TIMEOUT_S * 1000);
      deadline.unref();
      handle
        .close(async () => {
          await Promise.all(runners.map((r) => r.stop()));
        })
        .catch((e) => log(`while stopping: ${(e as Error).message}`))
        .finally(() => {
          clearTimeout(deadline);
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onTerm);
          resolve();
        });
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  const c = handle.counts;
  log(`stopped: ${c.done} cell(s) done, ${c.failed} failed, ${c.handedBack} handed back`);
}

/** Registers `iclrnn worker` (listed in commands/index.ts, loaded when it runs). */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the cells of distributed sweeps (`iclrnn sweep --queue URL`) from a Redis queue until stopped')
    .option('--queue [url]', 'Redis URL: redis://[:PASSWORD@]HOST:PORT[/DB] or rediss:// (TLS); without a URL, $ICLRNN_REDIS_URL')
    .option('--queue-name <name>', 'BullMQ queue name (default iclrnn-sweep; the coordinator must use the same)')
    .option('--concurrency <n>', 'cells trained at the same time (one thread each)', '1')
    .option('--stall-interval <s>', 'seconds after which the cell of a worker that died is given to another worker', '30')
    .action(workerCommand);
}
