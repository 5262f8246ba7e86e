/** Small helpers shared by the benchmarks. */
import { writeFileAtomic } from '../src/io/atomic.ts';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Value of a `--flag value` command-line option. */
export function arg(flag: string, def: string): string {
  const i = process.argv.indexOf(flag);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

/** Writes bench/results/<name>.json atomically, with the machine and date. */
export function writeResult(name: string, result: Record<string, unknown>): void {
  const withMeta = { ...result, date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}` };
  writeFileAtomic(new URL(`./results/${name}.json`, import.meta.url).pathname, JSON.stringify(withMeta, null, 1) + '\n');
}
