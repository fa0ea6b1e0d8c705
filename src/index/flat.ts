/**
 * Exact (flat) inner-product / cosine index over float32 vectors, optionally scanned through an int8 copy.
 *
 * Folder: index.json, vectors.f32 (raw float32 [count, dim]), ids.txt, and for int8 storage
 * vectors.i8 + int8-scales.f32. Files are opened memory-mapped when the tensor addon provides mmap.
 *
 * Search is two-stage and exact for float32 storage: a fast kernel proposes candidates, every candidate is
 * rescored with double-accumulated float32 products (then rounded to float32), and the hits are ordered by
 * score desc then id desc. A kernel's rounding can misorder documents only within a provable error bound
 * (|error| <= dim * 2^-24 * |q| * maxNorm, plus its float32 distance conversion); when the k-th exact score is
 * not clear of the weakest candidate by twice that bound, the query is re-scanned with more candidates, so
 * near-ties and exact ties at the cut-off are resolved the same way as a full exact scan would.
 * int8 storage scans 4x fewer bytes and rescores `rescoreMultiplier * k` candidates: approximate by design.
 */
import { join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { compareHits, type Hit } from './hits.js';
import { exactDot, scanCandidates } from './kernels.js';
import { openFileBytes } from './mapped-file.js';
import { INDEX_FORMAT, readIdsFile, readIndexMeta, writeIndexMeta, type IndexMeta, type Similarity } from './meta.js';
import { quantizeQueries } from './quantize.js';
import { loadTorch, measuredSgemmGflops, MIN_SGEMM_GFLOPS, scanCandidatesTorch } from './torch-kernel.js';
import { VECTORS_F32, VECTORS_I8, writeVectorFiles } from './build-vectors.js';
import { readFileSync, statSync } from 'node:fs';

export type FlatStorage = 'float32' | 'int8';

export interface FlatMeta extends IndexMeta {
  type: 'flat' | 'hnsw';
  dim: number;
  similarity: Similarity;
  storage: FlatStorage;
  maxNorm: number;
  model: string;
}

export interface FlatBuildOptions {
  /** Override the manifest's similarity; 'cosine' over a 'dot' model stores normalized rows. */
  similarity?: Similarity;
  storage?: FlatStorage;
}

export interface FlatSearchOptions {
  /**
   * Candidate kernel: 'auto' (default: libtorch sgemm for batches of TORCH_MIN_BATCH queries or more when
   * the addon loads and its BLAS is fast, usearch's SIMD scan otherwise), 'usearch', 'torch', or the slow
   * exact 'js' scan.
   */
  kernel?: 'auto' | 'usearch' | 'torch' | 'js';
  /** Threads for the scan (0 = all cores). */
  threads?: number;
  /** int8 storage: candidates rescored per hit wanted (sentence-transformers' default is 4). */
  rescoreMultiplier?: number;
  /** int8 storage: false scans the float32 rows instead (exact; used to measure the int8 recall). */
  useInt8?: boolean;
}

/** Builds a flat index folder from a `densekit encode` output folder. */
export function buildFlatIndex(embeddingsDir: string, outDir: string, opts: FlatBuildOptions = {}): FlatMeta {
  const info = writeVectorFiles(embeddingsDir, outDir, opts);
  const meta: FlatMeta = {
    format: INDEX_FORMAT, version: 1, type: 'flat', count: info.count, dim: info.dim, similarity: info.similarity,
    storage: info.storage, maxNorm: info.maxNorm, model: info.model,
  };
  writeIndexMeta(outDir, meta);
  return meta;
}

async function openMatrix(path: string, dtype: 'float32' | 'int8', rows: number, dim: number): Promise<Float32Array | Int8Array> {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new InputError(path, undefined, 'missing (index folder incomplete)');
  }
  const bytes = rows * dim * (dtype === 'float32' ? 4 : 1);
  if (size !== bytes) throw new InputError(path, undefined, `file is ${size} bytes, expected ${bytes} for ${rows} x ${dim} ${dtype} (truncated or corrupt)`);
  const { buffer } = await openFileBytes(path);
  return dtype === 'float32' ? new Float32Array(buffer, 0, rows * dim) : new Int8Array(buffer, 0, rows * dim);
}

