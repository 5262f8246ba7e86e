// The layering of src/ (README "Architecture"), checked on the import statements of every source
// file: each folder imports only from the layers below it, peers on one level do not import each
// other, plants and data sets depend on core only, Node built-ins only in io/, cli/ and worker code,
// and no code outside the cell files and the registry names a cell family's class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** Level of each top-level folder (entry points at the top); one level may not import its peers. */
const LEVEL: Record<string, number> = {
  core: 0,
  systems: 1,
  graph: 1,
  interp: 2,
  nn: 3,
  train: 4,
  certify: 4,
  control: 4,
  apps: 5,
  io: 6,
  report: 6,
  web: 7,
  cli: 7,
  api: 8,
  index: 9, // the Node entry: the browser entry plus file I/O
  browser: 8,
};
/** Folders that may import only the listed ones (besides themselves). */
const ONLY: Record<string, string[]> = { systems: ['core'], graph: ['core'] };
/** Where Node built-ins (`node:*`) and Node-only packages may be imported. */
const NODE_ALLOWED = [/^io\//, /^cli\//, /^core\/wasm-node\.ts$/, /^train\/distributed\//];
const NODE_ONLY_PACKAGES = ['bullmq', 'ioredis', 'commander', 'cli-progress', 'proper-lockfile'];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'wasm' && dir === SRC ? [] : walk(p); // src/wasm: AssemblyScript kernels
    return /\.tsx?$/.test(n) ? [p] : [];
  });
}

const layerOf = (file: string) => relative(SRC, file).split('/')[0].replace(/\.tsx?$/, '');

/** Module specifiers of the static and dynamic imports and re-exports of a source text (comments stripped). */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of code.matchAll(/\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g)) out.push(m[1]);
  for (const m of code.matchAll(/\bimport\s*['"]([^'"]+)['"]/g)) out.push(m[1]);
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out;
}

const files = walk(SRC);

/** Why an import from layer `from` into layer `to` breaks the layering, or null when it does not. */
function violation(from: string, to: string): string | null {
  if (to === from) return null;
  if (!(to in LEVEL)) return `unknown layer '${to}'`;
  if (ONLY[from] && !ONLY[from].includes(to)) return `${from} may import only ${ONLY[from].join(', ')}`;
  if (LEVEL[to] > LEVEL[from]) return `${from} (level ${LEVEL[from]}) imports the higher layer ${to} (level ${LEVEL[to]})`;
  if (LEVEL[to] === LEVEL[from]) return `${from} imports its peer ${to}`;
  return null;
}

test('the import parser sees static, type-only, side-effect, dynamic and re-export imports, not comments', () => {
  const text = `import a from './a.ts';\nimport type { B } from "../b.ts";\nimport './c.ts';\nexport * from './d.ts';\nconst e = await import('./e.ts');\n// import x from './x.ts';\n/* import y from './y.ts'; */`;
  assert.deepEqual(importsOf(text).sort(), ['../b.ts', './a.ts', './c.ts', './d.ts', './e.ts']);
});

