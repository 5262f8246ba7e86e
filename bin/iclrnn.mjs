#!/usr/bin/env node
// Entry point of the `iclrnn` command. The package ships TypeScript sources and runs them through
// tsx's loader, so there is no build step that could leave a stale copy behind.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
