// `npm run bench` (bench/run.ts) imports every bench/*.ts module and calls its run(): a script
// written as a top-level program would crash the whole run, so each module must export run().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

test('every benchmark module exports run() and writes its JSON result', () => {
  const dir = fileURLToPath(new URL('../../bench/', import.meta.url));
  const modules = readdirSync(dir).filter((f) => f.endsWith('.ts') && !['run.ts', 'util.ts'].includes(f));
  assert.ok(modules.length >= 8, modules.join(', '));
  for (const f of modules) {
    const text = readFileSync(dir + f, 'utf8');
    assert.match(text, /export async function run\([^)]*\): Promise<Record<string, unknown>>/, `bench/${f}: no run()`);
    assert.match(text, /writeResult\(/, `bench/${f}: writes no bench/results JSON`);
  }
});
