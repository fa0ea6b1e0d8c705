/**
 * What the in-process vector indexes (flat, hnsw) share behind the VectorIndex seam: their shape comes from
 * index.json, and their search is synchronous (a memory scan), so the async seam just wraps it.
 */
import type { FlatMeta } from './flat.js';
import type { Hit, SearchOptions, Similarity, VectorIndex } from './types.js';

export abstract class LocalVectorIndex<M extends FlatMeta = FlatMeta> implements VectorIndex {
  abstract readonly type: string;
  constructor(readonly meta: M) {}

  get size(): number {
    return this.meta.count;
  }
  get dim(): number {
    return this.meta.dim;
  }
  get similarity(): Similarity {
    return this.meta.similarity;
  }
  get model(): string | undefined {
    return this.meta.model;
  }

  /** Top-k hits for each of the n = queries.length / dim queries (row-major), synchronously. */
  abstract search(queries: Float32Array, k: number): Hit[][];

  async searchVectors(vectors: Float32Array, k: number, _opts?: SearchOptions): Promise<Hit[][]> {
    return this.search(vectors, k);
  }

  /** Memory-mapped rows are released with the last reference to the index; nothing to close. */
  async close(): Promise<void> {}
}
