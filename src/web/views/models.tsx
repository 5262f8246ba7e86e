/** Models view: Keras import, model JSON load/save, models kept in IndexedDB, prediction, sweep results. */
import { useEffect, useState } from 'preact/hooks';
import type { ComputeClient } from '../client.ts';
import type { ModelInfo } from '../protocol.ts';
import { cellSkill, type SweepResults } from '../../train/sweep.ts';
import { Chart, DASHES, SERIES_COLORS } from '../chart.tsx';
import { deleteModel, listModels, type SavedModel } from '../store.ts';
import { DropZone, ErrorMessage, errorText, fmt, Section } from '../ui.tsx';

export interface ModelsViewProps {
  client: ComputeClient;
  model: ModelInfo | null;
  activeId: string | null;
  /** Bumped whenever the saved list changes elsewhere (training, import). */
  revision: number;
  onImported: (info: ModelInfo, json: SavedModel['json'], label: string) => Promise<void>;
  onActivate: (m: SavedModel) => Promise<void>;
}

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function SweepView({ sweep, name }: { sweep: SweepResults; name: string }) {
  const cells = Object.values(sweep.cells);
  const noise = [...sweep.noise].sort((a, b) => a - b);
  const value = (model: string, n: number, f: (c: (typeof cells)[number]) => number | null | undefined) => {
    const v = cells.filter((c) => c.model === model && c.noise === n && c.status === 'done').map(f).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const series = sweep.models.map((m, i) => ({ label: m, color: SERIES_COLORS[i % SERIES_COLORS.length], dash: DASHES[i % DASHES.length], points: true }));
  const withBaseline = cells.find((c) => typeof c.baselineMse === 'number');
  return (
    <div data-testid="sweep">
      <p>
        {name}: {cells.length} cells ({cells.filter((c) => c.status === 'done').length} done), models {sweep.models.join(', ')}, noise {noise.join(', ')}, seeds {sweep.seeds.join(', ')}.
      </p>
      <p data-testid="sweep-baseline" data-baseline={withBaseline?.baselineMse ?? ''}>
        {withBaseline
          ? `Skill = test MSE / ${withBaseline.baselineKind ?? 'naive'} baseline ${fmt(withBaseline.baselineMse as number)} (below 1 beats the naive forecast).`
          : 'This results file records no naive-forecast baseline, so skill is n/a (scripts/add-baselines.ts adds it to CSTR files).'}
      </p>
      <div class="grid2">
        <Chart title="Test MSE vs noise (mean over seeds)" xLabel="noise σ" yLabel="test MSE (scaled)" logY series={series} data={[noise, ...sweep.models.map((m) => noise.map((n) => value(m, n, (c) => c.testMse)))]} testId="sweep-mse" height={220} />
        <Chart
          title="Empirical Lipschitz estimate vs noise"
          xLabel="noise σ"
          yLabel="Lipschitz (empirical)"
          series={series}
          data={[noise, ...sweep.models.map((m) => noise.map((n) => value(m, n, (c) => c.lipschitz?.empirical)))]}
          testId="sweep-lipschitz"
          height={220}
        />
      </div>
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Sweep cells">
        <table data-testid="sweep-table">
          <thead>
            <tr>
              <th scope="col">model</th>
              <th scope="col">noise</th>
              <th scope="col">seed</th>
              <th scope="col">status</th>
              <th scope="col">test MSE</th>
              <th scope="col">skill</th>
              <th scope="col">Lipschitz empirical</th>
              <th scope="col">certified bound</th>
              <th scope="col">epochs</th>
              <th scope="col">s/epoch</th>
            </tr>
          </thead>
          <tbody>
            {cells.map((c) => (
              <tr key={c.key}>
                <td>{c.model}</td>
                <td>{c.noise}</td>
                <td>{c.seed}</td>
                <td>{c.status}</td>
                <td>{fmt(c.testMse)}</td>
                <td>{fmt(cellSkill(c))}</td>
                <td>{fmt(c.lipschitz?.empirical ?? null)}</td>
                <td>{fmt(c.lipschitz?.upperBound ?? null)}</td>
                <td>{c.epochsRun ?? '-'}</td>
                <td>{fmt(c.secondsPerEpoch ?? null)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function ModelsView(p: ModelsViewProps) {
  const [saved, setSaved] = useState<SavedModel[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [xText, setXText] = useState('{"X": [[0, 0, 0, 0]]}');
  const [y, setY] = useState<number[][] | null>(null);
  const [predictError, setPredictError] = useState<string | null>(null);
  const [sweep, setSweep] = useState<{ results: SweepResults; name: string } | null>(null);
  const [sweepError, setSweepError] = useState<string | null>(null);

  const refresh = async () => {
    try {
      setSaved(await listModels());
    } catch (e) {
      setError(`cannot read the saved models: ${errorText(e)}`);
    }
  };
  useEffect(() => {
    void refresh();
  }, [p.revision]);

  const importFiles = async (files: File[]) => {
    setError(null);
    setNote(null);
    const byExt = (re: RegExp) => files.filter((f) => re.test(f.name.toLowerCase()));
    const keras = byExt(/\.(keras|h5|hdf5)$/);
    const jsons = byExt(/\.json$/);
    const other = files.filter((f) => !keras.includes(f) && !jsons.includes(f));
    if (other.length) {
      setError(`${other.map((f) => f.name).join(', ')}: not a model file; use .keras / .h5 (with an optional scalers.json) or an iclrnn model .json`);
      return;
    }
    setBusy(`Reading ${files.map((f) => f.name).join(', ')}...`);
    try {
      let scalers: unknown = null;
      const models: { json: unknown; name: string }[] = [];
      for (const f of jsons) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(await f.text());
        } catch (e) {
          throw new Error(`${f.name}: not valid JSON (${errorText(e)})`);
        }
        const obj = parsed as Record<string, unknown>;
        if (obj && obj.format === 'iclrnn-model') models.push({ json: parsed, name: f.name });
        else if (obj && obj.format === 'iclrnn-sweep') setSweep({ results: await p.client.call({ type: 'open-sweep', text: JSON.stringify(parsed), name: f.name }), name: f.name });
        else if (obj && 'x_min' in obj) scalers = parsed;
        else throw new Error(`${f.name}: neither an iclrnn model file, a sweep results file nor a Keras scalers.json`);
      }
      if (scalers && !keras.length) throw new Error('a scalers.json goes with a Keras model: select the .keras / .h5 file together with it');
      for (const f of keras) {
        const bytes = await f.arrayBuffer();
        const r = await p.client.call({ type: 'import-keras', name: f.name, bytes, scalers }, [bytes]);
        const label = `${f.name}${scalers ? ' + scalers' : ''} (Keras ${r.info.kind})`;
        await p.onImported(r.info, r.json, label);
        setNote(`Imported ${label}: ${r.info.inputSize} inputs, ${r.info.outputSize} outputs, ${r.info.parameters} parameters${r.warnings.length ? `; notes: ${r.warnings.join('; ')}` : ''}.`);
      }
      for (const m of models) {
        const info = await p.client.call({ type: 'load-model', json: m.json, label: m.name });
        await p.onImported(info, m.json as SavedModel['json'], m.name);
        setNote(`Loaded ${m.name}.`);
      }
      await refresh();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };

  const openSweep = async (files: File[]) => {
    setSweepError(null);
    try {
      const f = files[0];
      setSweep({ results: await p.client.call({ type: 'open-sweep', text: await f.text(), name: f.name }), name: f.name });
    } catch (e) {
      setSweepError(errorText(e));
    }
  };

  const predict = async () => {
    setPredictError(null);
    setY(null);
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(xText);
      } catch (e) {
        throw new Error(`the input is not JSON: ${errorText(e)}`);
      }
      const X = Array.isArray(parsed) ? parsed : (parsed as { X?: unknown })?.X;
      if (!Array.isArray(X)) throw new Error('give {"X": [[...], ...]}: one row of the model inputs per step (physical units)');
      setY(await p.client.call({ type: 'predict', x: X as number[][] }));
    } catch (e) {
      setPredictError(errorText(e));
    }
  };

  const save = async () => {
    setError(null);
    try {
      const json = await p.client.call({ type: 'save-model' });
      download(`${(p.model?.label ?? 'model').replace(/[^\w.-]+/g, '_')}.json`, JSON.stringify(json));
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <div class="view-body">
      <ErrorMessage error={error} onDismiss={() => setError(null)} />
      {busy && (
        <p class="busy" role="status">
          {busy}
        </p>
      )}
      {note && (
        <p class="note" role="status" data-testid="models-note">
          {note}
        </p>
      )}
      <div class="grid2">
        <Section title="Import or load a model" id="models-import">
          <DropZone
            id="model-file-input"
            label="Choose a Keras model (.keras / .h5, with its scalers.json) or an iclrnn model .json"
            accept=".keras,.h5,.hdf5,.json"
            multiple
            onFiles={importFiles}
            testId="model-drop"
          />
          <div class="buttons">
            <button type="button" onClick={save} disabled={!p.model}>
              Save current model as JSON
            </button>
          </div>
          <p>
            Current model: <strong data-testid="current-model">{p.model ? p.model.label : 'none'}</strong>
          </p>
        </Section>
        <Section title="Predict with the current model" id="models-predict">
          <label class="field" for="predict-input">
            <span>Input sequence (physical units), one row of model inputs per step</span>
            <textarea id="predict-input" rows={4} value={xText} onInput={(e) => setXText((e.currentTarget as HTMLTextAreaElement).value)} />
          </label>
          <button type="button" class="primary" onClick={predict} disabled={!p.model} data-testid="predict-run">
            Predict
          </button>
          <ErrorMessage error={predictError} />
          {y && (
            <pre data-testid="predict-output" aria-live="polite">
              {JSON.stringify({ Y: y })}
            </pre>
          )}
        </Section>
      </div>
      <Section title="Models saved in this browser (IndexedDB)" id="models-saved">
        {saved.length === 0 ? (
          <p>None yet: trained and imported models are kept here across reloads.</p>
        ) : (
          <table data-testid="saved-models">
            <thead>
              <tr>
                <th scope="col">model</th>
                <th scope="col">kind</th>
                <th scope="col">parameters</th>
                <th scope="col">saved</th>
                <th scope="col">actions</th>
              </tr>
            </thead>
            <tbody>
              {saved.map((m) => (
                <tr key={m.id} class={m.id === p.activeId ? 'active' : ''}>
                  <td>
                    {m.label}
                    {m.id === p.activeId ? ' (current)' : ''}
                  </td>
                  <td>{m.kind}</td>
                  <td>{m.parameters}</td>
                  <td>{new Date(m.savedAt).toLocaleString()}</td>
                  <td class="buttons">
                    <button type="button" onClick={() => p.onActivate(m).catch((e) => setError(errorText(e)))} aria-label={`Use ${m.label}`}>
                      Use
                    </button>
                    <button type="button" onClick={() => download(`${m.label.replace(/[^\w.-]+/g, '_')}.json`, JSON.stringify(m.json))} aria-label={`Download ${m.label}`}>
                      Download
                    </button>
                    <button type="button" onClick={() => deleteModel(m.id).then(refresh, (e) => setError(errorText(e)))} aria-label={`Delete ${m.label}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Sweep results" id="models-sweep">
        <DropZone id="sweep-file-input" label="Open a sweep results file (iclrnn sweep --out FILE.json)" accept=".json" onFiles={openSweep} testId="sweep-drop" />
        <ErrorMessage error={sweepError} onDismiss={() => setSweepError(null)} />
        {sweep && <SweepView sweep={sweep.results} name={sweep.name} />}
      </Section>
    </div>
  );
}
