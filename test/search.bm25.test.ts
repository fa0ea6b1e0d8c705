import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../src/errors.js';
import { evaluate, readQrels } from '../src/eval/index.js';
import { analyze, Bm25Index, buildBm25Index } from '../src/retrieval/bm25/index.js';
import { lowerCaseLikeJava, tokenize, tokenizeWithSegmenter } from '../src/retrieval/bm25/analyzer.js';
import { porterStem } from '../src/retrieval/bm25/porter-stemmer.js';
import { formatFixed } from '../src/eval/measure-spec.js';
import { byte4ToInt, intToByte4 } from '../src/retrieval/bm25/small-float.js';
import { readQueries } from '../src/formats/index.js';

// The repository root is the nearest folder with package.json (this file also runs compiled, from dist/test).
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const shared = resolve(repoRoot(), '../shared');
const scifact = join(shared, 'datasets/scifact');
const tmp = mkdtempSync(join(tmpdir(), 'densekit-bm25-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('SmallFloat norms: exact below 24, monotone, never over the true length, 4 significant bits above', () => {
  for (let i = 0; i < 24; i++) assert.equal(byte4ToInt(intToByte4(i)), i);
  let prev = -1;
  for (let i = 0; i < 100_000; i++) {
    const b = intToByte4(i);
    assert.ok(b >= prev && b <= 255, `byte of ${i}`);
    prev = b;
    const d = byte4ToInt(b);
    assert.ok(d <= i && d >= i - i / 8 - 1, `decode(${i}) = ${d}`);
    assert.equal(intToByte4(d), b, 'decoded values are fixed points');
  }
  assert.equal(intToByte4(0x7fffffff), 255);
});

test('the ASCII fast path tokenizes exactly as Intl.Segmenter (UAX #29)', () => {
  const cases = [
    "e.g. U.S.A. isn't 1,000.5 3.14 a:b x_y __ _a 1;2 1'2 a'b' 'quoted' C++ foo-bar (x) 10% $5 a.1 1.a",
    'Protein p53\'s role; IL-6/STAT3 pathway: 2.5-fold (P<0.001) vs. 12,345 cells', 'naïve café αβ-γ δ CD4+ T cells — 5 µm ±2',
    'tab\tsep\nnew\rline  spaces', '日本語のテキスト', 'emoji 👍🏽 done', 'a\u00a0b', 'x\u200by', '',
  ];
  for (const c of cases) assert.deepEqual(tokenize(c), tokenizeWithSegmenter(c), c);
  const lines = readFileSync(join(scifact, 'corpus.jsonl'), 'utf8').split('\n').slice(0, 400).filter(Boolean);
  for (const l of lines) {
    const o = JSON.parse(l) as { title: string; text: string };
    const text = `${o.title} ${o.text}`;
    assert.deepEqual(tokenize(text), tokenizeWithSegmenter(text));
  }
});

test('analysis: possessive, lowercase, Lucene English stop words, Porter stemming', () => {
  assert.deepEqual(analyze("The Cat's cats are running into THE generalizations of it"), ['cat', 'cat', 'run', 'gener']);
  // Porter (1980) examples plus the reference C version's -bli/-logi departures that Lucene shares.
  assert.deepEqual(analyze('caresses ponies relational conditional hopeful possibly archaeology'), ['caress', 'poni', 'relat', 'condit', 'hope', 'possibl', 'archaeolog']);
});

test('Porter stemming is Lucene\'s PorterStemmer: "eed" rule, short words, the examples in its comments', () => {
  // A word ending in "eed" whose stem has measure 0 is kept (Lucene); the npm `stemmer` made "eed" -> "e".
  // "eed" is the one SciFact token where the two disagreed.
  for (const [word, stem] of [['eed', 'eed'], ['feed', 'feed'], ['agreed', 'agre'], ['disabled', 'disabl'], ['matting', 'mat'],
    ['mating', 'mate'], ['meeting', 'meet'], ['milling', 'mill'], ['messing', 'mess'], ['meetings', 'meet'], ['ties', 'ti'],
    ['generalizations', 'gener'], ['oscillators', 'oscil'], ['by', 'by'], ['sky', 'sky'], ['happy', 'happi']]) {
    assert.equal(porterStem(word), stem, word);
  }
});

test('lower-casing is Java\'s per code point (Lucene LowerCaseFilter), not JS\'s context-sensitive one', () => {
  assert.equal(lowerCaseLikeJava('ΣΑΣ'), 'σασ'); // JS toLowerCase gives a final sigma: "σας"
  assert.equal(lowerCaseLikeJava('İstanbul'), 'istanbul'); // JS gives "i̇stanbul" (i + combining dot)
  assert.equal(lowerCaseLikeJava('MiXeD'), 'mixed');
});

