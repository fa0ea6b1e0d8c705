/**
 * Exact (flat) inner-product / cosine index over float32 vectors, optionally scanned through an int8 or
 * bfloat16 copy.
 *
 * Folder: index.json, vectors.f32 (raw float32 [count, dim]), ids.txt, and for int8 storage
 * vectors.i8 + int8-scales.f32, for bf16 storage vectors.bf16 (raw bfloat16 [count, dim]). Files are opened
 * memory-mapped when the tensor addon provides mmap.
 *
 * Search is two-stage and exact for float32 storage: a fast kernel proposes candidates, every candidate is
 * rescored with double-accumulated float32 products (then rounded to float32), and the hits are ordered by
 * score desc then id desc. A kernel's rounding can misorder documents only within a provable error bound
 * (|error| <= dim * 2^-24 * |q| * maxNorm, plus its float32 distance conversion); when the k-th exact score is
 * not clear of the weakest candidate by twice that bound, the query is re-scanned with more candidates, so
 * near-ties and exact ties at the cut-off are resolved the same way as a full exact scan would.
 * int8 / bf16 storage scans 4x / 2x fewer bytes and rescores `rescoreMultiplier * k` candidates against the
 * float32 rows: approximate by design (the scores reported are still exact float32 ones).
 *
 * Candidate kernels: the native scan (src/retrieval/scan-kernel.ts: rows split across threads, reaches memory
 * bandwidth for one query, scores a whole batch in one pass on AVX-512) for every batch size and for int8/bf16
 * rows; libtorch's sgemm for batches of TORCH_MIN_BATCH or more where the scan has no batch path (no AVX-512);
 * usearch's exactSearch when the addon is not built.
 */
import { join } from 'node:path';
import { InputError, positiveInteger, UsageError } from '../errors.js';
import { compareHits } from './hits.js';
import { LocalVectorIndex } from './local-index.js';
import type { Hit } from './types.js';
import { exactDot, scanCandidates } from './kernels.js';
import { nativeScan, scanTopKJs, type ScanFn, type ScanIsa } from './scan-kernel.js';
import { openFileBytes } from './mapped-file.js';
import { checkIndexFiles, INDEX_FORMAT, readIdsFile, readIndexMeta, writeIndexMeta, type IndexMeta, type Similarity } from './meta.js';
import { quantizeQueries } from './quantize.js';
import { loadTorch, measuredSgemmGflops, MIN_SGEMM_GFLOPS, scanCandidatesTorch } from './torch-kernel.js';
import { VECTORS_BF16, VECTORS_F32, VECTORS_I8, writeVectorFiles, type VectorStorage } from './build-vectors.js';
import { readFileSync, statSync } from 'node:fs';

export type FlatStorage = VectorStorage;

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
   * Candidate kernel for float32 rows: 'auto' (default: the native scan when the addon is built, except that
   * batches of TORCH_MIN_BATCH queries or more go through libtorch's sgemm when the scan has no AVX-512 batch
   * path and the BLAS is fast; usearch's SIMD scan without the addon), 'scan', 'usearch', 'torch', or the slow
   * exact 'js' scan.
   */
  kernel?: 'auto' | 'scan' | 'usearch' | 'torch' | 'js';
  /** Threads for the scan (0 = all cores). */
  threads?: number;
  /** int8 / bf16 storage: candidates rescored per hit wanted (sentence-transformers' default is 4). */
  rescoreMultiplier?: number;
  /** int8 / bf16 storage: false scans the float32 rows instead (exact; used to measure the compressed recall). */
  useCompressed?: boolean;
}

/** Builds a flat index folder from a `densekit encode` output folder. */
export function buildFlatIndex(embeddingsDir: string | readonly string[], outDir: string, opts: FlatBuildOptions = {}): FlatMeta {
  const info = writeVectorFiles(embeddingsDir, outDir, opts);
  const meta: FlatMeta = {
    format: INDEX_FORMAT, version: 1, type: 'flat', count: info.count, dim: info.dim, similarity: info.similarity,
    storage: info.storage, maxNorm: info.maxNorm, model: info.model, files: info.files,
  };
  writeIndexMeta(outDir, meta);
  return meta;
}

