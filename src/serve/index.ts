/** Serving: an HTTP search service over densekit indexes and models. */
export { createService, RESULT_FIELDS, type ServiceOptions, type ResultField, type ResultHit } from './service.js';
export { DocumentMap, type DocumentLookup, type ServedDocument } from './documents.js';
export type { QueryEncoder, EncoderOpenOptions } from './encoder.js';
export { WorkerEncoder } from './worker-encoder.js';
export { MicroBatcher, type MicroBatcherOptions } from './micro-batcher.js';
export { SEARCH_MODES, type SearchMode, type DenseBackend, type LexicalBackend, type FuseFn, type Hit } from './searcher.js';
export { DEFAULT_LIMITS, DEFAULT_BATCHING, type ServiceLimits, type BatchingOptions } from './limits.js';
