/**
 * Data-parallel training of the wasm path on threads (`train --threads N`): every minibatch is cut
 * into N contiguous slices; the calling thread computes the gradients of slice 0 in its own
 * {@link WasmTrainer}, N - 1 gradient threads those of slices 1..N-1 in theirs, over shared memory
 * (the training data, the shuffled order, the weights and one gradient block per thread live in
 * SharedArrayBuffers). The calling thread then adds the threads' blocks to its own in thread order
 * (a fixed order: the same N gives bit-identical models run after run; a different N sums in a
 * different order, so its model differs in the last bits), runs Adam and the constraints, and
 * publishes the new weights for the next step.
 *
 * Synchronisation is by `Atomics.wait` / `Atomics.notify` on a shared control block, so the
 * training loop stays synchronous (no event-loop turn per step). Starting threads is the host's
 * business: this module is plain ECMAScript and takes a {@link SpawnGradientThread} (the Node one is
 * `nodeTrainingThreads` in train/distributed/threads.ts; in a browser, Web Workers running
 * {@link runGradientThread} do the same, given cross-origin isolation).
 */
import { SequenceModel, type ModelSpec } from '../nn/model.ts';
import type { OptimizerConfig } from './optimizers.ts';
import { WasmTrainer } from './wasm-trainer.ts';

/** Slots of the shared control block (Int32Array). */
const GENERATION = 0; // bumped by the caller for every step (and for stop)
const DONE = 1; // threads finished with the current generation
const READY = 2; // threads started
const FAILED = 3; // 1-based index of a thread that failed (0: none)
const STOP = 4; // 1: threads return
const SLICES = 8; // [from, to) of thread w at SLICES + 2 w
const MESSAGE_BYTES = 512;

/** What one gradient thread is started with (structured-cloneable; the buffers are shared). */
export interface GradientThreadInit {
  /** 1-based thread index (the calling thread is 0). */
  index: number;
  spec: ModelSpec;
  precision: 'f32' | 'f64';
  fma: boolean;
  /** Largest slice, in sequences. */
  capacity: number;
  steps: number;
  count: number;
  optimizer: OptimizerConfig;
  control: SharedArrayBuffer;
  /** Float64: [values in the batch's loss, then the squared-error sum of thread w at index w]. */
  scalars: SharedArrayBuffer;
  inputs: SharedArrayBuffer;
  targets: SharedArrayBuffer;
  order: SharedArrayBuffer;
  weights: SharedArrayBuffer;
  /** This thread's gradient block. */
  gradients: SharedArrayBuffer;
  /** UTF-8 text of a failure (written by the failed thread). */
  message: SharedArrayBuffer;
}

/** Starts one gradient thread running {@link runGradientThread}(init); returns its handle. */
export type SpawnGradientThread = (init: GradientThreadInit) => { terminate(): unknown };

/** `TrainOptions.threads`: how many threads share each minibatch (the caller's included) and how to start the others. */
export interface TrainingThreads {
  count: number;
  spawn: SpawnGradientThread;
  /** Milliseconds to wait for the threads to start (default 60000). */
  startTimeoutMs?: number;
}

/** Milliseconds without progress after which a step is declared stuck (a thread died without saying so). */
const STEP_TIMEOUT_MS = 120_000;

const typed = (precision: 'f32' | 'f64', buf: SharedArrayBuffer): Float32Array | Float64Array =>
  precision === 'f64' ? new Float64Array(buf) : new Float32Array(buf);

function shared(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(8, bytes));
}

function sharedCopy(src: Float64Array): Float64Array {
  const out = new Float64Array(shared(src.length * 8));
  out.set(src);
  return out;
}

/** Text written by a failed thread. */
function readMessage(buf: SharedArrayBuffer): string {
  const bytes = new Uint8Array(buf);
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  return new TextDecoder().decode(bytes.slice(0, end));
}

/**
 * The calling thread's side: owns the shared buffers and the threads. Created by the trainer when
 * `threads.count > 1` and the model trains in wasm; {@link close} stops the threads.
 */
export class DataParallelGradients {
  readonly threads: number;
  /** The shuffled order of the training sequences, shared with the threads (shuffle it in place). */
  readonly order: Int32Array;
  /** The training data, shared (same values as the caller's). */
  readonly data: { inputs: Float64Array; targets: Float64Array; count: number; steps: number };
  private readonly control: Int32Array;
  private readonly scalars: Float64Array;
  private readonly weights: Float32Array | Float64Array;
  private readonly gradients: (Float32Array | Float64Array)[];
  private readonly message: SharedArrayBuffer;
  private readonly handles: { terminate(): unknown }[] = [];
  private generation = 0;
  private closed = false;

