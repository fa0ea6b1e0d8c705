/**
 * `npm run bench:serve`: `densekit serve` on loopback under load from autocannon, at 1, 16 and 64
 * concurrent clients for a bounded time per mode (BM25, dense, hybrid), plus dense with micro-batching
 * off (--max-batch 1) for comparison. Prints queries/s, p50/p99 latency, failed requests, and the mean
 * encoder batch size (from /metrics). The service runs in its own process, as in production.
 *
 * Setup (in a scratch folder): BM25 over SciFact's corpus; a flat index of the same 5,183 document ids
 * with random unit vectors of the model's dimension (search cost is realistic, relevance is not the point
 * here); queries are SciFact's 300 test queries, cycled. The default model is a DistilBERT-base (TAS-B
 * size: 6 layers, 768 wide) with random weights around the real bert-base-uncased vocabulary, so encoder
 * costs are those of TAS-B.
 *
 * Environment: DENSEKIT_BENCH_SECONDS per run (default 10), DENSEKIT_BENCH_CLIENTS (default "1,16,64"),
 * DENSEKIT_BENCH_MODEL (a model folder, or "fixture" for the tiny test model), DENSEKIT_BENCH_THREADS
 * (libtorch threads in the service, default 2).
 */
import { seededRandom } from '../src/util/random.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeManifest, writeShard, EMBEDDINGS_FORMAT } from '../src/formats/index.js';
import { buildFlatIndex } from '../src/retrieval/index.js';
import { parseHfConfig, writeSentenceTransformer } from '../src/io/index.js';
import { createTokenEncoder, RandomWeights } from '../src/models/index.js';
import { buildBm25Index } from '../src/retrieval/index.js';
import { manualSeed } from '../src/tensor/index.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
// autocannon ships no type declarations; this is the part of its API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const SECONDS = Number(process.env.DENSEKIT_BENCH_SECONDS ?? 10);
const CLIENTS = (process.env.DENSEKIT_BENCH_CLIENTS ?? '1,16,64').split(',').map(Number);
const THREADS = Number(process.env.DENSEKIT_BENCH_THREADS ?? 2);
const repo = new URL('..', import.meta.url).pathname.replace(/dist\/$/, '');
const shared = join(repo, '../shared');
const scifact = join(shared, 'datasets/scifact');
const compiled = import.meta.url.endsWith('.js');

function makeTasbSizedModel(dir: string): void {
  const config = {
    architectures: ['DistilBertModel'], model_type: 'distilbert', vocab_size: 30522, dim: 768, n_layers: 6, n_heads: 12,
    hidden_dim: 3072, activation: 'gelu', max_position_embeddings: 512, sinusoidal_pos_embds: false, pad_token_id: 0,
  };
  manualSeed(0);
  const enc = createTokenEncoder(parseHfConfig(config, 'bench config'), new RandomWeights(0.02));
  const weights = new Map([...enc.namedParameters()].map(([k, t]) => [k, t.toHost()] as const));
  enc.dispose();
  writeSentenceTransformer(dir, {
    weights, config, sourceDir: join(shared, 'fixtures/tokenizers/bert-base-uncased'), maxSeqLength: 200,
    modules: [{ kind: 'Transformer' }, { kind: 'Pooling', mode: { cls: true, max: false, mean: false, meanSqrtLen: false }, dim: 768 }],
  });
}


/** A flat index over SciFact's ids with random unit vectors (seeded). */
function makeDenseIndex(work: string, model: string, dim: number): string {
  const ids = readFileSync(join(scifact, 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { _id: string })._id);
  const rnd = seededRandom(11);
  const vectors = new Float32Array(ids.length * dim);
  for (let r = 0; r < ids.length; r++) {
    let n2 = 0;
    for (let j = 0; j < dim; j++) n2 += (vectors[r * dim + j] = rnd() - 0.5) ** 2;
    for (let j = 0; j < dim; j++) vectors[r * dim + j]! /= Math.sqrt(n2);
  }
  const emb = join(work, 'emb');
  mkdirSync(emb);
  const shard = writeShard(emb, 0, ids, vectors, dim);
  writeManifest(emb, {
    format: EMBEDDINGS_FORMAT, version: 1, model, kind: 'passage', dim, dtype: 'float32', similarity: 'dot', input: 'random',
    total: ids.length, shardSize: ids.length, shards: [shard], truncated: { count: 0, maxLength: 0 }, complete: true,
  });
  buildFlatIndex(emb, join(work, 'flat'));
  return join(work, 'flat');
}

