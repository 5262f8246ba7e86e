/**
 * Node threads for data-parallel training (`train --threads N`, `TrainOptions.threads`): starts
 * `worker_threads` running {@link runGradientThread} (see ../data-parallel.ts). Threads are unref'd:
 * they never keep the process alive, and the trainer terminates them when training ends.
 */
import { Worker } from 'node:worker_threads';
import type { GradientThreadInit, TrainingThreads } from '../data-parallel.ts';

/**
 * Threads for `TrainOptions.threads` / `fitModel({ threads })`: `count` in all, the calling thread
 * included. They share each minibatch of the WebAssembly training path (RNN and ICLRNN stacks);
 * the same count and seed give bit-identical models.
 *
 * @example
 * ```js
 * import { generateCstrDataset, fitModel, nodeTrainingThreads } from 'iclrnn';
 * const { model, history } = fitModel(generateCstrDataset(), { kind: 'iclrnn', epochs: 5, threads: nodeTrainingThreads(2) });
 * console.log(history.kernels); // { backend: 'wasm', precision: 'f32', fma: ..., threads: 2 }
 * ```
 */
export function nodeTrainingThreads(count: number): TrainingThreads {
  return {
    count,
    spawn(init: GradientThreadInit) {
      const here = import.meta.url;
      const entry = new URL(`./gradient-thread${here.endsWith('.ts') ? '.ts' : '.js'}`, here);
      let w: Worker;
      if (entry.pathname.endsWith('.ts')) {
        // Sources run through tsx: register its loader in the thread before importing the entry.
        const tsx = import.meta.resolve('tsx/esm/api');
        w = new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true, workerData: init });
      } else w = new Worker(entry, { workerData: init });
      w.unref();
      // a thread that dies before it can report through shared memory: the trainer times out and names the start
      w.on('error', () => {});
      return { terminate: () => w.terminate() };
    },
  };
}
