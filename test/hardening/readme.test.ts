// Issue 9 item 14: the README sentences the audit named say what the code does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './cli-helpers.ts';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

test('the predict --scaled example feeds scaled values (in [0, 1]), not physical ones', () => {
  const scaled = /npx iclrnn predict \S+ --input (\S+) --scaled/.exec(readme);
  assert.ok(scaled, 'a predict --scaled example exists');
  const file = scaled[1];
  const made = new RegExp(`echo '(\\{"X".*?\\})' > ${file.replace('.', '\\.')}`).exec(readme);
  assert.ok(made, `the README shows what ${file} holds`);
  const X = JSON.parse(made[1]).X as number[][];
  for (const v of X.flat()) assert.ok(v >= 0 && v <= 1, `scaled example value ${v} outside [0, 1]`);
});

test('VAR:k is documented as 1-based; the ICLSTM convexity limit is explained', () => {
  assert.match(readme, /`VAR:k` names column k of variable VAR, 1-based/);
  assert.match(readme, /ICLSTM is input-convex over a single step only/);
  assert.match(readme, /NOT PROVEN/);
});
