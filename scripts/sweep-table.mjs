#!/usr/bin/env node
// Prints a markdown table from a sweep results file: by model and noise level, the test MSE (mean
// over seeds, with min-max when there are several), its skill (test MSE / naive baseline, "n/a"
// when the file has no baseline; "÷mean" and the ratio to the mean predictor when the data set has no
// naive forecast), the empirical Lipschitz estimate (certified bound), s/epoch and the training
// path(s) of the row's cells (kernels backend and precision);
// then a line naming the baseline.
// Usage: node scripts/sweep-table.mjs results/cstr-sweep.json [--published cstr|energy]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  console.error('usage: node scripts/sweep-table.mjs RESULTS.json');
  process.exit(2);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
// noise levels in increasing order (a file resumed with another noise list keeps the order it was first given)
r.noise = [...r.noise].sort((a, b) => Number(a) - Number(b));
const fin = (x) => typeof x === 'number' && Number.isFinite(x);
const e = (x) => (fin(x) ? Number(x).toExponential(1) : '-');
const f = (x) => (fin(x) ? Number(x).toPrecision(3) : '-');
const s = (x) => (fin(x) ? Number(x).toPrecision(2) : 'n/a');
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const skillOf = (c) => (fin(c.skill) ? c.skill : fin(c.testMse) && fin(c.baselineMse) && c.baselineMse > 0 ? c.testMse / c.baselineMse : null);
const done = Object.values(r.cells).filter((c) => c.status === 'done');
const group = (m, n) => done.filter((c) => c.model === m && Number(c.noise) === Number(n));

console.log(`| model | ${r.noise.map((n) => `MSE (skill) σ=${n}`).join(' | ')} | ${r.noise.map((n) => `Lip σ=${n}`).join(' | ')} | s/epoch | trained on |`);
console.log(`|---|${r.noise.map(() => '---').join('|')}|${r.noise.map(() => '---').join('|')}|---|---|`);
for (const m of r.models) {
  const groups = r.noise.map((n) => group(m, n));
  const mse = groups.map((g) => {
    const xs = g.map((c) => c.testMse).filter(fin);
    if (!xs.length) return '-';
    const spread = xs.length > 1 ? ` [${e(Math.min(...xs))}-${e(Math.max(...xs))}, ${xs.length} seeds]` : '';
    const sk = mean(g.map(skillOf).filter(fin));
    const vsMean = g.find((c) => c.baselineKind === 'none' && fin(c.meanPredictorMse));
    return `${e(mean(xs))}${spread} (${sk === null && vsMean ? `÷mean ${s(mean(xs) / vsMean.meanPredictorMse)}` : s(sk ?? NaN)})`;
  });
  const lip = groups.map((g) => {
    if (!g.length) return '-';
    const emp = mean(g.map((c) => c.lipschitz?.empirical).filter(fin));
    const ub = mean(g.map((c) => c.lipschitz?.upperBound).filter(fin));
    return `${f(emp)}${ub !== null ? ` (≤${f(ub)})` : ''}`;
  });
  const spe = groups.flat().map((c) => c.secondsPerEpoch).filter(fin);
  const paths = [...new Set(groups.flat().map((c) => (c.kernels ? `${c.kernels.backend} ${c.kernels.precision}` : 'not recorded')))];
  console.log(`| ${m} | ${mse.join(' | ')} | ${lip.join(' | ')} | ${spe.length ? f(mean(spe)) : '-'} | ${paths.length ? paths.join(', ') : '-'} |`);
}
const b = done.find((c) => c.baselineKind !== undefined && c.baselineKind !== null);
if (!b) console.log('\nskill: n/a (this results file has no baseline; scripts/add-baselines.ts adds it)');
else if (b.baselineKind === 'none' || !fin(b.baselineMse)) console.log(`\nskill: n/a (no naive forecast for this data set); mean predictor ${e(b.meanPredictorMse)}`);
else console.log(`\nskill = test MSE / ${b.baselineKind} baseline ${e(b.baselineMse)} (split seed ${r.config?.data?.splitSeed ?? '?'}); mean predictor ${e(b.meanPredictorMse)}`);
