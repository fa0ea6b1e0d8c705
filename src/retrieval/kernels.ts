/**
 * The two scoring primitives of flat search:
 * - scanCandidates: usearch's exactSearch (SIMD brute force, threads over queries) proposes the top `count`
 *   rows per query. Its float32 scores have an unspecified summation order and come back as "1 - dot", so
 *   callers treat the rows as candidates and rescore them.
 * - exactDot: the score densekit reports, float32 products accumulated in double and rounded to float32
 *   once (a float32 x float32 product is exact in double), independent of any kernel's summation order.
 */
import usearch from 'usearch';

/** Row numbers of the top `count` candidates per query (count per query, best first). */
export function scanCandidates(data: Float32Array | Int8Array, queries: Float32Array | Int8Array, dim: number, count: number, threads: number): Int32Array {
  const nq = queries.length / dim;
  const out = new Int32Array(nq * count);
  if (count === 0 || nq === 0) return out;
  // exactSearch reads from the start of each typed array's ArrayBuffer, ignoring byteOffset.
  if (data.byteOffset !== 0) throw new Error('scanCandidates: the data matrix must start at byte 0 of its buffer');
  if (queries.byteOffset !== 0) queries = queries.slice();
  const m = usearch.exactSearch(data, queries, dim, count, usearch.MetricKind.IP, threads);
  const keys = m.keys;
  if (keys.length !== nq * count) throw new Error(`usearch.exactSearch returned ${keys.length} keys for ${nq} queries x ${count}`);
  for (let i = 0; i < keys.length; i++) out[i] = Number(keys[i]);
  return out;
}

export function exactDot(q: Float32Array, data: Float32Array, offset: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += q[j]! * data[offset + j]!;
  return Math.fround(s);
}
