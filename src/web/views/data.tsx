/** Data view: simulate the CSTR, or open a CSV / MAT file and window it. */
import { useMemo, useState } from 'preact/hooks';
import type { ComputeClient } from '../client.ts';
import type { DataSummary, FileColumns } from '../protocol.ts';
import { Chart, COLORS, DASHES, PhasePlane } from '../chart.tsx';

/** Scales a series to [0, 1] (a constant series sits at 0.5) so features of any unit share one axis. */
function minMax(v: number[]): number[] {
  let lo = Infinity, hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return v.map((x) => (hi > lo ? (x - lo) / (hi - lo) : 0.5));
}
import { ellipse, TARGET_BOX, X1_RANGE, X2_RANGE } from '../cstr-geometry.ts';
import { DropZone, ErrorMessage, errorText, NumberField, Section } from '../ui.tsx';

export function DataView(p: { client: ComputeClient; data: DataSummary | null; onData: (d: DataSummary) => void }) {
  const [every, setEvery] = useState(1);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [file, setFile] = useState<FileColumns | null>(null);
  const [inputs, setInputs] = useState<string[]>([]);
  const [outputs, setOutputs] = useState<string[]>([]);
  const [window, setWindow] = useState(10);
  const [stride, setStride] = useState(10);

  const run = async (what: string, job: () => Promise<void>) => {
    setBusy(what);
    setError(null);
    try {
      await job();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };
  const simulate = () => run('Simulating the CSTR...', async () => p.onData(await p.client.call({ type: 'simulate', settings: { every } })));
  const open = (files: File[]) =>
    run(`Reading ${files[0].name}...`, async () => {
      const f = files[0];
      const bytes = await f.arrayBuffer();
      const cols = await p.client.call({ type: 'open-file', name: f.name, bytes }, [bytes]);
      setFile(cols);
      const n = cols.columns.length;
      setInputs(cols.columns.slice(0, Math.max(1, n - 1)));
      setOutputs(cols.columns.slice(Math.max(1, n - 1)));
    });
  const makeWindows = () => run('Windowing...', async () => p.onData(await p.client.call({ type: 'window', settings: { inputs, outputs, window, stride } })));
  // selections keep the file's column order (the order of the model's inputs and outputs)
  const toggle = (list: string[], set: (v: string[]) => void, c: string) =>
    set(list.includes(c) ? list.filter((x) => x !== c) : (file?.columns ?? []).filter((x) => x === c || list.includes(x)));
  const d = p.data;
  // the plots only change with the data set (re-rendering 800 dots for every app update would be wasted work)
  const plots = useMemo(
    () =>
      d && (
          <div class="grid2">
                <Chart
                  title="Preview: first sequences laid end to end, each feature min-max scaled"
                  xLabel="step"
                  yLabel="value (0 = min, 1 = max)"
                  series={d.preview.series.map((s, i) => ({ label: s.label, dash: DASHES[i % DASHES.length] }))}
                  data={[d.preview.t, ...d.preview.series.map((s) => minMax(s.values))]}
                  testId="data-preview"
                />
                {d.initialStates && (
                  <PhasePlane
                    title="Initial states of the samples and the stability region V(x) = 372"
                    xLabel="x1 = CA - CAs (kmol/m3)"
                    yLabel="x2 = T - Ts (K)"
                    xRange={X1_RANGE}
                    yRange={X2_RANGE}
                    lines={[
                      { label: 'V(x) = 372', ...ellipse(), color: COLORS.black },
                      { label: 'target region', ...TARGET_BOX, color: COLORS.green },
                    ]}
                    dots={d.initialStates.map(([x, y]) => ({ x, y }))}
                    dotColor={COLORS.blue}
                  />
                )}
              </div>
      ),
    [d],
  );

  return (
    <div class="view-body">
      <ErrorMessage error={error} onDismiss={() => setError(null)} />
      {busy && (
        <p class="busy" role="status">
          {busy}
        </p>
      )}
      <div class="grid2">
        <Section title="Simulate the CSTR" id="data-cstr">
          <p>
            772 initial states inside V(x) &lt; 372, 16 input pairs, explicit Euler (1e-4 h) over one 0.005 h period, 10 recorded states per sample (REFERENCE
            section 1).
          </p>
          <NumberField id="cstr-every" label="Keep every k-th sample" value={every} min={1} step={1} onChange={(v) => setEvery(Math.max(1, Math.round(v)))} hint="1 keeps all 12352 samples; larger is faster to train" />
          <button type="button" class="primary" onClick={simulate} disabled={!!busy} data-testid="simulate">
            Simulate CSTR
          </button>
        </Section>
        <Section title="Open a CSV or MAT file" id="data-file">
          <DropZone id="data-file-input" label="Choose a .csv, .mat or .h5 file" accept=".csv,.mat,.h5,.hdf5" onFiles={open} testId="data-drop" />
          {file && (
            <div class="columns-pick">
              <p>
                {file.name}: {file.columns.length} columns, {file.rows} rows{file.skipped.length ? ` (not usable: ${file.skipped.join('; ')})` : ''}
              </p>
              <div class="grid2">
                <fieldset>
                  <legend>Inputs</legend>
                  {file.columns.map((c) => (
                    <label key={`i${c}`} class="check">
                      <input type="checkbox" checked={inputs.includes(c)} onChange={() => toggle(inputs, setInputs, c)} /> {c}
                    </label>
                  ))}
                </fieldset>
                <fieldset>
                  <legend>Outputs</legend>
                  {file.columns.map((c) => (
                    <label key={`o${c}`} class="check">
                      <input type="checkbox" checked={outputs.includes(c)} onChange={() => toggle(outputs, setOutputs, c)} /> {c}
                    </label>
                  ))}
                </fieldset>
              </div>
              <div class="row">
                <NumberField id="file-window" label="Window (steps)" value={window} min={1} step={1} onChange={(v) => setWindow(Math.round(v))} />
                <NumberField id="file-stride" label="Stride (steps)" value={stride} min={1} step={1} onChange={(v) => setStride(Math.round(v))} />
              </div>
              <button type="button" class="primary" onClick={makeWindows} disabled={!!busy}>
                Make data set
              </button>
            </div>
          )}
        </Section>
      </div>
      {d && (
        <Section title="Current data set" id="data-summary">
          <dl class="facts" data-testid="data-summary">
            <dt>Source</dt>
            <dd>{d.source}</dd>
            <dt>Sequences</dt>
            <dd data-testid="data-count">{d.count}</dd>
            <dt>Steps per sequence</dt>
            <dd>{d.steps}</dd>
            <dt>Inputs</dt>
            <dd>{d.inputNames.join(', ')}</dd>
            <dt>Outputs</dt>
            <dd>{d.outputNames.join(', ')}</dd>
            <dt>Split (train / validation / test)</dt>
            <dd data-testid="split-sizes">
              {d.split.train} / {d.split.validation} / {d.split.test}
            </dd>
          </dl>
          {plots}
        </Section>
      )}
    </div>
  );
}
