/** Certify view: convexity, the Lipschitz ladder (empirical <= attack <= certified), a local bound around a clicked test input. */
import { useState } from 'preact/hooks';
import type { ComputeClient } from '../client.ts';
import type { CertifyResult, ModelInfo, TestPoints } from '../protocol.ts';
import { COLORS, PhasePlane } from '../chart.tsx';
import { ellipse, X1_RANGE, X2_RANGE } from '../cstr-geometry.ts';
import { ErrorMessage, errorText, fmt, NumberField, readHash, Section, writeHash } from '../ui.tsx';

function reasonText(r: Record<string, unknown>): string {
  const { kind, ...rest } = r;
  return `${String(kind)}: ${Object.entries(rest)
    .map(([k, v]) => `${k} ${Array.isArray(v) ? `[${v.join(', ')}]` : typeof v === 'number' ? fmt(v, 4) : String(v)}`)
    .join(', ')}`;
}

function Ladder({ rungs }: { rungs: { label: string; value: number | null; kind: 'lower' | 'upper'; note?: string }[] }) {
  const max = Math.max(...rungs.map((r) => r.value ?? 0), 1e-12);
  return (
    <table class="ladder" data-testid="lipschitz-ladder">
      <caption>Lipschitz constant (scaled inputs to scaled outputs, l2 over the sequence)</caption>
      <thead>
        <tr>
          <th scope="col">estimate</th>
          <th scope="col">kind</th>
          <th scope="col">value</th>
          <th scope="col">
            <span class="sr-only">bar</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rungs.map((r) => (
          <tr key={r.label}>
            <th scope="row">{r.label}</th>
            <td>{r.kind === 'lower' ? 'lower bound' : 'certified upper bound'}</td>
            <td data-testid={`ladder-${r.label.split(' ')[0]}`}>{r.value === null ? `none${r.note ? ` (${r.note})` : ''}` : fmt(r.value, 4)}</td>
            <td class="bar-cell">
              {r.value !== null && (
                <span
                  class="bar"
                  style={{ width: `${Math.max(1, (100 * r.value) / max)}%`, background: r.kind === 'lower' ? COLORS.sky : COLORS.blue }}
                  aria-hidden="true"
                />
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function CertifyView(p: { client: ComputeClient; model: ModelInfo | null; isCstr: boolean }) {
  const h = readHash();
  const [points, setPoints] = useState<TestPoints | null>(null);
  const [localIndex, setLocalIndex] = useState<number | null>(h.has('local') ? Number(h.get('local')) : null);
  const [radius, setRadius] = useState(Number(h.get('r') ?? 0.01) || 0.01);
  const [r, setR] = useState<CertifyResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const loadPoints = async () => {
    setError(null);
    try {
      setPoints(await p.client.call({ type: 'test-points' }));
    } catch (e) {
      setError(errorText(e));
    }
  };
  const pick = (i: number | null) => {
    setLocalIndex(i);
    writeHash({ local: i === null ? null : String(i) });
  };
  const run = async () => {
    setBusy('Certifying...');
    setError(null);
    try {
      setR(await p.client.call({ type: 'certify', options: { localIndex, radius } }));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };
  const nearest = (x: number, y: number) => {
    if (!points) return;
    const [sx, sy] = points.labels[0] === 'x1' ? [X1_RANGE[1] - X1_RANGE[0], X2_RANGE[1] - X2_RANGE[0]] : [1, 1];
    let best = 0, bd = Infinity;
    points.points.forEach(([a, b], i) => {
      const d = ((a - x) / sx) ** 2 + ((b - y) / sy) ** 2;
      if (d < bd) {
        bd = d;
        best = i;
      }
    });
    pick(best);
  };
  const rep = r?.report;
  const lip = rep?.lipschitz;
  const cstrPlane = points?.labels[0] === 'x1';
  const chosen = points && localIndex !== null ? points.points[localIndex] : null;

  return (
    <div class="view-body">
      <ErrorMessage error={error} onDismiss={() => setError(null)} />
      <div class="grid2">
        <Section title="Certificate" id="cert-run">
          <p>Model: {p.model ? p.model.label : 'none'}</p>
          <div class="row">
            <NumberField
              id="cert-local"
              label="Local box around test input #"
              value={localIndex ?? -1}
              step={1}
              min={-1}
              onChange={(v) => pick(v < 0 ? null : Math.round(v))}
              hint="-1: no local bound; or click a test input on the plane"
            />
            <NumberField
              id="cert-radius"
              label="Box radius r (l∞, scaled)"
              value={radius}
              min={0}
              onChange={(v) => {
                setRadius(v);
                writeHash({ r: String(v) });
              }}
            />
          </div>
          <div class="buttons">
            <button type="button" onClick={loadPoints} disabled={!p.model}>
              Show test inputs
            </button>
            <button type="button" class="primary" onClick={run} disabled={!!busy || !p.model} data-testid="certify-run">
              {busy ?? 'Certify'}
            </button>
          </div>
        </Section>
        {points && (
          <PhasePlane
            title={cstrPlane ? 'Test inputs (initial states): click one for the local bound' : 'Test inputs (first two scaled features at step 0): click one'}
            xLabel={points.labels[0]}
            yLabel={points.labels[1]}
            xRange={cstrPlane ? X1_RANGE : [-0.05, 1.05]}
            yRange={cstrPlane ? X2_RANGE : [-0.05, 1.05]}
            lines={cstrPlane ? [{ label: 'V(x) = 372', ...ellipse(), color: COLORS.black }] : []}
            dots={points.points.map(([x, y]) => ({ x, y }))}
            markers={chosen ? [{ x: chosen[0], y: chosen[1], color: COLORS.orange, label: `chosen test input #${localIndex}`, shape: 'diamond' }] : []}
            onPick={nearest}
            testId="certify-plane"
          />
        )}
      </div>
      {rep && lip && (
        <div class="grid2" data-testid="certificate">
          <Section title="Convexity" id="cert-convexity">
            <p class={rep.convex ? 'ok' : 'bad'} data-testid="convexity">
              {rep.convex ? 'PROVEN: every output is convex in the input sequence.' : 'NOT proven convex.'}
            </p>
            {!rep.convex && (
              <ul>
                {rep.convexity.structural.reasons.slice(0, 8).map((x, i) => (
                  <li key={i}>{reasonText(x as unknown as Record<string, unknown>)}</li>
                ))}
              </ul>
            )}
            {rep.convexity.numerical && (
              <p>
                Jensen check on {rep.convexity.numerical.segments} random segments: {rep.convexity.numerical.convex ? 'no violation' : `${rep.convexity.numerical.violations} violations (worst ${fmt(rep.convexity.numerical.worstViolation)})`}.
              </p>
            )}
            <p class="hint">
              {rep.steps} steps; {rep.model.kind}, {rep.model.parameters} parameters; {fmt(rep.seconds, 2)} s.
            </p>
          </Section>
          <Section title="Lipschitz ladder" id="cert-ladder">
            <Ladder
              rungs={[
                { label: 'empirical (reference protocol)', value: lip.empirical, kind: 'lower' },
                { label: 'attack (gradient ascent)', value: lip.attack, kind: 'lower' },
                { label: 'certified global', value: lip.upperBound, kind: 'upper', note: lip.upperBoundReason ?? undefined },
                { label: 'domain [0,1]', value: lip.domain, kind: 'upper' },
                ...(lip.local !== null ? [{ label: `local r=${fmt(radius)} around #${localIndex}`, value: lip.local, kind: 'upper' as const }] : []),
              ]}
            />
            <p data-testid="ladder-gap">
              Gap certified / attack: {lip.upperBound !== null && lip.attack ? fmt(lip.upperBound / lip.attack, 3) : '-'}
              {lip.local !== null && lip.details.local?.attack ? `; local gap ${fmt(lip.local / lip.details.local.attack, 3)}` : ''}
            </p>
          </Section>
        </div>
      )}
    </div>
  );
}
