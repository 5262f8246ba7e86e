/**
 * `npm run bench [-- name ...]`: runs the benchmarks (all by default), prints one JSON object with
 * every result and writes bench/results/<name>.json for each.
 */
import { readdirSync } from 'node:fs';

const here = new URL('.', import.meta.url);
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'util.ts'].includes(f))
  .map((f) => f.slice(0, -3))
  .sort((a, b) => (a === 'foundation' ? -1 : b === 'foundation' ? 1 : a.localeCompare(b)));
const args = process.argv.slice(2);
const firstFlag = args.findIndex((a) => a.startsWith('--'));
const wanted = firstFlag < 0 ? args : args.slice(0, firstFlag);
const names = wanted.length ? wanted : available;
const out: Record<string, unknown> = {};
for (const name of names) {
  if (!available.includes(name)) {
    console.error(`unknown benchmark '${name}' (available: ${available.join(', ')})`);
    process.exit(2);
  }
  const mod = await import(new URL(`./${name}.ts`, here).href);
  out[name] = await mod.run();
}
console.log(JSON.stringify(out, null, 1));
