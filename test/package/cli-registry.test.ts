// The CLI's explicit command registry and its error mapping (in-process, on the sources):
// every listed command is defined by the module its loader imports, with the same description, and
// no module defines a command the registry does not list; ValidationErrors (and the CLI's
// UsageError) are one line with exit 2, everything else an internal error with exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, CommanderError } from 'commander';
import { COMMANDS, findCommand } from '../../src/cli/commands/index.ts';
import { main, reportError } from '../../src/cli/main.ts';
import { UsageError } from '../../src/cli/util.ts';
import { DataError, ModelFileError, ValidationError } from '../../src/core/errors.ts';

test('every registry entry loads a module that defines that command with the listed description', async () => {
  const defined = new Map<string, string>();
  for (const entry of COMMANDS) {
    const program = new Command('iclrnn');
    (await entry.load())(program);
    const sub = program.commands.find((c) => c.name() === entry.name);
    assert.ok(sub, `loading '${entry.name}' does not define it`);
    assert.equal(sub.description(), entry.description, `description of '${entry.name}' differs between commands/index.ts and its module`);
    for (const c of program.commands) defined.set(c.name(), c.description());
  }
  assert.deepEqual([...defined.keys()].sort(), COMMANDS.map((c) => c.name).sort(), 'a module defines a command the registry does not list');
  assert.equal(new Set(COMMANDS.map((c) => c.name)).size, COMMANDS.length);
  assert.equal(findCommand('nope'), undefined);
});

function capture(): { write: (s: string) => void; text: () => string } {
  const parts: string[] = [];
  return { write: (s) => void parts.push(s), text: () => parts.join('') };
}

test('reportError: ValidationError and its subclasses (UsageError included) are one line with exit 2', () => {
  for (const e of [new ValidationError('bad value'), new DataError('x.csv: row 3: NaN', { file: 'x.csv', row: 3 }), new ModelFileError('m.json: bad'), new UsageError('--lr must be a number', { flag: '--lr' })]) {
    const out = capture();
    assert.equal(reportError(e, false, out.write), 2);
    assert.equal(out.text(), `iclrnn: ${e.message}\n`);
  }
  assert.ok(new UsageError('x', { flag: '--lr' }) instanceof ValidationError);
  assert.equal(new UsageError('x', { flag: '--lr' }).flag, '--lr');
  const debug = capture();
  assert.equal(reportError(new DataError('x.csv: bad'), true, debug.write), 2);
  assert.match(debug.text(), /^iclrnn: x\.csv: bad\n.*DataError: x\.csv: bad\n\s+at /s);
});

test('reportError: any other error is internal: exit 1, one line saying so and how to get the stack; --debug prints the stack', () => {
  for (const e of [new RangeError('propagate: zonotope noise symbols exhausted'), new Error('model copies disagree\non their parameters'), new TypeError('x is not a function'), 'a string']) {
    const out = capture();
    assert.equal(reportError(e, false, out.write), 1);
    const text = out.text();
    assert.equal(text.split('\n').length, 2, text);
    assert.match(text, /^iclrnn: internal error \(a bug, please report it\): .*; run again with --debug \(or ICLRNN_DEBUG=1\) for the stack trace\n$/);
  }
  const debug = capture();
  assert.equal(reportError(new RangeError('zonotope noise symbols exhausted'), true, debug.write), 1);
  assert.match(debug.text(), /^iclrnn: internal error: RangeError: zonotope noise symbols exhausted\n\s+at /);
});

test('reportError: the argument parser errors are exit 2, help and version exit 0', () => {
  const out = capture();
  assert.equal(reportError(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--nope'"), false, out.write), 2);
  assert.equal(out.text(), "iclrnn: unknown option '--nope'\n");
  assert.equal(reportError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), false, out.write), 0);
  assert.equal(reportError(new CommanderError(0, 'commander.version', '0.2.0'), false, out.write), 0);
});

test('main: --debug is accepted after the command, a UsageError is exit 2, an unknown command is exit 2', async () => {
  const err: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  (process.stderr as unknown as { write: (s: string) => boolean }).write = (s: string) => (err.push(String(s)), true);
  try {
    assert.equal(await main(['train', '--system', 'cstr', '--model', 'iclrnn', '--epochs', 'x', '--debug']), 2);
    assert.match(err.join(''), /^iclrnn: --[a-z-]+ [^\n]*\nUsageError: --[a-z-]+ [^\n]*\n\s+at /); // one line, then the stack (--debug)
    err.length = 0;
    assert.equal(await main(['frobnicate']), 2);
    assert.equal(err.join(''), "iclrnn: unknown command 'frobnicate'\n");
  } finally {
    process.stderr.write = original;
  }
});
