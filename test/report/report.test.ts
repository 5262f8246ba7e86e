import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../src/nn/models.ts';
import { MinMaxScaler } from '../../src/nn/scaler.ts';
import type { ScaledModel } from '../../src/train/pipeline.ts';
import {
  cstrPhasePortraits,
  escapeHtml,
  linePlot,
  publishedTestMse,
  renderMpcSection,
  renderReport,
  reportRowsFromSweep,
  stabilityEllipse,
  type MpcRun,
  type ReportRow,
} from '../../src/report/index.ts';
import { lyapunovValue } from '../../src/systems/cstr.ts';
import type { SweepResults } from '../../src/train/sweep.ts';

const EVIL = '<script>alert("x")</script>';

/** An untrained CSTR-shaped model with plausible scalers (inputs [x2, x1, u2, u1], outputs [x2, x1]). */
function tinyCstrModel(): ScaledModel {
  return {
    model: buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 4, layers: 1, seed: 1 }),
    inputScaler: new MinMaxScaler({ min: [-100, -2, -5e5, -3.5], max: [200, 4, 5e5, 3.5] }),
    outputScaler: new MinMaxScaler({ min: [-100, -2], max: [200, 4] }),
  };
}

const rows: ReportRow[] = [
  { model: 'iclrnn', noise: 0, seed: 0, testMse: 3e-4, lipschitz: 0.9, upperBound: 2.5, trainSeconds: 12, status: 'done' },
  { model: 'iclrnn', noise: 0.9, seed: 0, testMse: 4e-4, lipschitz: 1.1, upperBound: null, trainSeconds: 11, status: 'done' },
  { model: 'rnn', noise: 0, seed: 0, testMse: 1e-6, lipschitz: 30, trainSeconds: 8, status: 'done' },
  { model: 'rnn', noise: 0.9, seed: 0, testMse: 7e-2, lipschitz: NaN, trainSeconds: 9, status: 'done' },
  { model: EVIL, noise: 0.3, seed: 1, testMse: null, lipschitz: null, status: 'done' },
  { model: 'lstm', noise: 0.3, seed: 0, testMse: null, status: 'failed', error: 'training diverged <b>' },
];

function mpcRun(label: string): MpcRun {
  const t: number[] = [], x1: number[] = [], x2: number[] = [], u1: number[] = [], u2: number[] = [];
  for (let k = 0; k <= 20; k++) {
    t.push(k * 0.005);
    x1.push(1.5 * Math.exp(-k / 4));
    x2.push(-70 * Math.exp(-k / 5));
    u1.push(-1 * Math.exp(-k / 3));
    u2.push(2e5 * Math.exp(-k / 3));
  }
  return { label, t, x1, x2, u1, u2, secondsPerStep: 0.01 };
}

function fullReport(): string {
  const m = tinyCstrModel();
  return renderReport({
    title: `report ${EVIL}`,
    system: 'cstr',
    generatedAt: '2025-01-01T00:00:00Z',
    config: { epochs: 2, note: EVIL },
    rows,
    phasePortraits: [{ label: `iclrnn ${EVIL}`, panels: cstrPhasePortraits(m, { periods: 3 }) }],
    mpcRuns: [mpcRun(`run ${EVIL}`), mpcRun('second')],
    notes: [EVIL],
  });
}

