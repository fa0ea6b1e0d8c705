/** BM25 behind the Retriever seam: ranks a query by its text (a vector attached to it is not used). */
import type { Hit, Query, Retriever } from '../types.js';
import type { Bm25Index } from './searcher.js';

export class Bm25Retriever implements Retriever {
  readonly kind = 'lexical' as const;
  constructor(readonly index: Bm25Index) {}

  get size(): number {
    return this.index.size;
  }

  async search(queries: readonly Query[], k: number): Promise<Hit[][]> {
    return this.index.search(queries.map((q) => q.text), k);
  }

  async close(): Promise<void> {}
}
