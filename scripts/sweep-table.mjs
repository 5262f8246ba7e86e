#!/usr/bin/env node
// Prints a markdown table (test MSE and empirical Lipschitz by model and noise) from a sweep results file.
// Usage: node scripts/sweep-table.mjs results/cstr-sweep.json
import { readFileSync } from 'node:fs';
const r = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const e = (x) => (x === null || x === undefined ? '-' : Number(x).toExponential(1));
const f = (x) => (x === null || x === undefined ? '-' : Number(x).toPrecision(3));
console.log(`| model | ${r.noise.map((n) => `MSE σ=${n}`).join(' | ')} | ${r.noise.map((n) => `Lip σ=${n}`).join(' | ')} | s/epoch |`);
console.log(`|---|${r.noise.map(() => '---').join('|')}|${r.noise.map(() => '---').join('|')}|---|`);
for (const m of r.models) {
  const cells = r.noise.map((n) => Object.values(r.cells).find((c) => c.model === m && Number(c.noise) === Number(n)));
  const lip = cells.map((c) => (c?.lipschitz ? `${f(c.lipschitz.empirical)}${c.lipschitz.upperBound != null ? ` (≤${f(c.lipschitz.upperBound)})` : ''}` : '-'));
  const spe = cells.filter(Boolean).map((c) => c.secondsPerEpoch);
  console.log(`| ${m} | ${cells.map((c) => e(c?.testMse)).join(' | ')} | ${lip.join(' | ')} | ${spe.length ? f(spe.reduce((a, b) => a + b, 0) / spe.length) : '-'} |`);
}
