/** BM25 behind the Retriever seam: ranks a query by its text (a vector attached to it is not used). */
import { UsageError } from '../../errors.js';
import type { Hit, Query, Retriever, SearchOptions } from '../types.js';
import type { Bm25Index } from './searcher.js';

export class Bm25Retriever implements Retriever {
  readonly kind = 'lexical' as const;
  constructor(readonly index: Bm25Index) {}

  get size(): number {
    return this.index.size;
  }

  async search(queries: readonly Query[], k: number, opts?: SearchOptions): Promise<Hit[][]> {
    // Ignoring it would return unfiltered hits as if filtered.
    if (opts?.filter !== undefined) throw new UsageError('filter: a bm25 index holds no metadata (metadata filters need a pgvector index)');
    return this.index.search(queries.map((q) => q.text), k);
  }

  async close(): Promise<void> {}
}
