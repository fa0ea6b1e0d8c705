/** `densekit tokenize` end to end: model preprocessing, JSONL input, and one-line errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir, readJson } from './helpers.js';
import { runCli } from './cli.js';
import { SentenceEncoder } from '../src/models/index.js';
import { scope } from '../src/tensor/index.js';

const gtr = join(fixturesDir, 'models', 'gtr-t5-tiny-relu');
const bertTok = join(fixturesDir, 'tokenizers', 'bert-base-uncased');
const tasb = join(fixturesDir, 'models', 'tasb-distilbert-tiny');

test('tokenize --input on a model folder reproduces the fixture text_cases in order', () => {
  const oracle = readJson<{ text_cases: { text: string; input_ids: number[] }[] }>(join(gtr, 'oracle.json'));
  const dir = mkdtempSync(join(tmpdir(), 'densekit-tokcli-'));
  const input = join(dir, 'queries.jsonl');
  writeFileSync(input, oracle.text_cases.map((c, i) => JSON.stringify({ _id: String(i), text: c.text })).join('\n') + '\n');
  const r = runCli(['tokenize', '--model', gtr, '--input', input, '--kind', 'query']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; ids: number[]; tokens: string[] });
  assert.equal(lines.length, oracle.text_cases.length);
  lines.forEach((l, i) => {
    assert.equal(l.id, String(i));
    assert.deepEqual(l.ids, oracle.text_cases[i]!.input_ids);
    assert.equal(l.tokens.length, l.ids.length);
  });
});

test('tokenize prints exactly the ids the encoder batches: corpus lines with titles, both kinds, prompts and limits per kind', () => {
  // A copy of the TAS-B fixture with prompts per kind (sentence-transformers' encode_query / encode_document
  // names), so that the two kinds differ in what the model sees.
  const model = join(mkdtempSync(join(tmpdir(), 'densekit-tokmodel-')), 'tasb-prompts');
  cpSync(tasb, model, { recursive: true });
  writeFileSync(join(model, 'config_sentence_transformers.json'), JSON.stringify({ prompts: { query: 'query: ', document: 'passage: ' }, default_prompt_name: null }));
  const dir = mkdtempSync(join(tmpdir(), 'densekit-tokcli-'));
  const corpus = join(dir, 'corpus.jsonl');
  const long = 'dense retrieval maps queries and documents into one vector space '.repeat(8);
  const records = [
    { _id: 'd1', title: 'Tides', text: "The Moon's gravity pulls the oceans." },
    { _id: 'd2', title: '', text: '  Untitled passage with spaces  ' },
    { _id: 'd3', title: 'A long one', text: long },
    { _id: 'd4', text: 'No title field at all' },
  ];
  writeFileSync(corpus, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const limits = { query: 12, passage: 40 };
  const encoder = SentenceEncoder.load(model, { queryMaxLength: limits.query, passageMaxLength: limits.passage });
  try {
    const docs = records.map((r) => ({ title: r.title ?? '', text: r.text }));
    const seen: Record<string, number[][]> = {};
    for (const kind of ['query', 'passage'] as const) {
      const r = runCli(['tokenize', '--model', model, '--input', corpus, '--kind', kind, '--max-length', String(limits[kind])]);
      assert.equal(r.code, 0, r.stderr);
      const printed = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; ids: number[] });
      assert.deepEqual(printed.map((l) => l.id), records.map((d) => d._id));
      const batched = scope(() => {
        const b = encoder.tokenize(docs, kind);
        const [rows, width] = b.inputIds.shape as [number, number];
        const ids = b.inputIds.toArray();
        const mask = b.attentionMask.toArray();
        return Array.from({ length: rows }, (_, i) => ids.slice(i * width, (i + 1) * width).filter((_, j) => mask[i * width + j] === 1));
      });
      assert.deepEqual(printed.map((l) => l.ids), batched, kind);
      seen[kind] = batched;
      // The title is in: d1 begins (after [CLS] and the prompt) with the tokens of its title.
      const prompt = encoder.tokenizer.encode(kind === 'query' ? 'query:' : 'passage:', { addSpecialTokens: false }).ids;
      const title = encoder.tokenizer.encode('tides', { addSpecialTokens: false }).ids;
      assert.deepEqual(batched[0]!.slice(1, 1 + prompt.length + title.length), [...prompt, ...title], `${kind}: prompt then title`);
      assert.equal(batched[2]!.length, limits[kind], `${kind}: the long passage is cut to its kind's limit`);
    }
    assert.notDeepEqual(seen.query![0], seen.passage![0]);
  } finally {
    encoder.dispose();
  }
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
  writeFileSync(bad, '{"_id":"a","text":"fine"}\n{"_id":"b","text": 3}\n');
  let r = runCli(['tokenize', '--model', bertTok, '--input', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^densekit: error: .*bad\.jsonl:2: field "text" must be a string/m);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  writeFileSync(bad, Buffer.concat([Buffer.from('{"_id":"a","text":"ok"}\n{"_id":"b","text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
  r = runCli(['tokenize', '--model', bertTok, '--input', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.jsonl:2: not valid UTF-8/);
  r = runCli(['tokenize', '--model', dir, '--text', 'x']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no tokenizer files/);
});
