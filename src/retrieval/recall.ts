/**
 * Recall of an approximate index against the exact one, on a sample of the indexed documents used as
 * queries (a document's nearest neighbour is itself, so the sample excludes nothing and needs no queries).
 */
import type { Hit } from './types.js';

export interface RecallReport {
  sample: number;
  k: number;
  /** Mean over the sample of |approx top-k ∩ exact top-k| / |exact top-k|. */
  recall: number;
  approxQueriesPerSecond: number;
  exactQueriesPerSecond: number;
}

interface Searchable {
  search(queries: Float32Array, k: number): Hit[][];
}

/** Deterministic sample of distinct rows (mulberry32 with a fixed seed, partial Fisher-Yates). */
export function sampleRows(count: number, sample: number, seed = 42): number[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const n = Math.min(sample, count);
  const picked = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (count - i));
    const vj = picked.get(j) ?? j;
    picked.set(j, picked.get(i) ?? i);
    out.push(vj);
  }
  return out;
}

export function recallAtK(approx: Hit[][], exact: Hit[][]): number {
  let sum = 0;
  for (let i = 0; i < exact.length; i++) {
    const truth = new Set(exact[i]!.map((h) => h.id));
    if (truth.size === 0) continue;
    let found = 0;
    for (const h of approx[i]!) if (truth.has(h.id)) found++;
    sum += found / truth.size;
  }
  return exact.length ? sum / exact.length : 1;
}

export function checkRecall(approx: Searchable, exact: Searchable, vectors: Float32Array, dim: number, sample: number, k: number): RecallReport {
  const rows = sampleRows(vectors.length / dim, sample);
  const queries = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => queries.set(vectors.subarray(r * dim, (r + 1) * dim), i * dim));
  let t = performance.now();
  const a = approx.search(queries, k);
  const approxSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const e = exact.search(queries, k);
  const exactSeconds = (performance.now() - t) / 1000;
  return {
    sample: rows.length, k, recall: recallAtK(a, e),
    approxQueriesPerSecond: rows.length / approxSeconds, exactQueriesPerSecond: rows.length / exactSeconds,
  };
}
