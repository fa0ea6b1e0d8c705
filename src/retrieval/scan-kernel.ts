/**
 * The native top-k scan (native/scan-kernel.h through the addon's `scanTopK`): rows split across threads, one
 * pass over memory for a whole query batch, float32 scores exact (double accumulation, rounded once). It
 * reaches memory bandwidth for a single query, where usearch's exactSearch (one thread per query) cannot; on
 * AVX-512 a batch is scored in tiles of 4 queries x 4 rows in one pass (float32 with a rigorous error bound, then
 * the few rows near the k-th score rescored in double), at about sgemm's rate for large batches. The addon is optional: without
 * it (or with DENSEKIT_NO_NATIVE_SCAN=1) `nativeScan()` is null and callers use usearch, or `scanTopKJs` for
 * bfloat16 rows.
 */
import { native, type NativeAddon } from '../tensor/native.js';

export type ScanDType = 'float32' | 'bfloat16' | 'int8';

export interface ScanResult {
  /** Row numbers, [nq, perQuery] row-major, best first (score desc, then row asc). */
  rows: Int32Array;
  /** The kernel's scores for those rows (see scan-kernel.h for their precision). */
  scores: Float32Array;
  /** min(k, count). */
  perQuery: number;
  /** The SIMD path used: 'avx512f' scores a batch in one pass over the rows; the others score pair by pair. */
  isa: ScanIsa;
}

export type ScanIsa = 'avx512f' | 'avx2' | 'scalar';

export type ScanFn = (data: Float32Array | Uint16Array | Int8Array, dtype: ScanDType, queries: Float32Array, dim: number, k: number, threads: number, scales?: Float32Array) => ScanResult;

let cached: ScanFn | null | undefined;

/** The native scan if the addon loads and has it, else null. */
export function nativeScan(): ScanFn | null {
  if (cached !== undefined) return cached;
  let addon: NativeAddon | null = null;
  try {
    addon = process.env.DENSEKIT_NO_NATIVE_SCAN ? null : native();
  } catch {
    addon = null; // the addon is optional: callers fall back to usearch / the JS scan
  }
  const scan = addon?.scanTopK?.bind(addon);
  cached = scan
    ? (data, dtype, queries, dim, k, threads, scales) => {
      if (data.length % dim !== 0) throw new Error(`scanTopK: ${data.length} values is not a multiple of dim ${dim}`);
      const count = data.length / dim;
      const r = scan(data, dtype, queries, dim, count, k, threads, scales);
      return { rows: r.ids, scores: r.scores, perQuery: Math.min(k, count), isa: r.isa };
    }
    : null;
  return cached;
}

/** bfloat16 bits -> float32 value (bf16 is the high half of a float32). */
export function bfloat16ToFloat(bits: number): number {
  F32_BITS[0] = bits << 16;
  return F32[0]!;
}
const F32 = new Float32Array(1);
const F32_BITS = new Uint32Array(F32.buffer);

/**
 * Plain-JS scan with the native kernel's contract (double accumulation over decoded values, ties by row): the
 * fallback for bfloat16 storage when the addon is not built. Slow (one thread, no SIMD) but correct.
 */
export function scanTopKJs(data: Float32Array | Uint16Array | Int8Array, dtype: ScanDType, queries: Float32Array, dim: number, k: number, scales?: Float32Array): ScanResult {
  const count = data.length / dim;
  const nq = queries.length / dim;
  const perQuery = Math.min(k, count);
  const decode = dtype === 'bfloat16' ? bfloat16ToFloat : dtype === 'int8' && scales ? (x: number, j: number) => x * scales[j]! : (x: number) => x;
  const rows = new Int32Array(nq * perQuery);
  const scores = new Float32Array(nq * perQuery);
  const s = new Float32Array(count);
  const order = new Int32Array(count);
  for (let qi = 0; qi < nq; qi++) {
    for (let r = 0; r < count; r++) {
      let acc = 0;
      for (let j = 0; j < dim; j++) acc += queries[qi * dim + j]! * decode(data[r * dim + j]!, j);
      s[r] = Number.isNaN(acc) ? -Infinity : acc;
      order[r] = r;
    }
    order.sort((a, b) => (s[b]! - s[a]!) || a - b);
    for (let i = 0; i < perQuery; i++) {
      rows[qi * perQuery + i] = order[i]!;
      scores[qi * perQuery + i] = s[order[i]!]!;
    }
  }
  return { rows, scores, perQuery, isa: 'scalar' };
}
