/**
 * The HTML report: one self-contained file (inline CSS and SVG; no scripts, fonts or network
 * references) with the sweep's test MSE and Lipschitz estimates against the published numbers,
 * CSTR phase portraits and MPC closed-loop trajectories. Pure: every function returns a string.
 * All text taken from the inputs is escaped.
 */
import type { SweepResults } from '../train/sweep.ts';
import { stabilityEllipse, type PhasePortraitGroup } from './phase.ts';
import { PUBLISHED_CITATION, PUBLISHED_EPOCHS, PUBLISHED_SOURCE, PUBLISHED_LIPSCHITZ_CSTR, PUBLISHED_NOISE, PUBLISHED_TEST_MSE } from './published.ts';
import { escapeHtml, formatNumber, linePlot, paletteColor, type LegendItem, type PlotSeries } from './svg.ts';

/** One trained model's numbers (one sweep cell). */
export interface ReportRow {
  model: string;
  noise: number;
  seed?: number;
  testMse: number | null;
  /** Empirical Lipschitz estimate. */
  lipschitz?: number | null;
  /** Certified Lipschitz upper bound. */
  upperBound?: number | null;
  trainSeconds?: number | null;
  secondsPerEpoch?: number | null;
  epochs?: number | null;
  status?: 'done' | 'failed' | string;
  error?: string | null;
}

/** One MPC closed-loop run: time (h), states and inputs (deviation variables), equally long. */
export interface MpcRun {
  label?: string;
  t: ArrayLike<number>;
  x1: ArrayLike<number>;
  x2: ArrayLike<number>;
  u1: ArrayLike<number>;
  u2: ArrayLike<number>;
  /** Optional mean wall time per MPC step (s). */
  secondsPerStep?: number | null;
}

export interface ReportInput {
  title?: string;
  /** Free text under the title. */
  subtitle?: string;
  /** 'cstr', 'energy', 'solar', ... (selects the published numbers). */
  system?: string;
  generatedAt?: string;
  /** Shown as a key/value table. */
  config?: Record<string, unknown>;
  rows?: ReportRow[];
  /** Compare with the published numbers (default true). */
  showPublished?: boolean;
  phasePortraits?: PhasePortraitGroup[];
  /** MPC runs; null/undefined renders a placeholder section. */
  mpcRuns?: MpcRun[] | null;
  notes?: string[];
}

const MODEL_COLORS: Record<string, string> = {
  iclrnn: '#0072B2',
  icrnn: '#009E73',
  lrnn: '#E69F00',
  rnn: '#D55E00',
  lstm: '#CC79A7',
  iclstm: '#56B4E9',
};

const MODEL_LABELS: Record<string, string> = { iclrnn: 'ICLRNN', icrnn: 'ICRNN', lrnn: 'LRNN', rnn: 'RNN', lstm: 'LSTM', iclstm: 'ICLSTM' };

function modelLabel(m: string): string {
  return MODEL_LABELS[m] ?? m;
}

/** A colour per model: fixed for the six families, palette order for others. */
function colorMap(models: string[]): Map<string, string> {
  const map = new Map<string, string>();
  let extra = 6;
  for (const m of models) map.set(m, MODEL_COLORS[m] ?? paletteColor(extra++));
  return map;
}

const fin = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Rows of a sweep results object (every recorded cell). */
export function reportRowsFromSweep(results: SweepResults): ReportRow[] {
  return Object.values(results.cells).map((c) => ({
    model: c.model,
    noise: c.noise,
    seed: c.seed,
    testMse: fin(c.testMse) ? c.testMse : null,
    lipschitz: fin(c.lipschitz?.empirical) ? c.lipschitz!.empirical : null,
    upperBound: fin(c.lipschitz?.upperBound) ? c.lipschitz!.upperBound : null,
    trainSeconds: fin(c.trainSeconds) ? c.trainSeconds : null,
    secondsPerEpoch: fin(c.secondsPerEpoch) ? c.secondsPerEpoch : null,
    epochs: fin(c.epochsRun) ? c.epochsRun : null,
    status: c.status,
    error: c.error ?? null,
  }));
}

interface Aggregate {
  model: string;
  noise: number;
  n: number;
  testMse: number | null;
  lipschitz: number | null;
  upperBound: number | null;
  trainSeconds: number | null;
}

