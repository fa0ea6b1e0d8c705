/**
 * Where dense query vectors come from: a model (encoded on the fly with the encoder `densekit encode` uses)
 * or a `densekit encode` output of the queries (so dense search runs without loading a model).
 */
import { UsageError } from '../errors.js';
import { readEmbeddings } from '../encode/shards.js';
import type { EncoderOptions } from '../models/index.js';
import type { Query } from './queries.js';

export interface QueryVectorSource {
  dim: number;
  /** n * dim row-major vectors for these queries, in order. */
  vectors(queries: readonly Query[]): Promise<Float32Array>;
  close(): void;
}

export async function modelQueryVectors(model: string, options: EncoderOptions = {}): Promise<QueryVectorSource> {
  // Loaded on demand: the encoder pulls in the libtorch addon, which BM25 and precomputed vectors never need.
  const { openEncoder } = await import('../encode/index.js');
  const enc = await openEncoder(model, options);
  return { dim: enc.dim, vectors: (qs) => enc.encodeQueries(qs.map((q) => q.text)), close: () => enc.close() };
}

export function precomputedQueryVectors(dir: string): QueryVectorSource & { ids: string[] } {
  const { manifest, ids, vectors } = readEmbeddings(dir);
  const dim = manifest.dim;
  const rowOf = new Map(ids.map((id, i) => [id, i]));
  return {
    dim,
    ids,
    async vectors(qs) {
      const out = new Float32Array(qs.length * dim);
      qs.forEach((q, i) => {
        const row = rowOf.get(q.id);
        if (row === undefined) throw new UsageError(`query "${q.id}" has no vector in ${dir} (encode the same queries file)`);
        out.set(vectors.subarray(row * dim, (row + 1) * dim), i * dim);
      });
      return out;
    },
    close() {},
  };
}
