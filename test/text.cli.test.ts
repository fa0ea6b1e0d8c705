/** `densekit tokenize` end to end: model preprocessing, JSONL input, and one-line errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir, readJson } from './helpers.js';
import { runCli } from './cli.js';

const gtr = join(fixturesDir, 'models', 'gtr-t5-tiny-relu');
const bertTok = join(fixturesDir, 'tokenizers', 'bert-base-uncased');

test('tokenize --input on a model folder reproduces the fixture text_cases in order', () => {
  const oracle = readJson<{ text_cases: { text: string; input_ids: number[] }[] }>(join(gtr, 'oracle.json'));
  const dir = mkdtempSync(join(tmpdir(), 'densekit-tokcli-'));
  const input = join(dir, 'queries.jsonl');
  writeFileSync(input, oracle.text_cases.map((c, i) => JSON.stringify({ _id: String(i), title: 'ignored', text: c.text })).join('\n') + '\n');
  const r = runCli(['tokenize', '--model', gtr, '--input', input, '--kind', 'query']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ids: number[]; tokens: string[] });
  assert.equal(lines.length, oracle.text_cases.length);
  lines.forEach((l, i) => {
    assert.deepEqual(l.ids, oracle.text_cases[i]!.input_ids);
    assert.equal(l.tokens.length, l.ids.length);
  });
});

test('tokenize --text on a tokenizer-only folder neither strips nor truncates unless --max-length', () => {
  const text = '  Dense retrieval maps queries and documents into a shared vector space  ';
  const r = runCli(['tokenize', '--model', bertTok, '--text', text]);
  assert.equal(r.code, 0, r.stderr);
  const full = JSON.parse(r.stdout) as { ids: number[]; tokens: string[] };
  assert.equal(full.tokens[0], '[CLS]');
  const cut = JSON.parse(runCli(['tokenize', '--model', bertTok, '--text', text, '--max-length', '5']).stdout) as { ids: number[]; tokens: string[] };
  assert.deepEqual(cut.tokens, [...full.tokens.slice(0, 4), '[SEP]']);
});

test('tokenize reports bad input with file and line, and exits non-zero', () => {
  const dir = mkdtempSync(join(tmpdir(), 'densekit-tokcli-'));
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"text":"fine"}\n{"text": 3}\n');
  let r = runCli(['tokenize', '--model', bertTok, '--input', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^densekit: error: .*bad\.jsonl:2: field "text" must be a string/m);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  writeFileSync(bad, Buffer.concat([Buffer.from('{"text":"ok"}\n{"text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
  r = runCli(['tokenize', '--model', bertTok, '--input', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.jsonl:2: not valid UTF-8/);
  r = runCli(['tokenize', '--model', dir, '--text', 'x']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no tokenizer files/);
});