function mean(xs: (number | null | undefined)[]): number | null {
  const v = xs.filter(fin);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

/** Means over seeds of the finished rows, by model and noise. */
export function aggregateRows(rows: ReportRow[]): Aggregate[] {
  const groups = new Map<string, ReportRow[]>();
  for (const r of rows) {
    if (r.status === 'failed' || typeof r.model !== 'string' || !fin(r.noise)) continue;
    const k = `${r.model}\u0000${r.noise}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  return [...groups.values()].map((g) => ({
    model: g[0].model,
    noise: g[0].noise,
    n: g.length,
    testMse: mean(g.map((r) => r.testMse)),
    lipschitz: mean(g.map((r) => r.lipschitz)),
    upperBound: mean(g.map((r) => r.upperBound)),
    trainSeconds: mean(g.map((r) => r.trainSeconds)),
  }));
}

function uniqueInOrder<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function publishedFor(system: string | undefined): Record<string, readonly number[]> | null {
  if (!system) return null;
  return (PUBLISHED_TEST_MSE as Record<string, Record<string, readonly number[]>>)[system] ?? null;
}

/** The range of some values with 5 % padding (so edge markers are not clipped). */
function paddedDomain(xs: number[]): [number, number] | undefined {
  const v = xs.filter(fin);
  if (!v.length) return undefined;
  const lo = Math.min(...v), hi = Math.max(...v);
  const d = hi > lo ? (hi - lo) * 0.05 : 0.1;
  return [lo - d, hi + d];
}

function section(id: string, title: string, body: string): string {
  return `<section id="${escapeHtml(id)}"><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

function figure(svg: string, caption?: string): string {
  return `<figure>${svg}${caption ? `<figcaption>${escapeHtml(caption)}</figcaption>` : ''}</figure>`;
}

function table(head: string[], body: string[][], cls = ''): string {
  return `<table${cls ? ` class="${escapeHtml(cls)}"` : ''}><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${body
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** Test MSE vs noise (log scale) per model, beside the published numbers; plus the table. */
export function renderMseSection(rows: ReportRow[], system?: string, showPublished = true): string {
  const agg = aggregateRows(rows);
  const published = showPublished ? publishedFor(system) : null;
  const models = uniqueInOrder([...agg.map((a) => a.model), ...(published ? Object.keys(published) : [])]);
  const colors = colorMap(models);
  const noise = uniqueInOrder([...agg.map((a) => a.noise), ...(published ? PUBLISHED_NOISE : [])]).sort((a, b) => a - b);
  const series: PlotSeries[] = [];
  for (const m of models) {
    const mine = agg.filter((a) => a.model === m).sort((a, b) => a.noise - b.noise);
    if (mine.length)
      series.push({ name: `${modelLabel(m)} (this run)`, x: mine.map((a) => a.noise), y: mine.map((a) => a.testMse), color: colors.get(m), marker: 'circle' });
    if (published?.[m])
      series.push({ name: `${modelLabel(m)} (published)`, x: [...PUBLISHED_NOISE], y: [...published[m]], color: colors.get(m), dash: '5 4', marker: 'square', markerSize: 2.6, opacity: 0.75 });
  }
  const svg = linePlot(series, {
    title: `Test MSE vs training noise${system ? ` (${system})` : ''}`,
    xLabel: 'training noise σ (scaled targets)',
    yLabel: 'test MSE (scaled, log)',
    yLog: true,
    xTicks: noise,
    xDomain: paddedDomain(noise),
    width: 720,
    height: 380,
    id: 'fig-mse',
  });
  const head = ['model', ...noise.map((n) => `σ = ${formatNumber(n)}`)];
  const body = models.map((m) => [
    `<span class="swatch" style="background:${colors.get(m)}"></span>${escapeHtml(modelLabel(m))}`,
    ...noise.map((n) => {
      const a = agg.find((x) => x.model === m && x.noise === n);
      const i = PUBLISHED_NOISE.findIndex((p) => p === n);
      const pub = published?.[m] && i >= 0 ? published[m][i] : null;
      const ours = a ? `${escapeHtml(formatNumber(a.testMse))}${a.n > 1 ? `<small> (${a.n} seeds)</small>` : ''}` : '–';
      return pub !== null ? `${ours}<br><small class="pub">published ${escapeHtml(formatNumber(pub))}</small>` : ours;
    }),
  ]);
  const note = published
    ? `<p class="note">Dashed lines and "published" figures: ${escapeHtml(PUBLISHED_CITATION)}. The published models were trained for ${PUBLISHED_EPOCHS} epochs; compare with care when this run used fewer.</p>`
    : `<p class="note">No published numbers for this system.</p>`;
  return section('mse', 'Test MSE vs training noise', figure(svg) + table(head, body, 'numbers') + note);
}

/** Empirical Lipschitz estimate (and certified bound, when available) vs noise, log scale. */
export function renderLipschitzSection(rows: ReportRow[], system?: string, showPublished = true): string {
  const agg = aggregateRows(rows);
  const showPub = showPublished && system === 'cstr';
  const models = uniqueInOrder([...agg.map((a) => a.model), ...(showPub ? Object.keys(PUBLISHED_LIPSCHITZ_CSTR.values) : [])]);
  const colors = colorMap(models);
  const noise = uniqueInOrder([...agg.map((a) => a.noise), ...(showPub ? [PUBLISHED_LIPSCHITZ_CSTR.noise] : [])]).sort((a, b) => a - b);
  const series: PlotSeries[] = [];
  let anyBound = false;
  for (const m of models) {
    const mine = agg.filter((a) => a.model === m).sort((a, b) => a.noise - b.noise);
    if (mine.length) {
      series.push({ name: `${modelLabel(m)} empirical`, x: mine.map((a) => a.noise), y: mine.map((a) => a.lipschitz), color: colors.get(m), marker: 'circle' });
      if (mine.some((a) => fin(a.upperBound) && a.upperBound > 0)) {
        anyBound = true;
        series.push({ name: `${modelLabel(m)} certified bound`, x: mine.map((a) => a.noise), y: mine.map((a) => a.upperBound), color: colors.get(m), dash: '2 3', marker: 'triangle' });
      }
    }
    const pub = showPub ? PUBLISHED_LIPSCHITZ_CSTR.values[m] : undefined;
    if (pub !== undefined)
      series.push({ name: `${modelLabel(m)} published`, x: [PUBLISHED_LIPSCHITZ_CSTR.noise], y: [pub], color: colors.get(m), line: false, marker: 'diamond', markerSize: 4.5 });
  }
  const svg = linePlot(series, {
    title: 'Lipschitz estimate vs training noise',
    xLabel: 'training noise σ',
    yLabel: 'Lipschitz constant (log)',
    yLog: true,
    xTicks: noise,
    xDomain: paddedDomain(noise),
    width: 720,
    height: 380,
    id: 'fig-lipschitz',
  });
  const head = ['model', ...noise.map((n) => `σ = ${formatNumber(n)}`)];
  const body = models.map((m) => [
    `<span class="swatch" style="background:${colors.get(m)}"></span>${escapeHtml(modelLabel(m))}`,
    ...noise.map((n) => {
      const a = agg.find((x) => x.model === m && x.noise === n);
      let s = a ? escapeHtml(formatNumber(a.lipschitz)) : '–';
      if (a && fin(a.upperBound)) s += `<br><small>bound ≤ ${escapeHtml(formatNumber(a.upperBound))}</small>`;
      const pub = showPub && n === PUBLISHED_LIPSCHITZ_CSTR.noise ? PUBLISHED_LIPSCHITZ_CSTR.values[m] : undefined;
      if (pub !== undefined) s += `<br><small class="pub">published ~${escapeHtml(formatNumber(pub))}</small>`;
      return s;
    }),
  ]);
  const note =
    `<p class="note">Empirical estimate: for scaled test inputs x, every entry perturbed by a uniform draw in [ε/4, ε], ε = 1e-4; ` +
    `the largest ‖f(x′) − f(x)‖ / ‖x′ − x‖ (a lower estimate, not a certificate).` +
    (anyBound ? ' Dotted lines: certified upper bounds.' : ' No certified upper bounds were recorded.') +
    (showPub ? ` Diamonds: published estimates at σ = ${PUBLISHED_LIPSCHITZ_CSTR.noise} (${escapeHtml(PUBLISHED_SOURCE)}).` : '') +
    '</p>';
  return section('lipschitz', 'Lipschitz constant vs training noise', figure(svg) + table(head, body, 'numbers') + note);
}

/** Training time per model and noise level (mean over seeds). */
export function renderTimingSection(rows: ReportRow[]): string {
  const agg = aggregateRows(rows);
  if (!agg.length) return '';
  const models = uniqueInOrder(agg.map((a) => a.model));
  const noise = uniqueInOrder(agg.map((a) => a.noise)).sort((a, b) => a - b);
  const body = models.map((m) => [
    escapeHtml(modelLabel(m)),
    ...noise.map((n) => {
      const a = agg.find((x) => x.model === m && x.noise === n);
      return a && fin(a.trainSeconds) ? `${escapeHtml(formatNumber(a.trainSeconds))} s` : '–';
    }),
  ]);
  return section('timing', 'Training time', table(['model', ...noise.map((n) => `σ = ${formatNumber(n)}`)], body, 'numbers'));
}

/** Every row (cell), failed ones with their error. */
export function renderCellsTable(rows: ReportRow[]): string {
  if (!rows.length) return '';
  const sorted = [...rows].sort((a, b) => String(a.model).localeCompare(String(b.model)) || a.noise - b.noise || (a.seed ?? 0) - (b.seed ?? 0));
  const body = sorted.map((r) => [
    escapeHtml(modelLabel(r.model)),
    escapeHtml(formatNumber(r.noise)),
    escapeHtml(r.seed ?? '–'),
    r.status === 'failed' ? `<span class="failed">failed</span>${r.error ? `: ${escapeHtml(r.error)}` : ''}` : escapeHtml(formatNumber(r.testMse, 4)),
    escapeHtml(formatNumber(r.lipschitz ?? null, 4)),
    escapeHtml(formatNumber(r.upperBound ?? null, 4)),
    escapeHtml(r.epochs ?? '–'),
    r.trainSeconds != null && fin(r.trainSeconds) ? `${escapeHtml(formatNumber(r.trainSeconds))} s` : '–',
  ]);
  return section(
    'cells',
    'All cells',
    `<details><summary>${rows.length} cell${rows.length === 1 ? '' : 's'}</summary>${table(['model', 'σ', 'seed', 'test MSE', 'Lipschitz (empirical)', 'certified bound', 'epochs', 'training time'], body, 'numbers')}</details>`,
  );
}

function ellipseSeries(): PlotSeries {
  const e = stabilityEllipse();
  return { name: 'V(x) = 372', x: e.x1, y: e.x2, color: '#777777', dash: '3 3', width: 1.4, legend: false };
}

function domainOf(xs: number[], pad = 0.08): [number, number] {
  const v = xs.filter(fin);
  let lo = Math.min(...v), hi = Math.max(...v);
  if (!v.length) return [0, 1];
  if (hi - lo < 1e-12) {
    lo -= 1;
    hi += 1;
  }
  const d = (hi - lo) * pad;
  return [lo - d, hi + d];
}

/**
 * CSTR phase portraits: per group (model), one panel per constant input with the true (solid)
 * and predicted (dashed) trajectories from each initial state, and the stability ellipse.
 */
export function renderPhaseSection(groups: PhasePortraitGroup[] | null | undefined): string {
  if (!groups || !groups.length) return '';
  const ell = stabilityEllipse();
  let k = 0;
  const parts = groups.map((g) => {
    const panels = g.panels.map((p) => {
      const series: PlotSeries[] = [ellipseSeries()];
      const xsAll = [...ell.x1], ysAll = [...ell.x2];
      p.trajectories.forEach((tr, i) => {
        const color = paletteColor(i);
        series.push({ name: `x0 = (${formatNumber(tr.x0[0], 2)}, ${formatNumber(tr.x0[1], 2)})`, x: tr.trueX1, y: tr.trueX2, color });
        series.push({ name: `${g.label} prediction`, x: tr.predX1, y: tr.predX2, color, dash: '5 3', width: 1.5, legend: false, marker: 'circle', markerSize: 1.6 });
        xsAll.push(...tr.trueX1);
        ysAll.push(...tr.trueX2);
      });
      const legendItems: LegendItem[] = [
        { name: 'true (Euler)', color: '#333333' },
        { name: 'model, chained', color: '#333333', dash: '5 3' },
        { name: 'V(x) = 372', color: '#777777', dash: '3 3' },
      ];
      const svg = linePlot(series, {
        title: `u = (${formatNumber(p.u[0], 3)}, ${formatNumber(p.u[1], 3)})`,
        xLabel: 'x1 = CA − CAs (kmol/m³)',
        yLabel: 'x2 = T − Ts (K)',
        xDomain: domainOf(xsAll),
        yDomain: domainOf(ysAll),
        width: 470,
        height: 330,
        legendItems,
        id: `fig-phase-${++k}`,
      });
      return figure(svg);
    });
    return `<h3>${escapeHtml(g.label)}</h3>${g.note ? `<p class="note">${escapeHtml(g.note)}</p>` : ''}<div class="row">${panels.join('')}</div>`;
  });
  return section(
    'phase',
    'CSTR phase portraits',
    `<p>Trajectories in the (x1, x2) plane from a few initial states under constant inputs u = (u1, u2). Solid: the plant (explicit Euler, 1e-4 h). ` +
      `Dashed: the model's 10-step prediction of one 0.005 h sampling period, chained (the last predicted state starts the next period). ` +
      `Grey dashed ellipse: the stability region boundary V(x) = xᵀPx = 372. The axes span the true trajectories; predictions leaving the window are clipped.</p>` +
      parts.join(''),
  );
}

function toNumbers(a: unknown): number[] | null {
  if (a === null || a === undefined || typeof (a as ArrayLike<number>).length !== 'number' || typeof a === 'string') return null;
  return Array.from(a as ArrayLike<unknown>, (v) => (typeof v === 'number' ? v : NaN));
}

function lyapunov(x1: number, x2: number): number {
  return x1 * (1060 * x1 + 22 * x2) + x2 * (22 * x1 + 0.52 * x2);
}

/**
 * MPC closed-loop trajectories: the (x1, x2) plane with the stability ellipse, states and inputs
 * over time, and a summary table. Takes plain arrays ({t, x1, x2, u1, u2} per run); runs with
 * missing arrays are listed as skipped. With no runs, a placeholder section.
 */
export function renderMpcSection(runs: MpcRun[] | null | undefined): string {
  if (!runs || !Array.isArray(runs) || runs.length === 0)
    return section('mpc', 'MPC closed loop', '<p class="note">No MPC closed-loop runs were supplied to this report.</p>');
  const good: { label: string; t: number[]; x1: number[]; x2: number[]; u1: number[]; u2: number[]; secondsPerStep: number | null }[] = [];
  const skipped: string[] = [];
  runs.forEach((r, i) => {
    const label = r && typeof r.label === 'string' && r.label ? r.label : `run ${i + 1}`;
    const arrays = r ? [toNumbers(r.t), toNumbers(r.x1), toNumbers(r.x2), toNumbers(r.u1), toNumbers(r.u2)] : [null];
    if (arrays.some((a) => a === null)) {
      skipped.push(label);
      return;
    }
    const [t, x1, x2, u1, u2] = arrays as number[][];
    const n = Math.min(t.length, x1.length, x2.length);
    good.push({ label, t: t.slice(0, n), x1: x1.slice(0, n), x2: x2.slice(0, n), u1: u1.slice(0, Math.min(n, u1.length)), u2: u2.slice(0, Math.min(n, u2.length)), secondsPerStep: fin(r.secondsPerStep) ? r.secondsPerStep : null });
  });
  const color = (i: number) => paletteColor(i);
  const phase = linePlot(
    [ellipseSeries(), ...good.map((r, i) => ({ name: r.label, x: r.x1, y: r.x2, color: color(i), marker: 'circle' as const, markerSize: 2 }))],
    { title: 'Closed loop in the (x1, x2) plane', xLabel: 'x1 (kmol/m³)', yLabel: 'x2 (K)', width: 520, height: 360, legendItems: [{ name: 'V(x) = 372', color: '#777777', dash: '3 3' }], id: 'fig-mpc-phase' },
  );
  const overTime = (key: 'x1' | 'x2' | 'u1' | 'u2', yLabel: string, id: string) =>
    linePlot(
      good.map((r, i) => ({ name: r.label, x: r.t.slice(0, r[key].length), y: r[key], color: color(i) })),
      { title: `${key}(t)`, xLabel: 't (h)', yLabel, width: 420, height: 260, legend: good.length > 1, id },
    );
  const figs =
    `<div class="row">${figure(phase)}</div>` +
    `<div class="row">${figure(overTime('x1', 'x1 (kmol/m³)', 'fig-mpc-x1'))}${figure(overTime('x2', 'x2 (K)', 'fig-mpc-x2'))}</div>` +
    `<div class="row">${figure(overTime('u1', 'u1 (kmol/m³)', 'fig-mpc-u1'))}${figure(overTime('u2', 'u2 (kJ/h)', 'fig-mpc-u2'))}</div>`;
  const body = good.map((r) => {
    const n = r.x1.length;
    const last = n - 1;
    const vs = r.x1.map((a, i) => lyapunov(a, r.x2[i])).filter(fin);
    const settled = n > 0 && Math.abs(r.x1[last]) < 0.02 && Math.abs(r.x2[last]) < 3;
    return [
      escapeHtml(r.label),
      escapeHtml(Math.max(0, n - 1)),
      n ? `(${escapeHtml(formatNumber(r.x1[last]))}, ${escapeHtml(formatNumber(r.x2[last]))})` : '–',
      escapeHtml(formatNumber(n ? lyapunov(r.x1[last], r.x2[last]) : null)),
      escapeHtml(formatNumber(vs.length ? Math.max(...vs) : null)),
      settled ? 'yes' : 'no',
      r.secondsPerStep !== null ? `${escapeHtml(formatNumber(r.secondsPerStep))} s` : '–',
    ];
  });
  const tbl = table(['run', 'steps', 'final (x1, x2)', 'final V', 'max V', 'settled (|x1| < 0.02, |x2| < 3)', 'time per step'], body, 'numbers');
  const skip = skipped.length ? `<p class="note">Skipped (missing t/x1/x2/u1/u2 arrays): ${escapeHtml(skipped.join(', '))}</p>` : '';
  return section('mpc', 'MPC closed loop', figs + tbl + skip);
}

function configTable(config: Record<string, unknown> | undefined): string {
  if (!config) return '';
  const flat: [string, string][] = [];
  const walk = (v: unknown, path: string) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, path ? `${path}.${k}` : k);
    } else if (v !== undefined) flat.push([path, Array.isArray(v) ? v.join(', ') : String(v)]);
  };
  walk(config, '');
  if (!flat.length) return '';
  return `<details><summary>Configuration</summary><table class="kv"><tbody>${flat.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</tbody></table></details>`;
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;padding:0 16px;color:#1d1d1f;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}h3{margin-bottom:.3em}
figure{margin:8px 12px 8px 0;display:inline-block;vertical-align:top}figcaption{font-size:.85em;color:#555}
.row{display:flex;flex-wrap:wrap;align-items:flex-start}
table{border-collapse:collapse;margin:10px 0;font-size:.9em}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:#f4f4f6}table.numbers td{font-variant-numeric:tabular-nums}table.kv th{background:#fafafa;font-weight:500}
.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}
.note{color:#555;font-size:.9em}.pub{color:#777}.failed{color:#b00020;font-weight:600}
.meta{color:#666;font-size:.9em}nav a{margin-right:12px}
svg.plot{max-width:100%;height:auto}
`;

/** The whole report as one self-contained HTML document. */
export function renderReport(input: ReportInput): string {
  const rows = input.rows ?? [];
  const showPublished = input.showPublished ?? true;
  const title = input.title ?? 'iclrnn report';
  const parts: string[] = [];
  if (rows.length || (showPublished && publishedFor(input.system))) {
    parts.push(renderMseSection(rows, input.system, showPublished));
    parts.push(renderLipschitzSection(rows, input.system, showPublished));
  }
  parts.push(renderTimingSection(rows));
  parts.push(renderPhaseSection(input.phasePortraits));
  parts.push(renderMpcSection(input.mpcRuns));
  parts.push(renderCellsTable(rows));
  const nav = [
    ['mse', 'Test MSE'],
    ['lipschitz', 'Lipschitz'],
    ['timing', 'Training time'],
    ['phase', 'Phase portraits'],
    ['mpc', 'MPC'],
    ['cells', 'All cells'],
  ]
    .filter(([id]) => parts.some((p) => p.startsWith(`<section id="${id}"`)))
    .map(([id, name]) => `<a href="#${id}">${escapeHtml(name)}</a>`)
    .join('');
  const notes = (input.notes ?? []).map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    input.subtitle ? `<p>${escapeHtml(input.subtitle)}</p>` : '',
    `<p class="meta">${input.system ? `system: ${escapeHtml(input.system)} · ` : ''}${input.generatedAt ? `generated ${escapeHtml(input.generatedAt)}` : ''}</p>`,
    `<nav>${nav}</nav>`,
    notes,
    configTable(input.config),
    ...parts.filter(Boolean),
    '</body></html>',
    '',
  ].join('\n');
}
