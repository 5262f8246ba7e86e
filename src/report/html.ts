/**
 * The HTML report: one self-contained file (inline CSS and SVG; no scripts, fonts or network
 * references) with the sweep's test MSE and Lipschitz estimates against the published numbers,
 * CSTR phase portraits and MPC closed-loop trajectories. Pure: every function returns a string.
 * All text taken from the inputs is escaped.
 *
 * Size (about 730 lines): one self-contained page (sections, tables against the published numbers,
 * captions) whose builders share the escaping and layout helpers; charts are in `svg.ts`, phase
 * portraits in `phase.ts`, MPC runs in `mpc-runs.ts`.
 */
import type { StudyResult } from '../apps/cstr-study.ts';
import { cellSkill, type SweepResults } from '../train/sweep.ts';
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
  /** MSE of the naive forecast (persistence / last value) on the same test split; null: none / not recorded. */
  baselineMse?: number | null;
  /** `testMse / baselineMse`; null: no baseline (or not recorded: results written before skill was). */
  skill?: number | null;
  /** MSE of predicting the mean of the training targets. */
  meanPredictorMse?: number | null;
  /** Which naive forecast `baselineMse` is: 'persistence', 'last-value' or 'none'. */
  baselineKind?: string | null;
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
  /** Lyapunov function along the run (default: computed from x1, x2 with the CSTR's P). */
  V?: ArrayLike<number>;
  /** Solve time of each step (s), one per input. */
  solveSeconds?: ArrayLike<number>;
  /** Input bounds drawn as dashed lines (default: the CSTR's, u1 in [-3.5, 3.5], u2 in [-5e5, 5e5]). */
  inputBounds?: { u1: [number, number]; u2: [number, number] };
  /** Stability level V is compared with (default 372). */
  level?: number;
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
  /** Closed-loop safety study (see `runCstrStudy`); rendered as a table and a phase-plane picture of all runs. */
  study?: StudyResult | null;
  notes?: string[];
  /**
   * Sections that must have content (ids: 'mse', 'lipschitz', 'timing', 'phase', 'mpc', 'study',
   * 'cells'): {@link renderReport} throws a {@link ReportSectionError} when one of them is missing
   * or only a placeholder, so a report never silently ships an empty requested section.
   */
  requireSections?: string[];
}

/** A section the caller required came out empty. */
export class ReportSectionError extends Error {
  constructor(readonly section: string, detail: string) {
    super(`report section '${section}' is empty: ${detail}`);
    this.name = 'ReportSectionError';
  }
}

const DEFAULT_INPUT_BOUNDS = { u1: [-3.5, 3.5] as [number, number], u2: [-5e5, 5e5] as [number, number] };
const STABILITY_LEVEL = 372;

const MODEL_COLORS: Record<string, string> = {
  iclrnn: '#0072B2',
  icrnn: '#009E73',
  lrnn: '#E69F00',
  rnn: '#D55E00',
  lstm: '#CC79A7',
  iclstm: '#56B4E9',
};

const MODEL_LABELS: Record<string, string> = { iclrnn: 'ICLRNN', icrnn: 'ICRNN', lrnn: 'LRNN', rnn: 'RNN', lstm: 'LSTM', iclstm: 'ICLSTM', gru: 'GRU' };

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
    baselineMse: fin(c.baselineMse) ? c.baselineMse : null,
    skill: c.status === 'done' ? cellSkill(c) : null,
    meanPredictorMse: fin(c.meanPredictorMse) ? c.meanPredictorMse : null,
    baselineKind: typeof c.baselineKind === 'string' ? c.baselineKind : null,
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
  /** Mean skill over the seeds (null when none recorded). */
  skill: number | null;
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
    skill: mean(g.map(rowSkill)),
  }));
}

/** A row's skill: the recorded one, else testMse / baselineMse when both are known. */
function rowSkill(r: ReportRow): number | null {
  if (fin(r.skill)) return r.skill;
  return fin(r.testMse) && fin(r.baselineMse) && r.baselineMse > 0 ? r.testMse / r.baselineMse : null;
}

/** The baseline of a report's rows (one split: the first row that recorded one). */
export interface ReportBaseline {
  kind: string | null;
  mse: number | null;
  meanPredictorMse: number | null;
}

