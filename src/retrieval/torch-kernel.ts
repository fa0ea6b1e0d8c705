/**
 * Candidate scan for query batches through libtorch's sgemm (src/tensor): scores = Q · Dᵀ chunk by chunk,
 * top-`count` per chunk, merged across chunks on the torch side. At batch sizes of tens of queries and more
 * this runs at matrix-multiply speed, where a per-pair SIMD scan (usearch) is bound by compute per byte.
 * Each chunk is copied into a tensor (libtorch has no zero-copy view of a JS buffer here); for a batch the
 * copy is a few percent of the multiply. Loaded on demand: the addon is optional.
 */
type TensorModule = typeof import('../tensor/index.js');

let torch: TensorModule | null | undefined;

/** The tensor module if the addon loads on this machine, else null (callers fall back to usearch). */
export async function loadTorch(): Promise<TensorModule | null> {
  if (torch !== undefined) return torch;
  try {
    const mod = await import('../tensor/index.js');
    mod.getNumThreads(); // throws here if the native addon is not built
    torch = mod;
  } catch {
    torch = null;
  }
  return torch;
}

let sgemmRate: number | undefined;
/**
 * GFLOP/s of a small float32 matmul (measured once: milliseconds with an optimized sgemm). A libtorch whose
 * sgemm is slow (a reference BLAS: about 1 GFLOP/s) would lose to usearch's scan, so the 'auto' kernel only
 * uses libtorch above MIN_SGEMM_GFLOPS.
 */
export function measuredSgemmGflops(t: TensorModule): number {
  if (sgemmRate !== undefined) return sgemmRate;
  sgemmRate = t.scope(() => {
    const a = t.rand([64, 768]);
    const b = t.rand([768, 1024]);
    a.matmul(b); // warm-up
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const start = performance.now();
      a.matmul(b);
      best = Math.min(best, (performance.now() - start) / 1000);
    }
    return (2 * 64 * 768 * 1024) / Math.max(best, 1e-6) / 1e9;
  });
  return sgemmRate;
}

// Far below any optimized BLAS even on a busy machine, far above the reference BLAS (about 1 GFLOP/s).
export const MIN_SGEMM_GFLOPS = 4;

const CHUNK_ROWS = 65536;

export function scanCandidatesTorch(t: TensorModule, data: Float32Array, queries: Float32Array, dim: number, count: number, threads: number): Int32Array {
  const rows = data.length / dim;
  const nq = queries.length / dim;
  if (threads > 0 && t.getNumThreads() !== threads) t.setNumThreads(threads);
  return t.scope(() => {
    const q = t.tensor(queries, { shape: [nq, dim] });
    let bestValues: import('../tensor/index.js').Tensor | null = null;
    let bestRows: import('../tensor/index.js').Tensor | null = null;
    for (let start = 0; start < rows; start += CHUNK_ROWS) {
      const end = Math.min(rows, start + CHUNK_ROWS);
      // Nested scope: each chunk's intermediates are freed as soon as the merge is done.
      [bestValues, bestRows] = t.scope(() => {
        const d = t.tensor(data.subarray(start * dim, end * dim), { shape: [end - start, dim] });
        const scores = q.matmul(d.transpose(0, 1));
        const top = scores.topk(Math.min(count, end - start), 1);
        let values = top.values;
        let idx = top.indices.add(start);
        if (bestValues && bestRows) {
          values = t.cat([bestValues, values], 1);
          idx = t.cat([bestRows, idx], 1);
          const merged = values.topk(count, 1);
          return [merged.values, idx.gather(1, merged.indices)];
        }
        return [values, idx];
      });
    }
    return Int32Array.from(bestRows!.toInt32Array());
  });
}
