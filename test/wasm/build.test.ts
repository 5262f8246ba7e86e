import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WASM_BINARIES } from '../../src/core/wasm-binaries.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('the committed wasm modules match their recorded SHA-256 and are valid modules', () => {
  for (const [name, b] of Object.entries(WASM_BINARIES)) {
    const bytes = Buffer.from(b.base64, 'base64');
    assert.equal(createHash('sha256').update(bytes).digest('hex'), b.sha256, name);
    assert.equal(name.endsWith('fma'), b.fma, name);
    assert.deepEqual([...bytes.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d], `${name}: wasm magic`);
  }
});

test('rebuilding the wasm kernels from src/wasm gives the committed bytes (deterministic build)', (t) => {
  const r = spawnSync(process.execPath, ['scripts/build-wasm.mjs', '--check'], { cwd: root, encoding: 'utf8' });
  if (r.status === 3) {
    if (process.env.CI === 'true') assert.fail('AssemblyScript is missing under CI: run npm ci');
    t.skip('AssemblyScript is not installed: the rebuild check is skipped (it runs under CI)');
    return;
  }
  assert.equal(r.status, 0, `build-wasm --check failed:\n${r.stdout}\n${r.stderr}`);
  assert.equal((r.stdout.match(/ matches /g) ?? []).length, Object.keys(WASM_BINARIES).length, r.stdout);
});
