/** Control view: click an initial state, run the LMPC closed loop (model predictor vs first-principles). */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ComputeClient } from '../client.ts';
import type { ModelInfo, MpcRunResult } from '../protocol.ts';
import { Chart, COLORS, PhasePlane } from '../chart.tsx';
import { ellipse, lyapunov, TARGET_BOX, X1_RANGE, X2_RANGE } from '../cstr-geometry.ts';
import { CSTR_STABILITY_LEVEL } from '../../systems/cstr.ts';
import { ErrorMessage, errorText, fmt, NumberField, readHash, Section, writeHash } from '../ui.tsx';

const RUN_COLORS = { model: COLORS.vermillion, 'first-principles': COLORS.blue } as const;
const RUN_DASH = { model: '6 3', 'first-principles': undefined } as const;
const U_BOUNDS = { u1: [-3.5, 3.5], u2: [-5e5, 5e5] };

function histogram(values: number[], bins = 12): { centers: number[]; counts: number[] } {
  if (!values.length) return { centers: [], counts: [] };
  const lo = Math.min(...values), hi = Math.max(...values);
  const w = hi > lo ? (hi - lo) / bins : Math.max(lo, 1e-3) / bins;
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / w))]++;
  return { centers: counts.map((_, i) => lo + (i + 0.5) * w), counts };
}

