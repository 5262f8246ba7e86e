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
 *
 * `timing.certify` is the issue-11 measurement: the default certificate as `iclrnn certify` computes
 * it (global and domain bound with the LFR, 32 x 80 attack, 2000 Jensen segments, reference
 * estimate; steps 10), `--runs` times (default 3) in this process: the first run, the median and
 * the CPU seconds, with the load average (a background job inflates wall times).
 * `node --import tsx bench/certify.ts --timing-model MODEL.json [--runs 5]` times only that model
 * file (a fresh process: the first run is the cold one, like the CLI) and writes
 * bench/results/certify-timing.json instead of the table.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { certify } from '../src/certify/certify.ts';
import { lipschitzAttack } from '../src/certify/empirical.ts';
import { loadModel, saveModel } from '../src/io/model-file.ts';
import type { BuiltinModelKind } from '../src/nn/models.ts';
import type { SequenceModel } from '../src/nn/model.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { fitModel, testMseOf } from '../src/train/pipeline.ts';
import { arg, writeResult } from './util.ts';

/**
 * The default certificate of `iclrnn certify` (steps 10), `runs` times: wall and CPU seconds of each
 * run, the first, the median, and the parts (attack, global, domain) of the median run.
 */
export function certifyTiming(model: SequenceModel, runs: number, steps = 10): Record<string, unknown> {
  const rs: { seconds: number; cpuSeconds: number; attack: number | null; global: number; domain: number | null; upperBound: number | null; domainBound: number | null }[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const rep = certify(model, { steps });
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const D = rep.lipschitz.details;
    rs.push({ seconds, cpuSeconds: (c.user + c.system) / 1e6, attack: D.attack?.seconds ?? null, global: D.global.seconds, domain: D.domain?.seconds ?? null, upperBound: rep.lipschitz.upperBound, domainBound: rep.lipschitz.domain });
  }
  const sorted = [...rs].sort((a, b) => a.seconds - b.seconds);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  return {
    what: 'default iclrnn certify: global + domain bound (LFR), attack 32 x 80, Jensen 2000, reference estimate; steps 10',
    firstSeconds: rs[0].seconds,
    medianSeconds: median.seconds,
    medianCpuSeconds: [...rs].sort((a, b) => a.cpuSeconds - b.cpuSeconds)[Math.floor((rs.length - 1) / 2)].cpuSeconds,
    parts: { attack: median.attack, global: median.global, domain: median.domain },
    upperBound: median.upperBound,
    domain: median.domainBound,
    runs: rs.map((r) => ({ seconds: r.seconds, cpuSeconds: r.cpuSeconds })),
    loadAverage: loadavg(),
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const timingModel = arg('--timing-model', '');
  const runs = Number(arg('--runs', '3'));
  if (timingModel) {
    const stored = loadModel(timingModel);
    const result = { benchmark: 'certify-timing', model: timingModel, certify: certifyTiming(stored.model, runs) };
    writeResult('certify-timing', result);
    return result;
  }
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
          certify: certifyTiming(model, runs, steps),
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
