// Helpers shared by the test files.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DataError } from '../src/io/errors.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import type { SequenceDataset } from '../src/systems/dataset.ts';

/** Absolute path of a file under ../shared (beside the repository). */
export function sharedPath(relative: string): string {
  return fileURLToPath(new URL(`../../shared/${relative}`, import.meta.url));
}

/** True if the data file exists; otherwise skips the test with a notice (or fails when CI=true). */
export function haveData(t: TestContext, path: string): boolean {
  if (existsSync(path)) return true;
  if (process.env.CI === 'true') assert.fail(`required data file is missing: ${path}`);
  t.skip(`data file not found, skipping: ${path}`);
  return false;
}

/** Runs fn, expects a DataError whose message matches every pattern, and returns it. */
export function throwsData(fn: () => unknown, ...patterns: RegExp[]): DataError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DataError, `expected DataError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    for (const re of patterns) assert.match(e.message, re);
    return e;
  }
  assert.fail('expected a DataError');
}

/** Every `every`-th CSTR sample: small enough for real but fast training runs. */
export function smallCstr(every: number): SequenceDataset {
  const d = generateCstrDataset();
  const keep = Array.from({ length: Math.floor(d.count / every) }, (_, i) => i * every);
  const s = d.steps;
  const inputs = new Float64Array(keep.length * s * d.inputSize), targets = new Float64Array(keep.length * s * d.outputSize);
  keep.forEach((k, i) => {
    inputs.set(d.inputs.subarray(k * s * d.inputSize, (k + 1) * s * d.inputSize), i * s * d.inputSize);
    targets.set(d.targets.subarray(k * s * d.outputSize, (k + 1) * s * d.outputSize), i * s * d.outputSize);
  });
  return { ...d, count: keep.length, inputs, targets };
}