type MatrixDType = 'float32' | 'bfloat16' | 'int8';
const BYTES: Record<MatrixDType, number> = { float32: 4, bfloat16: 2, int8: 1 };

async function openMatrix(path: string, dtype: MatrixDType, rows: number, dim: number): Promise<Float32Array | Uint16Array | Int8Array> {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new InputError(path, undefined, 'missing (index folder incomplete)');
  }
  const bytes = rows * dim * BYTES[dtype];
  if (size !== bytes) throw new InputError(path, undefined, `file is ${size} bytes, expected ${bytes} for ${rows} x ${dim} ${dtype} (truncated or corrupt)`);
  const { buffer } = await openFileBytes(path);
  if (dtype === 'float32') return new Float32Array(buffer, 0, rows * dim);
  return dtype === 'bfloat16' ? new Uint16Array(buffer, 0, rows * dim) : new Int8Array(buffer, 0, rows * dim);
}

/** The compressed copy scanned first (int8 or bf16 storage). */
type CompressedRows = { dtype: 'int8'; codes: Int8Array; scales: Float32Array } | { dtype: 'bfloat16'; codes: Uint16Array };

/**
 * Without the scan's AVX-512 batch path, query batches at least this large go through libtorch's sgemm (when
 * available) in the 'auto' kernel (measured crossover on 2 cores, N = 100,000 x 768, pair-by-pair scan: 44 vs
 * sgemm 28 q/s at 16, 53 vs 60 at 32). With it, the scan is faster at every batch size (bench:search).
 */
export const TORCH_MIN_BATCH = 32;

export class FlatIndex extends LocalVectorIndex {
  readonly type: string = 'flat';
  private constructor(
    readonly dir: string,
    meta: FlatMeta,
    readonly ids: string[],
    /** Row-major float32 [size, dim]; do not modify (may be a read-only mapping). */
    readonly vectors: Float32Array,
    private readonly compressed: CompressedRows | null,
    readonly options: FlatSearchOptions,
    private readonly torch: Awaited<ReturnType<typeof loadTorch>>,
    private readonly scan: ScanFn | null,
  ) {
    super(meta);
  }

  /** Queries re-scanned with more candidates because a near-tie straddled the cut-off (see the file comment). */
  rescans = 0;

  /** Whether the native scan scores a query batch in one pass over the rows (its AVX-512 path). */
  get scanBatches(): boolean {
    this.scanIsa ??= this.scan ? this.scan(new Float32Array(this.dim), 'float32', new Float32Array(0), this.dim, 1, 1).isa : 'scalar';
    return this.scanIsa === 'avx512f';
  }
  private scanIsa: ScanIsa | undefined;

