// Regression guard for the certified bounds of fixed small models: every certified number (global,
// domain and local value, and each component: product, unrolled, recurrent) must stay what it was
// recorded as or get tighter, and stay above the attack's certified lower bound. The recorded
// values come from the certificate code before the speed-ups of the LFR search, the backward
// step and the attack gradients (all of which reproduce them bit for bit), and before the product
// component moved to the gain interpreter (last bits, see below). The products run on
// the plain-JavaScript kernels so the numbers do not depend on the engine's wasm SIMD / FMA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { certify, type BoundDetail } from '../../src/certify/certify.ts';
import { buildModel, type BuiltinModelKind } from '../../src/nn/models.ts';
import { jsKernels, setKernels } from '../../src/core/kernels.ts';
import { Rng } from '../../src/core/rng.ts';

type Parts = { value: number | null; product: number | null; unrolled: number | null; recurrent: number | null };
interface Recorded {
  attack: number;
  localAttack: number;
  global: Parts;
  domain: Parts;
  local: Parts;
}

// recorded with the code of commit d808706 (jsKernels), full precision
const RECORDED: Record<'iclrnn' | 'icrnn' | 'lrnn' | 'lstm', Recorded> = {
  iclrnn: {
    attack: 1.421511582691083,
    localAttack: 1.4215115826953328,
    global: { value: 1.823171469532352, product: 3.94773034292575, unrolled: 1.823171469532352, recurrent: null },
    domain: { value: 1.4215115827222726, product: null, unrolled: 1.4215115827222726, recurrent: 1.435726697112295 },
    local: { value: 1.4215115827222726, product: null, unrolled: 1.4215115827222726, recurrent: 1.435726697112295 },
  },
  icrnn: {
    attack: 11837.283612313555,
    localAttack: 11837.283612394616,
    global: { value: 16245.712472180256, product: 43761.783827465515, unrolled: 16245.712472180256, recurrent: null },
    domain: { value: 11837.283612534047, product: null, unrolled: 11837.283612534047, recurrent: 11955.656436691463 },
    local: { value: 11837.283612534047, product: null, unrolled: 11837.283612534047, recurrent: 11955.656436691463 },
  },
  lrnn: {
    attack: 0.0005865510000277348,
    localAttack: 0.0002703197306389007,
    global: { value: 0.0016653110861862457, product: 0.003400771801211213, unrolled: 0.002567852181750374, recurrent: 0.0016653110861862457 },
    domain: { value: 0.0013138470941043998, product: null, unrolled: 0.001885022687508178, recurrent: 0.0013138470941043998 },
    local: { value: 0.0003371608330503971, product: null, unrolled: 0.00038000558627026697, recurrent: 0.0003371608330503971 },
  },
  lstm: {
    attack: 0.8521451016855563,
    localAttack: 0.6806691480253952,
    global: { value: 606567.1432813475, product: 606567.1432813475, unrolled: 832607.571888558, recurrent: null },
    domain: { value: 91747.29471923527, product: null, unrolled: 91747.29471923527, recurrent: null },
    local: { value: 2.7349048866637307, product: null, unrolled: 20.119221190103573, recurrent: 2.7349048866637307 },
  },
};

/** The fixed model of a family: 2 x 6, 2 inputs, 1 output, seeded weights large enough to matter. */
function fixedModel(kind: BuiltinModelKind) {
  const m = buildModel(kind, { inputSize: 2, outputSize: 1, hidden: 6, layers: 2, seed: 3 });
  const rng = new Rng(7);
  for (const p of m.parameters())
    for (let i = 0; i < p.value.length; i++) p.value[i] = kind.startsWith('ic') ? 0.6 * Math.abs(rng.normal()) : 0.7 * rng.normal();
  m.applyConstraints();
  return m;
}

for (const kind of Object.keys(RECORDED) as (keyof typeof RECORDED)[]) {
  test(`${kind}: the certified bounds of a fixed model are as recorded or tighter, and above the attack`, () => {
    const previous = setKernels(jsKernels);
    try {
      const r = certify(fixedModel(kind), {
        steps: 5, seed: 0, attack: { starts: 8, iterations: 20 }, jensen: false, sampleCount: 50,
        local: { center: new Float64Array(10).fill(0.5), radius: 0.05 },
      });
      const want = RECORDED[kind];
      const D = r.lipschitz.details;
      const localAttack = D.local!.attack!;
      const scopes: [string, BoundDetail, Parts, number][] = [
        ['global', D.global, want.global, r.lipschitz.attack!],
        // the local box lies inside the domain: its attack bounds the domain constant from below too
        ['domain', D.domain!, want.domain, localAttack],
        ['local', D.local!, want.local, localAttack],
      ];
      for (const [scope, got, rec, lower] of scopes) {
        for (const part of ['value', 'product', 'unrolled', 'recurrent'] as const) {
          const g = got[part], w = rec[part];
          if (w === null) continue;
          assert.ok(g !== null, `${kind} ${scope} ${part}: was ${w}, now missing`);
          // the recorded numbers come from the hand-written per-family engines; the product component
          // is now the gain interpreter's and the propagation and LFR run as interpreters over the cell
          // programs: the same inequalities summed in another order, so a number may differ from the
          // recorded one in the last bits (all carry a 1e-12 rounding margin), never by more
          const slack = 4 * Number.EPSILON * w;
          assert.ok(g <= w + slack, `${kind} ${scope} ${part}: ${g} is looser than the recorded ${w}`);
        }
        assert.ok(got.value !== null && got.value >= lower, `${kind} ${scope}: bound ${got.value} below the attack ${lower}`);
      }
    } finally {
      setKernels(previous);
    }
  });
}
