#!/usr/bin/env node
// Entry point of the `iclrnn` command: runs the compiled CLI in dist/ (built by `npm run build`,
// which `prepare` runs on `npm install` in a clone and on `npm pack`).
// ICLRNN_FROM_SOURCE=1 runs the TypeScript sources through tsx instead (a dev dependency; the test
// runner sets it so tests see the current sources without a rebuild).
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node 22.1+: cache compiled code between runs (faster start-up); a no-op where unavailable.
module.enableCompileCache?.();

let main;
if (process.env.ICLRNN_FROM_SOURCE === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
} else {
  const entry = new URL('../dist/cli/main.js', import.meta.url);
  if (!existsSync(entry)) {
    process.stderr.write('iclrnn: dist/ is missing; run `npm run build` (or set ICLRNN_FROM_SOURCE=1 to run the sources through tsx)\n');
    process.exit(1);
  }
  ({ main } = await import(entry.href));
}
process.exitCode = await main(process.argv.slice(2));
