/**
 * The service under heavy legal requests and clients that leave: /health stays responsive while four clients
 * send requests at the limits (64 queries x k 1,000), and queries of clients that disconnected while waiting
 * for the encoder are never encoded. A real flat index (20,000 x 64) and real documents; the encoder is a
 * deterministic double (what it computes is not under test, only when it is called).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { writeManifest, writeShard } from '../src/formats/index.js';
import { buildFlatIndex, FlatIndex, type TextEncoder } from '../src/retrieval/index.js';
import { createService, DocumentMap } from '../src/serve/index.js';
import { seededRandom } from '../src/util/random.js';

const DIM = 64;
const N = 20_000;
const tmp = mkdtempSync(join(tmpdir(), 'densekit-serve-load-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const r = seededRandom(11);
const ids = Array.from({ length: N }, (_, i) => `doc${i}`);
const enc = join(tmp, 'enc');
mkdirSync(enc);
const shard = writeShard(enc, 0, ids, Float32Array.from({ length: N * DIM }, () => r() - 0.5), DIM);
writeManifest(enc, {
  format: 'densekit-embeddings', version: 1, model: 'hash-encoder', kind: 'passage', dim: DIM, dtype: 'float32', similarity: 'dot',
  input: 'synthetic', total: N, shardSize: N, shards: [shard], truncated: { count: 0, maxLength: 0 }, complete: true,
});
buildFlatIndex(enc, join(tmp, 'flat'));
const words = ['vitamin', 'bone', 'density', 'sleep', 'memory', 'cell', 'immune', 'diet', 'protein', 'gene', 'trial', 'dose'];
const docs = new DocumentMap(ids.map((id, i) => ({
  id, title: `title ${i} ${words[i % words.length]}`,
  text: Array.from({ length: 120 }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' '),
})));

/** Hash of the text's characters: deterministic vectors; counts every text it is asked to encode. */
class HashEncoder implements TextEncoder {
  readonly model = 'hash-encoder';
  readonly dim = DIM;
  readonly similarity = 'dot' as const;
  readonly maxLength = { query: 512, passage: 512 };
  texts = 0;
  constructor(private readonly delayMs = 0) {}
  async encodeQueries(texts: readonly string[]): Promise<Float32Array> {
    this.texts += texts.length;
    if (this.delayMs) await new Promise((res) => setTimeout(res, this.delayMs));
    const out = new Float32Array(texts.length * DIM);
    texts.forEach((t, i) => {
      for (let c = 0; c < t.length; c++) out[i * DIM + ((t.charCodeAt(c) * 31 + c) % DIM)]! += 1;
    });
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

async function start(encoder: HashEncoder) {
  const app = await createService({ dense: { index: await FlatIndex.open(join(tmp, 'flat')), encoder }, documents: docs, processMetrics: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, base: `http://127.0.0.1:${port}`, port };
}

const queries = (n: number, salt: number) => Array.from({ length: n }, (_, i) => `${words[i % words.length]} ${words[(i + salt) % words.length]} query ${salt}-${i}`);
const post = (base: string, body: unknown) => fetch(`${base}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/**
 * The four heavy clients run in a worker thread: parsing and checking 64,000-hit replies on the service's own
 * event loop would stall /health by itself, and it is the service's loop that is measured.
 */
const CLIENTS = `
const { parentPort, workerData } = require('node:worker_threads');
const words = ${JSON.stringify(words)};
const queries = (n, salt) => Array.from({ length: n }, (_, i) => words[i % words.length] + ' ' + words[(i + salt) % words.length] + ' query ' + salt + '-' + i);
let stop = false;
parentPort.on('message', () => { stop = true; });
const answered = { 200: 0, 413: 0 };
const problems = [];
async function client(c) {
  for (let i = 0; !stop; i++) {
    const kind = (i + c) % 3;
    const body = kind === 0 ? { queries: queries(64, i), k: 1000 }
      : kind === 1 ? { queries: queries(64, i), k: 1000, fields: [] }
      : { queries: queries(2, i), k: 1000, fields: ['title', 'snippet', 'highlights'] };
    const res = await fetch(workerData.base + '/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status === 413 && kind === 0 && /64 x 1000 = 64000 hits with fields title, snippet; the limit is 2000/.test(text)) { answered[413]++; continue; }
    if (res.status !== 200 || kind === 0) { problems.push(res.status + ' for kind ' + kind + ': ' + text.slice(0, 200)); continue; }
    const json = JSON.parse(text);
    const ok = json.results.length === (kind === 1 ? 64 : 2) && json.results.every((q) => q.hits.length === 1000 &&
      q.hits.every((h, r) => typeof h.id === 'string' && Number.isFinite(h.score) && h.rank === r + 1 && (kind !== 2 || typeof h.snippet === 'string')));
    if (!ok) problems.push('kind ' + kind + ': malformed reply');
    answered[200]++;
  }
}
Promise.all([0, 1, 2, 3].map(client)).then(() => parentPort.postMessage({ answered, problems }), (e) => parentPort.postMessage({ answered, problems: [String(e)] }));
`;

test('/health stays under 100 ms (p99 < 250 ms on a shared machine) while 4 clients send 64 queries x k 1,000', { timeout: 60_000 }, async (t) => {
  const { app, base } = await start(new HashEncoder());
  const worker = new Worker(CLIENTS, { eval: true, workerData: { base } });
  const done = new Promise<{ answered: Record<string, number>; problems: string[] }>((res, rej) => {
    worker.once('message', res);
    worker.once('error', rej);
  });
  const latencies: number[] = [];
  const until = performance.now() + 8000;
  while (performance.now() < until) {
    const s = performance.now();
    const res = await fetch(`${base}/health`);
    await res.text();
    latencies.push(performance.now() - s);
    assert.equal(res.status, 200);
    await new Promise((res) => setTimeout(res, 5));
  }
  worker.postMessage('stop');
  const { answered, problems } = await done;
  await worker.terminate();
  await app.close();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  t.diagnostic(`/health over ${latencies.length} polls under load (${answered[200]} heavy 200s, ${answered[413]} 413s; load ${loadavg()[0]!.toFixed(2)}): p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`);
  assert.deepEqual(problems, []);
  assert.ok(answered[200]! >= 4 && answered[413]! >= 4, JSON.stringify(answered));
  assert.ok(at(0.99) < 250, `p99 ${at(0.99).toFixed(1)} ms`);
});

/** Reads one Prometheus sample. */
async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

test('queries of clients that disconnected before their encoding batch ran are never encoded', { timeout: 60_000 }, async () => {
  // The encoder takes 400 ms a call: the first request's batch is running while the 50 others queue behind it.
  const encoder = new HashEncoder(400);
  const { app, base, port } = await start(encoder);
  const first = post(base, { query: 'vitamin bone first', k: 5 });
  await new Promise((res) => setTimeout(res, 50));
  const sockets = Array.from({ length: 50 }, (_, i) => {
    const body = JSON.stringify({ query: `sleep memory gone ${i}`, k: 5 });
    const req = request({ host: '127.0.0.1', port, path: '/search', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    req.on('error', () => {}); // destroyed on purpose
    req.end(body);
    return req;
  });
  // Wait until all 50 are queued behind the running batch, then leave.
  for (let i = 0; i < 100 && (await metric(base, 'densekit_encoder_queue_depth')) < 51; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(await metric(base, 'densekit_encoder_queue_depth'), 51);
  for (const s of sockets) s.destroy();
  const res = await first;
  assert.equal(res.status, 200);
  await res.text();
  await new Promise((res) => setTimeout(res, 600)); // a second batch, if any, would have run by now
  assert.equal(await metric(base, 'densekit_encoder_dropped_total'), 50);
  assert.equal(encoder.texts, 1, 'the encoder saw only the first request\'s query');
  assert.equal(await metric(base, 'densekit_encoder_batch_size_sum'), 1);
  assert.equal(await metric(base, 'densekit_encoder_queue_depth'), 0);
  // The service is unharmed: a new request is answered.
  const after = await post(base, { query: 'diet protein', k: 3 });
  assert.equal(after.status, 200);
  assert.equal(((await after.json()) as { hits: unknown[] }).hits.length, 3);
  await app.close();
});
