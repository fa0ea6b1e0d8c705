/**
 * The retrieval seam's rules: the registry opens by location and names what it does not know; a DenseRetriever
 * encodes only queries without a vector and refuses an index of another dimension, similarity or model; errors
 * carry codes, and the CLI shows its flags where the library names its parameters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { cliMessage } from '../src/cli/flags.js';
import { writeManifest, writeShard } from '../src/formats/index.js';
import { runEncodeJob } from '../src/encode/job.js';
import { DensekitError } from '../src/errors.js';
import { buildIndex, DenseRetriever, FlatIndex, openIndex, openRetriever, type TextEncoder, type VectorIndex } from '../src/retrieval/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'densekit-seam-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const DIM = 4;
const docIds = ['a', 'b', 'c', 'd', 'e'];
const docs = Float32Array.from({ length: docIds.length * DIM }, (_, i) => ((i * 7) % 11) / 11 - 0.4);

function encodeDir(name: string, ids: string[], v: Float32Array, dim: number, model: string, kind: 'query' | 'passage'): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const shard = writeShard(dir, 0, ids, v, dim);
  writeManifest(dir, {
    format: 'densekit-embeddings', version: 1, model, kind, dim, dtype: 'float32', similarity: 'dot', input: 'test',
    total: ids.length, shardSize: ids.length, shards: [shard], truncated: { count: 0, maxLength: 0 }, complete: true,
  });
  return dir;
}

const indexDir = join(tmp, 'flat');
await buildIndex('flat', encodeDir('docs', docIds, docs, DIM, 'model-a', 'passage'), indexDir);

/** Rows are the texts' lengths in every coordinate: enough to tell which texts were encoded. */
class LengthEncoder implements TextEncoder {
  readonly maxLength = { query: 8, passage: 8 };
  encoded: string[] = [];
  constructor(readonly model: string, readonly dim = DIM, readonly similarity: 'dot' | 'cosine' = 'dot') {}
  async encodeQueries(texts: readonly string[]): Promise<Float32Array> {
    this.encoded.push(...texts);
    const out = new Float32Array(texts.length * this.dim);
    texts.forEach((t, i) => out.fill(t.length / 10, i * this.dim, (i + 1) * this.dim));
    return out;
  }
  encodePassages(texts: readonly string[]): Promise<Float32Array> {
    return this.encodeQueries(texts);
  }
  async encode(texts: readonly string[]) {
    return { vectors: await this.encodeQueries(texts), truncated: 0 };
  }
  close(): void {}
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as DensekitError).code;
  }
  return undefined;
}

test('the registry opens by index.json and by URL scheme, and names what it does not know', async () => {
  const opened = await openIndex(indexDir);
  assert.equal(opened.kind, 'vector');
  assert.equal(opened.type, 'flat');
  const strange = join(tmp, 'strange');
  mkdirSync(strange);
  writeFileSync(join(strange, 'index.json'), JSON.stringify({ format: 'densekit-index', version: 1, type: 'annoy', count: 0 }));
  await assert.rejects(openIndex(strange), (e: DensekitError) =>
    e.code === 'DENSEKIT_UNKNOWN_INDEX_TYPE' && /index\.json's type "annoy" is not one densekit knows \(known: flat, hnsw, bm25/.test(e.message));
  await assert.rejects(openIndex('weaviate://host/collection'), (e: DensekitError) =>
    e.code === 'DENSEKIT_UNKNOWN_INDEX_TYPE' && /the scheme "weaviate:\/\/"/.test(e.message));
});

test('a DenseRetriever encodes only the queries without a vector, and ranks as the index does', async () => {
  const index = await FlatIndex.open(indexDir);
  const encoder = new LengthEncoder('model-a');
  const retriever = new DenseRetriever(encoder, index);
  const given = Float32Array.of(0.3, -0.1, 0.2, 0.5);
  const [first, second] = await retriever.search([{ id: 'q1', text: 'has a vector', vector: given }, { id: 'q2', text: 'encode me' }], 3);
  assert.deepEqual(encoder.encoded, ['encode me']);
  assert.deepEqual(first, index.search(given, 3)[0]);
  assert.deepEqual(second, index.search(new Float32Array(DIM).fill(0.9), 3)[0]);
});

test('a DenseRetriever refuses another dimension, a cosine model on a dot index, and another model unless allowed', async () => {
  const index: VectorIndex = await FlatIndex.open(indexDir);
  assert.equal(code(() => new DenseRetriever(new LengthEncoder('model-a', 8), index)), 'DENSEKIT_DIMENSION_MISMATCH');
  assert.equal(code(() => new DenseRetriever(new LengthEncoder('model-a', DIM, 'cosine'), index)), 'DENSEKIT_SIMILARITY_MISMATCH');
  assert.equal(code(() => new DenseRetriever(new LengthEncoder('model-b'), index)), 'DENSEKIT_MODEL_MISMATCH');
  assert.equal(code(() => new DenseRetriever(new LengthEncoder('model-b'), index, { allowModelMismatch: true })), undefined);
  const vectorsOnly = new DenseRetriever(undefined, index);
  await assert.rejects(vectorsOnly.search([{ id: 'q', text: 'x', vector: new Float32Array(3) }], 1), (e: DensekitError) => e.code === 'DENSEKIT_DIMENSION_MISMATCH');
  await assert.rejects(vectorsOnly.search([{ id: 'q', text: 'x' }], 1), (e: DensekitError) => e.code === 'DENSEKIT_USAGE');
  await assert.rejects(openRetriever(indexDir, new LengthEncoder('model-b')), (e: DensekitError) => e.code === 'DENSEKIT_MODEL_MISMATCH');
});

test('library errors name parameters; the CLI shows its flags', async () => {
  const job = runEncodeJob({ encoder: new LengthEncoder('model-a'), input: join(tmp, 'none.tsv'), output: join(tmp, 'out'), kind: 'query', shardSize: 0 });
  const err = await job.then(() => undefined, (e: DensekitError) => e);
  assert.ok(err instanceof DensekitError);
  assert.equal(err.code, 'DENSEKIT_USAGE');
  assert.equal(err.message, 'shardSize must be a positive integer, got 0');
  assert.equal(cliMessage(err), '--shard-size must be a positive integer, got 0');

  // Query vectors of another model than the index records: refused, the message naming the CLI's flag.
  const queries = encodeDir('queries-b', ['q1'], Float32Array.of(0.1, 0.2, 0.3, 0.4), DIM, 'model-b', 'query');
  let stderr = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
  let refused: number, allowed: number;
  try {
    refused = await main(['search', '--index', indexDir, '--query-embeddings', queries, '--k', '2', '--output', join(tmp, 'run.trec')]);
    allowed = await main(['search', '--index', indexDir, '--query-embeddings', queries, '--k', '2', '--output', join(tmp, 'run.trec'), '--allow-model-mismatch']);
  } finally {
    process.stderr.write = write;
  }
  assert.equal(refused, 1);
  assert.match(stderr, /^densekit: error: the index was built with the model model-a but the queries are encoded with model-b; use that model, or set --allow-model-mismatch\n/);
  assert.equal(allowed, 0, stderr);
});
