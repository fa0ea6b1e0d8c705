/**
 * The retrieval seam: what every index type (flat, hnsw, bm25, pgvector, ...) and every caller (CLI, library,
 * `beir`, the service) agree on. Callers see only these interfaces; which backend answers is the registry's
 * business (src/retrieval/registry.ts).
 *
 * Everything is async: a networked index (pgvector) cannot answer synchronously, and a local one costs
 * nothing by returning a resolved promise.
 */

/** Similarity a vector index ranks by; recorded at build time and checked against the model at open. */
export type Similarity = 'dot' | 'cosine';

/** One ranked document. Lists of hits are ordered by `compareHits` (trec_eval's order, src/retrieval/hits.ts). */
export interface Hit {
  id: string;
  score: number;
}

/** A query as it flows through retrieval: its text, and once encoded, its vector (`dim` floats). */
export interface Query {
  id: string;
  text: string;
  vector?: Float32Array;
}

/** Per-call knobs; each index type reads those it understands and ignores the rest. */
export interface SearchOptions {
  /** HNSW (usearch, pgvector): candidates explored per query. */
  efSearch?: number;
  /** IVF (pgvector ivfflat): lists probed per query. */
  probes?: number;
  /** Metadata filter (pgvector): equality and ranges on metadata keys. */
  filter?: MetadataFilter;
  /** Aborted when the caller has gone (a service client that disconnected): work not yet started is dropped. */
  signal?: AbortSignal;
}

export type MetadataFilter = Record<string, string | number | boolean | { gte?: number; gt?: number; lte?: number; lt?: number }>;

/** Which side of a dual encoder a text is on (queries and passages may get different prefixes and limits). */
export type TextKind = 'query' | 'passage';

/** What `encode` returns: the vectors and how many texts were cut at the token limit. */
export interface Encoded {
  /** Row-major [texts.length, dim]. */
  vectors: Float32Array;
  truncated: number;
}

/** Texts to vectors: implemented by SentenceEncoder, the service's worker proxy, and later ONNX Runtime. */
export interface TextEncoder {
  /** Model identity recorded in indexes and caches (a Hub id, or a folder's digest-backed name). */
  readonly model: string;
  readonly dim: number;
  readonly similarity: Similarity;
  /** Token limit per kind; recorded in embedding manifests so a resumed job with another limit is refused. */
  readonly maxLength: { readonly query: number; readonly passage: number };
  /** `onProgress` is told how many texts each finished batch held. */
  encode(texts: readonly string[], kind: TextKind, opts?: { onProgress?: (done: number) => void }): Promise<Encoded>;
  /** Row-major [texts.length, dim]. */
  encodeQueries(texts: readonly string[], opts?: { signal?: AbortSignal }): Promise<Float32Array>;
  encodePassages(texts: readonly string[]): Promise<Float32Array>;
  close(): Promise<void> | void;
}

/** A store of vectors that answers nearest-neighbour queries: flat, hnsw, pgvector. */
export interface VectorIndex {
  readonly type: string;
  readonly dim: number;
  /** Number of documents. */
  readonly size: number;
  readonly similarity: Similarity;
  /** The model that produced the vectors, as recorded at build time (undefined for indexes built before it was recorded). */
  readonly model: string | undefined;
  /** vectors: row-major [n, dim]; one ranked list (at most k hits) per row. */
  searchVectors(vectors: Float32Array, k: number, opts?: SearchOptions): Promise<Hit[][]>;
  close(): Promise<void>;
}

/** Anything that turns queries into rankings: dense (encoder + vector index), BM25, hybrid fusion. */
export interface Retriever {
  readonly kind: 'dense' | 'lexical' | 'hybrid';
  /** Number of documents searched. */
  readonly size: number;
  /** One ranked list (at most k hits, `compareHits` order) per query, in query order. */
  search(queries: readonly Query[], k: number, opts?: SearchOptions): Promise<Hit[][]>;
  close(): Promise<void>;
}
