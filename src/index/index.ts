/** Dense vector indexes: exact (flat, float32 or int8 scan + float32 rescoring) and HNSW (usearch). */
export { compareHits, type Hit } from './hits.js';
export { buildFlatIndex, FlatIndex, type FlatBuildOptions, type FlatMeta, type FlatSearchOptions, type FlatStorage } from './flat.js';
export { buildHnswIndex, HnswIndex, DEFAULT_HNSW, type HnswMeta, type HnswOpenOptions, type HnswParams } from './hnsw.js';
export { checkRecall, recallAtK, type RecallReport } from './recall.js';
export { readIndexMeta, type IndexMeta, type IndexType, type Similarity } from './meta.js';