  static async open(dir: string, options: FlatSearchOptions = {}): Promise<FlatIndex> {
    const meta = readIndexMeta(dir) as FlatMeta;
    if (meta.type !== 'flat' && meta.type !== 'hnsw') throw new InputError(join(dir, 'index.json'), undefined, `type is "${meta.type}", expected a dense index`);
    checkIndexFiles(dir, meta);
    const ids = readIdsFile(join(dir, 'ids.txt'), meta.count);
    const vectors = (await openMatrix(join(dir, VECTORS_F32), 'float32', meta.count, meta.dim)) as Float32Array;
    let compressed: CompressedRows | null = null;
    const useCompressed = options.useCompressed ?? true;
    if (meta.storage === 'int8' && useCompressed) {
      const codes = (await openMatrix(join(dir, VECTORS_I8), 'int8', meta.count, meta.dim)) as Int8Array;
      const scalesPath = join(dir, 'int8-scales.f32');
      const raw = readFileSync(scalesPath);
      if (raw.byteLength !== 4 * meta.dim) throw new InputError(scalesPath, undefined, `${raw.byteLength} bytes, expected ${4 * meta.dim} (truncated or corrupt)`);
      compressed = { dtype: 'int8', codes, scales: new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) };
    } else if (meta.storage === 'bf16' && useCompressed) {
      compressed = { dtype: 'bfloat16', codes: (await openMatrix(join(dir, VECTORS_BF16), 'bfloat16', meta.count, meta.dim)) as Uint16Array };
    } else if (meta.storage !== 'float32' && meta.storage !== 'int8' && meta.storage !== 'bf16') {
      throw new InputError(join(dir, 'index.json'), undefined, `storage is ${JSON.stringify(meta.storage)}, expected "float32", "int8" or "bf16"`);
    }
    const kernel = options.kernel ?? 'auto';
    let torch = kernel === 'auto' || kernel === 'torch' ? await loadTorch() : null;
    if (kernel === 'auto' && torch && measuredSgemmGflops(torch) < MIN_SGEMM_GFLOPS) torch = null;
    if (kernel === 'torch' && !torch) throw new UsageError('"torch" needs the libtorch addon (build/Release/densekit.node); pick "usearch"', { param: 'kernel' });
    const scan = nativeScan();
    if (kernel === 'scan' && !scan) throw new UsageError('"scan" needs the densekit addon with scanTopK (npx node-gyp rebuild -j 2); pick "usearch"', { param: 'kernel' });
    return new FlatIndex(dir, meta, ids, vectors, compressed, options, torch, scan);
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
    positiveInteger('k', k);
    const q = this.prepareQueries(queries);
    const nq = q.length / this.dim;
    if (nq === 0 || this.size === 0) return Array.from({ length: nq }, () => []);
    const kernel = this.options.kernel ?? 'auto';
    const threads = this.options.threads ?? 0;
    if (this.compressed) {
      const multiplier = this.options.rescoreMultiplier ?? 4;
      positiveInteger('rescoreMultiplier', multiplier);
      const fetch = Math.min(this.size, k * multiplier);
      const rows = this.scanCompressed(this.compressed, q, fetch, threads);
      return Array.from({ length: nq }, (_, i) => this.rescore(q.subarray(i * this.dim, (i + 1) * this.dim), rows.subarray(i * fetch, (i + 1) * fetch), k).hits);
    }
    if (kernel === 'js') return Array.from({ length: nq }, (_, i) => this.exhaustive(q.subarray(i * this.dim, (i + 1) * this.dim), k));
    const fetch = Math.min(this.size, Math.max(2 * k, k + 32));
    const chosen = this.kernelFor(nq);
    const rows = chosen === 'torch' ? scanCandidatesTorch(this.torch!, this.vectors, q, this.dim, fetch, threads) : this.scanFloat(chosen === 'scan' ? 'scan' : 'usearch', q, fetch, threads);
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
        cand = this.scanFloat(this.scan && kernel !== 'usearch' ? 'scan' : 'usearch', qv, f, threads);
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
  kernelFor(queries: number): 'torch' | 'scan' | 'usearch' | 'js' {
    const kernel = this.options.kernel ?? 'auto';
    if (kernel === 'js' || kernel === 'usearch') return kernel;
    if (this.torch && (kernel === 'torch' || (kernel === 'auto' && queries >= TORCH_MIN_BATCH && !this.scanBatches))) return 'torch';
    return this.scan ? 'scan' : 'usearch';
  }

  /** The kernel that scans the compressed rows of an int8 / bf16 index ('js' only for bf16 without the addon). */
  get compressedKernel(): 'scan' | 'usearch' | 'js' | null {
    if (!this.compressed) return null;
    if (this.scan) return 'scan';
    return this.compressed.dtype === 'int8' ? 'usearch' : 'js';
  }

  private scanFloat(kernel: 'scan' | 'usearch', q: Float32Array, fetch: number, threads: number): Int32Array {
    if (kernel === 'scan' && this.scan) return this.scan(this.vectors, 'float32', q, this.dim, fetch, threads).rows;
    return scanCandidates(this.vectors, q, this.dim, fetch, threads);
  }

  /**
   * Candidate rows from the compressed copy. The native scan scores int8 codes against the float query with the
   * per-dimension scales folded in (decoded row . q, no query quantization); usearch, the fallback, needs int8
   * queries (quantizeQueries).
   */
  private scanCompressed(c: CompressedRows, q: Float32Array, fetch: number, threads: number): Int32Array {
    const scales = c.dtype === 'int8' ? c.scales : undefined;
    if (this.scan) return this.scan(c.codes, c.dtype, q, this.dim, fetch, threads, scales).rows;
    if (c.dtype === 'int8') return scanCandidates(c.codes, quantizeQueries(q, c.scales), this.dim, fetch, threads);
    return scanTopKJs(c.codes, c.dtype, q, this.dim, fetch).rows;
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
