/**
 * Hybrid retrieval: any two retrievers (typically dense and BM25), each searched `depth` deep, fused per query
 * with src/retrieval/fusion.ts (RRF or Pyserini's normalized linear combination).
 */
import { fuse, type FuseOptions } from './fusion.js';
import type { Hit, Query, Retriever, SearchOptions } from './types.js';

export interface HybridOptions extends Pick<FuseOptions, 'method' | 'weights' | 'rrfK' | 'normalize'> {
  /** Hits read from each retriever per query (default 100; at least k). */
  depth?: number;
}

export class HybridRetriever implements Retriever {
  readonly kind = 'hybrid' as const;
  constructor(readonly first: Retriever, readonly second: Retriever, private readonly opts: HybridOptions) {}

  /** The larger of the two (they usually index the same collection). */
  get size(): number {
    return Math.max(this.first.size, this.second.size);
  }

  async search(queries: readonly Query[], k: number, opts?: SearchOptions): Promise<Hit[][]> {
    const { depth: d, ...fusion } = this.opts;
    const depth = Math.max(k, d ?? 100);
    const [a, b] = await Promise.all([this.first.search(queries, depth, opts), this.second.search(queries, depth, opts)]);
    return queries.map((_, i) => fuse([new Map([['q', a[i]!]]), new Map([['q', b[i]!]])], { ...fusion, k, depth }).get('q') ?? []);
  }

  async close(): Promise<void> {
    await Promise.all([this.first.close(), this.second.close()]);
  }
}
