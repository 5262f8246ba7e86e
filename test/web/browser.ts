// Shared by the browser tests: Debian's Chromium through playwright-core, the dashboard server,
// artifacts. Under CI=true a missing Chromium fails loudly; elsewhere the tests skip with a notice.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = process.env.ICLRNN_CHROMIUM ?? '/usr/bin/chromium';
/** Git-ignored folder for screenshots and logs of the browser tests (CI artifacts). */
export const artifactsDir = join(root, 'artifacts', 'web');

/** True when Chromium exists; otherwise fails (CI) or skips the test with a notice. */
export function haveChromium(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') assert.fail(`Chromium is required for the browser tests under CI=true but ${CHROMIUM} is missing (apt-get install chromium)`);
  t.skip(`Chromium not found at ${CHROMIUM}; browser tests skipped`);
  return false;
}

/**
 * Launches Chromium with a fresh profile directory (playwright's persistent context is how a
 * user-data-dir is given). `close()` closes the browser and removes the profile.
 */
export async function launchChromium(viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'iclrnn-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 90_000,
      viewport,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
}

export function artifacts(): string {
  mkdirSync(artifactsDir, { recursive: true });
  return artifactsDir;
}

/** Starts `iclrnn dashboard --port 0 [--dir DIR]`; resolves with its URL and the process. */
export function startDashboard(dir?: string): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> {
  const args = [join(root, 'bin', 'iclrnn.mjs'), 'dashboard', '--port', '0', ...(dir ? ['--dir', dir] : [])];
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ICLRNN_FROM_SOURCE: process.env.ICLRNN_FROM_SOURCE ?? '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dashboard did not print its URL in 30 s; stdout: ${out} stderr: ${err}`)), 30_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /iclrnn dashboard: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        const stop = () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          });
        resolve({ url: m[1], child, stop });
      }
    });
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dashboard exited with ${code}; stderr: ${err}`));
    });
  });
}

/** Whether a PNG screenshot is not blank: its pixels take many distinct values (decoded in the page). */
export const PIXEL_STATS_SCRIPT = `async (b64) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.width; c.height = img.height;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  const colors = new Set();
  let nonWhite = 0;
  for (let i = 0; i < d.length; i += 4 * 7) {
    colors.add((d[i] >> 3) + ',' + (d[i + 1] >> 3) + ',' + (d[i + 2] >> 3));
    if (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240) nonWhite++;
  }
  return { width: c.width, height: c.height, colors: colors.size, nonWhiteFraction: nonWhite / (d.length / 28) };
}`;
