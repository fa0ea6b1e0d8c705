/**
 * Issue 16: `densekit --help` and a one-line `densekit eval` took ~0.4 s because src/cli/main.ts imported every
 * verb (fastify, pg, usearch and the model code with them). Each verb now imports only its own module; these
 * tests watch what a child process actually loads, through a --require hook that records native addons
 * (process.dlopen) and CommonJS packages (require.cache, which also holds CJS packages that ESM imports).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli.js';
import { VERB_SUMMARIES } from '../src/cli/verbs.js';

const dir = mkdtempSync(join(tmpdir(), 'densekit-lazy-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const hook = join(dir, 'hook.cjs');
writeFileSync(hook, `
const Module = require('node:module');
const fs = require('node:fs');
const dlopen = process.dlopen;
const addons = [];
process.dlopen = function (module, file, ...rest) { addons.push(file); return dlopen.call(this, module, file, ...rest); };
process.on('exit', () => fs.writeFileSync(process.env.LAZY_REPORT, JSON.stringify({ addons, files: Object.keys(Module._cache) })));
`);

interface Loaded { addons: string[]; files: string[]; code: number; stdout: string; stderr: string }

let n = 0;
function loaded(args: string[], env: NodeJS.ProcessEnv = {}): Loaded {
  const report = join(dir, `report-${n++}.json`);
  const r = runCli(args, { env: { ...env, NODE_OPTIONS: `--require ${hook}`, LAZY_REPORT: report } });
  const { addons, files } = JSON.parse(readFileSync(report, 'utf8')) as { addons: string[]; files: string[] };
  return { addons, files, code: r.code, stdout: r.stdout, stderr: r.stderr };
}

const packages = (l: Loaded, name: string) => l.files.filter((f) => f.includes(`/node_modules/${name}/`));

test('the hook sees what a verb loads: serve --help loads fastify (so the checks below can fail)', () => {
  const l = loaded(['serve', '--help']);
  assert.equal(l.code, 0, l.stderr);
  assert.ok(packages(l, 'fastify').length > 0, 'fastify not seen in require.cache');
});

test('densekit --help loads no native addon and none of fastify, pg, usearch; it lists every verb', () => {
  for (const args of [['--help'], ['help'], []]) {
    const l = loaded(args);
    assert.deepEqual(l.addons, [], `${args.join(' ')}: loaded ${l.addons.join(', ')}`);
    for (const pkg of ['fastify', 'pg', 'usearch', 'onnxruntime-web', 'yaml', '@huggingface/hub']) {
      assert.deepEqual(packages(l, pkg), [], `${args.join(' ') || '(no verb)'} loaded ${pkg}`);
    }
    const help = l.stdout + l.stderr;
    for (const verb of Object.keys(VERB_SUMMARIES)) assert.match(help, new RegExp(`^  ${verb} `, 'm'), `${verb} missing from help`);
  }
});

test('densekit VERB --help works for every verb and shows that verb\'s own options', () => {
  for (const verb of Object.keys(VERB_SUMMARIES)) {
    const r = runCli([verb, '--help']);
    assert.equal(r.code, 0, `${verb}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: densekit ${verb} `), verb);
    assert.match(r.stdout, /^Options:\n/m, verb);
  }
  // `densekit help VERB` is commander's spelling of the same thing: it must load VERB, not print an empty stub.
  assert.match(runCli(['help', 'eval']).stdout, /-m, --measure|-m <measure>/);
});

test('eval --help and a one-line eval load no native addon or fastify, and run with DENSEKIT_ADDON missing', () => {
  writeFileSync(join(dir, 'qrels'), 'q1 0 d1 1\n');
  writeFileSync(join(dir, 'run'), 'q1 Q0 d1 1 1.0 t\n');
  const env = { DENSEKIT_ADDON: join(dir, 'no-such-addon.node') };
  for (const args of [['eval', '--help'], ['eval', '-m', 'P.5', join(dir, 'qrels'), join(dir, 'run')], ['fuse', '--help'], ['encode', '--help']]) {
    const l = loaded(args, env);
    assert.equal(l.code, 0, `${args.join(' ')}: ${l.stderr}`);
    assert.deepEqual(l.addons, [], `${args.join(' ')}: loaded ${l.addons.join(', ')}`);
    assert.deepEqual(packages(l, 'fastify'), [], `${args.join(' ')} loaded fastify`);
  }
  // One relevant document retrieved at rank 1 of 5 cut-off: P@5 = 1/5.
  const r = runCli(['eval', '-m', 'P.5', join(dir, 'qrels'), join(dir, 'run')], { env });
  assert.match(r.stdout, /^P_5\s+all\s+0\.2000$/m);
});

test('an unknown verb is still one line naming it', () => {
  const r = runCli(['encdoe']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^densekit: error: unknown command 'encdoe' \(Did you mean encode\?\)\n$/);
});
