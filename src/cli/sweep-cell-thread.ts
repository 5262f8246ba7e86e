/**
 * Entry of the training thread of `iclrnn sweep` and `iclrnn worker` (see sweep-cell-runner.ts):
 * receives cell jobs, runs them with {@link runSweepCell}, posts epoch progress and the result (or
 * the error's name and message). Training runs here so that the main thread stays responsive
 * (signals, queue lock renewal, Redis reconnects) while a cell trains.
 */
import { parentPort } from 'node:worker_threads';
import { isValidationError } from '../core/errors.ts';
import type { SweepJobPayload } from '../train/distributed/payload.ts';
import { runSweepCell } from './sweep-cell.ts';

const port = parentPort;
if (port) {
  port.on('message', (msg: { id: number; job: SweepJobPayload }) => {
    let last = 0;
    runSweepCell(msg.job, (e) => {
      const now = Date.now();
      if (now - last < 100 && e.epoch < e.epochs) return; // at most ~10 progress messages a second
      last = now;
      port.postMessage({ id: msg.id, type: 'epoch', epoch: e });
    }).then(
      (result) => port.postMessage({ id: msg.id, type: 'done', result }),
      (e: unknown) =>
        port.postMessage({
          id: msg.id,
          type: 'error',
          error: { name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e), validation: isValidationError(e), stack: e instanceof Error ? e.stack : undefined },
        }),
    );
  });
  port.postMessage({ type: 'ready' });
}
