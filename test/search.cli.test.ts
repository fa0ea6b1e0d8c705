import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { writeManifest, writeShard } from '../src/formats/index.js';
import { FlatIndex } from '../src/retrieval/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'densekit-search-cli-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/**
 * Runs the CLI in-process, capturing stderr (errors). stdout is left alone: the test runner reports through
 * it, so the verbs' one-line summaries show up as diagnostics instead of being asserted here.
 */
async function cli(...argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const e = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), err };
  } finally {
    process.stderr.write = e;
  }
}

function rows(n: number, dim: number, seed: number): Float32Array {
  let a = seed;
  const v = new Float32Array(n * dim);
  for (let i = 0; i < v.length; i++) {
    a = (a * 16807) % 2147483647;
    v[i] = a / 2147483647 - 0.5;
  }
  return v;
}

function encodeDir(name: string, ids: string[], v: Float32Array, dim: number, kind: 'query' | 'passage'): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const shard = writeShard(dir, 0, ids, v, dim);
  writeManifest(dir, {
    format: 'densekit-embeddings', version: 1, model: 'test', kind, dim, dtype: 'float32', similarity: 'dot', input: 'test',
    total: ids.length, shardSize: ids.length, shards: [shard], truncated: { count: 0, maxLength: 0 }, complete: true,
  });
  return dir;
}

const dim = 16;
const docIds = Array.from({ length: 300 }, (_, i) => `${i}`);
const docs = rows(300, dim, 7);
const qIds = ['q1', 'q2', '17'];
const qv = rows(3, dim, 11);
qv.set(docs.subarray(17 * dim, 18 * dim), 2 * dim); // query "17" is document "17"
const enc = encodeDir('docs', docIds, docs, dim, 'passage');
const qenc = encodeDir('queries', qIds, qv, dim, 'query');
const queriesFile = join(tmp, 'queries.jsonl');
writeFileSync(queriesFile, qIds.map((id) => JSON.stringify({ _id: id, text: `about topic ${id} zebra` })).join('\n') + '\n');

test('index flat -> search -> TREC and MS MARCO runs', async () => {
  const idx = join(tmp, 'flat');
  let r = await cli('index', '--type', 'flat', '--input', enc, '--output', idx);
  assert.equal(r.code, 0, r.err);
  const run = join(tmp, 'run.trec');
  r = await cli('search', '--index', idx, '--query-embeddings', qenc, '--queries', queriesFile, '--k', '5', '--output', run);
  assert.equal(r.code, 0, r.err);
  const lines = readFileSync(run, 'utf8').trim().split('\n');
  assert.equal(lines.length, 15);
  const expected = (await FlatIndex.open(idx)).search(qv, 5);
  lines.forEach((line, i) => {
    const h = expected[Math.floor(i / 5)]![i % 5]!;
    assert.equal(line, `${qIds[Math.floor(i / 5)]} Q0 ${h.id} ${(i % 5) + 1} ${h.score} densekit-flat`);
  });
  assert.ok(lines.some((l) => l.startsWith('17 Q0 17 1 ')));

  const noSelf = join(tmp, 'run-noself.tsv');
  r = await cli('search', '--index', idx, '--query-embeddings', qenc, '--k', '5', '--output', noSelf, '--format', 'msmarco', '--ignore-identical-ids');
  assert.equal(r.code, 0, r.err);
  const ms = readFileSync(noSelf, 'utf8').trim().split('\n').map((l) => l.split('\t'));
  assert.equal(ms.length, 15);
  assert.ok(ms.every((f) => f.length === 3 && !(f[0] === '17' && f[1] === '17')));
});

test('hnsw with --check-recall, bm25, and fusion of the two runs', async () => {
  let r = await cli('index', '--type', 'hnsw', '--input', enc, '--output', join(tmp, 'hnsw'), '--check-recall', '100', '--ef-search', '64');
  assert.equal(r.code, 0, r.err);

  const corpus = join(tmp, 'corpus.jsonl');
  writeFileSync(corpus, docIds.map((id) => JSON.stringify({ _id: id, title: `Doc ${id}`, text: Number(id) % 3 ? 'zebra topic' : 'lion' })).join('\n') + '\n');
  r = await cli('index', '--type', 'bm25', '--input', corpus, '--output', join(tmp, 'bm25'));
  assert.equal(r.code, 0, r.err);
  const bm25Run = join(tmp, 'bm25.trec');
  r = await cli('search', '--index', join(tmp, 'bm25'), '--queries', queriesFile, '--k', '10', '--output', bm25Run);
  assert.equal(r.code, 0, r.err);
  const denseRun = join(tmp, 'dense.trec');
  r = await cli('search', '--index', join(tmp, 'hnsw'), '--query-embeddings', qenc, '--queries', queriesFile, '--k', '10', '--output', denseRun);
  assert.equal(r.code, 0, r.err);
  const fused = join(tmp, 'fused.trec');
  r = await cli('fuse', '--run', denseRun, '--run', bm25Run, '--method', 'rrf', '--output', fused, '--k', '10');
  assert.equal(r.code, 0, r.err);
  const lines = readFileSync(fused, 'utf8').trim().split('\n');
  assert.equal(lines.length, 30);
  assert.match(lines[0]!, /^q1 Q0 \S+ 1 \S+ rrf_k=60$/);
  r = await cli('fuse', '--run', denseRun, '--run', bm25Run, '--method', 'linear', '--weights', '1,0.1', '--output', join(tmp, 'lin.trec'));
  assert.equal(r.code, 0, r.err);
});

test('bad input: one clear error, non-zero exit, no run written', async () => {
  const idx = join(tmp, 'flat');
  const out = join(tmp, 'never.trec');
  const otherDim = encodeDir('queries-8d', ['q1'], rows(1, 8, 3), 8, 'query');
  let r = await cli('search', '--index', idx, '--query-embeddings', otherDim, '--k', '5', '--output', out);
  assert.equal(r.code, 1);
  assert.match(r.err, /^densekit: error: the index has dimension 16 but the query vectors have dimension 8/);
  assert.equal(r.err.trim().split('\n').length, 1);

  const badQueries = join(tmp, 'bad-queries.jsonl');
  writeFileSync(badQueries, '{"_id":"q1","text":"x"}\n{"_id":"q2"}\n');
  r = await cli('search', '--index', join(tmp, 'bm25'), '--queries', badQueries, '--k', '5', '--output', out);
  assert.equal(r.code, 1);
  assert.match(r.err, /bad-queries\.jsonl:2: missing (field )?"text"/);
  writeFileSync(badQueries, '{"text":"x"}\n');
  r = await cli('search', '--index', join(tmp, 'bm25'), '--queries', badQueries, '--k', '5', '--output', out);
  assert.match(r.err, /bad-queries\.jsonl:1: (missing )?(field )?"_id"/);

  r = await cli('search', '--index', join(tmp, 'bm25'), '--queries', queriesFile, '--k', '0', '--output', out);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /^densekit: error: .*--k expects an integer from 1 to 100000, got "0"/);

  r = await cli('search', '--index', idx, '--queries', queriesFile, '--k', '5', '--output', out);
  assert.equal(r.code, 1);
  assert.match(r.err, /dense index: give --model or --query-embeddings/);

  r = await cli('search', '--index', join(tmp, 'no-such-index'), '--queries', queriesFile, '--k', '5', '--output', out);
  assert.equal(r.code, 1);
  assert.match(r.err, /not a densekit index folder/);
  assert.ok(!existsSync(out));
});