async function startService(args: string[]): Promise<{ child: ChildProcess; base: string }> {
  const cli = compiled ? [join(repo, 'dist/src/cli/run.js')] : ['--import', 'tsx', join(repo, 'src/cli/run.ts')];
  const child = spawn(process.execPath, [...cli, 'serve', '--port', '0', '--threads', String(THREADS), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d.toString();
      const m = stderr.match(/listening on (http:\/\/\S+)/);
      if (m) resolve({ child, base: m[1]! });
    });
    child.on('exit', (code) => reject(new Error(`densekit serve exited ${code}: ${stderr}`)));
  });
}

async function stopService(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Waits until the service has no query queued or in the encoder (requests abandoned by the last run). */
async function settle(base: string): Promise<void> {
  for (;;) {
    const health = (await (await fetch(`${base}/health`)).json()) as { queueDepth: number };
    if (health.queueDepth === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sum and count of the encoder batch-size histogram. */
async function batchStats(base: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const read = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1] ?? 0);
  return { sum: read('densekit_encoder_batch_size_sum'), count: read('densekit_encoder_batch_size_count') };
}

async function load(base: string, mode: string, connections: number, seconds: number, queries: string[]): Promise<AutocannonResult> {
  let next = 0;
  return autocannon({
    url: `${base}/search`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{
      setupRequest: (req: Record<string, unknown>) => ({
        ...req,
        body: JSON.stringify({ query: queries[next++ % queries.length], k: 10, mode, fields: [] }),
      }),
    }],
  });
}

const work = mkdtempSync(join(tmpdir(), 'dk-bench-serve-'));
let service: ChildProcess | undefined;
try {
  const wanted = process.env.DENSEKIT_BENCH_MODEL;
  let model: string;
  let dim: number;
  if (wanted === 'fixture') {
    model = join(shared, 'fixtures/models/tasb-distilbert-tiny');
    dim = 64;
  } else if (wanted) {
    model = wanted;
    const config = JSON.parse(readFileSync(join(wanted, 'config.json'), 'utf8')) as Record<string, number | undefined>;
    dim = Number(config.dim ?? config.hidden_size ?? config.d_model);
  } else {
    model = join(work, 'tasb-base-random');
    makeTasbSizedModel(model);
    dim = 768;
  }
  console.log(`setup: BM25 over SciFact, flat index of random ${dim}-d vectors, model ${wanted ?? 'DistilBERT-base (TAS-B size, random weights)'}`);
  await buildBm25Index(join(scifact, 'corpus.jsonl'), join(work, 'bm25'));
  const flat = makeDenseIndex(work, model, dim);
  const queries = readFileSync(join(scifact, 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);

  const header = `${'mode'.padEnd(24)} ${'clients'.padStart(7)} ${'queries/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'failed'.padStart(7)} ${'batch'.padStart(6)}`;
  const rows: string[] = [];
  const qps = new Map<string, number>();
  let failures = 0;
  for (const [label, mode, extra] of [
    ['bm25', 'bm25', []],
    ['dense', 'dense', []],
    ['hybrid', 'hybrid', []],
    ['dense, --max-batch 1', 'dense', ['--max-batch', '1']],
  ] as const) {
    const started = await startService(['--index', flat, '--index', join(work, 'bm25'), '--model', model, ...extra]);
    service = started.child;
    await load(started.base, mode, 4, 1, queries); // warm-up
    if (rows.length === 0) console.log(header);
    for (const clients of label.includes('max-batch') ? CLIENTS.filter((c) => c <= 16) : CLIENTS) {
      await settle(started.base);
      const before = await batchStats(started.base);
      const r = await load(started.base, mode, clients, SECONDS, queries);
      const after = await batchStats(started.base);
      const failed = r.non2xx + r.errors + r.timeouts;
      failures += failed;
      const batches = after.count - before.count;
      const meanBatch = batches > 0 ? ((after.sum - before.sum) / batches).toFixed(1) : '-';
      qps.set(`${label}@${clients}`, r.requests.average);
      rows.push(`${label.padEnd(24)} ${String(clients).padStart(7)} ${r.requests.average.toFixed(1).padStart(10)} ${String(r.latency.p50).padStart(8)} ${String(r.latency.p99).padStart(8)} ${String(failed).padStart(7)} ${meanBatch.padStart(6)}`);
      console.log(rows.at(-1));
    }
    await stopService(service);
    service = undefined;
  }
  const one = qps.get('dense@1');
  const sixteen = qps.get('dense@16');
  if (one && sixteen) {
    const ratio = sixteen / one;
    console.log(`dense throughput at 16 clients / 1 client: ${ratio.toFixed(2)}x (target >= 3x): ${ratio >= 3 ? 'met' : 'NOT met'}`);
  }
  console.log(failures === 0 ? 'no request failed' : `${failures} requests FAILED`);
  console.log(`${SECONDS} s per run, k=10, fields [] (ids and scores), service threads ${THREADS}; batch = mean queries per encoder call`);
  if (failures) process.exitCode = 1;
} finally {
  if (service) await stopService(service);
  rmSync(work, { recursive: true, force: true });
}
