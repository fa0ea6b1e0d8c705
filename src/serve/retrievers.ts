/**
 * What the service searches with: one Retriever per mode, composed from the parts it is given (a vector index
 * with the encoder behind a micro-batcher, a lexical retriever, and both fused for hybrid).
 */
import { DensekitError, UsageError } from '../errors.js';
import { DenseRetriever } from '../retrieval/dense.js';
import { HybridRetriever, type HybridOptions } from '../retrieval/hybrid.js';
import type { Retriever, TextEncoder, VectorIndex } from '../retrieval/types.js';
import { BatchedEncoder } from './batched-encoder.js';
import type { MicroBatcherOptions } from './micro-batcher.js';
import { slicedIndex, SlicedRetriever } from './sliced-search.js';

export type SearchMode = 'dense' | 'bm25' | 'hybrid';
export const SEARCH_MODES: readonly SearchMode[] = ['dense', 'bm25', 'hybrid'];

export interface RetrieverParts {
  dense?: { index: VectorIndex; encoder: TextEncoder; allowModelMismatch?: boolean };
  lexical?: Retriever;
  /** Fusion for hybrid mode (offered when dense and lexical are both given). */
  fusion?: Omit<HybridOptions, 'depth'>;
  /** Each list fused in hybrid mode is this deep (at least k; default 100). */
  hybridDepth?: number;
  batching: MicroBatcherOptions;
  onBatch?: (size: number) => void;
  /** Queries dropped before encoding because their client had gone. */
  onDrop?: (size: number) => void;
}

export class ServiceRetrievers {
  private readonly byMode = new Map<SearchMode, Retriever>();
  private readonly batched: BatchedEncoder | undefined;
  /** Number of documents per loaded index. */
  readonly sizes: { dense?: number; bm25?: number } = {};

  constructor(parts: RetrieverParts) {
    if (parts.dense) {
      this.batched = new BatchedEncoder(parts.dense.encoder, parts.batching, parts.onBatch, parts.onDrop);
      // Searches that block the event loop run in slices (sliced-search.ts), so /health and small requests get in between.
      const dense = new DenseRetriever(this.batched, slicedIndex(parts.dense.index), { allowModelMismatch: parts.dense.allowModelMismatch ?? false });
      if (parts.lexical && parts.fusion) this.byMode.set('hybrid', new HybridRetriever(dense, new SlicedRetriever(parts.lexical), { ...parts.fusion, depth: parts.hybridDepth ?? 100 }));
      this.byMode.set('dense', dense);
      this.sizes.dense = dense.size;
    }
    if (parts.lexical) {
      this.byMode.set('bm25', new SlicedRetriever(parts.lexical));
      this.sizes.bm25 = parts.lexical.size;
    }
    if (this.byMode.size === 0) throw new UsageError('nothing to serve: give a dense index with a model, or a BM25 index');
  }

  /** Modes this service can answer, the first being the default. */
  get modes(): SearchMode[] {
    return [...this.byMode.keys()];
  }

  get defaultMode(): SearchMode {
    return this.modes[0]!;
  }

  get(mode: SearchMode): Retriever {
    const r = this.byMode.get(mode);
    if (!r) throw new DensekitError(`mode "${mode}" is not available: this service answers ${this.modes.join(', ')}`, { code: 'DENSEKIT_REQUEST' });
    return r;
  }

  /** Queries waiting for, or inside, an encoder call. */
  get queueDepth(): number {
    return this.batched?.queueDepth ?? 0;
  }

  /** Lets queued queries finish (new ones are refused), then closes the indexes. */
  async close(): Promise<void> {
    await this.batched?.drain();
    const dense = this.byMode.get('dense');
    await dense?.close();
    await this.byMode.get('bm25')?.close();
  }
}