/** The baseline recorded in the rows (kind null when no row recorded one: old results files). */
export function baselineOfRows(rows: ReportRow[]): ReportBaseline {
  const r = rows.find((x) => typeof x.baselineKind === 'string' || fin(x.baselineMse));
  const m = rows.find((x) => fin(x.meanPredictorMse));
  return { kind: r ? (r.baselineKind ?? (fin(r.baselineMse) ? 'persistence' : null)) : null, mse: r && fin(r.baselineMse) ? r.baselineMse : null, meanPredictorMse: m ? m.meanPredictorMse! : null };
}

/** What the naive forecast is, in one sentence (for the notes under the tables). */
export function baselineSentence(b: ReportBaseline): string {
  const mean = b.meanPredictorMse !== null ? ` Predicting the mean of the training targets scores ${formatNumber(b.meanPredictorMse)}.` : '';
  if (b.kind === null) return 'Skill: n/a (these results were recorded without the naive baseline).';
  if (b.kind === 'none' || b.mse === null)
    return `Skill: n/a. This data set has no naive forecast (no target is also an input), so only the mean predictor is a reference.${mean}`;
  const what =
    b.kind === 'persistence'
      ? 'Persistence predicts that the state stays at its initial value (the input) for every step of the sequence'
      : 'The last-value forecast predicts each target by the latest observed value of the same quantity (the input at the same step)';
  return `${what}; on this test split it scores ${formatNumber(b.mse)}. Skill = test MSE / ${formatNumber(b.mse)}: below 1 the model beats ${b.kind === 'persistence' ? 'persistence' : 'the last value'}.${mean}`;
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
  const base0 = baselineOfRows(rows);
  if (base0.mse !== null && noise.length)
    series.push({ name: base0.kind === 'persistence' ? 'persistence (baseline)' : 'last value (baseline)', x: [noise[0], noise[noise.length - 1]], y: [base0.mse, base0.mse], color: '#777777', dash: '2 4' });
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
  const base = baselineOfRows(rows);
  const body = models.map((m) => [
    `<span class="swatch" style="background:${colors.get(m)}"></span>${escapeHtml(modelLabel(m))}`,
    ...noise.map((n) => {
      const a = agg.find((x) => x.model === m && x.noise === n);
      const i = PUBLISHED_NOISE.findIndex((p) => p === n);
      const pub = published?.[m] && i >= 0 ? published[m][i] : null;
      const ours = a ? `${escapeHtml(formatNumber(a.testMse))}${a.n > 1 ? `<small> (${a.n} seeds)</small>` : ''}` : '–';
      const skill = a ? `<br><small class="skill">skill ${a.skill !== null ? escapeHtml(formatNumber(a.skill)) : 'n/a'}</small>` : '';
      const pubSkill = pub !== null && base.mse !== null && base.mse > 0 ? `, skill ${escapeHtml(formatNumber(pub / base.mse))}` : '';
      return pub !== null ? `${ours}${skill}<br><small class="pub">published ${escapeHtml(formatNumber(pub))}${pubSkill}</small>` : ours + skill;
    }),
  ]);
  if (base.mse !== null) body.push([`<span class="swatch" style="background:#777777"></span>${escapeHtml(base.kind === 'persistence' ? 'persistence (baseline)' : 'last value (baseline)')}`, ...noise.map(() => escapeHtml(formatNumber(base.mse)))]);
  if (base.meanPredictorMse !== null) body.push([`<span class="swatch" style="background:#bbbbbb"></span>mean predictor`, ...noise.map(() => escapeHtml(formatNumber(base.meanPredictorMse)))]);
  const baseNote = `<p class="note baseline">${escapeHtml(baselineSentence(base))}${base.mse !== null && published ? ' The published skill divides the published test MSE by this split\'s baseline (the published split differs; an approximation).' : ''}</p>`;
  const note = baseNote + (published
    ? `<p class="note">Dashed lines and "published" figures: ${escapeHtml(PUBLISHED_CITATION)}. The published models were trained for ${PUBLISHED_EPOCHS} epochs; compare with care when this run used fewer.</p>`
    : `<p class="note">No published numbers for this system.</p>`);
  return section('mse', 'Test MSE vs training noise', figure(svg) + table(head, body, 'numbers') + note);
}

