/**
 * The largest value every numeric flag and recipe key accepts, in one table: past these a value is a typo or
 * an attack (`--threads 100000` started 10,000 threads, `--permutations 1e12` and `steps: 1e300` never
 * finished), so it is refused with one line before any work starts. Each bound sits far above what the
 * papers and BEIR runs use (k 1,000, batch 32-128, 10,000 permutations, 2,000 clusters, ...).
 * Keys are the flags' camelCase names (`--batch-size` -> batchSize) and the recipe keys.
 */
export const MAX = {
  threads: 256,
  k: 100_000,
  depth: 100_000,
  skip: 100_000,
  hybridDepth: 100_000,
  rrfK: 1_000_000,
  batchSize: 4096,
  /** encode --token-budget: padded tokens per pass (4,096-16,384 is typical on CPU). */
  tokenBudget: 1_048_576,
  maxBatch: 4096,
  maxLength: 8192,
  queryMaxLength: 8192,
  passageMaxLength: 8192,
  shardSize: 10_000_000,
  permutations: 1_000_000,
  bootstrap: 1_000_000,
  seed: 2 ** 32 - 1,
  steps: 100_000_000,
  warmupSteps: 100_000_000,
  every: 100_000_000,
  logEvery: 100_000_000,
  checkpointEvery: 100_000_000,
  patience: 1_000_000,
  M: 256,
  efConstruction: 100_000,
  efSearch: 100_000,
  checkRecall: 1_000_000,
  recallK: 10_000,
  iterations: 100_000,
  restarts: 1000,
  gradientAccumulation: 4096,
  gradCacheChunk: 4096,
  clustersPerBatch: 4096,
  negativesPerPositive: 1000,
  maxK: 100_000,
  maxQueries: 100_000,
  maxHitsWithFields: 10_000_000,
  maxTexts: 100_000,
  maxTextLength: 10_000_000,
  requestTimeoutMs: 3_600_000,
  batchWaitMs: 60_000,
  /** eval -M: hits evaluated per query; -N: documents in the collection; -l: relevance level. */
  evalDepth: 1_000_000_000,
  collectionSize: 1_000_000_000_000,
  relevanceLevel: 1_000_000,
  /** Training: learning rate (papers: 7e-6 to 1e-3), warm-up steps, projection width after pooling. */
  lr: 1,
  warmup: 100_000_000,
  evalEvery: 100_000_000,
  projection: 65_536,
  /** BM25 parameters (Anserini: k1 0.9, b 0.4; b is a proportion). */
  k1: 100,
  b: 1,
} as const;

export type BoundedKey = keyof typeof MAX;

/** `--batch-size` -> `batchSize`. */
export function boundKeyOfFlag(flag: string): BoundedKey {
  const key = flag.replace(/^-+/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  if (!(key in MAX)) throw new Error(`no bound for ${flag} in src/util/bounds.ts`); // a flag added without one: a bug
  return key as BoundedKey;
}
