/**
 * Retrieval library API (used by `densekit search`, `densekit beir` and the server):
 *   const index = await openIndex(dir);          // FlatIndex | HnswIndex | Bm25Index, by index.json
 *   dense:  index.search(queryVectors: Float32Array (n * dim), k): Hit[][]
 *   bm25:   index.search(queries: string[], k): Hit[][]
 *   fuse([runA, runB], { method: 'rrf' | 'linear', k, weights })
 * Hits are { id, score }, ordered score desc then id desc (trec_eval's order).
 */
export type { Hit } from '../index/hits.js';
export { compareHits } from '../index/hits.js';
export { FlatIndex, HnswIndex, buildFlatIndex, buildHnswIndex, checkRecall } from '../index/index.js';
export { openIndex, isDense, type AnyIndex, type DenseIndex, type OpenIndexOptions } from './open.js';
export { Bm25Index, buildBm25Index, analyze, ANSERINI_BM25, type Bm25Params } from './bm25/index.js';
export { fuse, type FuseOptions, type FusionMethod, type RunHits } from './fusion.js';
export { searchAll, type SearchAllOptions, type SearchSummary } from './run-search.js';
export { modelQueryVectors, precomputedQueryVectors, type QueryVectorSource } from './query-vectors.js';
