import { intervalBounds, sequenceBox } from '../../src/interp/bounds.ts';
import { zonotopeBounds } from '../../src/interp/zonotope.ts';
import { gainBound } from '../../src/interp/gain.ts';
import { propagateModel, boxAround } from '../../src/certify/propagate.ts';
import { productBound } from '../../src/certify/product.ts';
import { buildModel } from '../../src/nn/models.ts';
import { Rng } from '../../src/core/rng.ts';
import { stackOfModel } from './programs.ts';
const steps = 10, n = 4;
for (const kind of ['rnn', 'lstm', 'lrnn', 'icrnn', 'iclstm', 'iclrnn'] as const) {
  const m = buildModel(kind, { inputSize: n, outputSize: 2, hidden: 16, layers: 2, seed: 0 });
  const rng = new Rng(1);
  const c = Float64Array.from({ length: steps * n }, () => rng.uniform());
  const st = stackOfModel(m);
  const row: string[] = [kind];
  for (const r of [Infinity, 0.3, 0.05]) {
    const mine = r === Infinity ? intervalBounds(st, steps, sequenceBox(c, r)) : zonotopeBounds(st, steps, sequenceBox(c, r), { maxSymbols: 1e9 });
    const ivb = intervalBounds(st, steps, sequenceBox(c, r));
    let wi = 0; for (let i = 0; i < ivb.outputs.l.length; i++) wi += ivb.outputs.u[i] - ivb.outputs.l[i];
    const ref = propagateModel(m, steps, boxAround(c, r), { maxZonotopeSymbols: 1e9 });
    let wm = 0, wr = 0, tighterMine = 0, tighterRef = 0;
    for (let i = 0; i < mine.outputs.l.length; i++) {
      const a = mine.outputs.u[i] - mine.outputs.l[i], b = ref.outputs.u[i] - ref.outputs.l[i];
      wm += a; wr += b;
      if (a < b * (1 - 1e-9)) tighterMine++; else if (b < a * (1 - 1e-9)) tighterRef++;
    }
    row.push(`r=${r}: width zono/propagate ${(wm / wr).toPrecision(4)} interval/propagate ${(wi / wr).toPrecision(4)} (zono ${wm.toPrecision(4)}, prop ${wr.toPrecision(4)}; tighter outputs: mine ${tighterMine}, prop ${tighterRef})`);
  }
  const g = gainBound(st, steps);
  const p = productBound(m, steps, propagateModel(m, steps, boxAround(c, Infinity)));
  row.push(`gain global mine ${g.value?.toPrecision(6) ?? g.reason} product ${p.value?.toPrecision(6) ?? p.reason}`);
  const gl = gainBound(st, steps, { box: sequenceBox(c, 0.05) });
  row.push(`gain box 0.05 mine ${gl.value?.toPrecision(6)}`);
  console.log(row.join('\n   '));
}