test('every layer imports only from the layers below it (peers not at all)', () => {
  assert.ok(files.length > 100, `found ${files.length} source files`);
  const problems: string[] = [];
  for (const f of files) {
    const from = layerOf(f);
    assert.ok(from in LEVEL, `src/${relative(SRC, f)}: folder '${from}' has no level in this test (add it to LEVEL)`);
    for (const spec of importsOf(readFileSync(f, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const why = violation(from, layerOf(resolve(dirname(f), spec)));
      if (why) problems.push(`src/${relative(SRC, f)} imports ${spec}: ${why}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('Node built-ins and Node-only packages only in io/, cli/ and worker code', () => {
  const problems: string[] = [];
  for (const f of files) {
    const rel = relative(SRC, f);
    if (NODE_ALLOWED.some((r) => r.test(rel))) continue;
    for (const spec of importsOf(readFileSync(f, 'utf8')))
      if (spec.startsWith('node:') || NODE_ONLY_PACKAGES.includes(spec)) problems.push(`src/${rel} imports ${spec}`);
  }
  assert.deepEqual(problems, []);
});

test('the check fails on a violation (a higher layer, a peer, a Node built-in)', () => {
  const check = (fromRel: string, spec: string) => violation(layerOf(join(SRC, fromRel)), layerOf(resolve(dirname(join(SRC, fromRel)), spec))) !== null;
  assert.equal(check('core/linalg.ts', '../nn/model.ts'), true);
  assert.equal(check('control/mpc.ts', '../train/pipeline.ts'), true);
  assert.equal(check('systems/cstr.ts', '../io/errors.ts'), true);
  assert.equal(check('interp/gain.ts', '../core/spectral.ts'), false);
  assert.equal(check('apps/cstr-lmpc.ts', '../control/mpc.ts'), false);
});

test('the generic cell-program path names no cell family (families live in graph/cells and the registry)', () => {
  // what issue 10 asks of all code; enforced here for the code written that way so far: the
  // interpreters, the program-backed cell and stack, the program certificates and the IR itself
  const generic = [
    ...files.filter((f) => relative(SRC, f).startsWith('interp/')),
    ...['nn/program-cell.ts', 'nn/program-stack.ts', 'certify/programs.ts', 'graph/program.ts', 'graph/family.ts', 'graph/activations.ts'].map((r) => join(SRC, r)),
  ];
  const family = /['"](simple|lstm|lipschitz|icrnn|iclstm|gru|rnn|lrnn|iclrnn)['"]|\b(SimpleCell|LstmCell|LipschitzCell|IcrnnCell|IclstmCell)\b/;
  const problems: string[] = [];
  for (const f of generic) {
    const code = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"])\/\/.*$/gm, '$1');
    code.split('\n').forEach((line, i) => {
      if (family.test(line)) problems.push(`src/${relative(SRC, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.ok(generic.length >= 12, `${generic.length} files checked`);
  assert.deepEqual(problems, []);
});

/** A family or kind name as a string, or a hand-written cell class: naming one means knowing it. */
const FAMILY_NAMES = 'simple|lstm|lipschitz|icrnn|iclstm|gru|rnn|lrnn|iclrnn';
const NAMES_A_FAMILY = new RegExp(`['"](${FAMILY_NAMES})['"]|\\b(SimpleCell|LstmCell|LipschitzCell|IcrnnCell|IclstmCell)\\b`);
/** Code that branches on a family or kind: a comparison or case label with its name, or a hand-written cell class. */
const BRANCHES_ON_A_FAMILY = new RegExp(
  `[!=]==?\\s*['"](${FAMILY_NAMES})['"]|['"](${FAMILY_NAMES})['"]\\s*[!=]==?|\\bcase\\s+['"](${FAMILY_NAMES})['"]|\\b(SimpleCell|LstmCell|LipschitzCell|IcrnnCell|IclstmCell)\\b`,
);
const stripComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"])\/\/.*$/gm, '$1');

function linesMatching(rels: string[], re: RegExp): string[] {
  const problems: string[] = [];
  for (const rel of rels)
    stripComments(readFileSync(join(SRC, rel), 'utf8'))
      .split('\n')
      .forEach((line, i) => {
        if (re.test(line)) problems.push(`src/${rel}:${i + 1}: ${line.trim()}`);
      });
  return problems;
}

test('the model builders, model files and Keras mapping name no family, the CLI commands branch on none (the kind table and registries do)', () => {
  // families and kinds are declared in graph/cells + graph/registry.ts, nn/model-kinds.ts (kind ->
  // family, convexity, constraints, initialisers, head, forms, recognition) and nn/cell-registry.ts
  // (hand-written cell per family); the code below reads those tables
  const strict = ['nn/models.ts', 'nn/model.ts', 'io/keras-layers.ts', 'io/model-format.ts', 'io/keras.ts'];
  // a command may choose a kind (the demo trains an ICLRNN; the study's and sweep's default lists),
  // but what a kind is and what applies to it comes from the table
  const commands = readdirSync(join(SRC, 'cli/commands')).filter((n) => n.endsWith('.ts')).map((n) => `cli/commands/${n}`);
  assert.ok(commands.length >= 5, `${commands.length} command files checked`);
  assert.deepEqual([...linesMatching(strict, NAMES_A_FAMILY), ...linesMatching(commands, BRANCHES_ON_A_FAMILY)], []);
});

test('the family checks catch a name, a comparison, a case label and a hand cell class', () => {
  assert.ok(NAMES_A_FAMILY.test(`cells.push({ type: 'lstm', inputSize });`));
  assert.ok(NAMES_A_FAMILY.test(`if (c instanceof IcrnnCell) return;`));
  assert.ok(!NAMES_A_FAMILY.test(`const kind = info.cellType; // 'lstm'`.replace(/\/\/.*$/, '')));
  for (const line of [`if (kind !== 'iclrnn')`, `'iclstm' === kind`, `case 'gru':`, `x instanceof LstmCell`, `kind == "rnn"`]) assert.ok(BRANCHES_ON_A_FAMILY.test(line), line);
  for (const line of [`kind: 'iclrnn',`, `const DEFAULTS = ['iclrnn', 'rnn'];`, `if (kinds.includes(kind))`]) assert.ok(!BRANCHES_ON_A_FAMILY.test(line), line);
});

/**
 * The only code outside the cell files and the registries that still branches on a cell family,
 * each with the reason it may: hand-fused fast paths a benchmark shows matter, each tested equal to
 * the generic interpreter. A new file that branches on a family fails this test; so does a file on
 * the list that no longer does (remove it from the list).
 */
const FAMILY_BRANCHES_ALLOWED: Record<string, string> = {
  'control/tangent-engine.ts':
    'fast path: the hand-fused JS forward mode of the MPC, 3-4.5x faster than ProgramTangentEngine (2x64, 5 lanes, 10 steps: RNN 293 vs 924 us, LSTM 1109 vs 4073 us), equal to it in test/interp/forward-mpc.test.ts',
  'train/wasm-stages.ts':
    'fast path: the wasm training stages of the simple cell, LSTM, GRU and ICRNN (the families nn/cell-registry.ts lists for wasm training), 3-10x faster than the JS cells (bench foundation and families; 2x64 CSTR epochs LSTM 0.53 vs 1.8 s, GRU 0.56 vs 2.6 s), gradients equal to the JS cells in test/train/wasm-trainer.test.ts',
};

test('outside the cell files and registries, only the listed fast paths branch on a cell family', () => {
  const declarations = (rel: string) =>
    rel.startsWith('graph/cells/') || rel === 'graph/registry.ts' || /^nn\/[a-z]+-cell\.ts$/.test(rel) || rel === 'nn/cell-registry.ts' || rel === 'nn/model-kinds.ts' || rel.startsWith('api/');
  const rels = files.map((f) => relative(SRC, f)).filter((rel) => !declarations(rel));
  assert.ok(rels.length > 100, `${rels.length} files checked`);
  const branching = [...new Set(linesMatching(rels, BRANCHES_ON_A_FAMILY).map((l) => l.slice(4, l.indexOf(':'))))].sort();
  assert.deepEqual(branching, Object.keys(FAMILY_BRANCHES_ALLOWED).sort(), `files branching on a family: ${branching.join(', ')}`);
});

test('a source file over about 550 lines says in its header why it is one file (Size: ...)', () => {
  const long: string[] = [];
  for (const f of [...files, ...readdirSync(join(SRC, 'wasm')).map((n) => join(SRC, 'wasm', n))]) {
    const text = readFileSync(f, 'utf8');
    if (relative(SRC, f) === 'core/wasm-binaries.ts' || text.split('\n').length <= 550) continue;
    const header = text.slice(0, 6000);
    if (!/Size \(about \d+ lines\)/.test(header)) long.push(`src/${relative(SRC, f)} (${text.split('\n').length} lines)`);
  }
  assert.deepEqual(long, []);
});
