/**
 * The page's search over the site's vectors (node-free; bundled into app.js). It ranks as `densekit search`
 * ranks an int8-storage flat index (src/retrieval/flat.ts): the int8 rows, decoded with their per-dimension
 * scales, are scored against the float query (as the native int8 scan does), the best
 * RESCORE_MULTIPLIER x k rows (ties: lower row first) are rescored exactly in float32 against vectors.f32
 * (float32 products summed in double, rounded once, as kernels.ts exactDot), and hits are ordered by
 * compareHits (score desc, then id desc, bytewise). Without the float32 rows the int8 scores rank.
 * Always an exact scan of every row: an HNSW index is searched here through its vectors, not its graph.
 */
import { compareHits } from '../../retrieval/hits.js';
import type { Hit } from '../../retrieval/types.js';
import { RESCORE_MULTIPLIER, type Similarity } from '../site-format.js';

export interface SiteVectors {
  count: number;
  dim: number;
  similarity: Similarity;
  codes: Int8Array;
  scales: Float32Array;
  /** float32 rows for rescoring, or null (rescore 'none'). */
  rows: Float32Array | null;
  ids: readonly string[];
}

/** As FlatIndex.prepareQueries: a cosine index normalizes a query whose norm is not already 1 (within 1e-4). */
export function prepareQuery(q: Float32Array, similarity: Similarity): Float32Array {
  if (similarity !== 'cosine') return q;
  let n2 = 0;
  for (let j = 0; j < q.length; j++) n2 += q[j]! ** 2;
  const norm = Math.sqrt(n2);
  if (!(norm > 0) || Math.abs(norm - 1) <= 1e-4) return q;
  return q.map((x) => x / norm);
}

/** Row numbers of the `fetch` best int8 scores, best first (ties: lower row first). */
export function int8Candidates(v: SiteVectors, q: Float32Array, fetch: number): { rows: Int32Array; scores: Float64Array } {
  const { dim, count, codes, scales } = v;
  const qs = new Float64Array(dim);
  for (let j = 0; j < dim; j++) qs[j] = q[j]! * scales[j]!;
  // A min-heap of the best `fetch` (score, row) pairs seen so far; the root is the weakest kept.
  const hs = new Float64Array(fetch);
  const hr = new Int32Array(fetch);
  let size = 0;
  const worse = (a: number, b: number): boolean => hs[a]! < hs[b]! || (hs[a] === hs[b] && hr[a]! > hr[b]!);
  const swap = (a: number, b: number): void => {
    const s = hs[a]!; hs[a] = hs[b]!; hs[b] = s;
    const r = hr[a]!; hr[a] = hr[b]!; hr[b] = r;
  };
  for (let r = 0, off = 0; r < count; r++, off += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += codes[off + j]! * qs[j]!;
    if (size < fetch) {
      hs[size] = s; hr[size] = r;
      for (let i = size++; i > 0;) {
        const p = (i - 1) >> 1;
        if (!worse(i, p)) break;
        swap(i, p);
        i = p;
      }
    } else if (s > hs[0]!) { // equal scores keep the earlier (lower) row already held
      hs[0] = s; hr[0] = r;
      for (let i = 0; ;) {
        const l = 2 * i + 1, rr = l + 1;
        let m = i;
        if (l < size && worse(l, m)) m = l;
        if (rr < size && worse(rr, m)) m = rr;
        if (m === i) break;
        swap(i, m);
        i = m;
      }
    }
  }
  const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => hs[b]! - hs[a]! || hr[a]! - hr[b]!);
  return { rows: Int32Array.from(order, (i) => hr[i]!), scores: Float64Array.from(order, (i) => hs[i]!) };
}

/** Top-k hits for one query vector (model output; normalized here for cosine sites). */
export function searchVectors(v: SiteVectors, query: Float32Array, k: number): Hit[] {
  if (query.length !== v.dim) throw new Error(`the model gave ${query.length} values, the site holds ${v.dim}-dimensional vectors`);
  const q = prepareQuery(query, v.similarity);
  const fetch = Math.min(v.count, v.rows ? k * RESCORE_MULTIPLIER : k);
  if (fetch === 0) return [];
  const cand = int8Candidates(v, q, fetch);
  const hits: Hit[] = new Array(cand.rows.length);
  for (let c = 0; c < cand.rows.length; c++) {
    const row = cand.rows[c]!;
    let score: number;
    if (v.rows) {
      let s = 0;
      for (let j = 0, off = row * v.dim; j < v.dim; j++) s += q[j]! * v.rows[off + j]!;
      score = Math.fround(s);
    } else score = Math.fround(cand.scores[c]!);
    hits[c] = { id: v.ids[row]!, score };
  }
  hits.sort(compareHits);
  return hits.slice(0, k);
}
