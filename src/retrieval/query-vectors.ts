/**
 * Precomputed query vectors: a `densekit encode` output of the queries, attached to Query objects so that
 * dense search runs without loading a model (DenseRetriever encodes only queries that carry no vector).
 */
import { UsageError } from '../errors.js';
import { readEmbeddings } from '../formats/index.js';
import type { Query } from './types.js';

/**
 * `queries` with their vectors from `dir`; without `queries`, one query per encoded row (text ''). The
 * embeddings' model comes back too, for the index's model check.
 */
export function withQueryVectors(dir: string, queries?: readonly Query[]): { queries: Query[]; model: string } {
  const { manifest, ids, vectors } = readEmbeddings(dir);
  const dim = manifest.dim;
  const row = (i: number) => vectors.subarray(i * dim, (i + 1) * dim);
  if (!queries) return { queries: ids.map((id, i) => ({ id, text: '', vector: row(i) })), model: manifest.model };
  const rowOf = new Map(ids.map((id, i) => [id, i]));
  return {
    model: manifest.model,
    queries: queries.map((q) => {
      const i = rowOf.get(q.id);
      if (i === undefined) throw new UsageError(`query "${q.id}" has no vector in ${dir} (encode the same queries file)`);
      return { ...q, vector: row(i) };
    }),
  };
}
