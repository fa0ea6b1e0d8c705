import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DensekitError, InputError, UsageError } from '../src/errors.js';
import { writeManifest, writeShard, type EmbeddingManifest } from '../src/formats/index.js';
import { buildFlatIndex, FlatIndex, recallAtK } from '../src/retrieval/index.js';
import { writeNpy } from '../src/io/npy.js';
import { loadTorch } from '../src/retrieval/torch-kernel.js';
import { seededRandom } from '../src/util/random.js';

const tmp = mkdtempSync(join(tmpdir(), 'densekit-flat-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const rng = seededRandom;

/** Writes a `densekit encode`-style folder with the rows split into shards. */
function writeEncodeDir(name: string, ids: string[], vectors: Float32Array, dim: number, similarity: 'dot' | 'cosine', shardSize = 1000): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const shards = [];
  for (let s = 0; s * shardSize < ids.length; s++) {
    const a = s * shardSize, b = Math.min(ids.length, a + shardSize);
    shards.push(writeShard(dir, s, ids.slice(a, b), vectors.slice(a * dim, b * dim), dim));
  }
  const m: EmbeddingManifest = {
    format: 'densekit-embeddings', version: 1, model: 'test', kind: 'passage', dim, dtype: 'float32', similarity, input: 'test',
    total: ids.length, shardSize, shards, truncated: { count: 0, maxLength: 0 }, complete: true,
  };
  writeManifest(dir, m);
  return dir;
}

/** Clustered unit vectors (as real embeddings are), with some exact duplicates to create score ties. */
function clustered(n: number, dim: number, seed: number, duplicates = 0): Float32Array {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const centers = Array.from({ length: 20 }, () => Float64Array.from({ length: dim }, gauss));
  const v = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = centers[Math.floor(r() * centers.length)]!;
    let n2 = 0;
    const row = Array.from({ length: dim }, (_, j) => c[j]! + 0.6 * gauss());
    for (const x of row) n2 += x * x;
    row.forEach((x, j) => (v[i * dim + j] = x / Math.sqrt(n2)));
  }
  for (let d = 0; d < duplicates; d++) {
    const src = Math.floor(r() * n), dst = Math.floor(r() * n);
    v.copyWithin(dst * dim, src * dim, (src + 1) * dim);
  }
  return v;
}

/** Independent reference: every score in double, rounded to float32, sorted by score desc then id desc. */
function bruteForce(ids: string[], v: Float32Array, q: Float32Array, dim: number, k: number) {
  const out = [];
  for (let qi = 0; qi < q.length / dim; qi++) {
    const scored = ids.map((id, r) => {
      let s = 0;
      for (let j = 0; j < dim; j++) s += q[qi * dim + j]! * v[r * dim + j]!;
      return { id, score: Math.fround(s) };
    });
    scored.sort((a, b) => b.score - a.score || Buffer.compare(Buffer.from(b.id), Buffer.from(a.id)));
    out.push(scored.slice(0, k));
  }
  return out;
}

const dim = 48;
const n = 2000;
const ids = Array.from({ length: n }, (_, i) => `doc${(i * 7919) % 10007}`);
const vectors = clustered(n, dim, 1, 300);
const queries = Float32Array.from(clustered(40, dim, 2));
// Two queries equal to stored rows (self-match), one all-zero query (every score ties at 0).
queries.set(vectors.subarray(5 * dim, 6 * dim), 0);
queries.fill(0, 39 * dim, 40 * dim);

test('flat float32 search equals brute force exactly (ids, scores, tie order) for k from 1 to the collection size', async () => {
  const enc = writeEncodeDir('enc', ids, vectors, dim, 'cosine', 700);
  const meta = buildFlatIndex(enc, join(tmp, 'flat'));
  assert.equal(meta.count, n);
  const index = await FlatIndex.open(join(tmp, 'flat'), { threads: 2 });
  const simd = await FlatIndex.open(join(tmp, 'flat'), { kernel: 'usearch', threads: 2 });
  const torch = (await loadTorch()) ? await FlatIndex.open(join(tmp, 'flat'), { kernel: 'torch', threads: 2 }) : null;
  const exactJs = await FlatIndex.open(join(tmp, 'flat'), { kernel: 'js' });
  assert.equal(index.size, n);
  assert.equal(index.dim, dim);
  for (const k of [1, 10, 100, 1000, n, n + 5]) {
    const expected = bruteForce(ids, vectors, queries, dim, k);
    // 40 queries: the auto kernel uses libtorch's sgemm when the addon is built with a fast BLAS.
    assert.deepEqual(index.search(queries, k), expected, `auto kernel, k=${k}`);
    assert.deepEqual(simd.search(queries, k), expected, `usearch kernel, k=${k}`);
    if (torch) assert.deepEqual(torch.search(queries, k), expected, `libtorch kernel, k=${k}`);
    assert.deepEqual(queries.length / dim >= 2 ? index.search(queries.subarray(0, dim), k)[0] : [], expected[0], `one query, k=${k}`);
    if (k <= 100) assert.deepEqual(exactJs.search(queries, k), expected, `js kernel, k=${k}`);
  }
  // The all-zero query: every document ties, so the top ids are the largest ids.
  const zero = index.search(queries.subarray(39 * dim), 5)[0]!;
  assert.deepEqual(zero.map((h) => h.id), [...ids].sort((a, b) => Buffer.compare(Buffer.from(b), Buffer.from(a))).slice(0, 5));
});

