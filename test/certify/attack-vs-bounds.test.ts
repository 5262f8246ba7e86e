// Issue 9 item 10: every lower bound the attack reports must lie below every certified upper bound
// (global, domain, local), compared with outward rounding: the certified value as reported (an
// upper bound including its rounding), the attack as a certified lower bound of the pair it found.
// Small random models, boxes from tiny (one affine piece of a ReLU network, where the attack's
// pair ratio equals the bound up to rounding) to wide.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { certify } from '../../src/certify/certify.ts';
import { lipschitzAttack, pairRatioLowerBound } from '../../src/certify/empirical.ts';
import { buildModel } from '../../src/nn/models.ts';

const KINDS = ['iclrnn', 'icrnn', 'rnn', 'lrnn'] as const;

test('attack lower bounds never exceed the certified global, domain and local bounds', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...KINDS),
      fc.integer({ min: 0, max: 1000 }),
      fc.integer({ min: 1, max: 3 }),
      fc.double({ min: -4, max: -0.5, noNaN: true }),
      fc.integer({ min: 0, max: 1000 }),
      (kind, seed, steps, logRadius, centreSeed) => {
        const inputSize = 2, d = steps * inputSize;
        const model = buildModel(kind, { inputSize, outputSize: 2, hidden: 4, layers: 1, seed });
        // move the weights away from the tiny initial scale, keeping the family's constraints
        for (const p of model.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] = p.value[i] * 20 + 0.05 * Math.sin(i + seed);
        model.applyConstraints();
        model.finalizeConstraints();
        const center = new Float64Array(d).map((_, i) => 0.15 + 0.7 * ((Math.sin(centreSeed * 7.1 + i * 3.3) + 1) / 2));
        const radius = 10 ** logRadius;
        const r = certify(model, { steps, seed, local: { center, radius }, lfr: false, jensen: false, sampleCount: 50, attack: { starts: 6, iterations: 15 } });
        const L = r.lipschitz;
        if (L.upperBound !== null && L.attack !== null) assert.ok(L.attack <= L.upperBound, `global: attack ${L.attack} > certified ${L.upperBound}`);
        const la = L.details.local?.attack ?? null;
        if (L.local !== null && la !== null) assert.ok(la <= L.local, `local (r=${radius}): attack ${la} > certified ${L.local}`);
        if (L.domain !== null) {
          const box = { center: new Float64Array(d).fill(0.5), radius: new Float64Array(d).fill(0.5) };
          const a = lipschitzAttack(model, { steps, starts: 4, iterations: 10, seed, box });
          assert.ok(a.value <= L.domain, `domain: attack ${a.value} > certified ${L.domain}`);
          // the reported value is a certified lower bound of the pair's own ratio
          assert.ok(pairRatioLowerBound(model, a.x, a.xPrime, steps) >= a.value);
        }
      },
    ),
    { numRuns: 40, seed: 20261202 },
  );
});
