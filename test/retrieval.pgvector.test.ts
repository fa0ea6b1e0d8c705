/**
 * The pgvector index against a real PostgreSQL wire server (PGlite + pgvector behind pglite-socket, see
 * pg-server.ts), reached through `pg` like any server: ingest, resume after SIGKILL, server gone and restarted,
 * missing extension, wrong dimension or model, filters, SQL injection, agreement with flat exact search.
 *
 * The server lives in this process, so the CLI runs as an asynchronous child (a synchronous spawn would stall
 * the server it talks to).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { writeManifest, writeShard, type ShardEntry } from '../src/formats/index.js';
import {
  Bm25Index, Bm25Retriever, buildBm25Index, buildFlatIndex, compareHits, DenseRetriever, FlatIndex, HybridRetriever, type Hit, type Query,
} from '../src/retrieval/index.js';
import { buildPgvectorIndex, PgvectorIndex } from '../src/retrieval/pgvector/index.js';
import type { MetadataFilter } from '../src/retrieval/types.js';
import { seededRandom } from '../src/util/random.js';
import { spawnCli } from './cli.js';
import { startPgServer, type TestPgServer } from './pg-server.js';

let server: TestPgServer;
before(async () => {
  server = await startPgServer();
});
after(async () => {
  await server?.close();
});

const scratch = mkdtempSync(join(tmpdir(), 'dk-pgv-'));

interface EncodeSpec {
  ids: string[];
  vectors: Float32Array;
  dim: number;
  model?: string;
  similarity?: 'dot' | 'cosine';
  shardSize?: number;
}

let dirs = 0;
function encodeDir(s: EncodeSpec): string {
  const dir = join(scratch, `emb${dirs++}`);
  mkdirSync(dir, { recursive: true });
  const shardSize = s.shardSize ?? 100;
  const shards: ShardEntry[] = [];
  for (let a = 0, i = 0; a < s.ids.length; a += shardSize, i++) {
    const b = Math.min(s.ids.length, a + shardSize);
    shards.push(writeShard(dir, i, s.ids.slice(a, b), s.vectors.subarray(a * s.dim, b * s.dim), s.dim));
  }
  writeManifest(dir, {
    format: 'densekit-embeddings', version: 1, model: s.model ?? 'test-model', kind: 'passage', dim: s.dim, dtype: 'float32',
    similarity: s.similarity ?? 'dot', input: '/corpus.jsonl', total: s.ids.length, shardSize, shards,
    truncated: { count: 0, maxLength: 512 }, complete: true,
  });
  return dir;
}

/** Small integers: every dot product is exact in float32 and in double, so scores must agree to the bit. */
function integerVectors(n: number, dim: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  const v = new Float32Array(n * dim);
  for (let i = 0; i < v.length; i++) v[i] = Math.floor(r() * 7) - 3;
  return v;
}

function gaussianVectors(n: number, dim: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  const v = new Float32Array(n * dim);
  for (let i = 0; i < v.length; i++) v[i] = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return v;
}

function unitRows(v: Float32Array, dim: number): Float32Array {
  for (let r = 0; r < v.length / dim; r++) {
    let n2 = 0;
    for (let j = 0; j < dim; j++) n2 += v[r * dim + j]! ** 2;
    for (let j = 0; j < dim; j++) v[r * dim + j] = v[r * dim + j]! / Math.sqrt(n2);
  }
  return v;
}

/** Exact top-k by a direct double-precision loop: the reference, independent of both indexes. */
function bruteForce(docs: Float32Array, ids: string[], q: Float32Array, dim: number, k: number, keep: (i: number) => boolean = () => true): Hit[] {
  const hits: Hit[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (!keep(i)) continue;
    let s = 0;
    for (let j = 0; j < dim; j++) s += docs[i * dim + j]! * q[j]!;
    hits.push({ id: ids[i]!, score: Math.fround(s) });
  }
  return hits.sort(compareHits).slice(0, k);
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawnCli(args);
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number>((res) => child.on('close', (c) => res(c ?? 1)));
  return { code, stdout, stderr };
}

