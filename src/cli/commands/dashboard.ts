/**
 * `iclrnn dashboard [--port N] [--host H] [--open]`: serves the built browser dashboard (dist/web,
 * built by `npm run build` or `node scripts/build-web.mjs`) as static files on loopback, with the
 * cross-origin isolation headers (COOP/COEP) that shared memory needs, and prints the URL. Every
 * computation happens in the browser; the server only sends files. Ctrl-C stops it.
 */
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberOption, UsageError } from '../util.ts';

export const DASHBOARD_DESCRIPTION = 'serve the browser dashboard (data, training, certificates, MPC, models) on loopback and print its URL';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** Headers on every response: cross-origin isolation (SharedArrayBuffer) and no sniffing. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
});

/** The built dashboard directory: dist/web beside src/ (sources) or beside dist/cli (compiled). */
export function dashboardDir(): string | null {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const rel of ['../../../dist/web', '../../web']) {
    const d = resolve(here, rel);
    if (existsSync(join(d, 'index.html')) && existsSync(join(d, 'app.js'))) return d;
  }
  return null;
}

/** Starts a static server for `dir`; resolves once it listens. */
export function serveStatic(dir: string, port: number, host: string): Promise<Server> {
  const root = resolve(dir);
  const server = createServer(async (req, res) => {
    const send = (status: number, body: string | Buffer, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(400, 'bad request');
    }
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) return send(403, 'forbidden');
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      send(200, body, MIME[extname(file).toLowerCase()] ?? 'application/octet-stream');
    } catch {
      send(404, 'not found');
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok(server);
    });
  });
}

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => process.stderr.write(`iclrnn: could not open a browser (${cmd}); open ${url} yourself\n`));
    child.unref();
  } catch {
    process.stderr.write(`iclrnn: could not open a browser; open ${url} yourself\n`);
  }
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description(DASHBOARD_DESCRIPTION)
    .option('--port <n>', 'port (0: any free port)', '8080')
    .option('--host <host>', 'interface to listen on (loopback by default)', '127.0.0.1')
    .option('--open', 'open the page in the default browser')
    .option('--dir <path>', 'serve this build of the dashboard instead of dist/web (e.g. from node scripts/build-web.mjs --outdir PATH)')
    .action(async (o: { port: string; host: string; open?: boolean; dir?: string }) => {
      const port = numberOption('--port', o.port, 8080, (x) => Number.isInteger(x) && x >= 0 && x <= 65535, 'an integer port from 0 to 65535');
      if (o.dir !== undefined && !existsSync(join(o.dir, 'index.html')))
        throw new UsageError(`--dir ${o.dir}: no index.html there; build the dashboard with node scripts/build-web.mjs --outdir ${o.dir}`, { flag: '--dir' });
      const dir = o.dir !== undefined ? resolve(o.dir) : dashboardDir();
      if (!dir) throw new UsageError('the dashboard is not built (no dist/web/index.html): run `npm run build` or `node scripts/build-web.mjs` first');
      let server: Server;
      try {
        server = await serveStatic(dir, port, o.host);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new UsageError(`--port ${port}: the port is in use; pick another (or --port 0 for any free one)`, { flag: '--port' });
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES')
          throw new UsageError(`--host ${o.host} / --port ${port}: cannot listen there (${code})`, { flag: '--host' });
        throw e;
      }
      const addr = server.address() as AddressInfo;
      const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      const url = `http://${shown}:${addr.port}/`;
      process.stdout.write(`iclrnn dashboard: ${url}  (serving ${dir}; Ctrl-C stops)\n`);
      if (!['127.0.0.1', '::1', 'localhost'].includes(o.host)) process.stderr.write(`iclrnn: warning: listening on ${o.host}, reachable from other machines\n`);
      if (o.open) openBrowser(url);
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          server.close(() => done());
          server.closeAllConnections?.();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