export function ControlView(p: { client: ComputeClient; model: ModelInfo | null }) {
  const h = readHash();
  const init = (h.get('x0') ?? '1.5,-70').split(',').map(Number);
  const [x0, setX0] = useState<[number, number]>(init.length === 2 && init.every(Number.isFinite) ? [init[0], init[1]] : [1.5, -70]);
  const [useModel, setUseModel] = useState(true);
  const [useOde, setUseOde] = useState(true);
  const [maxSteps, setMaxSteps] = useState(20);
  const [runs, setRuns] = useState<MpcRunResult[] | null>(null);
  const [live, setLive] = useState<Record<string, [number, number][]>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(
    () =>
      p.client.on((e) => {
        if (e.type === 'mpc-step') setLive((l) => ({ ...l, [e.predictor]: [...(l[e.predictor] ?? []), e.x] }));
      }),
    [p.client],
  );
  const choose = (x: number, y: number) => {
    const v: [number, number] = [+x.toFixed(3), +y.toFixed(1)];
    setX0(v);
    writeHash({ x0: v.join(',') });
  };
  const modelOk = !!p.model && p.model.inputSize === 4 && p.model.outputSize === 2;
  const run = async () => {
    setError(null);
    setRuns(null);
    setLive({});
    const predictors = [...(useModel && modelOk ? (['model'] as const) : []), ...(useOde ? (['first-principles'] as const) : [])];
    if (!predictors.length) {
      setError(modelOk || !useModel ? 'choose at least one predictor' : 'the model predictor needs a CSTR model (4 inputs, 2 outputs): train or load one');
      return;
    }
    if (lyapunov(x0[0], x0[1]) >= 372) {
      setError(`V(x0) = ${fmt(lyapunov(x0[0], x0[1]))} is outside the stability region V(x) < 372; pick a state inside the ellipse`);
      return;
    }
    setBusy(true);
    try {
      setRuns(await p.client.call({ type: 'mpc', x0, predictors: [...predictors], maxSteps }));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const lines = useMemo(() => {
    const l = [
      { label: 'V(x) = 372', ...ellipse(), color: COLORS.black },
      { label: 'target region', ...TARGET_BOX, color: COLORS.green, width: 3 },
    ];
    if (runs) for (const r of runs) l.push({ label: `closed loop, ${r.predictor} predictor`, x: r.x1, y: r.x2, color: RUN_COLORS[r.predictor], dash: RUN_DASH[r.predictor], width: 2.5 } as never);
    else
      for (const [k, pts] of Object.entries(live))
        l.push({ label: `running: ${k}`, x: [x0[0], ...pts.map((q) => q[0])], y: [x0[1], ...pts.map((q) => q[1])], color: RUN_COLORS[k as 'model'], width: 2 } as never);
    return l;
  }, [runs, live, x0]);
  const timeSeries = (pick: (r: MpcRunResult) => number[], withState: boolean) => {
    if (!runs?.length) return null;
    const n = Math.max(...runs.map((r) => pick(r).length));
    const x = Array.from({ length: n }, (_, i) => i);
    return [x, ...runs.map((r) => x.map((i) => pick(r)[i] ?? null))] as (number | null)[][];
  };
  const boundSeries = (key: 'u1' | 'u2') => {
    const d = timeSeries((r) => r[key], false);
    if (!d) return null;
    const b = U_BOUNDS[key];
    return [...d, d[0].map(() => b[0]), d[0].map(() => b[1])];
  };
  const solve = runs ? histogram(runs.flatMap((r) => r.solveMs)) : null;

  return (
    <div class="view-body">
      <ErrorMessage error={error} onDismiss={() => setError(null)} />
      <div class="grid2">
        <PhasePlane
          title="Click an initial state inside the stability region"
          xLabel="x1 = CA - CAs (kmol/m3)"
          yLabel="x2 = T - Ts (K)"
          xRange={X1_RANGE}
          yRange={X2_RANGE}
          lines={lines}
          markers={[{ x: x0[0], y: x0[1], color: COLORS.orange, label: `x0 = (${x0[0]}, ${x0[1]})`, shape: 'square' }]}
          onPick={choose}
          testId="control-plane"
        />
        <Section title="Lyapunov MPC (horizon 2, published weights and bounds)" id="control-settings">
          <div class="row">
            <NumberField id="x0-1" label="x1(0) (kmol/m3)" value={x0[0]} onChange={(v) => choose(v, x0[1])} />
            <NumberField id="x0-2" label="x2(0) (K)" value={x0[1]} onChange={(v) => choose(x0[0], v)} />
            <NumberField id="mpc-steps" label="Max steps" value={maxSteps} min={1} step={1} onChange={(v) => setMaxSteps(Math.max(1, Math.round(v)))} />
          </div>
          <p class="hint">V(x0) = {fmt(lyapunov(x0[0], x0[1]))} (must be below 372)</p>
          <fieldset>
            <legend>Predictors</legend>
            <label class="check">
              <input type="checkbox" checked={useModel} onChange={() => setUseModel(!useModel)} /> trained / loaded model {modelOk ? `(${p.model!.label})` : '(none loaded for the CSTR)'}
            </label>
            <label class="check">
              <input type="checkbox" checked={useOde} onChange={() => setUseOde(!useOde)} /> first-principles ODE
            </label>
          </fieldset>
          <button type="button" class="primary" onClick={run} disabled={busy} data-testid="mpc-run">
            {busy ? 'Running...' : 'Run closed loop'}
          </button>
          {runs && (
            <ul class="results" data-testid="mpc-results">
              {runs.map((r) => (
                <li key={r.predictor} data-testid={`mpc-result-${r.predictor}`} data-converged={String(r.converged)}>
                  <strong>{r.predictor}:</strong> {r.converged ? `target reached in ${r.steps} steps` : `not converged after ${r.steps} steps`}; solve time median{' '}
                  {fmt([...r.solveMs].sort((a, b) => a - b)[Math.floor(r.solveMs.length / 2)] ?? NaN)} ms, max {fmt(Math.max(0, ...r.solveMs))} ms
                  {r.message && <span class={r.infeasibleSteps ? 'warn' : ''}> ({r.message})</span>}
                  {r.maxV >= CSTR_STABILITY_LEVEL ? (
                    <span class="warn" data-testid={`mpc-exit-${r.predictor}`}> LEFT the stability region on the plant: max V = {fmt(r.maxV)} (level {CSTR_STABILITY_LEVEL})</span>
                  ) : (
                    <span> max V on the plant {fmt(r.maxV)}, inside the stability region</span>
                  )}
                </li>
              ))}
            </ul>
          )}
        </Section>
      </div>
      {runs && runs.length > 0 && (
        <div class="grid2">
          <Chart
            title="u1 = CA0 - CA0s against its bounds"
            xLabel="step"
            yLabel="u1 (kmol/m3)"
            xIntegers
            series={[...runs.map((r) => ({ label: `u1, ${r.predictor}`, color: RUN_COLORS[r.predictor], points: true })), { label: 'lower bound', color: COLORS.grey, dash: [2, 4] }, { label: 'upper bound', color: COLORS.grey, dash: [2, 4] }]}
            data={boundSeries('u1')!}
            testId="mpc-u1"
            height={200}
          />
          <Chart
            title="u2 = Q - Qs against its bounds"
            xLabel="step"
            yLabel="u2 (kJ/h)"
            xIntegers
            series={[...runs.map((r) => ({ label: `u2, ${r.predictor}`, color: RUN_COLORS[r.predictor], points: true })), { label: 'lower bound', color: COLORS.grey, dash: [2, 4] }, { label: 'upper bound', color: COLORS.grey, dash: [2, 4] }]}
            data={boundSeries('u2')!}
            testId="mpc-u2"
            height={200}
          />
          <Chart
            title="V(x) over time (log scale)"
            xLabel="step"
            yLabel="V(x)"
            xIntegers
            logY
            series={[...runs.map((r) => ({ label: `V, ${r.predictor}`, color: RUN_COLORS[r.predictor], points: true })), { label: 'stability level V = 372', color: COLORS.black, dash: [6, 4] }]}
            data={(() => {
              const d = timeSeries((r) => r.v.map((v) => Math.max(v, 1e-6)), true)!;
              return [...d, d[0].map(() => CSTR_STABILITY_LEVEL)];
            })()}
            testId="mpc-v"
            height={200}
          />
          {solve && (
            <Chart
              title="Solve time per step (histogram, both predictors)"
              xLabel="solve time (ms)"
              yLabel="steps"
              series={[{ label: 'steps', color: COLORS.blue, bars: true }]}
              data={[solve.centers, solve.counts]}
              testId="mpc-hist"
              height={200}
            />
          )}
        </div>
      )}
    </div>
  );
}