async function sql<T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

async function expectOneLine(p: Promise<unknown>, ...parts: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(!e.message.includes('\n'), `multi-line message: ${e.message}`);
    for (const re of parts) assert.match(e.message, re);
    return true;
  });
}

test('exact search (no ANN index) returns the flat index hits, scores and tie order exactly', async () => {
  const dim = 8, n = 400;
  const ids = Array.from({ length: n }, (_, i) => `d${String(i).padStart(3, '0')}`);
  const docs = integerVectors(n, dim, 11);
  // Duplicated rows tie exactly; compareHits must decide their order at the cut-off in both indexes.
  for (let i = 0; i < 40; i++) docs.copyWithin((n - 1 - i) * dim, i * dim, (i + 1) * dim);
  const emb = encodeDir({ ids, vectors: docs, dim });
  const s = await buildPgvectorIndex({ url: server.url, table: 'exact_dot', inputs: [emb], ann: { method: 'none' }, batchRows: 128 });
  assert.equal(s.rows, n);
  assert.equal(s.inserted, n);
  const flatDir = join(scratch, 'flat-exact');
  buildFlatIndex(emb, flatDir);
  const flat = await FlatIndex.open(flatDir, { kernel: 'js' });
  const idx = await PgvectorIndex.open(server.url, 'exact_dot', { connections: 2 });
  try {
    assert.equal(idx.method, 'exact');
    assert.equal(idx.size, n);
    assert.equal(idx.dim, dim);
    assert.equal(idx.model, 'test-model');
    const queries = integerVectors(25, dim, 12);
    const got = await idx.searchVectors(queries, 15);
    const want = flat.search(queries, 15);
    assert.deepEqual(got, want);
    for (let q = 0; q < 25; q++) assert.deepEqual(got[q], bruteForce(docs, ids, queries.subarray(q * dim, (q + 1) * dim), dim, 15));
    assert.ok(got.some((hits) => hits.some((h, i) => i > 0 && h.score === hits[i - 1]!.score)), 'the test data should contain ties');
  } finally {
    await idx.close();
  }
});

test('cosine table: scores are cosines as flat search defines them; HNSW recall and ef_search per query', async () => {
  const dim = 16, n = 600;
  const ids = Array.from({ length: n }, (_, i) => `p${i}`);
  // A 'cosine' model (GTR) writes unit vectors; flat search then scores by the dot product, pgvector by <=>.
  const docs = unitRows(gaussianVectors(n, dim, 21), dim);
  const emb = encodeDir({ ids, vectors: docs, dim, similarity: 'cosine', model: 'cos-model' });
  const flatDir = join(scratch, 'flat-cos');
  buildFlatIndex(emb, flatDir, { similarity: 'cosine' });
  const flat = await FlatIndex.open(flatDir, { kernel: 'js' });
  const queries = gaussianVectors(30, dim, 22);
  const want = flat.search(queries, 10);

  await buildPgvectorIndex({ url: server.url, table: 'cos_exact', inputs: [emb], ann: { method: 'none' } });
  const exact = await PgvectorIndex.open(server.url, 'cos_exact');
  try {
    const got = await exact.searchVectors(queries, 10);
    for (let q = 0; q < want.length; q++) {
      assert.deepEqual(got[q]!.map((h) => h.id), want[q]!.map((h) => h.id));
      for (let i = 0; i < 10; i++) assert.ok(Math.abs(got[q]![i]!.score - want[q]![i]!.score) < 1e-5, `${got[q]![i]!.score} vs ${want[q]![i]!.score}`);
    }
  } finally {
    await exact.close();
  }

  const s = await buildPgvectorIndex({ url: server.url, table: 'cos_hnsw', inputs: [emb] });
  assert.deepEqual(s.ann, { method: 'hnsw', m: 16, efConstruction: 64 });
  const ann = await PgvectorIndex.open(server.url, 'cos_hnsw', { connections: 3 });
  try {
    assert.equal(ann.method, 'hnsw');
    const got = await ann.searchVectors(queries, 10, { efSearch: 200 });
    let found = 0;
    for (let q = 0; q < want.length; q++) {
      const truth = new Set(want[q]!.map((h) => h.id));
      found += got[q]!.filter((h) => truth.has(h.id)).length;
      // Whatever the graph finds, a hit's score is its exact cosine.
      for (const h of got[q]!) {
        const ref = flat.search(queries.subarray(q * dim, (q + 1) * dim), n).flat().find((x) => x.id === h.id)!;
        assert.ok(Math.abs(h.score - ref.score) < 1e-5);
      }
    }
    assert.ok(found / (10 * want.length) >= 0.95, `recall@10 ${found / (10 * want.length)}`);
    // ef_search below k is raised to k: an HNSW scan never yields more than ef_search rows.
    const few = await ann.searchVectors(queries.subarray(0, dim), 30, { efSearch: 5 });
    assert.equal(few[0]!.length, 30);
    await expectOneLine(ann.searchVectors(queries.subarray(0, dim), 10, { efSearch: 5000 }), /efSearch must be an integer in 1\.\.1000/);
  } finally {
    await ann.close();
  }
});

