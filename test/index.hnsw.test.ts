import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, UsageError } from '../src/errors.js';
import { writeManifest, writeShard } from '../src/formats/index.js';
import { buildFlatIndex, buildHnswIndex, checkRecall, FlatIndex, HnswIndex, recallAtK } from '../src/retrieval/index.js';
import { seededRandom } from '../src/util/random.js';

const tmp = mkdtempSync(join(tmpdir(), 'densekit-hnsw-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const rng = seededRandom;

function unitRows(n: number, dim: number, seed: number): Float32Array {
  const r = rng(seed);
  const v = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let n2 = 0;
    for (let j = 0; j < dim; j++) n2 += (v[i * dim + j] = r() - 0.5) ** 2;
    for (let j = 0; j < dim; j++) v[i * dim + j] = v[i * dim + j]! / Math.sqrt(n2);
  }
  return v;
}

function encodeDir(name: string, ids: string[], v: Float32Array, dim: number): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const shard = writeShard(dir, 0, ids, v, dim);
  writeManifest(dir, {
    format: 'densekit-embeddings', version: 1, model: 'test', kind: 'passage', dim, dtype: 'float32', similarity: 'cosine', input: 'test',
    total: ids.length, shardSize: ids.length, shards: [shard], truncated: { count: 0, maxLength: 0 }, complete: true,
  });
  return dir;
}

const dim = 32;
const n = 4000;
const ids = Array.from({ length: n }, (_, i) => `d${i}`);
const vectors = unitRows(n, dim, 3);
const queries = unitRows(50, dim, 4);

test('HNSW: recall against flat rises with efSearch; scores are the exact ones; persists and reopens', async () => {
  const enc = encodeDir('enc', ids, vectors, dim);
  const meta = await buildHnswIndex(enc, join(tmp, 'hnsw'), { M: 16, efConstruction: 128, efSearch: 16 }, 2);
  assert.equal(meta.count, n);
  buildFlatIndex(enc, join(tmp, 'flat'));
  const flat = await FlatIndex.open(join(tmp, 'flat'));
  const exact = flat.search(queries, 10);
  const low = await HnswIndex.open(join(tmp, 'hnsw'));
  const high = await HnswIndex.open(join(tmp, 'hnsw'), { efSearch: 256 });
  const rLow = recallAtK(low.search(queries, 10), exact);
  const rHigh = recallAtK(high.search(queries, 10), exact);
  assert.ok(rHigh >= 0.98, `recall@10 at ef 256: ${rHigh}`);
  assert.ok(rHigh >= rLow, `ef 16 ${rLow} vs ef 256 ${rHigh}`);
  const hits = high.search(queries, 10);
  hits.forEach((list, qi) => {
    const truth = new Map(exact[qi]!.map((h) => [h.id, h.score]));
    for (const h of list) if (truth.has(h.id)) assert.equal(h.score, truth.get(h.id));
    for (let i = 1; i < list.length; i++) assert.ok(list[i - 1]!.score >= list[i]!.score);
  });
  const report = checkRecall(high, flat, flat.vectors, dim, 200, 10);
  assert.equal(report.sample, 200);
  assert.ok(report.recall >= 0.98);
  assert.throws(() => high.search(queries, 0), UsageError);
});

test('HNSW: incremental add is searchable, persisted, and rejects duplicate ids', async () => {
  const enc = encodeDir('enc-part', ids.slice(0, 3000), vectors.slice(0, 3000 * dim), dim);
  await buildHnswIndex(enc, join(tmp, 'grow'), { efSearch: 128 });
  const idx = await HnswIndex.open(join(tmp, 'grow'), { writable: true });
  await idx.add(ids.slice(3000), vectors.slice(3000 * dim));
  assert.equal(idx.size, n);
  await assert.rejects(idx.add(['d5'], vectors.slice(0, dim)), UsageError);
  const reopened = await HnswIndex.open(join(tmp, 'grow'));
  assert.equal(reopened.size, n);
  // A newly added document is its own nearest neighbour.
  const [top] = reopened.search(vectors.slice(3500 * dim, 3501 * dim), 1);
  assert.equal(top![0]!.id, 'd3500');
  const flat = await FlatIndex.open(join(tmp, 'flat'));
  assert.ok(recallAtK(reopened.search(queries, 10), flat.search(queries, 10)) >= 0.95);

  truncateSync(join(tmp, 'grow', 'graph.usearch'), Math.floor(statSync(join(tmp, 'grow', 'graph.usearch')).size / 2));
  await assert.rejects(HnswIndex.open(join(tmp, 'grow')), InputError);
});
