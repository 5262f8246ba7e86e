/**
 * The shared HDF5 wrapper (src/io/h5.ts): h5wasm is loaded only when an HDF5 file is read, only
 * h5.ts imports it, attributes as h5py writes them, errors name the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '../../src/io/errors.ts';
import { attrStrings, createH5File, isH5Loaded, readNumericDataset, withH5File } from '../../src/io/h5.ts';
import { importKeras } from '../../src/io/keras.ts';
import { readMatVariable } from '../../src/io/mat.ts';

const dir = mkdtempSync(join(tmpdir(), 'iclrnn-h5-test-'));
const src = fileURLToPath(new URL('../../src/', import.meta.url));

function walk(d: string): string[] {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('only src/io/h5.ts imports h5wasm, and only dynamically (start-up does not load it)', () => {
  // the browser dashboard bundles its own h5wasm build (src/web); everything else goes through h5.ts
  const offenders = walk(src)
    .filter((f) => !f.includes(`${join('src', 'web')}`))
    .filter((f) => !f.endsWith(join('io', 'h5.ts')))
    .filter((f) => /^\s*import\s[^;]*from\s+['"]h5wasm(\/node)?['"]/m.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders, []);
  const h5 = readFileSync(join(src, 'io', 'h5.ts'), 'utf8');
  assert.ok(!/^import\s+(?!type)[^;]*['"]h5wasm/m.test(h5), 'h5.ts imports h5wasm with a value import');
});

test('h5wasm is loaded on the first HDF5 read, not before', async () => {
  assert.equal(isH5Loaded(), false);
  const txt = join(dir, 'notes.keras');
  writeFileSync(txt, 'just text');
  await assert.rejects(importKeras(txt), /not a Keras model file/);
  await assert.rejects(readMatVariable(join(dir, 'missing.mat'), 'U'), DataError);
  assert.equal(isH5Loaded(), false, 'no HDF5 file was read yet');
  const p = join(dir, 'a.h5');
  await createH5File(p, (f) => {
    f.create_dataset({ name: 'A', data: Float64Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3] });
    const g = f.create_group('layer');
    g.create_attribute('weight_names', new Float64Array(0), [0], '<d'); // h5py's np.array([])
    g.create_attribute('names', ['a/b:0', 'c:0']);
    f.create_attribute('model_config', '{"x":1}');
  });
  assert.equal(isH5Loaded(), true);
  const r = await withH5File(p, (f, ctx) => ({
    empty: attrStrings(f.get('layer') as never, 'weight_names'),
    names: attrStrings(f.get('layer') as never, 'names'),
    cfg: attrStrings(f, 'model_config'),
    absent: attrStrings(f, 'nothing'),
    a: readNumericDataset(f.get('A') as never, ctx, 'A'),
  }));
  assert.deepEqual(r.empty, []);
  assert.deepEqual(r.names, ['a/b:0', 'c:0']);
  assert.deepEqual(r.cfg, ['{"x":1}']);
  assert.equal(r.absent, undefined);
  assert.deepEqual(r.a.shape, [2, 3]);
  assert.deepEqual(Array.from(r.a.data), [1, 2, 3, 4, 5, 6]);
});

test('errors name the file: missing, not HDF5, truncated', async () => {
  await assert.rejects(withH5File(join(dir, 'nope.h5'), () => 0), (e: unknown) => e instanceof DataError && /nope\.h5: file not found/.test((e as Error).message));
  const junk = join(dir, 'junk.h5');
  writeFileSync(junk, 'not hdf5 at all');
  await assert.rejects(withH5File(junk, () => 0, 'label.h5'), (e: unknown) => e instanceof DataError && /^label\.h5: cannot open as HDF5/.test((e as Error).message));
  const p = join(dir, 'big.h5');
  await createH5File(p, (f) => void f.create_dataset({ name: 'A', data: new Float64Array(4096), shape: [64, 64] }));
  const cut = join(dir, 'cut.h5');
  writeFileSync(cut, readFileSync(p).subarray(0, 3000));
  await assert.rejects(
    withH5File(cut, (f, ctx) => readNumericDataset(f.get('A') as never, ctx, 'A')),
    (e: unknown) => e instanceof DataError && /cut\.h5/.test((e as Error).message) && (e as Error).message.split('\n').length === 1,
  );
});
