/**
 * Progress of `iclrnn sweep`: on a terminal a progress bar with the running cells and an ETA; without
 * one (a log file, a pipe), one line per finished cell on stderr (and notes such as reconnects).
 */
import type { SweepCellResult } from '../train/sweep.ts';
import { fmt, progressBar } from './util.ts';

/** Seconds as `1h02m`, `3m05s` or `42s`. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const r = Math.round(s);
  if (r >= 3600) return `${Math.floor(r / 3600)}h${String(Math.floor((r % 3600) / 60)).padStart(2, '0')}m`;
  if (r >= 60) return `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s`;
  return `${r}s`;
}

/** One finished cell as a log line. */
export function cellLine(prefix: string, done: number, total: number, c: SweepCellResult): string {
  const what = `${c.model} σ=${c.noise} seed ${c.seed}`;
  if (c.status === 'failed') return `${prefix}: cell ${done}/${total} failed: ${what}: ${c.error ?? 'unknown error'}`;
  const lip = c.lipschitz?.empirical;
  const secs = typeof c.trainSeconds === 'number' ? `, ${fmt(c.trainSeconds)} s` : '';
  return `${prefix}: cell ${done}/${total} done: ${what}, test MSE ${fmt(c.testMse)}, Lipschitz ${fmt(lip ?? null)}${secs}`;
}

export interface SweepProgress {
  /** A cell finished (or failed) in this run; `done` counts every finished cell of the plan. */
  cell(result: SweepCellResult, done: number): void;
  /** Running cells and their fraction done (epochs). */
  running(active: { key: string; fraction: number }[]): void;
  /** A note (reconnects, retries): a line on stderr, above the bar on a terminal. */
  note(line: string): void;
  stop(): void;
}

/**
 * @param total cells of the plan
 * @param alreadyDone cells finished before this run
 */
export function sweepProgress(label: string, total: number, alreadyDone: number): SweepProgress {
  const tty = !!process.stderr.isTTY;
  const start = Date.now();
  let done = alreadyDone;
  let active: { key: string; fraction: number }[] = [];
  const units = 1000;
  const bar = progressBar(total * units, label);
  const redraw = () => {
    if (!tty) return;
    const partial = active.reduce((s, a) => s + a.fraction, 0);
    const progressed = done - alreadyDone + partial;
    const left = total - done - partial;
    const elapsed = (Date.now() - start) / 1000;
    const eta = progressed > 0.01 ? formatDuration((elapsed / progressed) * left) : '?';
    const running = active.length ? ` running: ${active.map((a) => `${a.key} ${Math.round(a.fraction * 100)}%`).join(', ')}` : '';
    bar.update(Math.round((done + partial) * units), { info: `${done}/${total} cells, ETA ${eta}${running}` });
  };
  if (!tty && alreadyDone > 0) process.stderr.write(`${label}: ${alreadyDone} of ${total} cells already done; ${total - alreadyDone} to run\n`);
  redraw();
  return {
    cell(result, n) {
      done = n;
      active = active.filter((a) => a.key !== result.key);
      if (!tty) process.stderr.write(cellLine(label, n, total, result) + '\n');
      redraw();
    },
    running(a) {
      active = a;
      redraw();
    },
    note(line) {
      if (tty) {
        bar.stop();
        process.stderr.write(line + '\n');
        // cli-progress cannot resume a stopped bar; the next redraw of a fresh one follows
        Object.assign(bar, progressBar(total * units, label));
        redraw();
      } else process.stderr.write(line + '\n');
    },
    stop() {
      bar.stop();
    },
  };
}