test('ivfflat with probes: all lists probed gives the exact answer', async () => {
  const dim = 8, n = 500;
  const ids = Array.from({ length: n }, (_, i) => `v${i}`);
  const docs = integerVectors(n, dim, 31);
  const emb = encodeDir({ ids, vectors: docs, dim });
  const s = await buildPgvectorIndex({ url: server.url, table: 'ivf', inputs: [emb], ann: { method: 'ivfflat', lists: 4 } });
  assert.deepEqual(s.ann, { method: 'ivfflat', lists: 4 });
  const idx = await PgvectorIndex.open(server.url, 'ivf');
  try {
    assert.equal(idx.method, 'ivfflat');
    const queries = integerVectors(10, dim, 32);
    const got = await idx.searchVectors(queries, 5, { probes: 4 });
    for (let q = 0; q < 10; q++) {
      const want = bruteForce(docs, ids, queries.subarray(q * dim, (q + 1) * dim), dim, 5);
      // Scores are exact; among exact ties an ANN scan may return a different tied document at the cut-off.
      assert.deepEqual(got[q]!.map((h) => h.score), want.map((h) => h.score));
    }
  } finally {
    await idx.close();
  }
});

test('metadata filters: equality and ranges, as SQL parameters, exact and through HNSW', async () => {
  const dim = 8, n = 300;
  const ids = Array.from({ length: n }, (_, i) => `m${i}`);
  const docs = integerVectors(n, dim, 41);
  const meta = ids.map((_, i) => ({ lang: i % 3 === 0 ? 'en' : 'de', year: 2000 + (i % 30), open: i % 2 === 0, note: i % 5 === 0 ? 'n/a' : 7 }));
  const corpus = join(scratch, 'filter-corpus.jsonl');
  writeFileSync(corpus, ids.map((id, i) => JSON.stringify({ _id: id, title: `t${i}`, text: `text ${i}`, metadata: meta[i] })).join('\n') + '\n');
  const emb = encodeDir({ ids, vectors: docs, dim });
  await buildPgvectorIndex({ url: server.url, table: 'filtered', inputs: [emb], corpus, ann: { method: 'none' } });
  await buildPgvectorIndex({ url: server.url, table: 'filtered_hnsw', inputs: [emb], corpus });
  const rows = await sql<{ text: string; metadata: unknown }>('SELECT text, metadata FROM filtered WHERE id = $1', ['m7']);
  assert.deepEqual(rows, [{ text: 't7 text 7', metadata: meta[7] }]);
  const cases: [MetadataFilter, (i: number) => boolean][] = [
    [{ lang: 'en' }, (i) => meta[i]!.lang === 'en'],
    [{ year: { gte: 2010, lt: 2020 } }, (i) => meta[i]!.year >= 2010 && meta[i]!.year < 2020],
    [{ lang: 'de', open: true, year: { gt: 2025 } }, (i) => meta[i]!.lang === 'de' && meta[i]!.open && meta[i]!.year > 2025],
    // A key holding strings and numbers: a range matches only the numbers (no cast error).
    [{ note: { lte: 7 } }, (i) => meta[i]!.note === 7],
    [{ note: 'n/a' }, (i) => meta[i]!.note === 'n/a'],
    [{ lang: 'fr' }, () => false],
  ];
  const exact = await PgvectorIndex.open(server.url, 'filtered');
  const hnsw = await PgvectorIndex.open(server.url, 'filtered_hnsw');
  try {
    const queries = integerVectors(6, dim, 42);
    for (const [filter, keep] of cases) {
      const got = await exact.searchVectors(queries, 10, { filter });
      const approx = await hnsw.searchVectors(queries, 10, { filter, efSearch: 100 });
      for (let q = 0; q < 6; q++) {
        const want = bruteForce(docs, ids, queries.subarray(q * dim, (q + 1) * dim), dim, 10, keep);
        assert.deepEqual(got[q], want, JSON.stringify(filter));
        // Iterative scans keep an HNSW search from running dry under a selective filter.
        assert.equal(approx[q]!.length, want.length, JSON.stringify(filter));
        for (const h of approx[q]!) assert.ok(keep(ids.indexOf(h.id)), `${h.id} does not satisfy ${JSON.stringify(filter)}`);
      }
    }
    await expectOneLine(exact.searchVectors(queries, 10, { filter: { year: { between: 3 } } as unknown as MetadataFilter }), /unknown range bound "between"/);
    await expectOneLine(exact.searchVectors(queries, 10, { filter: { year: [1, 2] } as unknown as MetadataFilter }), /filter "year": expected a string, number, boolean/);
  } finally {
    await exact.close();
    await hnsw.close();
  }
});

