/**
 * k-means in inner-product space, as TAS-Balanced clusters its training queries: the released code trains a
 * faiss IVF index with METRIC_INNER_PRODUCT on the baseline model's (unnormalized CLS) query vectors, which makes
 * faiss run *spherical* k-means (centroids L2-normalized after every update; data left as is; assignment by
 * maximum inner product) for 10 iterations, on at most 256 points per centroid, then assigns every query to its
 * nearest centroid. This reproduces that algorithm (not faiss's random stream).
 */
import { nativeScan } from '../../retrieval/scan-kernel.js';
import { Rng } from '../rng.js';

export interface KMeansOptions {
  k: number;
  /** faiss IVF's default is 10. */
  iterations?: number;
  /** Training subsample cap per centroid (faiss: 256). */
  maxPointsPerCentroid?: number;
  seed?: number;
  /** Independent runs from different random initialisations; the best objective wins (faiss nredo, default 1). */
  restarts?: number;
  /** Called after each iteration with the mean best inner product (the objective being maximised). */
  onIteration?: (iteration: number, objective: number) => void;
}

export interface KMeansResult {
  /** [k, dim] unit-norm centroids, row-major. */
  centroids: Float32Array;
  dim: number;
  k: number;
  /** Cluster of every input vector. */
  assignment: Int32Array;
  /** Mean inner product of each point with its centroid after the final assignment. */
  objective: number;
}

export function sphericalKMeans(vectors: Float32Array, dim: number, options: KMeansOptions): KMeansResult {
  const restarts = options.restarts ?? 1;
  if (!Number.isInteger(restarts) || restarts < 1) throw new RangeError(`restarts must be a positive integer, got ${restarts}`);
  const rng = new Rng(options.seed ?? 1234);
  let best: KMeansResult | undefined;
  for (let r = 0; r < restarts; r++) {
    const result = runOnce(vectors, dim, options, rng);
    if (!best || result.objective > best.objective) best = result;
  }
  return best!;
}

function runOnce(vectors: Float32Array, dim: number, options: KMeansOptions, rng: Rng): KMeansResult {
  const { k, iterations = 10, maxPointsPerCentroid = 256 } = options;
  const n = vectors.length / dim;
  if (!Number.isInteger(n)) throw new RangeError(`vector buffer length ${vectors.length} is not a multiple of dim ${dim}`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (n < k) throw new RangeError(`k-means with k=${k} needs at least ${k} vectors, got ${n}`);

  // Train on a uniform subsample when there are more points than k * maxPointsPerCentroid (faiss does the same).
  const cap = k * maxPointsPerCentroid;
  let train: Float32Array = vectors;
  let nt = n;
  if (n > cap) {
    const picked = rng.sample(range(n), cap);
    train = new Float32Array(cap * dim);
    picked.forEach((row, i) => train.set(vectors.subarray(row * dim, (row + 1) * dim), i * dim));
    nt = cap;
  }

  const centroids = new Float32Array(k * dim);
  rng.sample(range(nt), k).forEach((row, c) => centroids.set(train.subarray(row * dim, (row + 1) * dim), c * dim));
  normalizeRows(centroids, dim);

  const assign = new Int32Array(nt);
  for (let it = 0; it < iterations; it++) {
    const objective = assignNearest(train, centroids, dim, assign);
    options.onIteration?.(it, objective);
    const sums = new Float64Array(k * dim);
    const counts = new Float64Array(k);
    for (let i = 0; i < nt; i++) {
      const c = assign[i]!;
      counts[c]!++;
      const off = i * dim;
      const coff = c * dim;
      for (let d = 0; d < dim; d++) sums[coff + d]! += train[off + d]!;
    }
    for (let c = 0; c < k; c++) {
      if (counts[c]! === 0) continue;
      for (let d = 0; d < dim; d++) centroids[c * dim + d] = sums[c * dim + d]! / counts[c]!;
    }
    splitEmptyClusters(centroids, counts, dim, rng);
    normalizeRows(centroids, dim);
  }
  const assignment = new Int32Array(n);
  const objective = assignNearest(vectors, centroids, dim, assignment);
  return { centroids, dim, k, assignment, objective };
}

/** Index of the centroid with the largest inner product for each row (ties: lowest index). Returns the mean best score. */
export function assignNearest(vectors: Float32Array, centroids: Float32Array, dim: number, out: Int32Array): number {
  const scan = nativeScan();
  if (scan) {
    // The native scan (multi-threaded, SIMD, double accumulation, ties by lowest row) does the n x k products
    // ~50x faster than the JS loop below, which MS MARCO-size clustering (k = 2,000) needs.
    const n = vectors.length / dim;
    let total = 0;
    const CHUNK = 4096;
    for (let start = 0; start < n; start += CHUNK) {
      const part = vectors.subarray(start * dim, Math.min(n, start + CHUNK) * dim);
      const r = scan(centroids, 'float32', part, dim, 1, 0);
      out.set(r.rows, start);
      for (const x of r.scores) total += x;
    }
    return n > 0 ? total / n : 0;
  }
  return assignNearestJs(vectors, centroids, dim, out);
}

export function assignNearestJs(vectors: Float32Array, centroids: Float32Array, dim: number, out: Int32Array): number {
  const n = vectors.length / dim;
  const k = centroids.length / dim;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const off = i * dim;
    let best = -Infinity;
    let bestC = 0;
    for (let c = 0; c < k; c++) {
      const coff = c * dim;
      let s = 0;
      for (let d = 0; d < dim; d++) s += vectors[off + d]! * centroids[coff + d]!;
      if (s > best) {
        best = s;
        bestC = c;
      }
    }
    out[i] = bestC;
    total += best;
  }
  return n > 0 ? total / n : 0;
}

/**
 * faiss's remedy for an empty cluster: copy a centroid chosen with probability proportional to its size and
 * nudge the two copies apart symmetrically; the donor's points are then shared between them.
 */
function splitEmptyClusters(centroids: Float32Array, counts: Float64Array, dim: number, rng: Rng): void {
  const k = counts.length;
  const EPS = 1 / 1024;
  const total = counts.reduce((a, b) => a + b, 0);
  for (let c = 0; c < k; c++) {
    if (counts[c]! !== 0) continue;
    let donor = 0;
    for (;;) {
      const r = rng.nextFloat() * (total - k);
      let acc = 0;
      for (donor = 0; donor < k; donor++) {
        acc += Math.max(counts[donor]! - 1, 0);
        if (acc > r) break;
      }
      if (donor < k) break;
    }
    for (let d = 0; d < dim; d++) {
      const v = centroids[donor * dim + d]!;
      const sign = d % 2 === 0 ? 1 : -1;
      centroids[c * dim + d] = v * (1 + sign * EPS);
      centroids[donor * dim + d] = v * (1 - sign * EPS);
    }
    counts[c] = counts[donor]! / 2;
    counts[donor] = counts[donor]! - counts[c]!;
  }
}

function normalizeRows(m: Float32Array, dim: number): void {
  for (let off = 0; off < m.length; off += dim) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += m[off + d]! * m[off + d]!;
    const norm = Math.sqrt(s);
    if (norm > 0) for (let d = 0; d < dim; d++) m[off + d] = m[off + d]! / norm;
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