test('BM25 on SciFact reproduces Anserini flat (nDCG@10 0.6789)', async () => {
  const dir = join(tmp, 'scifact');
  const meta = await buildBm25Index(join(scifact, 'corpus.jsonl'), dir);
  assert.equal(meta.count, 5183);
  const index = Bm25Index.open(dir);
  const qrels = await readQrels(join(scifact, 'qrels.test.trec'));
  const queries = (await readQueries(join(scifact, 'queries.jsonl'))).filter((q) => qrels.has(q.id));
  assert.equal(queries.length, 300);
  const hits = index.search(queries.map((q) => q.text), 1000);
  const run = new Map(queries.map((q, i) => [q.id, hits[i]!]));
  const ev = evaluate(qrels, { runId: 'bm25', queries: run }, { measures: ['ndcg_cut.10', 'recall.100'] });
  const ndcg = ev.aggregate['ndcg_cut_10'] as number;
  const recall = ev.aggregate['recall_100'] as number;
  // Anserini's BEIR regression (bm25-flat, scifact): nDCG@10 0.6789, R@100 0.9253, to the four decimals
  // trec_eval prints: any change to k1, b, idf, length encoding or analysis shows here.
  assert.equal(formatFixed(ndcg, 4), '0.6789', `nDCG@10 ${ndcg}`);
  assert.equal(formatFixed(recall, 4), '0.9253', `R@100 ${recall}`);
  for (const list of hits) for (let i = 1; i < list.length; i++) assert.ok(list[i - 1]!.score >= list[i]!.score);

  // Reopening gives identical results; k1/b can change at query time.
  const again = Bm25Index.open(dir).search([queries[0]!.text], 10)[0];
  assert.deepEqual(again, hits[0]!.slice(0, 10));
  index.setParams({ k1: 1.2, b: 0.75 });
  assert.notDeepEqual(index.search([queries[0]!.text], 10)[0], again);

  // A truncated postings file is one clear error.
  const postings = join(dir, 'postings.bin');
  truncateSync(postings, statSync(postings).size - 3);
  assert.throws(() => Bm25Index.open(dir), (e: unknown) => e instanceof InputError && /truncated or corrupt/.test(e.message));
});

test('BM25 ties rank by document id descending, and scores follow the Lucene formula', async () => {
  const corpus = join(tmp, 'ties.jsonl');
  writeFileSync(corpus, ['a', 'c', 'b', 'd'].map((id) => JSON.stringify({ _id: id, title: '', text: id === 'd' ? 'zebra zebra lion' : 'zebra lion' })).join('\n') + '\n');
  const dir = join(tmp, 'ties');
  await buildBm25Index(corpus, dir);
  const [hits] = Bm25Index.open(dir).search(['zebra'], 3);
  assert.deepEqual(hits!.map((h) => h.id), ['d', 'c', 'b']);
  // N = 4, df = 4, avgdl = 9/4; doc "c": tf 1, dl 2 -> idf * 1 / (1 + 0.9 * (0.6 + 0.4 * 2 / 2.25)).
  const idf = Math.log(1 + (4 - 4 + 0.5) / (4 + 0.5));
  assert.ok(Math.abs(hits![1]!.score - idf / (1 + 0.9 * (0.6 + (0.4 * 2) / 2.25))) < 1e-6);
});

test('bad corpora: missing _id, duplicate ids, invalid JSON name the line; nothing half-written', async () => {
  const cases: Array<[string, RegExp]> = [
    ['{"_id":"1","text":"x"}\n{"text":"y"}\n', /bad\.jsonl:2: missing field "_id"/],
    ['{"_id":"1","text":"x"}\n{"_id":"1","text":"y"}\n', /bad\.jsonl:2: duplicate id "1" \(first at line 1\)/],
    ['{"_id":"1","text":"x"}\n{"_id":"2", text}\n', /bad\.jsonl:2: not valid JSON/],
    ['{"_id":"1"}\n', /bad\.jsonl:1: missing field "text"/],
  ];
  for (const [content, re] of cases) {
    const path = join(tmp, 'bad.jsonl');
    writeFileSync(path, content);
    const out = join(tmp, 'bad-index');
    await assert.rejects(buildBm25Index(path, out), (e: unknown) => e instanceof InputError && re.test(e.message));
    assert.ok(!existsSync(join(out, 'index.json')));
  }
});