test('cosine over a dot-product model normalizes rows at build time and queries at search time', async () => {
  const scaled = vectors.slice(0, 500 * dim).map((x, i) => x * (1 + (Math.floor(i / dim) % 7)));
  const enc = writeEncodeDir('enc-dot', ids.slice(0, 500), scaled, dim, 'dot');
  buildFlatIndex(enc, join(tmp, 'flat-cos'), { similarity: 'cosine' });
  const index = await FlatIndex.open(join(tmp, 'flat-cos'));
  assert.equal(index.similarity, 'cosine');
  const q = queries.slice(dim, 3 * dim).map((x) => x * 3);
  const hits = index.search(q, 5);
  for (const list of hits) for (const h of list) assert.ok(h.score <= 1 + 1e-6 && h.score >= -1 - 1e-6);
  const unitQ = queries.slice(dim, 3 * dim);
  assert.deepEqual(hits.map((l) => l.map((h) => h.id)), bruteForce(ids.slice(0, 500), vectors.slice(0, 500 * dim), unitQ, dim, 5).map((l) => l.map((h) => h.id)));
});

test('int8 storage: 4x smaller scan, recall@10 >= 0.99 after exact float32 rescoring, float32 scores', async () => {
  const enc = join(tmp, 'enc');
  buildFlatIndex(enc, join(tmp, 'flat-i8'), { storage: 'int8' });
  assert.equal(statSync(join(tmp, 'flat-i8', 'vectors.i8')).size * 4, statSync(join(tmp, 'flat-i8', 'vectors.f32')).size);
  const i8 = await FlatIndex.open(join(tmp, 'flat-i8'));
  const q = queries.subarray(0, 39 * dim);
  const approx = i8.search(q, 10);
  const exact = bruteForce(ids, vectors, q, dim, 10);
  assert.ok(recallAtK(approx, exact) >= 0.99, `recall ${recallAtK(approx, exact)}`);
  approx.forEach((list, qi) => {
    const exactScore = new Map(exact[qi]!.map((h) => [h.id, h.score]));
    for (const h of list) if (exactScore.has(h.id)) assert.equal(h.score, exactScore.get(h.id));
  });
  const f32 = await FlatIndex.open(join(tmp, 'flat-i8'), { useCompressed: false });
  assert.deepEqual(f32.search(q, 10), exact);
});

test('bad input: shard dimensions, duplicate ids, truncated files, k <= 0, query dimension', async () => {
  // A shard whose vectors disagree with the manifest's dimension.
  const enc = writeEncodeDir('enc-baddim', ids.slice(0, 20), vectors.slice(0, 20 * dim), dim, 'cosine', 10);
  writeNpy(join(enc, 'shard-00001.npy'), 'float32', [10, dim + 1], new Float32Array(10 * (dim + 1)));
  assert.throws(() => buildFlatIndex(enc, join(tmp, 'bad1')), (e: unknown) => e instanceof InputError && /shard-00001\.npy: vectors have dimension 49, the manifest says 48/.test(e.message));
  assert.ok(!existsSync(join(tmp, 'bad1', 'index.json')));

  const dup = writeEncodeDir('enc-dup', ['a', 'b', 'c', 'a'], vectors.slice(0, 4 * dim), dim, 'cosine', 2);
  assert.throws(() => buildFlatIndex(dup, join(tmp, 'bad2')), (e: unknown) => e instanceof InputError && /shard-00001\.ids\.txt:2: duplicate document id "a"/.test(e.message));

  const ok = join(tmp, 'flat-trunc');
  buildFlatIndex(join(tmp, 'enc'), ok);
  const index = await FlatIndex.open(ok);
  assert.throws(() => index.search(queries, 0), UsageError);
  assert.throws(() => index.search(queries, -3), UsageError);
  assert.throws(() => index.search(queries.subarray(0, dim + 1), 3), (e: unknown) => e instanceof UsageError && /multiple of the index dimension 48/.test(e.message));
  truncateSync(join(ok, 'vectors.f32'), statSync(join(ok, 'vectors.f32')).size - 4);
  await assert.rejects(FlatIndex.open(ok), (e: unknown) => e instanceof InputError && /truncated or corrupt/.test(e.message));
  const lines = readFileSync(join(ok, 'ids.txt'), 'utf8');
  assert.ok(lines.length > 0);
  await assert.rejects(FlatIndex.open(join(tmp, 'nowhere')), (e: unknown) => e instanceof DensekitError && /not a densekit index folder/.test(e.message));
});