/** Query batches at least this large go through libtorch's sgemm (when available) in the 'auto' kernel. */
export const TORCH_MIN_BATCH = 16;

export class FlatIndex {
  private constructor(
    readonly dir: string,
    readonly meta: FlatMeta,
    readonly ids: string[],
    /** Row-major float32 [size, dim]; do not modify (may be a read-only mapping). */
    readonly vectors: Float32Array,
    private readonly int8: { codes: Int8Array; scales: Float32Array } | null,
    readonly options: FlatSearchOptions,
    private readonly torch: Awaited<ReturnType<typeof loadTorch>>,
  ) {}

  /** Queries re-scanned with more candidates because a near-tie straddled the cut-off (see the file comment). */
  rescans = 0;

  static async open(dir: string, options: FlatSearchOptions = {}): Promise<FlatIndex> {
    const meta = readIndexMeta(dir) as FlatMeta;
    if (meta.type !== 'flat' && meta.type !== 'hnsw') throw new InputError(join(dir, 'index.json'), undefined, `type is "${meta.type}", expected a dense index`);
    const ids = readIdsFile(join(dir, 'ids.txt'), meta.count);
    const vectors = (await openMatrix(join(dir, VECTORS_F32), 'float32', meta.count, meta.dim)) as Float32Array;
    let int8: FlatIndex['int8'] = null;
    if (meta.storage === 'int8' && options.useInt8 !== false) {
      const codes = (await openMatrix(join(dir, VECTORS_I8), 'int8', meta.count, meta.dim)) as Int8Array;
      const scalesPath = join(dir, 'int8-scales.f32');
      const raw = readFileSync(scalesPath);
      if (raw.byteLength !== 4 * meta.dim) throw new InputError(scalesPath, undefined, `${raw.byteLength} bytes, expected ${4 * meta.dim} (truncated or corrupt)`);
      int8 = { codes, scales: new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) };
    }
    const kernel = options.kernel ?? 'auto';
    let torch = kernel === 'auto' || kernel === 'torch' ? await loadTorch() : null;
    if (kernel === 'auto' && torch && measuredSgemmGflops(torch) < MIN_SGEMM_GFLOPS) torch = null;
    if (kernel === 'torch' && !torch) throw new UsageError('the torch kernel needs the libtorch addon (build/Release/densekit.node); pick --kernel usearch');
    return new FlatIndex(dir, meta, ids, vectors, int8, options, torch);
  }

  get size(): number {
    return this.meta.count;
  }
  get dim(): number {
    return this.meta.dim;
  }
  get similarity(): Similarity {
    return this.meta.similarity;
  }

  /** Queries as they will be scored: checked, and unit-normalized for cosine indexes when not already. */
  prepareQueries(queries: Float32Array): Float32Array {
    const dim = this.dim;
    if (queries.length % dim !== 0) throw new UsageError(`query vectors: ${queries.length} values is not a multiple of the index dimension ${dim}`);
    if (this.similarity !== 'cosine') return queries;
    let out: Float32Array | null = null;
    for (let q = 0; q < queries.length / dim; q++) {
      let n2 = 0;
      for (let j = 0; j < dim; j++) n2 += queries[q * dim + j]! ** 2;
      const norm = Math.sqrt(n2);
      // Already-normalized model outputs are left bit-identical (re-normalizing would perturb the last ulp).
      if (norm > 0 && Math.abs(norm - 1) > 1e-4) {
        out ??= Float32Array.from(queries);
        for (let j = 0; j < dim; j++) out[q * dim + j] = queries[q * dim + j]! / norm;
      }
    }
    return out ?? queries;
  }

  /** Exact float32 score of one row (double accumulation, rounded once). */
  score(query: Float32Array, row: number): number {
    return exactDot(query, this.vectors, row * this.dim, this.dim);
  }

  /** Top-k hits for each of the n = queries.length / dim queries (row-major). */
  search(queries: Float32Array, k: number): Hit[][] {
    if (!Number.isInteger(k) || k <= 0) throw new UsageError(`k must be a positive integer, got ${k}`);
    const q = this.prepareQueries(queries);
    const nq = q.length / this.dim;
    if (nq === 0 || this.size === 0) return Array.from({ length: nq }, () => []);
    const kernel = this.options.kernel ?? 'auto';
    const threads = this.options.threads ?? 0;
    if (this.int8) {
      const fetch = Math.min(this.size, k * (this.options.rescoreMultiplier ?? 4));
      const rows = scanCandidates(this.int8.codes, quantizeQueries(q, this.int8.scales), this.dim, fetch, threads);
      return Array.from({ length: nq }, (_, i) => this.rescore(q.subarray(i * this.dim, (i + 1) * this.dim), rows.subarray(i * fetch, (i + 1) * fetch), k).hits);
    }
    if (kernel === 'js') return Array.from({ length: nq }, (_, i) => this.exhaustive(q.subarray(i * this.dim, (i + 1) * this.dim), k));
    const fetch = Math.min(this.size, Math.max(2 * k, k + 32));
    const rows = this.kernelFor(nq) === 'torch'
      ? scanCandidatesTorch(this.torch!, this.vectors, q, this.dim, fetch, threads)
      : scanCandidates(this.vectors, q, this.dim, fetch, threads);
    const out: Hit[][] = [];
    for (let i = 0; i < nq; i++) {
      const qv = q.subarray(i * this.dim, (i + 1) * this.dim);
      let cand = rows.subarray(i * fetch, (i + 1) * fetch);
      let f = fetch;
      for (;;) {
        const r = this.rescore(qv, cand, k);
        if (f >= this.size || r.kth - r.weakest > 2 * this.errorBound(qv)) {
          out.push(r.hits);
          break;
        }
        f = Math.min(this.size, 4 * f);
        this.rescans++;
        cand = scanCandidates(this.vectors, qv, this.dim, f, threads);
      }
    }
    return out;
  }

  /** Scores every row exactly; the reference path (and the fallback when no fast kernel is usable). */
  private exhaustive(q: Float32Array, k: number): Hit[] {
    const scores = new Float32Array(this.size);
    for (let r = 0; r < this.size; r++) scores[r] = this.score(q, r);
    const threshold = Float32Array.from(scores).sort()[Math.max(0, this.size - k)]!;
    const hits: Hit[] = [];
    for (let r = 0; r < this.size; r++) if (scores[r]! >= threshold) hits.push({ id: this.ids[r]!, score: scores[r]! });
    hits.sort(compareHits);
    if (hits.length > k) hits.length = k;
    return hits;
  }

  /** The candidate kernel a float32 search of `queries` queries uses. */
  kernelFor(queries: number): 'torch' | 'usearch' | 'js' {
    const kernel = this.options.kernel ?? 'auto';
    if (kernel === 'js') return 'js';
    if (this.torch && (kernel === 'torch' || (kernel === 'auto' && queries >= TORCH_MIN_BATCH))) return 'torch';
    return 'usearch';
  }

  /** Worst-case rounding difference between any kernel's float32 score and the exact one for this query. */
  private errorBound(q: Float32Array): number {
    let n2 = 0;
    for (let j = 0; j < q.length; j++) n2 += q[j]! ** 2;
    const bound = Math.sqrt(n2) * this.meta.maxNorm;
    // Summation (any order) + the kernel's "1 - dot" distance conversion, with a 2x safety factor.
    return 2 * ((this.dim + 2) * 2 ** -24 * bound + 2 ** -23 * Math.max(1, bound));
  }

  private rescore(q: Float32Array, rows: Int32Array, k: number): { hits: Hit[]; kth: number; weakest: number } {
    const hits: Hit[] = new Array(rows.length);
    let weakest = Infinity;
    for (let c = 0; c < rows.length; c++) {
      const row = rows[c]!;
      const score = this.score(q, row);
      if (score < weakest) weakest = score;
      hits[c] = { id: this.ids[row]!, score };
    }
    hits.sort(compareHits);
    if (hits.length > k) hits.length = k;
    return { hits, kth: hits.length ? hits[hits.length - 1]!.score : -Infinity, weakest };
  }
}
