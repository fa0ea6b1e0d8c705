/**
 * The retrieval side of the service: dense (encoder + vector index), BM25, and hybrid (both, fused).
 * Queries for the dense index go through a MicroBatcher, so concurrent requests share encoder calls.
 * Backends are structural interfaces matching src/search's indexes, so tests can pass small doubles.
 */
import type { QueryEncoder } from './encoder.js';
import { MicroBatcher, type MicroBatcherOptions } from './micro-batcher.js';

export interface Hit {
  id: string;
  score: number;
}

export interface DenseBackend {
  readonly dim: number;
  readonly size: number;
  /** queryVectors: row-major [n, dim]; one ranked list per row. */
  search(queryVectors: Float32Array, k: number): Hit[][] | Promise<Hit[][]>;
}

export interface LexicalBackend {
  readonly size: number;
  search(queries: string[], k: number): Hit[][] | Promise<Hit[][]>;
}

/** Fuses ranked lists for one query into one ranking of at most k hits. */
export type FuseFn = (runs: Hit[][], k: number) => Hit[];

export type SearchMode = 'dense' | 'bm25' | 'hybrid';
export const SEARCH_MODES: readonly SearchMode[] = ['dense', 'bm25', 'hybrid'];

export interface SearcherParts {
  dense?: { index: DenseBackend; encoder: QueryEncoder };
  lexical?: LexicalBackend;
  /** Needed for hybrid mode. */
  fuse?: FuseFn;
  /** Each list fused in hybrid mode is this deep (at least k). */
  hybridDepth?: number;
  batching: MicroBatcherOptions;
  onBatch?: (size: number) => void;
}

export class ModeUnavailableError extends Error {
  override name = 'ModeUnavailableError';
}

export class Searcher {
  private readonly batcher: MicroBatcher<string, Float32Array> | undefined;

  constructor(private readonly parts: SearcherParts) {
    const dense = parts.dense;
    if (dense) {
      if (dense.encoder.dim !== dense.index.dim) {
        throw new RangeError(`the model encodes ${dense.encoder.dim}-dimensional vectors but the dense index holds ${dense.index.dim}-dimensional ones`);
      }
      const dim = dense.index.dim;
      this.batcher = new MicroBatcher(
        async (texts: string[]) => {
          const flat = await dense.encoder.encodeQueries(texts);
          if (flat.length !== texts.length * dim) {
            throw new Error(`encoder returned ${flat.length} values for ${texts.length} texts of dim ${dim}`);
          }
          return texts.map((_, i) => flat.subarray(i * dim, (i + 1) * dim));
        },
        parts.batching,
        parts.onBatch,
      );
    }
  }

  /** Modes this service can answer, the first being the default. */
  get modes(): SearchMode[] {
    const modes: SearchMode[] = [];
    if (this.parts.dense && this.parts.lexical && this.parts.fuse) modes.push('hybrid');
    if (this.parts.dense) modes.push('dense');
    if (this.parts.lexical) modes.push('bm25');
    return modes;
  }

  get defaultMode(): SearchMode {
    const m = this.modes[0];
    if (!m) throw new Error('no index loaded');
    return m;
  }

  /** Number of documents per loaded index. */
  get sizes(): { dense?: number; bm25?: number } {
    return { dense: this.parts.dense?.index.size, bm25: this.parts.lexical?.size };
  }

  get encoder(): QueryEncoder | undefined {
    return this.parts.dense?.encoder;
  }

  /** Queries waiting for, or inside, an encoder call. */
  get queueDepth(): number {
    const s = this.batcher?.stats;
    return s ? s.queued + s.running : 0;
  }

  async search(queries: string[], k: number, mode: SearchMode): Promise<Hit[][]> {
    if (!this.modes.includes(mode)) {
      throw new ModeUnavailableError(`mode "${mode}" is not available: this service answers ${this.modes.join(', ')}`);
    }
    switch (mode) {
      case 'dense':
        return this.searchDense(queries, k);
      case 'bm25':
        return this.parts.lexical!.search(queries, k);
      case 'hybrid': {
        const depth = Math.max(k, this.parts.hybridDepth ?? 100);
        const [dense, lexical] = await Promise.all([this.searchDense(queries, depth), this.parts.lexical!.search(queries, depth)]);
        return queries.map((_, i) => this.parts.fuse!([dense[i]!, lexical[i]!], k));
      }
    }
  }

  /** Lets queued queries finish; new ones are refused. */
  async drain(): Promise<void> {
    await this.batcher?.drain();
  }

  private async searchDense(queries: string[], k: number): Promise<Hit[][]> {
    const { index } = this.parts.dense!;
    const vectors = await Promise.all(queries.map((q) => this.batcher!.submit(q)));
    const flat = new Float32Array(queries.length * index.dim);
    vectors.forEach((v, i) => flat.set(v, i * index.dim));
    return index.search(flat, k);
  }
}
