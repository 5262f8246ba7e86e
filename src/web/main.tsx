/**
 * The iclrnn dashboard: six views (Data, Train, Inspect, Certify, Control, Models) over one
 * computation worker. Preact for the UI (3 kB, hooks, JSX, no build-time framework), uPlot for the
 * live time series (fast canvas charts made for streaming data), SVG for the phase planes.
 * The URL hash holds the view and its settings; models are kept in IndexedDB.
 */
import { render } from 'preact';
import { memo } from 'preact/compat';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ComputeClient } from './client.ts';
import type { DataSummary, ModelInfo, TrainSummary } from './protocol.ts';
import { getModel, listModels, newId, putModel, type SavedModel } from './store.ts';
import { ErrorMessage, errorText, readHash, writeHash } from './ui.tsx';
import { DataView as DataViewPlain } from './views/data.tsx';
import { TrainView as TrainViewPlain } from './views/train.tsx';
import { InspectView as InspectViewPlain } from './views/inspect.tsx';
import { CertifyView as CertifyViewPlain } from './views/certify.tsx';
import { ControlView as ControlViewPlain } from './views/control.tsx';
import { ModelsView as ModelsViewPlain } from './views/models.tsx';

// Views re-render only when their own props change (an app-level update must not redraw every plot).
const DataView = memo(DataViewPlain);
const TrainView = memo(TrainViewPlain);
const InspectView = memo(InspectViewPlain);
const CertifyView = memo(CertifyViewPlain);
const ControlView = memo(ControlViewPlain);
const ModelsView = memo(ModelsViewPlain);

const VIEWS = [
  { id: 'data', label: 'Data' },
  { id: 'train', label: 'Train' },
  { id: 'inspect', label: 'Inspect' },
  { id: 'certify', label: 'Certify' },
  { id: 'control', label: 'Control' },
  { id: 'models', label: 'Models' },
] as const;
type ViewId = (typeof VIEWS)[number]['id'];

const client = new ComputeClient(new URL('./worker.js', import.meta.url));

function currentView(): ViewId {
  const v = readHash().get('view');
  return (VIEWS.find((x) => x.id === v)?.id ?? 'data') as ViewId;
}

function App() {
  const [view, setView] = useState<ViewId>(currentView());
  const [data, setData] = useState<DataSummary | null>(null);
  const [model, setModel] = useState<ModelInfo | null>(null);
  const [activeId, setActiveId] = useState<string | null>(readHash().get('model'));
  const [revision, setRevision] = useState(0);
  const [appError, setAppError] = useState<string | null>(null);

  useEffect(() => {
    const onHash = () => setView(currentView());
    addEventListener('popstate', onHash);
    addEventListener('hashchange', onHash);
    return () => {
      removeEventListener('popstate', onHash);
      removeEventListener('hashchange', onHash);
    };
  }, []);

  // restore the model in use before the reload (or the newest saved one)
  useEffect(() => {
    (async () => {
      const id = readHash().get('model');
      const saved = id ? await getModel(id) : (await listModels())[0];
      if (!saved) return;
      const info = await client.call({ type: 'load-model', json: saved.json, label: saved.label });
      setModel(info);
      setActiveId(saved.id);
      writeHash({ model: saved.id });
    })().catch((e) => setAppError(`could not restore the saved model: ${errorText(e)}`));
  }, []);

  const go = (id: ViewId) => {
    setView(id);
    writeHash({ view: id }, true);
    document.getElementById(`panel-${id}`)?.focus();
  };
  const onKey = (e: KeyboardEvent) => {
    const i = VIEWS.findIndex((v) => v.id === view);
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % VIEWS.length;
    else if (e.key === 'ArrowLeft') j = (i + VIEWS.length - 1) % VIEWS.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = VIEWS.length - 1;
    if (j < 0) return;
    e.preventDefault();
    setView(VIEWS[j].id);
    writeHash({ view: VIEWS[j].id }, true);
    document.getElementById(`tab-${VIEWS[j].id}`)?.focus();
  };

  const remember = useCallback(async (info: ModelInfo, json: SavedModel['json'], label: string) => {
    const id = newId();
    await putModel({ id, label, savedAt: new Date().toISOString(), kind: info.kind, parameters: info.parameters, json });
    setModel({ ...info, label });
    setActiveId(id);
    writeHash({ model: id });
    setRevision((r) => r + 1);
  }, []);
  const onTrained = useCallback(async (s: TrainSummary) => {
    try {
      const json = await client.call({ type: 'save-model' });
      await remember(s.model, json, `${s.model.label.replace(' (trained here)', '')}, ${s.epochsRun} epochs, test MSE ${s.testMse.toExponential(2)}`);
    } catch (e) {
      setAppError(`the trained model could not be saved in this browser: ${errorText(e)}`);
    }
  }, [remember]);
  const activate = useCallback(async (m: SavedModel) => {
    const info = await client.call({ type: 'load-model', json: m.json, label: m.label });
    setModel(info);
    setActiveId(m.id);
    writeHash({ model: m.id });
  }, []);

  return (
    <>
      <header>
        <h1>iclrnn dashboard</h1>
        <p class="status" data-testid="status-line">
          Data: {data ? `${data.name}, ${data.count} sequences` : 'none'} · Model: {model ? model.label : 'none'}
        </p>
      </header>
      <nav aria-label="Views">
        <div role="tablist" aria-label="Dashboard views" onKeyDown={onKey}>
          {VIEWS.map((v) => (
            <button
              key={v.id}
              id={`tab-${v.id}`}
              role="tab"
              type="button"
              aria-selected={view === v.id}
              aria-controls={`panel-${v.id}`}
              tabIndex={view === v.id ? 0 : -1}
              onClick={() => go(v.id)}
            >
              {v.label}
            </button>
          ))}
        </div>
      </nav>
      <main>
        <ErrorMessage error={appError} onDismiss={() => setAppError(null)} />
        {VIEWS.map((v) => (
          <div key={v.id} id={`panel-${v.id}`} role="tabpanel" aria-labelledby={`tab-${v.id}`} hidden={view !== v.id} tabIndex={-1} data-testid={`view-${v.id}`}>
            {v.id === 'data' && <DataView client={client} data={data} onData={setData} />}
            {v.id === 'train' && <TrainView client={client} data={data} onTrained={onTrained} />}
            {v.id === 'inspect' && <InspectView client={client} model={model} />}
            {v.id === 'certify' && <CertifyView client={client} model={model} isCstr={!!data?.isCstr} />}
            {v.id === 'control' && <ControlView client={client} model={model} />}
            {v.id === 'models' && <ModelsView client={client} model={model} activeId={activeId} revision={revision} onImported={remember} onActivate={activate} />}
          </div>
        ))}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
