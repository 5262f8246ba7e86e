/**
 * Certificate benchmark on the CSTR: for ICLRNN, ICRNN, LRNN, RNN and LSTM (2 x 64, trained at
 * training-noise 0 and 0.9), the certified global upper bound against the best attack (ratio 1 =
 * tight), the certified bound on the scaled domain [0, 1]^d against an attack inside it, and the
 * time to certify the 2 x 64 ICLRNN (global and local). Prints JSON and writes
 * bench/results/certify.json.
 *
 * Usage: node --import tsx bench/certify.ts [--epochs 1] [--cache DIR] [--kinds iclrnn,rnn] [--noises 0,0.9] [--merge]
 * `--epochs 200` gives the full table (hours of training on 2 cores; `--cache DIR` keeps the trained
 * models, named `<kind>-noise<sigma>-e<epochs>-seed0.json`, and reuses them; `--merge` keeps the
 * rows of kinds not run this time from the previous results file of the same epochs).
 * The default (1 epoch, lighter attack, recurrent bound for the global certificate only) is the
 * quick run (about 3 minutes on 2 idle cores).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { certify } from '../src/certify/certify.ts';
import { lipschitzAttack } from '../src/certify/empirical.ts';
import { loadModel, saveModel } from '../src/io/model-file.ts';
import type { BuiltinModelKind } from '../src/nn/models.ts';
import type { SequenceModel } from '../src/nn/model.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { fitModel, testMseOf } from '../src/train/pipeline.ts';
import { arg, writeResult } from './util.ts';

export async function run(): Promise<Record<string, unknown>> {
  const epochs = Number(arg('--epochs', '1'));
  const full = epochs >= 50;
  const cache = arg('--cache', '');
  const kinds = arg('--kinds', 'iclrnn,icrnn,lrnn,rnn,lstm').split(',') as BuiltinModelKind[];
  const noises = arg('--noises', '0,0.9').split(',').map(Number);
  const attack = full ? { starts: 96, iterations: 150 } : { starts: 12, iterations: 30 };
  const steps = 10;
  const dataset = generateCstrDataset();
  if (cache) mkdirSync(cache, { recursive: true });
  const rows: Record<string, unknown>[] = [];
  let timing: Record<string, unknown> | null = null;
  for (const kind of kinds)
    for (const noise of noises) {
      const file = cache ? join(cache, `${kind}-noise${noise}-e${epochs}-seed0.json`) : '';
      let model: SequenceModel;
      let testMse: number;
      let trainSeconds: number | null = null;
      if (file && existsSync(file)) {
        const stored = loadModel(file);
        model = stored.model;
        testMse = testMseOf(stored, dataset);
      } else {
        const t0 = performance.now();
        const r = fitModel(dataset, { kind, hidden: 64, layers: 2, epochs, noise, seed: 0 });
        r.model.finalizeConstraints();
        trainSeconds = (performance.now() - t0) / 1000;
        model = r.model;
        testMse = testMseOf(r, dataset);
        if (file)
          saveModel(file, {
            model: r.model, inputScaler: r.inputScaler, outputScaler: r.outputScaler,
            metadata: { system: 'cstr', data: { system: 'cstr', splitSeed: 0 }, training: { epochs, noise, learningRate: 1e-3, batchSize: 256 }, seed: 0 },
          });
      }
      const d = steps * model.inputSize;
      const centre = new Float64Array(d).fill(0.5);
      const rep = certify(model, { steps, seed: 0, attack, jensen: { segments: 1000 }, local: { center: centre, radius: 0.01 }, lfr: full ? true : ['global'], tolerance: full ? 1e-2 : 3e-2 });
      const t0 = performance.now();
      const domainAttack = lipschitzAttack(model, { steps, ...attack, seed: 1, box: { center: centre, radius: new Float64Array(d).fill(0.5) } }).value;
      const domainAttackSeconds = (performance.now() - t0) / 1000;
      const L = rep.lipschitz, D = L.details;
      const row = {
        kind, noise, epochs, testMse, trainSeconds,
        convex: rep.convex,
        jensenWorstViolation: rep.convexity.numerical?.worstViolation ?? null,
        empirical: L.empirical,
        attack: L.attack,
        upperBound: L.upperBound,
        upperBoundMethod: D.global.method,
        components: { product: D.global.product, unrolled: D.global.unrolled, recurrent: D.global.recurrent },
        ratio: L.upperBound !== null && L.attack ? L.upperBound / L.attack : null,
        domain: L.domain,
        domainAttack,
        domainRatio: L.domain !== null && domainAttack > 0 ? L.domain / domainAttack : null,
        local: L.local,
        localAttack: D.local?.attack ?? null,
        seconds: { total: rep.seconds, attack: D.attack?.seconds ?? null, global: D.global.seconds, domain: D.domain?.seconds ?? null, local: D.local?.seconds ?? null, domainAttack: domainAttackSeconds },
      };
      rows.push(row);
      console.error(
        `${kind.padEnd(6)} noise ${noise}: upper ${L.upperBound?.toPrecision(4)} (${D.global.method}) attack ${L.attack?.toPrecision(4)} ratio ${row.ratio?.toFixed(3)}; ` +
          `domain ${L.domain?.toPrecision(4)} / ${domainAttack.toPrecision(4)} = ${row.domainRatio?.toFixed(3)}; ${rep.seconds.toFixed(1)} s`,
      );
      if (kind === 'iclrnn' && noise === noises[0]) {
        // time of the certificates alone (no attack / sampling): global and local (r = 0.01)
        const tg = performance.now();
        const g = certify(model, { steps, attack: false, jensen: false, sampleCount: 1, domainBound: false });
        const globalSeconds = (performance.now() - tg) / 1000;
        const tl = performance.now();
        const l = certify(model, { steps, attack: false, jensen: false, sampleCount: 1, domainBound: false, local: { center: centre, radius: 0.01 } });
        const localSeconds = (performance.now() - tl) / 1000 - globalSeconds;
        timing = {
          model: 'iclrnn 2x64 CSTR', steps, epochs, noise,
          globalSeconds, localSecondsExtra: Math.max(0, localSeconds), localBoxSeconds: l.lipschitz.details.local?.seconds ?? null,
          upperBound: g.lipschitz.upperBound, local: l.lipschitz.local,
          fullReportSeconds: rep.seconds,
        };
      }
    }
  // --merge: keep the rows (and timing) of other kinds / noises from the previous results file
  if (process.argv.includes('--merge')) {
    const prevPath = new URL('./results/certify.json', import.meta.url).pathname;
    if (existsSync(prevPath)) {
      const prev = JSON.parse(readFileSync(prevPath, 'utf8')) as { epochs?: number; timing?: Record<string, unknown> | null; models?: Record<string, unknown>[] };
      if (prev.epochs === epochs) {
        const have = new Set(rows.map((r) => `${r.kind}/${r.noise}`));
        rows.unshift(...(prev.models ?? []).filter((r) => !have.has(`${r.kind}/${r.noise}`)));
        timing = timing ?? prev.timing ?? null;
      }
    }
  }
  const result = { benchmark: 'certify', epochs, steps, attack, norm: 'l2 over the whole sequence, scaled space', timing, models: rows };
  writeResult('certify', result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 1));
