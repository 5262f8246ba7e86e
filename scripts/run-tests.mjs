#!/usr/bin/env node
// Runs every test/**/*.test.ts file with Node's built-in test runner through tsx.
// Usage: node scripts/run-tests.mjs [substring filter ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk('test').sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// test/setup/fast-check.mjs fixes the property-test seed under CI (or ICLRNN_FC_SEED).
// ICLRNN_FROM_SOURCE=1: tests that spawn bin/iclrnn.mjs run the current sources (no rebuild needed);
// the packaging suite (test/package/) clears it to test dist/ and the packed tarball.
const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/setup/fast-check.mjs', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env: { ...process.env, ICLRNN_FROM_SOURCE: '1' } });
process.exit(r.status ?? 1);
