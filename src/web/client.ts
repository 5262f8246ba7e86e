/** The page's handle on the computation worker: typed requests, replies as promises, events. */
import type { FromWorker, Request, RequestType, ResultOf, WorkerEvent } from './protocol.ts';

/** An error the worker reported; `userError` marks problems the user can fix (bad file, no data...). */
export class WorkerError extends Error {
  constructor(message: string, readonly userError: boolean) {
    super(message);
    this.name = 'WorkerError';
  }
}

type Listener = (e: WorkerEvent) => void;

export class ComputeClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<Listener>();
  /** Whether the page is cross-origin isolated (shared memory: instant stop of training). */
  readonly isolated: boolean = typeof SharedArrayBuffer !== 'undefined' && globalThis.crossOriginIsolated === true;

  constructor(url: URL) {
    this.worker = new Worker(url, { type: 'module', name: 'iclrnn-compute' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.kind === 'event') {
        for (const l of this.listeners) l(m.event);
        return;
      }
      const p = this.pending.get(m.reply.id);
      if (!p) return;
      this.pending.delete(m.reply.id);
      if (m.reply.ok) p.resolve(m.reply.result);
      else p.reject(new WorkerError(m.reply.error, m.reply.userError));
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      const err = new WorkerError(`the computation worker failed: ${e.message || 'unknown error'}`, false);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  call<T extends RequestType>(request: Extract<Request, { type: T }>, transfer: Transferable[] = []): Promise<ResultOf[T]> {
    const id = this.nextId++;
    return new Promise<ResultOf[T]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, request }, transfer);
    });
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
