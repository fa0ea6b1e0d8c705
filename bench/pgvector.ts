/**
 * `npm run bench:pgvector`: PostgreSQL + pgvector beside in-process usearch HNSW on the same synthetic vectors
 * (bench:search's clustered 768-d unit vectors), in one run:
 *   - ingest: COPY rows/s (densekit index --type pgvector's path: staging table + INSERT ... ON CONFLICT) and
 *     HNSW build time (m 16, ef_construction 64), against usearch's build with the same parameters;
 *   - search: recall@10 against exact (flat) search and queries/s at ef_search 16..256 with 1 and 2
 *     connections, against usearch at the same ef with 1 and 2 threads.
 *
 * The server: DENSEKIT_PG_URL (a real PostgreSQL with pgvector; the table densekit_bench is dropped first), or by
 * default PGlite (PostgreSQL 18 + pgvector 0.8.7 in WASM, single backend: 2 connections are multiplexed onto it,
 * so they cannot run in parallel there) behind pglite-socket on 127.0.0.1.
 *
 * Environment: DENSEKIT_BENCH_N (default 200000), DENSEKIT_BENCH_QUERIES (default 1000), DENSEKIT_BENCH_DIR
 * (scratch folder, default the OS temp dir).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildFlatIndex, buildHnswIndex, FlatIndex, HnswIndex, recallAtK } from '../src/retrieval/index.js';
import { buildPgvectorIndex, PgvectorIndex } from '../src/retrieval/pgvector/index.js';
import { startPgServer } from '../test/pg-server.js';
import { clustered, DIM, writeEncodeDir } from './synthetic.js';

const n = Number(process.env.DENSEKIT_BENCH_N ?? 200_000);
const nq = Number(process.env.DENSEKIT_BENCH_QUERIES ?? 1000);
const EFS = [16, 32, 64, 128, 256];
const TABLE = 'densekit_bench';
const scratch = mkdtempSync(join(process.env.DENSEKIT_BENCH_DIR ?? tmpdir(), 'densekit-bench-pgvector-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const log = (s: string) => process.stdout.write(s + '\n');
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

log(`== pgvector vs usearch: N = ${n.toLocaleString('en-US')} x ${DIM}, ${nq} queries; load average ${load()} ==`);
const vectors = clustered(n, 1);
const queries = clustered(nq, 2);
const enc = join(scratch, 'enc');
writeEncodeDir(enc, vectors, n);
const flatDir = join(scratch, 'flat');
buildFlatIndex(enc, flatDir);
const flat = await FlatIndex.open(flatDir);
const truth = flat.search(queries, 10);

const external = process.env.DENSEKIT_PG_URL;
const server = external ? undefined : await startPgServer({ maxConnections: 4 });
const url = external ?? server!.url;
let version: string;
{
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  version = (await c.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v.split(' on ')[0]!;
  await c.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await c.end();
}
log(`server: ${external ? 'DENSEKIT_PG_URL' : 'PGlite behind pglite-socket'} (${version})`);

// Loaded first without an ANN index, so COPY and the HNSW build are timed apart (the second run finds every row).
const loaded = await buildPgvectorIndex({ url, table: TABLE, inputs: [enc], ann: { method: 'none' } });
log(`pgvector: COPY ${loaded.inserted} rows in ${loaded.loadSeconds.toFixed(1)}s = ${loaded.rowsPerSecond.toFixed(0)} rows/s`);
const built = await buildPgvectorIndex({ url, table: TABLE, inputs: [enc], ann: { method: 'hnsw', m: 16, efConstruction: 64 } });
log(`pgvector: HNSW (m 16, ef_construction 64) built in ${built.annSeconds.toFixed(1)}s`);

const hnswDir = join(scratch, 'hnsw');
const t0 = performance.now();
await buildHnswIndex(enc, hnswDir, { M: 16, efConstruction: 64, efSearch: 64 }, 2);
log(`usearch: HNSW (M 16, efConstruction 64, 2 threads) built in ${((performance.now() - t0) / 1000).toFixed(1)}s`);

const rows: string[] = [];
for (const connections of [1, 2]) {
  const idx = await PgvectorIndex.open(url, TABLE, { connections });
  await idx.searchVectors(queries.subarray(0, 10 * DIM), 10, { efSearch: 16 });
  for (const ef of EFS) {
    const t = performance.now();
    const hits = await idx.searchVectors(queries, 10, { efSearch: ef });
    const s = (performance.now() - t) / 1000;
    rows.push(`pgvector  ${connections} conn  ef ${String(ef).padStart(3)}  recall@10 ${recallAtK(hits, truth).toFixed(4)}  ${(nq / s).toFixed(0).padStart(6)} q/s`);
  }
  await idx.close();
}
for (const threads of [1, 2]) {
  for (const ef of EFS) {
    const h = await HnswIndex.open(hnswDir, { efSearch: ef, threads });
    h.search(queries.subarray(0, 10 * DIM), 10);
    // One query per call, as a service answering requests sees it (and as each pgvector statement is).
    const t = performance.now();
    const hits = threads === 1
      ? Array.from({ length: nq }, (_, i) => h.search(queries.subarray(i * DIM, (i + 1) * DIM), 10)[0]!)
      : h.search(queries, 10);
    const s = (performance.now() - t) / 1000;
    rows.push(`usearch   ${threads} thr   ef ${String(ef).padStart(3)}  recall@10 ${recallAtK(hits, truth).toFixed(4)}  ${(nq / s).toFixed(0).padStart(6)} q/s${threads === 1 ? ' (one query per call)' : ` (batch ${nq})`}`);
  }
}
for (const r of rows) log(r);
log(`load average at the end: ${load()}`);
await server?.close();