test('the report is one self-contained HTML document with an <svg> per figure', () => {
  const html = fullReport();
  assert.match(html, /^<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">/);
  assert.ok(html.trimEnd().endsWith('</html>'));
  // no network: the only URLs are the SVG namespace
  const urls = html.match(/\b(?:https?:)?\/\/[^\s"'<>)]+/g) ?? [];
  assert.ok(urls.length > 0);
  for (const u of urls) assert.equal(u, 'http://www.w3.org/2000/svg', u);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<link|<img|<iframe|@import|@font-face|src=/i);
  for (const m of html.matchAll(/url\(([^)]*)\)/g)) assert.match(m[1], /^#/, 'only local clip-path references');
  // figures: MSE, Lipschitz, 3 phase panels (3 default inputs), MPC phase plane, V and 4 time plots
  const svgs = html.match(/<svg\b/g) ?? [];
  assert.equal(svgs.length, 2 + 3 + 6);
  assert.equal(svgs.length, (html.match(/<\/svg>/g) ?? []).length);
  for (const id of ['mse', 'lipschitz', 'timing', 'phase', 'mpc', 'cells']) assert.ok(html.includes(`<section id="${id}">`), id);
  // clip-path ids are unique in the document
  const ids = [...html.matchAll(/<clipPath id="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length);
  // the published numbers sit beside ours
  assert.match(html, /ICLRNN \(published\)/);
  assert.match(html, /published 4\.1e-4/);
  assert.match(html, /arXiv:2401\.07494/);
  assert.doesNotMatch(html, /NaN|undefined|\[object Object\]/);
});

test('every piece of input text is escaped', () => {
  const html = fullReport();
  assert.ok(!html.includes(EVIL));
  assert.doesNotMatch(html, /<script/i);
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
  assert.ok(html.includes('training diverged &lt;b&gt;'));
  assert.equal(escapeHtml(`a&b<c>"d"'e'`), 'a&amp;b&lt;c&gt;&quot;d&quot;&#39;e&#39;');
  // in a plot too (title, legend, tooltip)
  const svg = linePlot([{ name: EVIL, x: [1, 2], y: [1, 2] }], { title: EVIL, xLabel: EVIL, yLabel: EVIL });
  assert.ok(!svg.includes('<script'));
  assert.ok(svg.includes('&lt;script&gt;'));
});

/** y pixel coordinates of the circle markers of a plot (legend excluded). */
const markerYs = (svg: string) => [...svg.split('<g class="legend">')[0].matchAll(/<circle cx="([-\d.]+)" cy="([-\d.]+)"/g)].map((m) => Number(m[2]));

test('log-scale axes handle values over several decades', () => {
  const ys = [1e-7, 1e-5, 3e-3, 0.5, 40, 2e2];
  const svg = linePlot([{ name: 's', x: [0, 1, 2, 3, 4, 5], y: ys, marker: true }], { yLog: true, height: 320, id: 'logtest' });
  // decade ticks with superscript exponents, spanning the data
  const exps = [...svg.matchAll(/10<tspan[^>]*>(-?\d+)<\/tspan>/g)].map((m) => Number(m[1]));
  assert.ok(exps.length >= 4, `decade labels: ${exps}`);
  assert.ok(Math.min(...exps) <= -7 && Math.max(...exps) >= 1, `${exps}`);
  // markers inside the plot area, higher values higher up, evenly spaced per decade
  const cy = markerYs(svg);
  assert.equal(cy.length, ys.length);
  const [top, bottom] = [12, 320 - 30];
  for (const y of cy) assert.ok(y >= top - 0.1 && y <= bottom + 0.1, `${y}`);
  for (let i = 1; i < cy.length; i++) assert.ok(cy[i] < cy[i - 1]);
  const perDecade = (cy[0] - cy[1]) / 2;
  assert.ok(Math.abs((cy[3] - cy[4]) - perDecade * Math.log10(40 / 0.5)) < 0.3);
  // a narrow log range gets 2 and 5 ticks
  const narrow = linePlot([{ name: 's', x: [0, 1], y: [1.2e-3, 4e-3] }], { yLog: true });
  assert.match(narrow, />0\.002</);
  assert.match(narrow, />0\.005</);
});

test('null, NaN, Infinity (and <= 0 on log axes) are skipped and break the line', () => {
  const svg = linePlot([{ name: 'gappy', x: [0, 1, 2, 3, 4, 5, 6], y: [1, null, NaN, 3, Infinity, 4, -2], marker: 'circle' }], { yLog: true, id: 'gaps' });
  assert.equal(markerYs(svg).length, 3);
  const d = /<path d="([^"]+)" fill="none"/.exec(svg)![1];
  assert.equal((d.match(/M/g) ?? []).length, 3, d); // 1 | 3 | 4: two gaps, three pieces
  assert.doesNotMatch(svg, /NaN|Infinity/);
  // nothing valid at all: still a valid, empty plot
  const empty = linePlot([{ name: 'none', x: [0, 1], y: [null, NaN] }], { yLog: true });
  assert.match(empty, /^<svg[\s\S]*<\/svg>$/);
  assert.doesNotMatch(empty, /NaN|Infinity/);
  // mismatched lengths: extra values ignored
  assert.doesNotMatch(linePlot([{ name: 'm', x: [0, 1, 2], y: [1] }]), /NaN/);
});

test('MPC section: plain arrays in, placeholder without runs, malformed runs skipped', () => {
  assert.match(renderMpcSection(null), /No MPC closed-loop runs/);
  assert.match(renderMpcSection([]), /No MPC closed-loop runs/);
  const s = renderMpcSection([mpcRun('a'), { label: 'broken' } as unknown as MpcRun]);
  assert.equal((s.match(/<svg\b/g) ?? []).length, 6);
  assert.match(s, /Skipped \(missing t\/x1\/x2\/u1\/u2 arrays\): broken/);
  assert.match(s, /<td>yes<\/td>/, 'the run settles');
  const f = renderMpcSection([{ t: Float64Array.of(0, 1), x1: [0.1, NaN], x2: [1, 2], u1: [0, 0], u2: [0, 0] }]);
  assert.doesNotMatch(f, /NaN/);
});

test('phase portraits: chained predictions and true trajectories; ellipse is V = 372', () => {
  const panels = cstrPhasePortraits(tinyCstrModel(), { periods: 2, initialStates: [[1.5, -70], [-0.5, 20]], inputs: [[0, 0]] });
  assert.equal(panels.length, 1);
  for (const tr of panels[0].trajectories) {
    assert.equal(tr.trueX1.length, 1 + 2 * 10);
    assert.equal(tr.predX1.length, 1 + 2 * 10);
    assert.equal(tr.trueX1[0], tr.x0[0]);
    assert.ok(tr.predX2.every(Number.isFinite));
  }
  const e = stabilityEllipse(372, 37);
  for (let i = 0; i < e.x1.length; i++) assert.ok(Math.abs(lyapunovValue(e.x1[i], e.x2[i]) - 372) < 1e-6);
  assert.throws(() => cstrPhasePortraits({ ...tinyCstrModel(), model: buildModel('rnn', { inputSize: 3, outputSize: 2, hidden: 2, layers: 1 }) }), /CSTR model/);
});

test('sweep results -> report rows; published table', () => {
  const results: SweepResults = {
    format: 'iclrnn-sweep', version: 1, config: { system: 'cstr' }, models: ['rnn'], noise: [0], seeds: [0], createdAt: null, updatedAt: null,
    cells: {
      'rnn/noise=0/seed=0': { key: 'rnn/noise=0/seed=0', model: 'rnn', noise: 0, seed: 0, status: 'done', testMse: 0.01, lipschitz: { empirical: 3, upperBound: null }, trainSeconds: 2, finishedAt: null },
    },
  };
  const r = reportRowsFromSweep(results);
  assert.deepEqual([r[0].model, r[0].testMse, r[0].lipschitz, r[0].upperBound], ['rnn', 0.01, 3, null]);
  assert.equal(publishedTestMse('cstr', 'iclrnn', 0.9), 4.1e-4);
  assert.equal(publishedTestMse('energy', 'rnn', 0), 6.0e-3);
  assert.equal(publishedTestMse('cstr', 'iclstm', 0), null);
  assert.equal(publishedTestMse('solar', 'rnn', 0), null);
  const html = renderReport({ system: 'solar', rows: r });
  assert.match(html, /No published numbers for this system/);
});
