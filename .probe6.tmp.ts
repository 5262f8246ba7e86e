import fs from 'node:fs';
import { readMatFile, listMatVariables, writeMatFile } from './src/io/mat.ts';
import { DataError } from './src/io/errors.ts';
await writeMatFile('/tmp/h5t/base.mat', { A: { rows: 3, cols: 2, data: new Float64Array([1,2,3,4,5,6]) }, B: { rows: 1, cols: 4, data: new Float64Array([7,8,9,10]) } });
const bases = [fs.readFileSync('/tmp/h5t/base.mat'), fs.readFileSync('/tmp/h5t/v5_0.mat'), fs.readFileSync('/tmp/h5t/v5_1.mat'), fs.readFileSync('/work/shared/fixtures/keras/iclrnn_energy/sample.mat')];
let seed = Number(process.argv[2] ?? 7); const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2**32; };
const msgs: Record<string, number> = {};
const stats: Record<string, number> = {};
const t0 = Date.now();
let slowest = 0;
for (let i = 0; i < 2000; i++) {
  const src = bases[i % bases.length];
  let b = Buffer.from(src);
  const mode = rnd();
  if (mode < 0.15) b = b.subarray(0, Math.floor(rnd() * b.length));
  else { const n = 1 + Math.floor(rnd() * 10); for (let j = 0; j < n; j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256); }
  fs.writeFileSync('/tmp/h5t/m.mat', b);
  const s = Date.now();
  try { await readMatFile('/tmp/h5t/m.mat', { allowNonFinite: rnd() < 0.5 }); await listMatVariables('/tmp/h5t/m.mat'); stats.ok = (stats.ok ?? 0) + 1; }
  catch (e) { if (e instanceof DataError && i % 4 === 0) msgs[(e as Error).message.slice(0, 90)] = (msgs[(e as Error).message.slice(0, 90)] ?? 0) + 1; const k = e instanceof DataError ? "DataError" : 'OTHER ' + (e as Error)?.constructor?.name; stats[k] = (stats[k] ?? 0) + 1; if (!(e instanceof DataError)) { console.log(i, e); fs.copyFileSync('/tmp/h5t/m.mat', `/tmp/h5t/fail${i}.mat`); } }
  slowest = Math.max(slowest, Date.now() - s);
}
console.log(msgs); console.log(stats, Date.now() - t0, 'ms; slowest', slowest);
