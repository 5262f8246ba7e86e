/**
 * Runs sweep cells in a training thread (sweep-cell-thread.ts), one at a time per runner, so the
 * calling thread keeps serving signals, progress output and queue connections while a cell trains.
 * `stop()` ends the thread at once (the running cell is abandoned). ICLRNN_SWEEP_INLINE=1 runs
 * cells on the calling thread instead (for debugging).
 */
import { Worker } from 'node:worker_threads';
import { DataError, ModelFileError, ValidationError } from '../core/errors.ts';
import type { SweepJobPayload, SweepJobResult } from '../train/distributed/payload.ts';
import type { CellEpoch } from './sweep-cell.ts';

/** The runner was stopped while a cell was running. */
export class CellRunnerStopped extends Error {
  constructor() {
    super('the training thread was stopped');
    this.name = 'CellRunnerStopped';
  }
}

interface ThreadError {
  name: string;
  message: string;
  validation: boolean;
  stack?: string;
}

/** An error of the thread, rebuilt with the same class where it matters (user errors, RangeError). */
function rebuild(e: ThreadError): Error {
  let err: Error;
  if (e.validation) err = e.name === 'DataError' ? new DataError(e.message) : e.name === 'ModelFileError' ? new ModelFileError(e.message) : new ValidationError(e.message);
  else if (e.name === 'RangeError') err = new RangeError(e.message);
  else {
    err = new Error(e.message);
    err.name = e.name;
  }
  if (e.stack) err.stack = e.stack;
  return err;
}

type Pending = { resolve: (r: SweepJobResult) => void; reject: (e: Error) => void; onEpoch?: (e: CellEpoch) => void };

/** A training thread (started on first use, restarted after a crash). */
export class CellRunner {
  private worker: Worker | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped = false;

  private start(): Worker {
    const here = import.meta.url;
    const entry = new URL(`./sweep-cell-thread${here.endsWith('.ts') ? '.ts' : '.js'}`, here);
    let w: Worker;
    if (entry.pathname.endsWith('.ts')) {
      // Sources run through tsx: register its loader in the thread before importing the entry.
      const tsx = import.meta.resolve('tsx/esm/api');
      w = new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true });
    } else w = new Worker(entry);
    w.on('message', (m: { id?: number; type: string; epoch?: CellEpoch; result?: SweepJobResult; error?: ThreadError }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'epoch') p.onEpoch?.(m.epoch!);
      else {
        this.pending.delete(m.id);
        if (this.pending.size === 0) w.unref(); // an idle thread does not keep the process alive
        if (m.type === 'done') p.resolve(m.result!);
        else p.reject(rebuild(m.error!));
      }
    });
    const fail = (e: Error) => {
      if (this.worker === w) this.worker = null;
      for (const p of this.pending.values()) p.reject(this.stopped ? new CellRunnerStopped() : e);
      this.pending.clear();
    };
    w.on('error', (e) => fail(e instanceof Error ? e : new Error(String(e))));
    w.on('exit', (code) => fail(new Error(`the training thread exited (code ${code})`)));
    w.unref();
    this.worker = w;
    return w;
  }

  /** Runs one cell; rejects with the cell's error (same class for user errors) or CellRunnerStopped. */
  async run(job: SweepJobPayload, onEpoch?: (e: CellEpoch) => void): Promise<SweepJobResult> {
    if (this.stopped) throw new CellRunnerStopped();
    if (process.env.ICLRNN_SWEEP_INLINE === '1') {
      const { runSweepCell } = await import('./sweep-cell.ts');
      return runSweepCell(job, onEpoch);
    }
    const w = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<SweepJobResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEpoch });
      w.ref();
      w.postMessage({ id, job });
    });
  }

  /** Ends the thread now; a running cell rejects with CellRunnerStopped. */
  async stop(): Promise<void> {
    this.stopped = true;
    const w = this.worker;
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new CellRunnerStopped());
    this.pending.clear();
    if (w) await w.terminate();
  }
}
