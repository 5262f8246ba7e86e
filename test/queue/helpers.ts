// Helpers of the distributed-sweep tests: a Redis to talk to, CLI processes to start, watch and kill.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../../bin/iclrnn.mjs', import.meta.url));

/** True when a redis-server binary is on the PATH. */
export function haveRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
}

/**
 * The Redis URL of the tests: ICLRNN_TEST_REDIS_URL (set by .ci/run), else a private redis-server
 * started here; skips the test with a notice when there is none (fails under CI=true).
 */
export async function testRedis(t: TestContext): Promise<string | null> {
  if (process.env.ICLRNN_TEST_REDIS_URL) return process.env.ICLRNN_TEST_REDIS_URL;
  if (!haveRedisServer()) {
    if (process.env.CI === 'true') assert.fail('redis-server is not installed (needed by the queue tests; .ci/run installs it)');
    t.skip('redis-server not found and ICLRNN_TEST_REDIS_URL not set: skipping the queue integration test');
    return null;
  }
  const r = await startRedis(t);
  return r.url;
}

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface RedisHandle {
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Starts a private redis-server (append-only file in a temporary directory) stopped after the test. */
export async function startRedis(t: TestContext, opts: { port?: number; dir?: string } = {}): Promise<RedisHandle> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'iclrnn-redis-'));
  let proc: ChildProcess | null = null;
  const start = async () => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return;
      await sleep(50);
    }
    assert.fail(`redis-server did not start on port ${port}`);
  };
  const stop = async () => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    spawnSync('redis-cli', ['-p', String(port), 'shutdown'], { encoding: 'utf8' });
    await Promise.race([exited, sleep(5000)]);
    if (p.exitCode === null) p.kill('SIGKILL');
  };
  await start();
  t.after(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: `redis://127.0.0.1:${port}`, port, dir, stop, start };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A running `iclrnn` process whose output is collected. */
export interface CliProcess {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr matches (rejects after timeoutMs). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `iclrnn ...args`; killed (SIGKILL) after the test if still running. */
export function startCli(t: TestContext, args: string[], env: Record<string, string> = {}): CliProcess {
  const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '', err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('close', (code, signal) => r({ code, signal })));
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exit,
    async waitFor(re, timeoutMs = 60000) {
      const t0 = Date.now();
      for (;;) {
        const m = err.match(re);
        if (m) return m;
        if (proc.exitCode !== null || proc.signalCode !== null) {
          await sleep(50);
          const m2 = err.match(re);
          if (m2) return m2;
          assert.fail(`process exited (${proc.exitCode ?? proc.signalCode}) before ${re}; stderr:\n${err}\nstdout:\n${out}`);
        }
        if (Date.now() - t0 > timeoutMs) assert.fail(`timed out waiting for ${re}; stderr:\n${err}`);
        await sleep(50);
      }
    },
  };
}

/** Runs `iclrnn ...args` to the end. */
export async function runCli(t: TestContext, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startCli(t, args, env);
  const { code } = await p.exit;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** Lines of a log that match. */
export function count(text: string, re: RegExp): number {
  return text.split('\n').filter((l) => re.test(l)).length;
}
