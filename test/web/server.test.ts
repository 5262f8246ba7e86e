// `iclrnn dashboard`'s static server: isolation headers, content types, 404, no escape from the
// served folder; the command's flag errors (exit 2, one line). No browser needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ISOLATION_HEADERS, serveStatic } from '../../src/cli/commands/dashboard.ts';
import { root, startDashboard } from './browser.ts';

function get(port: number, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    // a raw path (no URL normalisation by the client), to try escaping the folder
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('static server: COOP/COEP on every response, MIME types, 404, no path traversal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-serve-'));
  const site = join(dir, 'site');
  mkdirSync(join(site, 'chunks'), { recursive: true });
  writeFileSync(join(site, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(site, 'app.js'), 'export {}');
  writeFileSync(join(site, 'chunks', 'a.js'), 'export {}');
  writeFileSync(join(dir, 'secret.txt'), 'secret');
  const server = await serveStatic(site, 0, '127.0.0.1');
  try {
    const port = (server.address() as AddressInfo).port;
    const index = await get(port, '/');
    assert.equal(index.status, 200);
    assert.match(String(index.headers['content-type']), /^text\/html/);
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) assert.equal(index.headers[k.toLowerCase()], v, k);
    const js = await get(port, '/chunks/a.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.equal(js.headers['cross-origin-embedder-policy'], 'require-corp');
    const missing = await get(port, '/nope.js');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['cross-origin-opener-policy'], 'same-origin');
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/chunks/../../secret.txt']) {
      const r = await get(port, p);
      assert.ok(r.status === 403 || r.status === 404, `${p}: ${r.status}`);
      assert.doesNotMatch(r.body, /secret/, p);
    }
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('iclrnn dashboard: prints the URL; bad flags give one line and exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-dash-'));
  try {
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>dashboard</title>');
    writeFileSync(join(dir, 'app.js'), '');
    const s = await startDashboard(dir);
    try {
      assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const r = await get(Number(new URL(s.url).port), '/');
      assert.equal(r.status, 200);
      assert.match(r.body, /dashboard/);
    } finally {
      await s.stop();
    }
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(root, 'bin', 'iclrnn.mjs'), 'dashboard', ...args], { encoding: 'utf8', env: { ...process.env, ICLRNN_FROM_SOURCE: '1' }, timeout: 60_000 });
    for (const [args, re] of [
      [['--port', '70000'], /--port must be an integer port from 0 to 65535/],
      [['--port', 'x'], /--port must be/],
      [['--dir', join(dir, 'missing')], /--dir .*no index\.html there/],
    ] as const) {
      const r = cli(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
