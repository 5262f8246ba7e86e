// The model-kind table (src/nn/model-kinds.ts) and the hand-cell registry replaced the per-kind
// branches of the builders: the same kinds must still build the same models, down to the bit.
// The hashes below were computed from buildModel before that change (sha256 of the model-file JSON:
// spec, every initial weight, constraint state); a different hash means a different model file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildModel, isInputConvexKind, MODEL_KINDS, modelSpec, type BuildOptions } from '../../src/nn/models.ts';
import { createCell } from '../../src/nn/model.ts';
import { MODEL_KIND_TABLE } from '../../src/nn/model-kinds.ts';
import { modelToJson } from '../../src/io/model-format.ts';
import type { CellConfig } from '../../src/nn/cell.ts';

const OPTIONS: BuildOptions[] = [
  { inputSize: 4, outputSize: 2, hidden: 5, layers: 2, seed: 0 },
  // hidden equals the augmented input size: square input matrices (the ICRNN's D2, D3) of the second layer
  { inputSize: 4, outputSize: 2, hidden: 8, layers: 3, seed: 1 },
  { inputSize: 3, outputSize: 1, hidden: 4, layers: 1, seed: 0, iclstmForm: 'blocks', spectral: { k: 2, mode: 'reference' } },
  { inputSize: 3, outputSize: 2, hidden: 6, layers: 2, seed: 3, iclstmForm: 'blocks', lipschitz: { eps: 0.02 }, augmentationOffset: 0.5 },
];

const EXPECTED: Record<string, string> = {
  'rnn.0': '68d74cb5c6962a25', 'rnn.1': '1231729ef3c140f4', 'rnn.2': '55df52b6f791d784', 'rnn.3': '0461057cdd523cb6',
  'lstm.0': '21fd743b93d6f84f', 'lstm.1': 'ad77fde1f585f3f7', 'lstm.2': 'f67231ea66ee3550', 'lstm.3': '55adcaf9f70122c1',
  'lrnn.0': '439da782db44cc8b', 'lrnn.1': 'b7dc5c1fff6fe8f3', 'lrnn.2': '0800d3a433f53729', 'lrnn.3': 'd4669c0d193a3dda',
  'icrnn.0': '36c919c6906709d1', 'icrnn.1': '2179fcd39d264b8e', 'icrnn.2': '736882a12ba80277', 'icrnn.3': '51b50cc3db3be29e',
  'iclstm.0': 'daa30643bab83159', 'iclstm.1': '54acd645e80e01f6', 'iclstm.2': '99be32995539ebd9', 'iclstm.3': 'a7a7da1abe66304d',
  'iclrnn.0': '3cc532f372a6917e', 'iclrnn.1': 'd129ad3e67c157ae', 'iclrnn.2': '17e0f16a34a68cea', 'iclrnn.3': '2d995fac05a176ac',
  'gru.0': '0c1c124d840cea87', 'gru.1': 'f5309a0464087a58', 'gru.2': '14d25039196b3fef', 'gru.3': '2c0c218501f614bb',
};

test('every kind builds the same model file as before the table (spec, initial weights, constraint state; bit-identical)', () => {
  const got: Record<string, string> = {};
  for (const kind of MODEL_KINDS)
    OPTIONS.forEach((o, i) => {
      const json = JSON.stringify(modelToJson({ model: buildModel(kind, o), inputScaler: null, outputScaler: null, metadata: {} }));
      got[`${kind}.${i}`] = createHash('sha256').update(json).digest('hex').slice(0, 16);
    });
  assert.deepEqual(got, EXPECTED);
});

test('the table covers every kind and its cells are the kind\'s family', () => {
  assert.deepEqual(Object.keys(MODEL_KIND_TABLE).sort(), [...MODEL_KINDS].sort());
  for (const kind of MODEL_KINDS) {
    const info = MODEL_KIND_TABLE[kind];
    const spec = modelSpec(kind, { inputSize: 2, outputSize: 1, hidden: 3, layers: 2 });
    assert.equal(isInputConvexKind(kind), info.inputConvex, kind);
    assert.equal(spec.augmentation !== null, info.inputConvex, kind);
    for (const c of spec.cells) {
      assert.equal(c.type, info.cellType, kind);
      if (info.cellActivation !== undefined) assert.equal((c as { activation?: string }).activation, info.cellActivation, kind);
    }
    // the kind recognises its own default stack (what the Keras importer relies on) and no other kind does
    const recognisedBy = MODEL_KINDS.filter((k) => MODEL_KIND_TABLE[k].recognise(spec.cells, spec.head));
    assert.deepEqual(recognisedBy, [kind], kind);
  }
  assert.equal(isInputConvexKind('custom'), false);
});

test('unknown kinds, forms and cell types are refused by name', () => {
  assert.throws(() => modelSpec('mlp' as 'rnn', { inputSize: 2, outputSize: 1 }), /unknown model kind 'mlp' \(expected one of rnn, lstm, lrnn, icrnn, iclstm, iclrnn, gru\)/);
  assert.throws(() => modelSpec('iclstm', { inputSize: 2, outputSize: 1, iclstmForm: 'wide' as 'blocks' }), /^ValidationError: iclstmForm must be 'stacked' or 'blocks', got "wide"$/);
  // other kinds ignore the form, as before
  assert.equal(modelSpec('rnn', { inputSize: 2, outputSize: 1, iclstmForm: 'blocks' }).layout, undefined);
  assert.throws(() => createCell({ type: 'dense', inputSize: 2, units: 2 } as unknown as CellConfig), /unknown cell type 'dense'/);
});
