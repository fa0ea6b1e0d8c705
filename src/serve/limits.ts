/** Bounds on what one request may ask for; beyond them the service answers 400/413 instead of working. */
export interface ServiceLimits {
  /** Largest k in /search. */
  maxK: number;
  /** Most queries in one /search request. */
  maxQueries: number;
  /**
   * Most hits one /search request may return with document fields (title, snippet, text, highlights):
   * queries x k. Materialising them is the costly part of a reply (64 x 1,000 with snippets was 28.6 MB built
   * in 12.7 s), so beyond it the answer is 413. Hits without fields (ids and scores) are bounded by
   * maxQueries x maxK alone.
   */
  maxHitsWithFields: number;
  /** Most texts in one /encode request. */
  maxTexts: number;
  /** Longest query or text, in characters (UTF-16 code units). */
  maxTextLength: number;
  /** Largest request body, in bytes. */
  bodyLimit: number;
  /** A request whose body has not fully arrived after this long gets 408 (slow clients). */
  requestTimeoutMs: number;
  /** Most queries waiting for the encoder; beyond it /search answers 503 rather than queueing forever. */
  maxQueuedQueries: number;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  maxK: 1000,
  maxQueries: 64,
  maxHitsWithFields: 2000,
  maxTexts: 256,
  maxTextLength: 4096,
  bodyLimit: 2 * 1024 * 1024,
  requestTimeoutMs: 30_000,
  maxQueuedQueries: 4096,
};

export interface BatchingOptions {
  /** Most queries in one encoder call. */
  maxBatch: number;
  /** How long the first query of a batch waits for others while the encoder is idle. */
  maxWaitMs: number;
}

export const DEFAULT_BATCHING: BatchingOptions = { maxBatch: 32, maxWaitMs: 2 };