test('SQL injection: hostile ids, texts, metadata, filter keys and values are data; hostile table names are refused', async () => {
  const dim = 4;
  // Ids follow the run-id rule (no whitespace), so the payloads use SQL comments for spaces.
  const hostile = ["x');DROP/**/TABLE/**/victims;--", 'a"b', 'back\\slash', "quote''s", '$1', 'ünïcödé', ');SELECT/**/pg_sleep(10);--'];
  const docs = integerVectors(hostile.length, dim, 51);
  const corpus = join(scratch, 'hostile.jsonl');
  const meta = hostile.map((h, i) => ({ [h]: h, "k' OR '1'='1": i, n: i }));
  writeFileSync(corpus, hostile.map((id, i) => JSON.stringify({ _id: id, text: `${id} \\N "quoted", comma\nnewline`, metadata: meta[i] })).join('\n') + '\n');
  await sql('CREATE TABLE victims (x int)');
  const emb = encodeDir({ ids: hostile, vectors: docs, dim });
  await buildPgvectorIndex({ url: server.url, table: 'hostile', inputs: [emb], corpus, ann: { method: 'none' } });
  const rows = await sql<{ id: string; text: string; metadata: unknown }>('SELECT id, text, metadata FROM hostile ORDER BY id COLLATE "C"');
  const want = hostile.map((id, i) => ({ id, text: `${id} \\N "quoted", comma\nnewline`, metadata: meta[i] })).sort((a, b) => (Buffer.compare(Buffer.from(a.id), Buffer.from(b.id))));
  assert.deepEqual(rows, want);
  const idx = await PgvectorIndex.open(server.url, 'hostile');
  try {
    const q = docs.subarray(0, dim);
    for (let i = 0; i < hostile.length; i++) {
      const h = hostile[i]!;
      const [byKey] = await idx.searchVectors(q, 10, { filter: { [h]: h } });
      assert.deepEqual(byKey!.map((x) => x.id), [h]);
      const [byRange] = await idx.searchVectors(q, 10, { filter: { "k' OR '1'='1": { gte: i, lte: i } } });
      assert.deepEqual(byRange!.map((x) => x.id), [h]);
    }
    const [none] = await idx.searchVectors(q, 10, { filter: { n: "0' OR '1'='1" } });
    assert.deepEqual(none, []);
  } finally {
    await idx.close();
  }
  assert.deepEqual(await sql("SELECT to_regclass('victims') IS NOT NULL AS there"), [{ there: true }]);
  for (const bad of ['t; DROP TABLE victims', 'victims"--', 'a.b.c', '1abc', 'x'.repeat(64), 'public.', "o'neil"])
    await expectOneLine(buildPgvectorIndex({ url: server.url, table: bad, inputs: [emb] }), /--table .*expected NAME or SCHEMA\.NAME/);
  assert.deepEqual(await sql("SELECT to_regclass('victims') IS NOT NULL AS there"), [{ there: true }]);
});

