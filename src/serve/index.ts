/** Serving: an HTTP search service over densekit retrievers. */
export { createService, RESULT_FIELDS, type ServiceOptions, type ResultField, type ResultHit } from './service.js';
export { DocumentMap, type DocumentLookup, type ServedDocument } from './documents.js';
export { WorkerEncoder, type EncoderOpenOptions } from './worker-encoder.js';
export { MicroBatcher, type MicroBatcherOptions } from './micro-batcher.js';
export { SEARCH_MODES, type SearchMode } from './retrievers.js';
export { DEFAULT_LIMITS, DEFAULT_BATCHING, type ServiceLimits, type BatchingOptions } from './limits.js';
