/**
 * `npm run bench:search`: exact and approximate dense search on clustered synthetic unit vectors
 * (1,000 centroids + Gaussian noise, fixed seed, dim 768), 1,000 queries from the same distribution.
 * Prints build time, resident memory, exact top-10 queries/s at batch 1 and batch 1,000 (2 threads) with
 * the GB/s and GFLOP/s they imply, batch 1 through the native scan and through usearch, a small batch (8)
 * through the native scan and libtorch, int8 and bf16 storage batch-1 speed (GB/s of compressed rows
 * scanned, speed-up over float32) and recall@10 after float32 rescoring, and HNSW recall@10 vs queries/s for
 * efSearch 16..512. In the same run it measures the machine's limits: memory read bandwidth (a streaming
 * sum over a 3 GB array, libtorch) and sgemm peak (libtorch), and prints each exact figure as a fraction of
 * the limit that bounds it (bandwidth for batch 1, sgemm for batch 1,000).
 *
 * Peers in the same run: faiss IndexFlatIP (Debian's python3-faiss, bench/reference/faiss_search.py) on the same
 * float32 rows and queries at batch 1, 8, 64 and 1,000, each line with densekit's ratio to it; skipped with a
 * note when python3-faiss is not installed (apt-get install python3-faiss).
 *
 * Environment: DENSEKIT_BENCH_N (default "200000,1000000"), DENSEKIT_BENCH_THREADS (2),
 * DENSEKIT_BENCH_DIR (scratch folder, default the OS temp dir), DENSEKIT_BENCH_HNSW=0 to skip HNSW,
 * DENSEKIT_BENCH_BATCH1 (queries timed one at a time, default 50), DENSEKIT_BENCH_KERNEL (flat batch kernel:
 * auto|usearch|torch, default auto).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFlatIndex, buildHnswIndex, FlatIndex, HnswIndex, recallAtK, type Hit } from '../src/retrieval/index.js';
import { loadTorch } from '../src/retrieval/torch-kernel.js';
import { nativeScan } from '../src/retrieval/scan-kernel.js';
import { clustered, DIM, writeEncodeDir } from './synthetic.js';

const QUERIES = 1000;
const sizes = (process.env.DENSEKIT_BENCH_N ?? '200000,1000000').split(',').map(Number);
const threads = Number(process.env.DENSEKIT_BENCH_THREADS ?? 2);
const batch1Queries = Number(process.env.DENSEKIT_BENCH_BATCH1 ?? 50);
const withHnsw = process.env.DENSEKIT_BENCH_HNSW !== '0';
const batchKernel = (process.env.DENSEKIT_BENCH_KERNEL ?? 'auto') as 'auto' | 'usearch' | 'torch';
const scratch = mkdtempSync(join(process.env.DENSEKIT_BENCH_DIR ?? tmpdir(), 'densekit-bench-search-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

const log = (s: string) => process.stdout.write(s + '\n');
const gb = (bytes: number) => (bytes / 1e9).toFixed(2);
const rssGB = () => gb(process.memoryUsage().rss);
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

function time<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, (performance.now() - t) / 1000];
}

async function machineLimits(): Promise<{ bandwidthGBs: number; sgemmGflops: number; how: string }> {
  const t = await loadTorch();
  if (!t) {
    // Without the addon: a JS streaming sum is compute-bound, so this is a lower bound on bandwidth.
    const a = new Float32Array(768_000_000);
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const [, s] = time(() => { let x = 0; for (let i = 0; i < a.length; i++) x += a[i]!; return x; });
      best = Math.min(best, s);
    }
    return { bandwidthGBs: a.byteLength / best / 1e9, sgemmGflops: NaN, how: 'JS loop (no libtorch addon; lower bound)' };
  }
  t.setNumThreads(threads);
  log('measuring read bandwidth and sgemm peak...');
  const big = t.ones([768_000_000]); // 3.07 GB of float32
  let best = Infinity;
  for (let r = 0; r < 4; r++) {
    const [s, sec] = time(() => big.sum());
    s.dispose();
    best = Math.min(best, sec);
  }
  const bandwidthGBs = (768_000_000 * 4) / best / 1e9;
  big.dispose();
  log(`read bandwidth ${bandwidthGBs.toFixed(1)} GB/s; sgemm...`);
  const a = t.randn([1000, DIM]);
  const b = t.randn([DIM, 4096]);
  let bestMm = Infinity;
  for (let r = 0; r < 3; r++) {
    const [c, sec] = time(() => a.matmul(b));
    c.dispose();
    bestMm = Math.min(bestMm, sec);
  }
  a.dispose();
  b.dispose();
  return { bandwidthGBs, sgemmGflops: (2 * 1000 * DIM * 4096) / bestMm / 1e9, how: `libtorch ${t.libtorchVersion()}, ${threads} threads` };
}

const BATCHES = [1, 8, 64, 1000];

/** faiss IndexFlatIP queries/s per batch size on the same rows, or a reason it could not run. */
function faissRates(vectorsFile: string, queries: Float32Array): Record<string, number> | string {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import faiss, numpy'], { stdio: 'ignore' });
  if (probe.status !== 0) return 'not installed (apt-get install python3-faiss python3-numpy)';
  const qFile = join(scratch, 'queries.f32');
  writeFileSync(qFile, new Uint8Array(queries.buffer, queries.byteOffset, queries.byteLength));
  const script = new URL('../../bench/reference/faiss_search.py', import.meta.url).pathname;
  const r = spawnSync('/usr/bin/python3', [script, vectorsFile, qFile, String(DIM), String(threads), String(batch1Queries), BATCHES.join(',')], { encoding: 'utf8' });
  if (r.status !== 0) return `failed: ${r.stderr.trim().split('\n').at(-1)}`;
  const out = JSON.parse(r.stdout) as { version: string; qps: Record<string, number> };
  return out.qps;
}