/** Empirical Lipschitz estimate (and certified bound, when available) vs noise, log scale. */
export function renderLipschitzSection(rows: ReportRow[], system?: string, showPublished = true, inputs: 'train' | 'test' = 'test'): string {
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
    `<p class="note">Empirical estimate: for scaled ${inputs === 'train' ? 'training' : 'test'} inputs x${inputs === 'train' ? ' (the reference\'s protocol)' : ''}, every entry perturbed by a uniform draw in [ε/4, ε], ε = 1e-4; ` +
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
    fin(r.baselineMse) ? escapeHtml(formatNumber(r.baselineMse, 4)) : 'n/a',
    r.status === 'failed' ? '–' : rowSkill(r) !== null ? escapeHtml(formatNumber(rowSkill(r), 3)) : 'n/a',
    escapeHtml(formatNumber(r.lipschitz ?? null, 4)),
    escapeHtml(formatNumber(r.upperBound ?? null, 4)),
    escapeHtml(r.epochs ?? '–'),
    r.trainSeconds != null && fin(r.trainSeconds) ? `${escapeHtml(formatNumber(r.trainSeconds))} s` : '–',
  ]);
  return section(
    'cells',
    'All cells',
    `<details><summary>${rows.length} cell${rows.length === 1 ? '' : 's'}</summary>${table(['model', 'σ', 'seed', 'test MSE', 'baseline MSE', 'skill', 'Lipschitz (empirical)', 'certified bound', 'epochs', 'training time'], body, 'numbers')}<p class="note">${escapeHtml(baselineSentence(baselineOfRows(rows)))}</p></details>`,
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

/** Marker attribute of a section that rendered a placeholder only (see {@link ReportInput.requireSections}). */
const EMPTY_MARK = 'data-empty="true"';

function emptySection(id: string, title: string, text: string): string {
  return `<section id="${escapeHtml(id)}" ${EMPTY_MARK}><h2>${escapeHtml(title)}</h2><p class="note">${escapeHtml(text)}</p></section>`;
}

function constantSeries(name: string, x0: number, x1: number, y: number, color: string): PlotSeries {
  return { name, x: [x0, x1], y: [y, y], color, dash: '6 3', width: 1.3 };
}

/**
 * MPC closed-loop trajectories: the (x1, x2) plane with the stability ellipse, states over time,
 * inputs over time with their bounds, the Lyapunov function V along the TRUE trajectory against the
 * stability level 372 (exits flagged), solve time per step, and a summary table. Takes plain
 * arrays ({t, x1, x2, u1, u2[, V, solveSeconds]} per run); runs with missing arrays are listed as
 * skipped. With no runs, a placeholder section.
 */
export function renderMpcSection(runs: MpcRun[] | null | undefined): string {
  if (!runs || !Array.isArray(runs) || runs.length === 0) return emptySection('mpc', 'MPC closed loop', 'No MPC closed-loop runs were supplied to this report.');
  interface Good { label: string; t: number[]; x1: number[]; x2: number[]; u1: number[]; u2: number[]; V: number[]; solveMs: number[]; secondsPerStep: number | null; level: number; bounds: { u1: [number, number]; u2: [number, number] } }
  const good: Good[] = [];
  const skipped: string[] = [];
  runs.forEach((r, i) => {
    const label = r && typeof r.label === 'string' && r.label ? r.label : `run ${i + 1}`;
    const arrays = r ? [toNumbers(r.t), toNumbers(r.x1), toNumbers(r.x2), toNumbers(r.u1), toNumbers(r.u2)] : [null];
    if (arrays.some((a) => a === null) || (arrays[0] as number[]).length === 0) {
      skipped.push(label);
      return;
    }
    const [t, x1, x2, u1, u2] = arrays as number[][];
    const n = Math.min(t.length, x1.length, x2.length);
    const givenV = toNumbers(r.V);
    const V = givenV && givenV.length >= n ? givenV.slice(0, n) : x1.slice(0, n).map((a, k) => lyapunov(a, x2[k]));
    const solve = toNumbers(r.solveSeconds);
    const secondsPerStep = fin(r.secondsPerStep) ? r.secondsPerStep : solve && solve.length ? solve.reduce((a, b) => a + b, 0) / solve.length : null;
    good.push({
      label, t: t.slice(0, n), x1: x1.slice(0, n), x2: x2.slice(0, n), u1: u1.slice(0, Math.min(n, u1.length)), u2: u2.slice(0, Math.min(n, u2.length)),
      V, solveMs: solve ? solve.map((v) => v * 1e3) : [], secondsPerStep,
      level: fin(r.level) ? r.level : STABILITY_LEVEL, bounds: r.inputBounds ?? DEFAULT_INPUT_BOUNDS,
    });
  });
  if (!good.length) return emptySection('mpc', 'MPC closed loop', `Every supplied run lacked its t/x1/x2/u1/u2 arrays: ${skipped.join(', ')}`);
  const color = (i: number) => paletteColor(i);
  const tMax = Math.max(...good.map((r) => r.t[r.t.length - 1] ?? 0), 1e-9);
  const level = good[0].level;
  const exits = (r: Good) => r.V.map((v, k) => (k > 0 && !(v < r.level) ? k : -1)).filter((k) => k >= 0);
  const phase = linePlot(
    [
      ellipseSeries(),
      ...good.map((r, i) => ({ name: r.label, x: r.x1, y: r.x2, color: color(i), marker: 'circle' as const, markerSize: 2 })),
      ...good.flatMap((r) => {
        const e = exits(r);
        return e.length ? [{ name: `${r.label}: outside V < ${formatNumber(r.level)}`, x: e.map((k) => r.x1[k]), y: e.map((k) => r.x2[k]), color: '#b00020', line: false, marker: 'diamond' as const, markerSize: 4.5, legend: false }] : [];
      }),
    ],
    { title: 'Closed loop in the (x1, x2) plane', xLabel: 'x1 (kmol/m³)', yLabel: 'x2 (K)', width: 520, height: 360, legendItems: [{ name: 'V(x) = 372', color: '#777777', dash: '3 3' }, { name: 'outside V < 372', color: '#b00020', line: false, marker: 'diamond' }], id: 'fig-mpc-phase' },
  );
  const overTime = (key: 'x1' | 'x2', yLabel: string, id: string) =>
    linePlot(
      good.map((r, i) => ({ name: r.label, x: r.t.slice(0, r[key].length), y: r[key], color: color(i) })),
      { title: `${key}(t)`, xLabel: 't (h)', yLabel, width: 420, height: 260, legend: good.length > 1, id },
    );
  const inputPlot = (key: 'u1' | 'u2', yLabel: string, id: string) => {
    const [lo, hi] = good[0].bounds[key];
    return linePlot(
      [
        // inputs are held over each period: a step plot
        ...good.map((r, i) => {
          const x: number[] = [], y: number[] = [];
          r[key].forEach((v, k) => {
            x.push(r.t[k], r.t[k + 1] ?? r.t[k]);
            y.push(v, v);
          });
          return { name: r.label, x, y, color: color(i) };
        }),
        { ...constantSeries('bounds', 0, tMax, lo, '#777777'), legend: false },
        { ...constantSeries('bounds', 0, tMax, hi, '#777777'), legend: false },
      ],
      { title: `${key}(t) and its bounds`, xLabel: 't (h)', yLabel, width: 420, height: 260, legend: good.length > 1, legendItems: [{ name: 'bounds', color: '#777777', dash: '6 3' }], id },
    );
  };
  const vPlot = linePlot(
    [
      ...good.map((r, i) => ({ name: r.label, x: r.t, y: r.V, color: color(i), marker: 'circle' as const, markerSize: 1.8 })),
      ...good.flatMap((r) => {
        const e = exits(r);
        return e.length ? [{ name: `${r.label} exits`, x: e.map((k) => r.t[k]), y: e.map((k) => r.V[k]), color: '#b00020', line: false, marker: 'diamond' as const, markerSize: 4.5, legend: false }] : [];
      }),
      { ...constantSeries(`stability level ${formatNumber(level)}`, 0, tMax, level, '#b00020'), legend: false },
    ],
    { title: 'V(x) on the true trajectory', xLabel: 't (h)', yLabel: 'V = xᵀPx', width: 420, height: 260, legend: true, legendItems: [{ name: `V = ${formatNumber(level)}`, color: '#b00020', dash: '6 3' }], id: 'fig-mpc-v' },
  );
  const withTimes = good.filter((r) => r.solveMs.length);
  const timePlot = withTimes.length
    ? linePlot(
        withTimes.map((r, i) => ({ name: r.label, x: r.solveMs.map((_, k) => k + 1), y: r.solveMs, color: color(good.indexOf(r) >= 0 ? good.indexOf(r) : i), marker: 'circle' as const, markerSize: 1.8 })),
        { title: 'Solve time per step', xLabel: 'step', yLabel: 'ms (log)', yLog: true, width: 420, height: 260, legend: withTimes.length > 1, id: 'fig-mpc-solve' },
      )
    : '';
  const figs =
    `<div class="row">${figure(phase)}${figure(vPlot)}</div>` +
    `<div class="row">${figure(overTime('x1', 'x1 (kmol/m³)', 'fig-mpc-x1'))}${figure(overTime('x2', 'x2 (K)', 'fig-mpc-x2'))}</div>` +
    `<div class="row">${figure(inputPlot('u1', 'u1 (kmol/m³)', 'fig-mpc-u1'))}${figure(inputPlot('u2', 'u2 (kJ/h)', 'fig-mpc-u2'))}</div>` +
    (timePlot ? `<div class="row">${figure(timePlot)}</div>` : '');
  const body = good.map((r) => {
    const n = r.x1.length;
    const last = n - 1;
    const e = exits(r);
    const settled = n > 0 && Math.abs(r.x1[last]) < 0.02 && Math.abs(r.x2[last]) < 3;
    const sorted = [...r.solveMs].sort((a, b) => a - b);
    return [
      escapeHtml(r.label),
      escapeHtml(Math.max(0, n - 1)),
      n ? `(${escapeHtml(formatNumber(r.x1[last]))}, ${escapeHtml(formatNumber(r.x2[last]))})` : '–',
      escapeHtml(formatNumber(n ? r.V[last] : null)),
      escapeHtml(formatNumber(r.V.length ? Math.max(...r.V.filter(fin)) : null)),
      e.length ? `<span class="failed">EXIT: ${escapeHtml(e.length)} step${e.length === 1 ? '' : 's'} with V ≥ ${escapeHtml(formatNumber(r.level))}</span>` : 'no',
      settled ? 'yes' : 'no',
      sorted.length ? `${escapeHtml(formatNumber(sorted[sorted.length >> 1]))} / ${escapeHtml(formatNumber(sorted[sorted.length - 1]))} ms` : r.secondsPerStep !== null ? `${escapeHtml(formatNumber(r.secondsPerStep * 1e3))} ms (mean)` : '–',
    ];
  });
  const tbl = table(['run', 'steps', 'final (x1, x2)', 'final V', 'max V', 'left V < 372', 'settled (|x1| < 0.02, |x2| < 3)', 'solve time median / max'], body, 'numbers');
  const skip = skipped.length ? `<p class="note">Skipped (missing t/x1/x2/u1/u2 arrays): ${escapeHtml(skipped.join(', '))}</p>` : '';
  const anyExit = good.some((r) => exits(r).length);
  const flag = anyExit
    ? `<p class="failed">The true state left the stability region V &lt; ${escapeHtml(formatNumber(level))} in ${escapeHtml(good.filter((r) => exits(r).length).length)} of ${escapeHtml(good.length)} runs.</p>`
    : `<p class="note">Every run stayed inside the stability region V &lt; ${escapeHtml(formatNumber(level))} on the true plant.</p>`;
  return section('mpc', 'MPC closed loop', flag + figs + tbl + skip);
}

/**
 * The closed-loop safety study: per predictor x safety mode x noise, the fraction of runs staying
 * inside V < 372 on the true plant, max V, steps, solve times; and a phase-plane picture of all runs
 * per configuration (exits in red).
 */
export function renderStudySection(study: StudyResult | null | undefined): string {
  if (!study || !Array.isArray(study.rows) || !study.rows.length || !Array.isArray(study.runs) || !study.runs.length)
    return emptySection('study', 'Closed-loop safety study', 'No closed-loop study was supplied to this report.');
  const pct = (x: number) => `${escapeHtml(formatNumber(100 * x, 3))} %`;
  const body = study.rows.map((r) => [
    escapeHtml(r.predictor),
    escapeHtml(r.safety),
    r.noisy ? 'yes' : 'no',
    escapeHtml(r.runs),
    r.insideFraction < 1 ? `<span class="failed">${pct(r.insideFraction)}</span>` : pct(r.insideFraction),
    escapeHtml(formatNumber(r.maxV)),
    pct(r.convergedFraction),
    escapeHtml(formatNumber(r.meanSteps)),
    r.stepsRatio === null ? '–' : `${escapeHtml(formatNumber(r.stepsRatio))} (max ${escapeHtml(formatNumber(r.maxStepsRatio))})`,
    `${escapeHtml(formatNumber(r.solveMs.median))} / ${escapeHtml(formatNumber(r.solveMs.p95))} / ${escapeHtml(formatNumber(r.solveMs.max))}`,
    pct(r.fallbackFraction),
    escapeHtml(formatNumber(r.errorBound)),
  ]);
  const tbl = table(['predictor', 'safety', 'noise', 'runs', 'stayed inside V < 372', 'max V', 'reached target', 'mean steps', 'steps / first-principles', 'solve ms median / p95 / max', 'fallback steps', 'error bound η (P-norm)'], body, 'numbers');
  const groups = new Map<string, StudyResult['runs']>();
  for (const r of study.runs) {
    const k = `${r.predictor} · ${r.safety}${r.noisy ? ' · noise' : ''}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  let k = 0;
  const panels = [...groups.entries()].map(([label, rs]) => {
    const series: PlotSeries[] = [ellipseSeries()];
    for (const r of rs) series.push({ name: 'run', x: r.x1, y: r.x2, color: r.exited ? '#b00020' : '#0072B2', width: r.exited ? 1.4 : 0.9, opacity: r.exited ? 0.95 : 0.55, legend: false });
    series.push({ name: 'initial states', x: rs.map((r) => r.x0[0]), y: rs.map((r) => r.x0[1]), color: '#000000', line: false, marker: 'circle', markerSize: 1.6, legend: false });
    const out = rs.filter((r) => r.exited).length;
    return figure(
      linePlot(series, {
        title: `${label}: ${rs.length - out}/${rs.length} inside`,
        xLabel: 'x1 (kmol/m³)',
        yLabel: 'x2 (K)',
        xDomain: [-2.2, 2.2],
        yDomain: [-100, 100],
        width: 470,
        height: 320,
        legendItems: [{ name: 'stayed inside', color: '#0072B2' }, { name: 'left V < 372', color: '#b00020' }, { name: 'V = 372', color: '#777777', dash: '3 3' }],
        id: `fig-study-${++k}`,
      }),
    );
  });
  const c = study.config;
  const intro =
    `<p>${escapeHtml(c.states)} initial states inside V &lt; ${escapeHtml(formatNumber(c.level))}, closed loop on the true plant (RK4, 1e-5 h) for at most ${escapeHtml(c.maxSteps)} steps` +
    (c.noise ? `, without and with bounded process noise |w1| ≤ ${escapeHtml(formatNumber(c.noise[0]))}, |w2| ≤ ${escapeHtml(formatNumber(c.noise[1]))} on (dx1/dt, dx2/dt)` : '') +
    `. "stayed inside": the true state never reached V ≥ ${escapeHtml(formatNumber(c.level))}. Steps / first-principles: mean over runs that both controllers finished.</p>`;
  return section('study', 'Closed-loop safety study', intro + tbl + `<div class="row">${panels.join('')}</div>`);
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
    const lip = input.config?.lipschitz;
    const inputs = lip && typeof lip === 'object' && (lip as Record<string, unknown>).inputs === 'train' ? 'train' : 'test';
    parts.push(renderLipschitzSection(rows, input.system, showPublished, inputs));
  }
  parts.push(renderTimingSection(rows));
  parts.push(renderPhaseSection(input.phasePortraits));
  if (input.mpcRuns !== undefined || !input.study || input.requireSections?.includes('mpc')) parts.push(renderMpcSection(input.mpcRuns));
  if (input.study !== undefined || input.requireSections?.includes('study')) parts.push(renderStudySection(input.study));
  parts.push(renderCellsTable(rows));
  for (const id of input.requireSections ?? []) {
    const p = parts.find((x) => x.startsWith(`<section id="${id}"`));
    if (!p) throw new ReportSectionError(id, 'the report has no such section (no data for it)');
    if (p.includes(EMPTY_MARK)) throw new ReportSectionError(id, p.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim());
  }
  const nav = [
    ['mse', 'Test MSE'],
    ['lipschitz', 'Lipschitz'],
    ['timing', 'Training time'],
    ['phase', 'Phase portraits'],
    ['mpc', 'MPC'],
    ['study', 'Safety study'],
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
