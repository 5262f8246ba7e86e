/** Train view: family and settings, live log-scale loss with the persistence baseline, rate, ETA, stop/resume. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ComputeClient } from '../client.ts';
import type { DataSummary, EpochEvent, ModelFamily, TrainSettings, TrainSummary } from '../protocol.ts';
import { Chart, COLORS } from '../chart.tsx';
import { ErrorMessage, errorText, fmt, NumberField, Section } from '../ui.tsx';

const FAMILIES: { kind: ModelFamily; label: string }[] = [
  { kind: 'iclrnn', label: 'ICLRNN (input convex, Lipschitz)' },
  { kind: 'icrnn', label: 'ICRNN (input convex)' },
  { kind: 'iclstm', label: 'ICLSTM (input convex LSTM)' },
  { kind: 'lrnn', label: 'Lipschitz RNN' },
  { kind: 'rnn', label: 'RNN (tanh)' },
  { kind: 'lstm', label: 'LSTM' },
  { kind: 'gru', label: 'GRU' },
];

/** Shortest interval between two loss-chart updates while training (ms). */
const EPOCH_FLUSH_MS = 50;

export function TrainView(p: { client: ComputeClient; data: DataSummary | null; onTrained: (s: TrainSummary) => void }) {
  const [s, setS] = useState<TrainSettings>({ kind: 'iclrnn', hidden: 16, layers: 1, epochs: 20, batchSize: 128, learningRate: 3e-3, noise: 0, seed: 0, resume: false });
  const [epochs, setEpochs] = useState<EpochEvent[]>([]);
  const [baseline, setBaseline] = useState<{ value: number; note: string } | null>(null);
  const [running, setRunning] = useState(false);
  const [stopping, setStopping] = useState(false);
  const [summary, setSummary] = useState<TrainSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [stopFlag, setStopFlag] = useState<Int32Array | null>(null);
  const [started, setStarted] = useState<{ at: number; firstEpoch: number; total: number } | null>(null);

  // Epoch events are appended at most every EPOCH_FLUSH_MS: the wasm kernels train small models in
  // a few ms per epoch, and re-rendering the chart for every one would starve the main thread.
  const pending = useRef<{ events: EpochEvent[]; last: number; timer: ReturnType<typeof setTimeout> | null }>({ events: [], last: 0, timer: null });
  const flushEpochs = () => {
    const q = pending.current;
    if (q.timer !== null) clearTimeout(q.timer);
    q.timer = null;
    q.last = performance.now();
    if (q.events.length === 0) return;
    const batch = q.events;
    q.events = [];
    setEpochs((list) => list.concat(batch));
  };
  useEffect(
    () =>
      p.client.on((e) => {
        if (e.type === 'train-start') {
          setBaseline({ value: e.baseline, note: e.baselineNote });
          setStarted({ at: performance.now(), firstEpoch: e.firstEpoch, total: e.epochs });
        } else if (e.type === 'epoch') {
          const q = pending.current;
          q.events.push(e);
          const since = performance.now() - q.last;
          if (since >= EPOCH_FLUSH_MS) flushEpochs();
          else if (q.timer === null) q.timer = setTimeout(flushEpochs, EPOCH_FLUSH_MS - since);
        }
      }),
    [p.client],
  );

  const set = <K extends keyof TrainSettings>(k: K, v: TrainSettings[K]) => setS({ ...s, [k]: v });
  const start = async (resume: boolean) => {
    setError(null);
    setSummary(null);
    if (!resume) {
      setEpochs([]);
      setBaseline(null);
    }
    setRunning(true);
    setStopping(false);
    const sab = p.client.isolated ? new SharedArrayBuffer(4) : null;
    setStopFlag(sab ? new Int32Array(sab) : null);
    try {
      const r = await p.client.call({ type: 'train', settings: { ...s, resume }, stopFlag: sab });
      flushEpochs();
      setSummary(r);
      p.onTrained(r);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setRunning(false);
      setStopping(false);
    }
  };
  const stop = () => {
    setStopping(true);
    if (stopFlag) Atomics.store(stopFlag, 0, 1);
    else void p.client.call({ type: 'stop' });
  };

  const chartData = useMemo(() => {
    const x = epochs.map((e) => e.epoch);
    return [x, epochs.map((e) => e.trainLoss), epochs.map((e) => e.valLoss), epochs.map(() => baseline?.value ?? null)];
  }, [epochs, baseline]);

  const last = epochs[epochs.length - 1];
  const recent = epochs.slice(-5);
  const secPerEpoch = recent.length ? recent.reduce((a, e) => a + e.seconds, 0) / recent.length : null;
  const remaining = started && last ? started.total - last.epoch : null;
  const eta = secPerEpoch !== null && remaining !== null ? remaining * secPerEpoch : null;
  const canResume = !running && !!summary && summary.stopped;

  // the settings form does not change while epochs come in: built once per settings / state change
  const settingsSection = useMemo(
    () => (
        <Section title="Model and settings" id="train-settings">
          <label class="field" for="train-kind">
            <span>Model family</span>
            <select id="train-kind" value={s.kind} onChange={(e) => set('kind', (e.currentTarget as HTMLSelectElement).value as ModelFamily)}>
              {FAMILIES.map((f) => (
                <option key={f.kind} value={f.kind}>
                  {f.label}
                </option>
              ))}
            </select>
          </label>
          <div class="row">
            <NumberField id="train-hidden" label="Units per layer" value={s.hidden} min={1} step={1} onChange={(v) => set('hidden', Math.round(v))} />
            <NumberField id="train-layers" label="Layers" value={s.layers} min={1} step={1} onChange={(v) => set('layers', Math.round(v))} />
            <NumberField id="train-epochs" label="Epochs" value={s.epochs} min={1} step={1} onChange={(v) => set('epochs', Math.round(v))} />
          </div>
          <div class="row">
            <NumberField id="train-batch" label="Batch size" value={s.batchSize} min={1} step={1} onChange={(v) => set('batchSize', Math.round(v))} />
            <NumberField id="train-lr" label="Learning rate" value={s.learningRate} min={0} onChange={(v) => set('learningRate', v)} />
            <NumberField id="train-noise" label="Target noise σ" value={s.noise} min={0} onChange={(v) => set('noise', v)} />
            <NumberField id="train-seed" label="Seed" value={s.seed} step={1} onChange={(v) => set('seed', Math.round(v))} />
          </div>
          <div class="buttons">
            <button type="button" class="primary" onClick={() => start(false)} disabled={running || !p.data} data-testid="train-start">
              Train
            </button>
            <button type="button" onClick={stop} disabled={!running || stopping} data-testid="train-stop">
              {stopping ? 'Stopping...' : 'Stop'}
            </button>
            <button type="button" onClick={() => start(true)} disabled={!canResume} data-testid="train-resume">
              Resume
            </button>
          </div>
          {!p.client.isolated && <p class="hint">This page is not cross-origin isolated (no COOP/COEP headers): Stop acts between epochs and Resume restarts the optimiser state.</p>}
        </Section>
    ),
    [s, running, stopping, canResume, stopFlag, p.data, p.client, p.onTrained],
  );

  return (
    <div class="view-body">
      <ErrorMessage error={error} onDismiss={() => setError(null)} />
      {!p.data && <p class="note">No data yet: simulate the CSTR or open a file in the Data view.</p>}
      <div class="grid2">
        {settingsSection}
        <Section title="Progress" id="train-progress">
          <dl class="facts" aria-live="polite" data-testid="train-status">
            <dt>Epoch</dt>
            <dd data-testid="train-epoch">{last ? `${last.epoch} / ${started?.total ?? last.epochs}` : '-'}</dd>
            <dt>Train loss (scaled MSE)</dt>
            <dd>{fmt(last?.trainLoss)}</dd>
            <dt>Validation loss</dt>
            <dd>{fmt(last?.valLoss)}</dd>
            <dt>Persistence baseline (validation)</dt>
            <dd title={baseline?.note}>{baseline ? `${fmt(baseline.value)} (${baseline.note})` : '-'}</dd>
            <dt>Rate</dt>
            <dd data-testid="train-rate">{secPerEpoch ? `${fmt(secPerEpoch)} s/epoch (${fmt(60 / secPerEpoch)} epochs/min)` : '-'}</dd>
            <dt>ETA</dt>
            <dd data-testid="train-eta">{running && eta !== null ? `${fmt(eta, 2)} s` : '-'}</dd>
          </dl>
          {summary && (
            <p class="result" data-testid="train-summary" data-seconds-per-epoch={summary.secondsPerEpoch} data-epoch-seconds={epochs.map((e) => e.seconds).join(',')}>
              {summary.stopped ? 'Stopped' : 'Finished'} after {summary.epochsRun} epochs: test MSE {fmt(summary.testMse)}
              {summary.testBaseline !== null
                ? ` vs ${summary.baselineKind === 'persistence' ? 'persistence' : 'last value'} ${fmt(summary.testBaseline)} on the test split: `
                : ` (no naive forecast for this data: no target is an input; mean predictor ${fmt(summary.meanPredictorMse)}): `}
              <span data-testid="train-skill" data-skill={summary.skill ?? ''} data-baseline={summary.testBaseline ?? ''} data-baseline-kind={summary.baselineKind}>
                skill {summary.skill !== null ? fmt(summary.skill) : 'n/a'}
              </span>
              {summary.skill !== null ? ` (test MSE / baseline; below 1 beats ${summary.baselineKind === 'persistence' ? 'persistence' : 'the last value'})` : ''}. Saved in this browser (Models view).{' '}
              <span data-testid="train-kernels" data-backend={summary.kernels?.backend ?? ''} data-precision={summary.kernels?.precision ?? ''} data-fma={summary.kernels ? String(summary.kernels.fma) : ''}>
                Kernels: {summary.kernels ? (summary.kernels.backend === 'js' ? 'JavaScript f64' : `WebAssembly ${summary.kernels.precision} SIMD${summary.kernels.fma ? ' + FMA' : ''}`) : '-'}.
              </span>
            </p>
          )}
        </Section>
      </div>
      <Section title="Loss (log scale)" id="train-loss">
        <Chart
          title="Training and validation loss with the persistence baseline"
          xLabel="epoch"
          yLabel="MSE (scaled)"
          logY
          xIntegers
          series={[
            { label: 'train', color: COLORS.blue, points: true },
            { label: 'validation', color: COLORS.vermillion, dash: [6, 3], points: true },
            { label: 'persistence baseline', color: COLORS.grey, dash: [2, 4] },
          ]}
          data={chartData}
          testId="loss-chart"
        />
      </Section>
    </div>
  );
}
