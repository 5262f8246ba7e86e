// Loaded into every test process by scripts/run-tests.mjs (--import). Property tests draw fresh
// random cases on developers' machines, so they keep finding new counterexamples; under CI (or with
// ICLRNN_FC_SEED set) every run uses one fixed seed, so a run on a clean clone is reproducible and a
// failure can be replayed exactly with the seed it prints.
import fc from 'fast-check';

const fromEnv = process.env.ICLRNN_FC_SEED;
if (fromEnv !== undefined && fromEnv !== '') {
  const seed = Number(fromEnv);
  if (!Number.isSafeInteger(seed)) throw new Error(`ICLRNN_FC_SEED must be an integer, got '${fromEnv}'`);
  fc.configureGlobal({ seed });
} else if (process.env.CI === 'true') {
  fc.configureGlobal({ seed: 20261202 });
}
