/**
 * Exactness against the independent references in ../shared/fixtures: SentencePiece itself and the Hugging
 * Face slow tokenizers (oracle/*.json), the tokenizer.json-vs-slow differences, and the model fixtures'
 * end-to-end text -> input_ids cases (sentence-transformers preprocessing, truncation to 64).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixturesDir, readJson } from './helpers.js';
import { loadTokenizer, loadTokenizerAs, tokenizerFormat } from '../src/text/index.js';
import { ModelInput } from '../src/models/model-input.js';

const tokDir = join(fixturesDir, 'tokenizers');
const oracleDir = join(tokDir, 'oracle');

interface WordPieceCase { text: string; tokens: string[]; ids: number[]; ids_max_length_16: number[] }
interface SpmCase { text: string; spm_pieces: string[]; spm_ids: number[]; spm_ids_plus_eos: number[]; hf_slow_t5_ids: number[] }
interface Diff { text: string; js: number[]; slow: number[] }

const wordpiece = readJson<{ cases: WordPieceCase[] }>(join(oracleDir, 'wordpiece-bert-base-uncased.json')).cases;
const diffs = readJson<Record<string, { diffs: Diff[] }>>(join(oracleDir, 'tokenizer-json-vs-slow-diffs.json'));

/** The diff file cuts long texts to 60 characters and id lists to 30. */
function findDiff(list: Diff[], text: string): Diff | undefined {
  return list.find((d) => d.text === text || (d.text.length === 60 && text.startsWith(d.text)));
}

for (const format of ['vocab.txt', 'tokenizer.json'] as const) {
  test(`bert-base-uncased ${format}: every oracle string, full and truncated to 16`, () => {
    const tok = loadTokenizerAs(join(tokDir, 'bert-base-uncased'), format);
    assert.equal(tok.kind, 'wordpiece');
    for (const c of wordpiece) {
      const e = tok.encode(c.text);
      assert.deepEqual(e.ids, c.ids, `ids of ${JSON.stringify(c.text)}`);
      assert.deepEqual(e.tokens, c.tokens, `tokens of ${JSON.stringify(c.text)}`);
      assert.equal(e.fullLength, c.ids.length);
      const t = tok.encode(c.text, { maxLength: 16 });
      assert.deepEqual(t.ids, c.ids_max_length_16, `max 16 of ${JSON.stringify(c.text)}`);
      assert.equal(t.truncated, c.ids.length > 16);
      assert.equal(t.fullLength, c.ids.length);
    }
  });
}

test('bert tokenizer.json: the two listed JS-library differences follow the slow (and Rust) tokenizer', () => {
  const tok = loadTokenizerAs(join(tokDir, 'bert-base-uncased'), 'tokenizer.json');
  for (const d of diffs['bert-base-uncased']!.diffs) assert.deepEqual(tok.encode(d.text).ids, d.slow, JSON.stringify(d.text));
});

for (const name of ['legal-t5-32k', 't5-tiny-256']) {
  const cases = readJson<{ cases: SpmCase[] }>(join(oracleDir, `sentencepiece-${name}.json`)).cases;

  test(`${name} spiece.model: SentencePiece pieces and ids, and slow T5Tokenizer input_ids`, () => {
    const tok = loadTokenizerAs(join(tokDir, name), 'spiece.model');
    assert.equal(tok.kind, 'unigram');
    for (const c of cases) {
      const raw = tok.encode(c.text, { addSpecialTokens: false });
      // Special-token strings are split out by transformers, not by SentencePiece: compare raw spm only elsewhere.
      if (!/<\/s>|<pad>|<unk>|<extra_id_\d+>/.test(c.text)) {
        assert.deepEqual(raw.ids, c.spm_ids, `spm ids of ${JSON.stringify(c.text)}`);
        assert.deepEqual(raw.tokens, c.spm_pieces, `spm pieces of ${JSON.stringify(c.text)}`);
      }
      assert.deepEqual(tok.encode(c.text).ids, c.hf_slow_t5_ids, `T5Tokenizer ids of ${JSON.stringify(c.text)}`);
    }
  });
}

test('legal-t5-32k tokenizer.json: slow ids except where the format differs (listed diffs)', () => {
  const tok = loadTokenizerAs(join(tokDir, 'legal-t5-32k'), 'tokenizer.json');
  const list = diffs['legal-t5-32k']!.diffs;
  const cases = readJson<{ cases: SpmCase[] }>(join(oracleDir, 'sentencepiece-legal-t5-32k.json')).cases;
  for (const c of cases) {
    const d = findDiff(list, c.text);
    const ids = tok.encode(c.text).ids;
    if (d) assert.deepEqual(ids.slice(0, d.js.length), d.js, `tokenizer.json ids of ${JSON.stringify(c.text)}`);
    else assert.deepEqual(ids, c.hf_slow_t5_ids, `ids of ${JSON.stringify(c.text)}`);
  }
  for (const d of list) if (d.text.length < 60) assert.deepEqual(tok.encode(d.text).ids, d.js, `listed diff ${JSON.stringify(d.text)}`);
});

test('legal-t5-32k tokenizer.json with the Rust per-grapheme charsmap rule differs only on combining runs', () => {
  const rust = loadTokenizerAs(join(tokDir, 'legal-t5-32k'), 'tokenizer.json', { precompiledRule: 'tokenizers' });
  const spm = loadTokenizerAs(join(tokDir, 'legal-t5-32k'), 'tokenizer.json');
  for (const text of ['café', 'ＡＢＣ１２３', '①②③', 'x² + y³', 'K kelvin', 'line1\r\nline2']) assert.deepEqual(rust.encode(text).ids, spm.encode(text).ids, text);
});

for (const model of ['bert-tiny-mean', 'tasb-distilbert-tiny', 'gtr-t5-tiny-relu']) {
  test(`${model}: text_cases input_ids (strip, truncation to max_seq_length 64)`, () => {
    const dir = join(fixturesDir, 'models', model);
    const m = ModelInput.load(dir);
    assert.equal(m.modelFolder, true);
    assert.deepEqual(m.maxLength, { query: 64, passage: 64 });
    const oracle = readJson<{ text_cases: { text: string; input_ids: number[] }[] }>(join(dir, 'oracle.json'));
    for (const c of oracle.text_cases) {
      const [e] = m.encode([c.text], 'passage');
      assert.ok(e);
      assert.deepEqual(e.ids, c.input_ids, JSON.stringify(c.text));
      assert.equal(e.truncated, e.fullLength > 64);
    }
  });
}

test('loadTokenizer prefers tokenizer.json, then vocab.txt / spiece.model', () => {
  assert.equal(tokenizerFormat(join(tokDir, 'bert-base-uncased')), 'tokenizer.json');
  assert.equal(tokenizerFormat(join(tokDir, 't5-tiny-256')), 'spiece.model');
  assert.equal(tokenizerFormat(join(fixturesDir, 'models', 'bert-tiny-mean')), 'vocab.txt');
  const t5 = loadTokenizer(join(tokDir, 't5-tiny-256'));
  assert.equal(t5.padId, 0);
  assert.equal(t5.tokenToId('</s>'), 1);
  const bert = loadTokenizer(join(tokDir, 'bert-base-uncased'));
  assert.equal(bert.vocabSize, 30522);
  assert.equal(bert.padId, bert.tokenToId('[PAD]'));
  assert.equal(bert.idToToken(bert.tokenToId('[CLS]')!), '[CLS]');
});