test('a table holding another model or dimension is refused, as is a table densekit did not make', async () => {
  const ids = ['a', 'b', 'c'];
  const emb8 = encodeDir({ ids, vectors: integerVectors(3, 8, 61), dim: 8, model: 'model-a' });
  await buildPgvectorIndex({ url: server.url, table: 'mixed', inputs: [emb8], ann: { method: 'none' } });
  const emb4 = encodeDir({ ids, vectors: integerVectors(3, 4, 62), dim: 4, model: 'model-a' });
  await expectOneLine(buildPgvectorIndex({ url: server.url, table: 'mixed', inputs: [emb4] }), /table mixed holds dimension 8, the embeddings have 4; refusing/);
  const other = encodeDir({ ids, vectors: integerVectors(3, 8, 63), dim: 8, model: 'model-b' });
  await expectOneLine(buildPgvectorIndex({ url: server.url, table: 'mixed', inputs: [other] }), /holds model "model-a", the embeddings are from "model-b"/);
  const cos = encodeDir({ ids, vectors: integerVectors(3, 8, 64), dim: 8, model: 'model-a', similarity: 'cosine' });
  await expectOneLine(buildPgvectorIndex({ url: server.url, table: 'mixed', inputs: [cos] }), /holds similarity dot, the embeddings use cosine/);
  await sql('CREATE TABLE foreign_t (id text primary key)');
  await expectOneLine(buildPgvectorIndex({ url: server.url, table: 'foreign_t', inputs: [emb8] }), /table foreign_t exists but was not made by densekit/);
  await expectOneLine(PgvectorIndex.open(server.url, 'no_such_table'), /no table no_such_table \(build it with densekit index --type pgvector/);
  const idx = await PgvectorIndex.open(server.url, 'mixed');
  try {
    await expectOneLine(idx.searchVectors(new Float32Array(12), 5), /not a multiple of the table's dimension 8/);
  } finally {
    await idx.close();
  }
});

test('resume after SIGKILL mid-ingest loads only the missing rows, exactly once', async () => {
  const dim = 8, n = 3000;
  const ids = Array.from({ length: n }, (_, i) => `r${i}`);
  const docs = integerVectors(n, dim, 71);
  const emb = encodeDir({ ids, vectors: docs, dim, shardSize: 500 });
  const args = ['index', '--type', 'pgvector', '--input', emb, '--output', server.url, '--table', 'resumed', '--ann', 'none', '--batch-rows', '20'];
  const child = spawnCli(args);
  const exited = new Promise<void>((res) => child.on('close', () => res()));
  let present = 0;
  for (let tries = 0; tries < 3000 && present < 200; tries++) {
    await new Promise((r) => setTimeout(r, 10));
    present = Number((await sql<{ n: string }>("SELECT CASE WHEN to_regclass('resumed') IS NULL THEN 0 ELSE (SELECT count(*) FROM resumed) END AS n").catch(() => [{ n: '0' }]))[0]!.n);
  }
  child.kill('SIGKILL');
  await exited;
  const before = Number((await sql<{ n: string }>('SELECT count(*) AS n FROM resumed'))[0]!.n);
  assert.ok(before > 0 && before < n, `killed after ${before} of ${n} rows`);
  await expectOneLine(PgvectorIndex.open(server.url, 'resumed'), /half-loaded/);
  const r = await cli(args);
  assert.equal(r.code, 0, r.stderr);
  const m = /(\d+) loaded at .* (\d+) already present/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(Number(m[1]), n - before);
  assert.equal(Number(m[2]), before);
  const rows = await sql<{ id: string; e: string }>('SELECT id, embedding::text AS e FROM resumed');
  assert.equal(rows.length, n);
  const byId = new Map(rows.map((x) => [x.id, x.e]));
  for (let i = 0; i < n; i += 97) assert.equal(byId.get(ids[i]!), `[${Array.from(docs.subarray(i * dim, (i + 1) * dim)).join(',')}]`);
  // A third run finds everything and loads nothing.
  const again = await cli(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /\(0 loaded at 0 rows\/s, 3000 already present\)/);
});

test('server gone: one clear line from the library and the CLI; after a restart a rerun completes', async () => {
  const dim = 4;
  const ids = Array.from({ length: 50 }, (_, i) => `g${i}`);
  const emb = encodeDir({ ids, vectors: integerVectors(50, dim, 81), dim });
  await buildPgvectorIndex({ url: server.url, table: 'gone', inputs: [emb], ann: { method: 'none' } });
  const idx = await PgvectorIndex.open(server.url, 'gone', { connections: 1 });
  await idx.searchVectors(new Float32Array(dim).fill(1), 3);
  await server.stop();
  try {
    await expectOneLine(idx.searchVectors(new Float32Array(dim).fill(1), 3), /127\.0\.0\.1:\d+/, /closed the connection|cannot reach the server/);
    await expectOneLine(PgvectorIndex.open(server.url, 'gone'), /cannot reach the server \(ECONNREFUSED\); is PostgreSQL running there\?/);
    const r = await cli(['index', '--type', 'pgvector', '--input', emb, '--output', server.url, '--table', 'gone']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^densekit: error: postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres: cannot reach the server \(ECONNREFUSED\)/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  } finally {
    await idx.close().catch(() => {});
    await server.restart();
  }
  const s = await buildPgvectorIndex({ url: server.url, table: 'gone', inputs: [emb] });
  assert.equal(s.inserted, 0);
  assert.equal(s.skipped, 50);
  assert.equal(s.ann.method, 'hnsw');
});

test('a server without pgvector: one line saying so', async () => {
  const bare = await startPgServer({ pgvector: false, maxConnections: 1 });
  try {
    const emb = encodeDir({ ids: ['a'], vectors: new Float32Array([1, 2]), dim: 2 });
    await expectOneLine(buildPgvectorIndex({ url: bare.url, table: 't', inputs: [emb] }), /lacks the pgvector extension/);
    await expectOneLine(PgvectorIndex.open(bare.url, 't'), /lacks the pgvector extension/);
  } finally {
    await bare.close();
  }
});

test('densekit index/search --type pgvector from the command line, from two --shard slices', async () => {
  const dim = 8, n = 120;
  const ids = Array.from({ length: n }, (_, i) => `c${i}`);
  const docs = integerVectors(n, dim, 91);
  const half = 60;
  const slice = (index: number, start: number, end: number) => {
    const dir = encodeDir({ ids: ids.slice(start, end), vectors: docs.slice(start * dim, end * dim), dim, shardSize: 25 });
    const mpath = join(dir, 'manifest.json');
    const m = JSON.parse(readFileSync(mpath, 'utf8'));
    writeManifest(dir, { ...m, slice: { index, of: 2, start, end, records: n } });
    return dir;
  };
  const a = slice(0, 0, half), b = slice(1, half, n);
  const q = encodeDir({ ids: ['q1', 'q2'], vectors: integerVectors(2, dim, 92), dim });
  const url = server.url;
  const built = await cli(['index', '--type', 'pgvector', '--input', b, a, '--output', url, '--table', 'from_cli']);
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stdout, /pgvector table from_cli: 120 x 8 dot rows \(120 loaded/);
  const run = join(scratch, 'cli.trec');
  const r = await cli(['search', '--index', url, '--table', 'from_cli', '--query-embeddings', q, '--k', '5', '--output', run, '--ef-search', '64']);
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(run, 'utf8').trim().split('\n');
  assert.equal(lines.length, 10);
  assert.match(lines[0], /^q1 Q0 c\d+ 1 -?\d/);
  const gap = await cli(['index', '--type', 'pgvector', '--input', a, '--output', url, '--table', 'from_cli_gap']);
  assert.equal(gap.code, 1);
  assert.match(gap.stderr, /^densekit: error: the encode folders leave a gap: records 60\.\.119 of 120/);
  const noTable = await cli(['search', '--index', url, '--query-embeddings', q, '--k', '5', '--output', run]);
  assert.equal(noTable.code, 1);
  assert.match(noTable.stderr, /--index postgres:\/\/\.\.\. needs --table NAME/);
});

test('hybrid: a pgvector dense side fused with densekit BM25 ranks exactly as with the flat index', async () => {
  const dim = 8, n = 200;
  const words = ['tide', 'moon', 'gravity', 'ocean', 'wave', 'sun', 'orbit', 'salt', 'storm', 'coast'];
  const ids = Array.from({ length: n }, (_, i) => `h${i}`);
  const docs = integerVectors(n, dim, 101);
  const corpus = join(scratch, 'hybrid.jsonl');
  writeFileSync(corpus, ids.map((id, i) => JSON.stringify({ _id: id, title: '', text: `${words[i % 10]} ${words[(i * 7) % 10]} ${words[(i * 3) % 10]} doc ${i}` })).join('\n') + '\n');
  const emb = encodeDir({ ids, vectors: docs, dim });
  await buildPgvectorIndex({ url: server.url, table: 'hybrid', inputs: [emb], corpus, ann: { method: 'none' } });
  const flatDir = join(scratch, 'flat-hybrid');
  buildFlatIndex(emb, flatDir);
  const bm25Dir = join(scratch, 'bm25-hybrid');
  await buildBm25Index(corpus, bm25Dir);
  const qv = integerVectors(8, dim, 102);
  const queries: Query[] = Array.from({ length: 8 }, (_, i) => ({ id: `q${i}`, text: `${words[i]} ${words[(i + 3) % 10]}`, vector: qv.slice(i * dim, (i + 1) * dim) }));
  const pgv = new HybridRetriever(new DenseRetriever(undefined, await PgvectorIndex.open(server.url, 'hybrid')), new Bm25Retriever(Bm25Index.open(bm25Dir)), { method: 'rrf' });
  const local = new HybridRetriever(new DenseRetriever(undefined, await FlatIndex.open(flatDir, { kernel: 'js' })), new Bm25Retriever(Bm25Index.open(bm25Dir)), { method: 'rrf' });
  try {
    const got = await pgv.search(queries, 10);
    assert.deepEqual(got, await local.search(queries, 10));
    assert.ok(got.every((hits) => hits.length === 10));
    // Only pgvector keeps metadata: the local indexes refuse a filter rather than return unfiltered hits.
    await expectOneLine(local.first.search(queries, 10, { filter: { lang: 'en' } }), /a flat index holds no metadata/);
    await expectOneLine(local.second.search(queries, 10, { filter: { lang: 'en' } }), /a bm25 index holds no metadata/);
  } finally {
    await pgv.close();
    await local.close();
  }
});
