/**
 * Retrieval: the seam (types.ts), the registry of index types (registry.ts), and the retrievers.
 *   const retriever = await openRetriever('indexes/flat', encoder);   // or a bm25 folder (encoder undefined)
 *   const [hits] = await retriever.search([{ id: 'q1', text: 'what is dense retrieval?' }], 10);
 * Hits are { id, score }, ordered by compareHits (score desc, then id desc: trec_eval's order).
 */
export type { Hit, Query, SearchOptions, MetadataFilter, Similarity, TextEncoder, TextKind, Encoded, VectorIndex, Retriever } from './types.js';
export { compareHits } from './hits.js';
export {
  registerIndexType, indexTypes, indexTypeAt, buildIndex, openIndex, openRetriever,
  type RegistryEntry, type VectorEntry, type LexicalEntry, type BuildOptions, type BuildResult, type OpenOptions, type OpenedIndex,
} from './registry.js';
export { DenseRetriever, sameModel, type DenseRetrieverOptions } from './dense.js';
export { HybridRetriever, type HybridOptions } from './hybrid.js';
export { Bm25Retriever } from './bm25/retriever.js';
export { buildFlatIndex, FlatIndex, type FlatBuildOptions, type FlatMeta, type FlatSearchOptions, type FlatStorage } from './flat.js';
export { buildHnswIndex, HnswIndex, DEFAULT_HNSW, type HnswMeta, type HnswOpenOptions, type HnswParams } from './hnsw.js';
export { Bm25Index, buildBm25Index, analyze, ANSERINI_BM25, type Bm25Params } from './bm25/index.js';
export { checkRecall, recallAtK, type RecallReport } from './recall.js';
export { readIndexMeta, type IndexMeta, type IndexType } from './meta.js';
export { fuse, type FuseOptions, type FusionMethod, type RunHits } from './fusion.js';
export { searchAll, type SearchAllOptions, type SearchSummary } from './run-search.js';
export { withQueryVectors } from './query-vectors.js';