function batch1(index: { search(q: Float32Array, k: number): Hit[][] }, queries: Float32Array, count: number): number {
  index.search(queries.subarray(0, DIM), 10); // warm the page cache / mapping
  const [, s] = time(() => { for (let i = 0; i < count; i++) index.search(queries.subarray(i * DIM, (i + 1) * DIM), 10); });
  return count / s;
}

async function benchSize(n: number, limits: { bandwidthGBs: number; sgemmGflops: number }): Promise<void> {
  log(`\n== N = ${n.toLocaleString('en-US')} x ${DIM} float32 (${gb(n * DIM * 4)} GB), ${QUERIES} queries, ${threads} threads ==`);
  const [vectors, genS] = time(() => clustered(n, 1));
  const queries = clustered(QUERIES, 2);
  const enc = join(scratch, `enc-${n}`);
  writeEncodeDir(enc, vectors, n);
  log(`data: generated in ${genS.toFixed(1)}s`);

  const flatDir = join(scratch, `flat-${n}`);
  const [, buildS] = time(() => buildFlatIndex(enc, flatDir));
  const flat = await FlatIndex.open(flatDir, { threads, kernel: batchKernel });
  const simd = await FlatIndex.open(flatDir, { threads, kernel: 'usearch' });
  const scan = nativeScan() ? await FlatIndex.open(flatDir, { threads, kernel: 'scan' }) : null;
  log(`flat: build ${buildS.toFixed(1)}s, rss after open ${rssGB()} GB`);
  const bound = (bytesPerQuery: number) => `bound ${(limits.bandwidthGBs * 1e9 / bytesPerQuery).toFixed(2)} q/s`;
  const bw = (qps: number, bytesPerQuery: number) => {
    const gbs = (qps * bytesPerQuery) / 1e9;
    return `${gbs.toFixed(1)} GB/s = ${pct(gbs / limits.bandwidthGBs)} of read bandwidth (${bound(bytesPerQuery)})`;
  };

  const [truth, b1000S] = time(() => flat.search(queries, 10));
  const qpsBatch = QUERIES / b1000S;
  const gflops = (2 * n * DIM * QUERIES) / b1000S / 1e9;
  log(`exact batch 1000 (${flat.kernelFor(QUERIES)} candidates + exact float32 rescoring): ${qpsBatch.toFixed(1)} q/s = ${gflops.toFixed(0)} GFLOP/s = ${pct(gflops / limits.sgemmGflops)} of sgemm peak; rescans ${flat.rescans}`);
  const f32Bytes = n * DIM * 4;
  const qpsUsearch = batch1(simd, queries, batch1Queries);
  const qpsScan = scan ? batch1(scan, queries, batch1Queries) : NaN;
  if (scan) log(`exact batch 1 (native scan candidates + exact float32 rescoring): ${qpsScan.toFixed(2)} q/s = ${bw(qpsScan, f32Bytes)}`);
  log(`exact batch 1 (usearch candidates + exact float32 rescoring): ${qpsUsearch.toFixed(2)} q/s = ${bw(qpsUsearch, f32Bytes)}`);
  const qps1 = scan ? qpsScan : qpsUsearch;
  for (const [name, idx] of [['usearch', simd], ['native scan', scan]] as const) {
    if (idx && JSON.stringify(idx.search(queries.subarray(0, 20 * DIM), 10)) !== JSON.stringify(truth.slice(0, 20))) throw new Error(`${name} and batch kernels disagree after rescoring`);
  }
  const timeBatch = (idx: FlatIndex, batch: number) => {
    // At least 3 timed passes (the same count as faiss_search.py): one pass of batch 1,000 is too short to compare.
    const reps = Math.max(3, Math.min(5, Math.floor(QUERIES / batch)));
    idx.search(queries.subarray(0, batch * DIM), 10);
    // Consecutive slices of the 1,000 queries; batch 1,000 repeats the whole set (as faiss_search.py does).
    const start = (b: number) => ((b * batch) % (QUERIES - batch + 1)) * DIM;
    const [, sec] = time(() => { for (let b = 0; b < reps; b++) idx.search(queries.subarray(start(b), start(b) + batch * DIM), 10); });
    return (reps * batch) / sec;
  };
  const ours: Record<string, number> = { 1: qps1 };
  for (const b of BATCHES) if (!(b in ours)) ours[b] = timeBatch(flat, b);
  const torchIdx = (await loadTorch()) ? await FlatIndex.open(flatDir, { threads, kernel: 'torch' }) : null;
  const torch8 = torchIdx ? timeBatch(torchIdx, 8) : NaN;
  const faiss = faissRates(join(flatDir, 'vectors.f32'), queries);
  log(`exact search side by side (top-10, ${threads} threads, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}):`);
  for (const b of BATCHES) {
    const peer = typeof faiss === 'string' ? NaN : faiss[String(b)]!;
    const kernelName = b === 1 ? (scan ? 'scan' : 'usearch') : flat.kernelFor(b);
    log(`  batch ${String(b).padStart(4)}: densekit ${ours[b]!.toFixed(1).padStart(7)} q/s (${kernelName}, ${(ours[b]! / ours[1]!).toFixed(2)}x batch 1)` +
      (Number.isNaN(peer) ? '' : `   faiss IndexFlatIP ${peer.toFixed(1).padStart(7)} q/s   densekit/best peer ${(ours[b]! / peer).toFixed(2)}`) +
      (b === 8 && torchIdx ? `   (libtorch sgemm kernel ${torch8.toFixed(1)} q/s)` : ''));
  }
  if (typeof faiss === 'string') log(`  faiss: ${faiss}`);
  rmSync(flatDir, { recursive: true, force: true });

  for (const storage of ['bf16', 'int8'] as const) {
    const dir = join(scratch, `${storage}-${n}`);
    const [, buildS2] = time(() => buildFlatIndex(enc, dir, { storage }));
    const idx = await FlatIndex.open(dir, { threads });
    const qps = batch1(idx, queries, batch1Queries);
    const qps8 = timeBatch(idx, 8);
    const sample = 200;
    const recall = recallAtK(idx.search(queries.subarray(0, sample * DIM), 10), truth.slice(0, sample));
    const bytes = n * DIM * (storage === 'bf16' ? 2 : 1);
    log(`${storage} flat (${idx.compressedKernel} candidates, 4k rescored in float32): build ${buildS2.toFixed(1)}s; batch 1 ${qps.toFixed(2)} q/s = ${(qps / qps1).toFixed(2)}x float32 = ${bw(qps, bytes)}; recall@10 ${recall.toFixed(4)} (${sample} queries); batch 8 ${qps8.toFixed(1)} q/s = ${(qps8 / ours[8]!).toFixed(2)}x float32`);
    rmSync(dir, { recursive: true, force: true });
  }

  if (withHnsw) {
    const hnswDir = join(scratch, `hnsw-${n}`);
    const t0 = performance.now();
    await buildHnswIndex(enc, hnswDir, { M: 16, efConstruction: 128, efSearch: 64 }, threads);
    log(`hnsw (usearch, M=16, efConstruction=128): build ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    const first = await HnswIndex.open(hnswDir, { threads });
    first.search(queries.subarray(0, 10 * DIM), 10);
    log(`  rss after opening the graph: ${rssGB()} GB`);
    for (const ef of [16, 32, 64, 128, 256, 512]) {
      const h = await HnswIndex.open(hnswDir, { efSearch: ef, threads });
      h.search(queries.subarray(0, 10 * DIM), 10);
      const [hits, s] = time(() => h.search(queries, 10));
      log(`  efSearch ${String(ef).padStart(3)}: recall@10 ${recallAtK(hits, truth).toFixed(4)} at ${(QUERIES / s).toFixed(0)} q/s (batch ${QUERIES})`);
    }
    rmSync(hnswDir, { recursive: true, force: true });
  }
  rmSync(enc, { recursive: true, force: true });
}

const limits = await machineLimits();
log(`machine: read bandwidth ${limits.bandwidthGBs.toFixed(1)} GB/s (sum over 3.07 GB), sgemm ${limits.sgemmGflops.toFixed(0)} GFLOP/s ([1000x768]x[768x4096]); ${limits.how}`);
for (const n of sizes) await benchSize(n, limits);
