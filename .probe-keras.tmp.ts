import { importKeras } from './src/io/keras.ts';
import { readMatVariable } from './src/io/mat.ts';
import { predictPhysical } from './src/train/pipeline.ts';
import { readFileSync } from 'node:fs';
const base = '/work/shared/fixtures/keras/';
for (const n of ['icrnn_energy', 'lrnn_energy', 'iclrnn_energy']) {
  const m = await importKeras(base + n + '/model.keras', { scalers: base + n + '/scalers.json' });
  const U = await readMatVariable(base + n + '/sample.mat', 'U', { orientation: 'hdf5' });
  const y = predictPhysical(m, Float64Array.from(U.data), 1, U.rows);
  const exp = JSON.parse(readFileSync(base + n + '/expected.json', 'utf8')).Y.flat();
  let e = 0; exp.forEach((v: number, i: number) => (e = Math.max(e, Math.abs(y[i] - v) / Math.abs(v))));
  console.log(n, m.model.spec.kind, m.model.spec.augmentation, m.warnings, e, JSON.stringify(m.metadata.source).slice(0, 400));
}
