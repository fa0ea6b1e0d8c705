/** Behaviour of the public tokenizer API beyond the oracles: pairs, truncation, padding, preprocessing, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir } from './helpers.js';
import { loadTokenizer, loadTokenizerAs, padBatch, prepareText } from '../src/text/index.js';
import { DensekitError } from '../src/errors.js';

const bertDir = join(fixturesDir, 'tokenizers', 'bert-base-uncased');
const t5Dir = join(fixturesDir, 'tokenizers', 'legal-t5-32k');

test('BERT pairs: [CLS] a [SEP] b [SEP] with type ids 0/1, both loaders', () => {
  for (const format of ['vocab.txt', 'tokenizer.json'] as const) {
    const tok = loadTokenizerAs(bertDir, format);
    const a = tok.encode('what is dense retrieval', { addSpecialTokens: false });
    const b = tok.encode('vectors for queries and documents', { addSpecialTokens: false });
    const p = tok.encode('what is dense retrieval', { pair: 'vectors for queries and documents' });
    const cls = tok.tokenToId('[CLS]')!;
    const sep = tok.tokenToId('[SEP]')!;
    assert.deepEqual(p.ids, [cls, ...a.ids, sep, ...b.ids, sep]);
    assert.deepEqual(p.typeIds, [...Array(a.ids.length + 2).fill(0), ...Array(b.ids.length + 1).fill(1)]);
    assert.equal(p.truncated, false);
  }
});

test('pair truncation is longest-first and keeps every special token', () => {
  for (const format of ['vocab.txt', 'tokenizer.json'] as const) {
    const tok = loadTokenizerAs(bertDir, format);
    const long = 'one two three four five six seven eight nine ten eleven twelve';
    const p = tok.encode(long, { pair: 'short text', maxLength: 10 });
    assert.equal(p.ids.length, 10);
    assert.equal(p.truncated, true);
    assert.equal(p.fullLength, 1 + 12 + 1 + 2 + 1);
    assert.deepEqual(p.tokens.slice(-4), ['[SEP]', 'short', 'text', '[SEP]']);
    assert.equal(p.tokens[0], '[CLS]');
  }
});

test('equal-length pairs: slow gives the odd token to the first text, tokenizers (its own test table: 4+4 -> 3,4) to the second', () => {
  const a = 'one two three four five';
  const b = 'six seven eight nine ten';
  const count = (tokens: string[], from: number, to: number): number => tokens.slice(from, to).length;
  const slow = loadTokenizerAs(bertDir, 'vocab.txt').encode(a, { pair: b, maxLength: 10 });
  const fast = loadTokenizerAs(bertDir, 'tokenizer.json').encode(a, { pair: b, maxLength: 10 });
  const firstLen = (t: string[]): number => count(t, 1, t.indexOf('[SEP]'));
  assert.equal(firstLen(slow.tokens), 4);
  assert.equal(firstLen(fast.tokens), 3);
  assert.equal(slow.ids.length, 10);
  assert.equal(fast.ids.length, 10);
});

test('single truncation keeps </s> and [SEP] and reports the untruncated length', () => {
  const t5 = loadTokenizerAs(t5Dir, 'spiece.model');
  const full = t5.encode('Dense retrieval maps queries and documents into a shared vector space');
  const cut = t5.encode('Dense retrieval maps queries and documents into a shared vector space', { maxLength: 5 });
  assert.deepEqual(cut.ids, [...full.ids.slice(0, 4), 1]);
  assert.equal(cut.truncated, true);
  assert.equal(cut.fullLength, full.ids.length);
  const short = t5.encode('a', { maxLength: 5 });
  assert.equal(short.truncated, false);
  assert.equal(short.typeIds, undefined);
  assert.throws(() => t5.encode('abc', { maxLength: 0 }), RangeError);
});

test('padBatch right-pads ids with padId, builds the mask and the type ids', () => {
  const tok = loadTokenizer(bertDir);
  const encs = tok.encodeBatch(['a b c', 'a']);
  const p = padBatch(encs, tok.padId);
  assert.equal(p.batch, 2);
  assert.equal(p.length, encs[0]!.ids.length);
  assert.ok(p.inputIds instanceof Int32Array);
  assert.deepEqual([...p.inputIds.subarray(p.length, p.length + encs[1]!.ids.length)], encs[1]!.ids);
  assert.deepEqual([...p.inputIds.subarray(p.length + encs[1]!.ids.length, 2 * p.length)], Array(p.length - encs[1]!.ids.length).fill(tok.padId));
  assert.deepEqual([...p.attentionMask], [...Array(p.length).fill(1), ...Array(encs[1]!.ids.length).fill(1), ...Array(p.length - encs[1]!.ids.length).fill(0)]);
  assert.ok(p.typeIds);
  const t5 = loadTokenizer(t5Dir);
  const q = padBatch(t5.encodeBatch(['x y', 'x']), t5.padId);
  assert.equal(q.typeIds, undefined);
  assert.equal(q.inputIds[q.length * 2 - 1], 0);
});

test('prepareText strips Python whitespace and lowercases like str.lower()', () => {
  assert.equal(prepareText('\u3000 Hi There\u2029\n', { strip: true, lowercase: false }), 'Hi There');
  assert.equal(prepareText('ΟΔΟΣ İ', { strip: true, lowercase: true }), 'οδος i̇');
  assert.equal(prepareText(' keep ', { strip: false, lowercase: false }), ' keep ');
  // U+200B is not whitespace for Python either.
  assert.equal(prepareText('\u200bx', { strip: true, lowercase: false }), '\u200bx');
});

test('bad folders and files give one-line input errors', () => {
  const empty = mkdtempSync(join(tmpdir(), 'densekit-tok-'));
  assert.throws(() => loadTokenizer(empty), (e: unknown) => e instanceof DensekitError && /no tokenizer files/.test(e.message));
  assert.throws(() => loadTokenizer(join(empty, 'missing')), (e: unknown) => e instanceof DensekitError && /no such folder/.test(e.message));
  const broken = mkdtempSync(join(tmpdir(), 'densekit-tok-'));
  writeFileSync(join(broken, 'tokenizer.json'), '{"model": ');
  assert.throws(() => loadTokenizer(broken), (e: unknown) => e instanceof DensekitError && /tokenizer.json: not valid JSON/.test(e.message));
  const badSpm = mkdtempSync(join(tmpdir(), 'densekit-tok-'));
  writeFileSync(join(badSpm, 'spiece.model'), Buffer.from([0x0a, 0xff, 0xff]));
  assert.throws(() => loadTokenizer(badSpm), (e: unknown) => e instanceof DensekitError && /spiece.model: not a usable SentencePiece model/.test(e.message));
});

test('a cased vocab.txt folder follows tokenizer_config.json (no lowercasing, accents kept)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'densekit-tok-'));
  copyFileSync(join(bertDir, 'vocab.txt'), join(dir, 'vocab.txt'));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));
  const tok = loadTokenizer(dir);
  const e = tok.encode('Hello Café');
  // bert-base-uncased has no capitalised entries: capitalised words cannot match whole.
  assert.notDeepEqual(e.ids, loadTokenizerAs(bertDir, 'vocab.txt').encode('Hello Café').ids);
  assert.ok(e.tokens.every((t) => t === '[CLS]' || t === '[SEP]' || t === '[UNK]' || t.toLowerCase() === t || /[A-Z]/.test(t)));
});
