/** Inspect view: predicted vs true on test sequences; the CSTR phase portrait with V(x) = 372. */
import { useState } from 'preact/hooks';
import type { ComputeClient } from '../client.ts';
import type { InspectResult, ModelInfo } from '../protocol.ts';
import { Chart, COLORS, PhasePlane } from '../chart.tsx';
import { ellipse, X1_RANGE, X2_RANGE } from '../cstr-geometry.ts';
import { ErrorMessage, errorText, fmt, Section } from '../ui.tsx';

export function InspectView(p: { client: ComputeClient; model: ModelInfo | null }) {
  const [r, setR] = useState<InspectResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const refresh = async () => {
    setBusy(true);
    setError(null);
    try {
      setR(await p.client.call({ type: 'inspect' }));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="view-body">
      <ErrorMessage error={error} onDismiss={() => setError(null)} />
      <p>
        Model: {p.model ? p.model.label : 'none'}{' '}
        <button type="button" class="primary" onClick={refresh} disabled={busy || !p.model} data-testid="inspect-run">
          {busy ? 'Computing...' : 'Show predictions'}
        </button>
      </p>
      {r && (
        <>
          {r.testMse !== null && <p>Test MSE (scaled): {fmt(r.testMse)}</p>}
          {r.samples.length > 0 && (
            <Section title="Predicted vs true on test sequences (physical units)" id="inspect-samples">
              <div class="grid2">
                {r.samples.slice(0, Math.max(1, Math.floor(4 / Math.max(1, r.samples[0].outputs.length)))).flatMap((s) =>
                  s.outputs.slice(0, 4).map((o) => (
                    <Chart
                      key={`${s.index}-${o.label}`}
                      title={`Test sequence ${s.index}: ${o.label}`}
                      xLabel="step"
                      yLabel={o.label}
                      xIntegers
                      series={[
                        { label: `${o.label} true`, color: COLORS.blue, points: true },
                        { label: `${o.label} predicted`, color: COLORS.vermillion, dash: [6, 3], points: true },
                      ]}
                      data={[s.t, o.truth, o.predicted]}
                      height={180}
                      testId="inspect-sample"
                    />
                  )),
                )}
              </div>
            </Section>
          )}
          {r.phase && (
            <Section title="Phase portrait: true plant vs chained model predictions (8 periods)" id="inspect-phase">
              <div class="grid2">
                {r.phase.map((panel) => (
                  <PhasePlane
                    key={panel.u.join(',')}
                    title={`u = (${fmt(panel.u[0])}, ${fmt(panel.u[1])})`}
                    xLabel="x1 = CA - CAs (kmol/m3)"
                    yLabel="x2 = T - Ts (K)"
                    xRange={X1_RANGE}
                    yRange={X2_RANGE}
                    lines={[
                      { label: 'V(x) = 372', ...ellipse(), color: COLORS.black },
                      ...panel.trajectories.flatMap((t, i) => [
                        { label: 'true trajectory', x: t.trueX1, y: t.trueX2, color: COLORS.blue, hideInLegend: i > 0 },
                        { label: 'model prediction', x: t.predX1, y: t.predX2, color: COLORS.vermillion, dash: '6 3', hideInLegend: i > 0 },
                      ]),
                    ]}
                    testId="inspect-phase"
                  />
                ))}
              </div>
            </Section>
          )}
        </>
      )}
    </div>
  );
}