  constructor(
    private readonly trainer: WasmTrainer,
    model: SequenceModel,
    data: { inputs: Float64Array; targets: Float64Array; count: number; steps: number },
    batchSize: number,
    optimizer: OptimizerConfig,
    threads: TrainingThreads,
  ) {
    const n = threads.count;
    if (!Number.isInteger(n) || n < 2) throw new RangeError(`data-parallel training needs at least 2 threads, got ${n}`);
    this.threads = n;
    const controlBuf = shared(4 * (SLICES + 2 * n));
    const scalarsBuf = shared(8 * (n + 1));
    this.control = new Int32Array(controlBuf);
    this.scalars = new Float64Array(scalarsBuf);
    this.message = shared(MESSAGE_BYTES);
    this.data = { inputs: sharedCopy(data.inputs), targets: sharedCopy(data.targets), count: data.count, steps: data.steps };
    this.order = new Int32Array(shared(4 * data.count));
    for (let i = 0; i < data.count; i++) this.order[i] = i;
    const bytes = trainer.precision === 'f64' ? 8 : 4, len = trainer.blockLength;
    const weightsBuf = shared(len * bytes);
    this.weights = typed(trainer.precision, weightsBuf);
    const gradientBufs = Array.from({ length: n - 1 }, () => shared(len * bytes));
    this.gradients = gradientBufs.map((b) => typed(trainer.precision, b));
    trainer.readWeights(this.weights);
    const capacity = Math.ceil(Math.min(batchSize, data.count) / n);
    try {
      for (let w = 1; w < n; w++) {
        this.handles.push(
          threads.spawn({
            index: w, spec: model.spec, precision: trainer.precision, fma: trainer.fma, capacity, steps: data.steps, count: data.count, optimizer,
            control: controlBuf, scalars: scalarsBuf, inputs: this.data.inputs.buffer as SharedArrayBuffer, targets: this.data.targets.buffer as SharedArrayBuffer,
            order: this.order.buffer as SharedArrayBuffer, weights: weightsBuf, gradients: gradientBufs[w - 1], message: this.message,
          }),
        );
      }
      this.waitFor(READY, n - 1, threads.startTimeoutMs ?? 60_000, 'start');
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Blocks until control[slot] reaches `target`, a thread fails, or `timeoutMs` pass without progress. */
  private waitFor(slot: number, target: number, timeoutMs: number, what: string): void {
    const c = this.control;
    let last = -1, deadline = 0;
    for (;;) {
      const failed = Atomics.load(c, FAILED);
      if (failed) throw new Error(`training thread ${failed} failed: ${readMessage(this.message)}`);
      const v = Atomics.load(c, slot);
      if (v >= target) return;
      if (v !== last) {
        last = v;
        deadline = Date.now() + timeoutMs;
      } else if (Date.now() > deadline) throw new Error(`training threads did not ${what} within ${Math.round(timeoutMs / 1000)} s`);
      Atomics.wait(c, slot, v, 1000);
    }
  }

  /**
   * Gradients of the minibatch order[from..to) (mean squared error over the whole minibatch),
   * summed into the calling thread's trainer; returns the minibatch's sum of squared errors.
   * Follow with `trainer.update()` and {@link publishWeights}.
   */
  gradientsOf(from: number, to: number): number {
    const n = this.threads, b = to - from, c = this.control;
    const cut = (w: number) => from + Math.floor((b * w) / n);
    for (let w = 1; w < n; w++) {
      c[SLICES + 2 * w] = cut(w);
      c[SLICES + 2 * w + 1] = cut(w + 1);
    }
    this.scalars[0] = b * this.data.steps * this.trainer.outputSize;
    Atomics.store(c, DONE, 0);
    this.generation++;
    Atomics.store(c, GENERATION, this.generation);
    Atomics.notify(c, GENERATION);
    let sum = 0;
    const own = cut(1);
    if (own > from) sum = this.trainer.computeGradients(this.data, this.order, from, own, this.scalars[0]);
    else this.trainer.zeroGradients();
    this.waitFor(DONE, n - 1, STEP_TIMEOUT_MS, 'finish a step');
    for (let w = 1; w < n; w++) {
      this.trainer.addGradients(this.gradients[w - 1]);
      sum += this.scalars[w];
    }
    return sum;
  }

  /** Makes the trainer's current weights the ones the threads use from the next step on. */
  publishWeights(): void {
    this.trainer.readWeights(this.weights);
  }

  /** Stops and terminates the threads (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, STOP, 1);
    Atomics.store(this.control, GENERATION, ++this.generation);
    Atomics.notify(this.control, GENERATION);
    for (const h of this.handles) void h.terminate();
  }
}

/**
 * Body of a gradient thread: builds its own wasm trainer for the model, then for every step copies
 * the shared weights in, computes the gradients of its slice and writes them to its shared block.
 * Returns when told to stop. A failure is reported through the control block (the caller throws).
 */
export function runGradientThread(init: GradientThreadInit): void {
  const c = new Int32Array(init.control);
  const scalars = new Float64Array(init.scalars);
  try {
    const model = new SequenceModel(init.spec);
    const trainer = WasmTrainer.create(model, { precision: init.precision, fma: init.fma, batchCapacity: init.capacity, steps: init.steps, optimizer: init.optimizer });
    if (!trainer || trainer.precision !== init.precision || trainer.fma !== init.fma)
      throw new Error(`this thread cannot run the ${init.precision}${init.fma ? ' + FMA' : ''} wasm kernels of the calling thread`);
    const data = { inputs: new Float64Array(init.inputs), targets: new Float64Array(init.targets), count: init.count, steps: init.steps };
    const order = new Int32Array(init.order);
    const weights = typed(init.precision, init.weights), gradients = typed(init.precision, init.gradients);
    Atomics.add(c, READY, 1);
    Atomics.notify(c, READY);
    let seen = 0;
    for (;;) {
      Atomics.wait(c, GENERATION, seen);
      seen = Atomics.load(c, GENERATION);
      if (Atomics.load(c, STOP)) return;
      const from = c[SLICES + 2 * init.index], to = c[SLICES + 2 * init.index + 1];
      let sum = 0;
      if (to > from) {
        trainer.writeWeights(weights);
        sum = trainer.computeGradients(data, order, from, to, scalars[0]);
        trainer.readGradients(gradients);
      } else gradients.fill(0);
      scalars[init.index] = sum;
      Atomics.add(c, DONE, 1);
      Atomics.notify(c, DONE);
    }
  } catch (e) {
    const text = new TextEncoder().encode(e instanceof Error ? e.message : String(e)).subarray(0, MESSAGE_BYTES - 1);
    new Uint8Array(init.message).set(text);
    Atomics.store(c, FAILED, init.index);
    Atomics.notify(c, READY);
    Atomics.notify(c, DONE);
  }
}
