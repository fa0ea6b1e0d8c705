/** Searching a list of queries against any index in batches, with progress and a queries/s summary. */
import { UsageError } from '../errors.js';
import type { Hit } from '../index/hits.js';
import { Progress } from '../util/progress.js';
import type { RunHits } from './fusion.js';
import { isDense, type AnyIndex } from './open.js';
import type { SearchOptions, VectorIndex } from '../retrieval/types.js';
import type { Query } from './queries.js';
import type { QueryVectorSource } from './query-vectors.js';

export interface SearchAllOptions {
  k: number;
  /** Queries per search call (default 256 dense, 64 BM25). */
  batchSize?: number;
  /** BEIR's option: drop a hit whose document id equals the query id (then still return k hits). */
  ignoreIdenticalIds?: boolean;
  /** Required for dense indexes. */
  queryVectors?: QueryVectorSource;
  progress?: boolean;
  /** Per-query knobs for asynchronous vector indexes (pgvector: efSearch, probes, filter). */
  searchOptions?: SearchOptions;
}

export interface SearchSummary {
  run: RunHits;
  queries: number;
  seconds: number;
  queriesPerSecond: number;
}

/** A local index (flat, hnsw, bm25) or an asynchronous VectorIndex (pgvector). */
export type SearchableIndex = AnyIndex | VectorIndex;

function isVectorIndex(index: SearchableIndex): index is VectorIndex {
  return typeof (index as VectorIndex).searchVectors === 'function';
}

export async function searchAll(index: SearchableIndex, queries: readonly Query[], opts: SearchAllOptions): Promise<SearchSummary> {
  const { k } = opts;
  if (!Number.isInteger(k) || k <= 0) throw new UsageError(`--k must be a positive integer, got ${k}`);
  const dense = isVectorIndex(index) || isDense(index);
  if (dense) {
    if (!opts.queryVectors) throw new UsageError('a dense index needs --model or --query-embeddings to turn queries into vectors');
    if (opts.queryVectors.dim !== index.dim)
      throw new UsageError(`the index has dimension ${index.dim} but the query vectors have dimension ${opts.queryVectors.dim} (a different model?)`);
  }
  const fetch = opts.ignoreIdenticalIds ? k + 1 : k;
  const batch = opts.batchSize ?? (dense ? 256 : 64);
  const progress = opts.progress === false ? null : new Progress({ label: 'search', total: queries.length, unit: 'queries' });
  const run: RunHits = new Map();
  const start = performance.now();
  for (let i = 0; i < queries.length; i += batch) {
    const part = queries.slice(i, i + batch);
    let results: Hit[][];
    if (isVectorIndex(index)) results = await index.searchVectors(await opts.queryVectors!.vectors(part), fetch, opts.searchOptions);
    else if (isDense(index)) results = index.search(await opts.queryVectors!.vectors(part), fetch);
    else results = index.search(part.map((q) => q.text), fetch);
    part.forEach((q, j) => {
      let hits = results[j]!;
      if (opts.ignoreIdenticalIds) hits = hits.filter((h) => h.id !== q.id);
      if (hits.length > k) hits = hits.slice(0, k);
      run.set(q.id, hits);
    });
    progress?.tick(part.length);
  }
  progress?.finish();
  const seconds = (performance.now() - start) / 1000;
  return { run, queries: queries.length, seconds, queriesPerSecond: seconds > 0 ? queries.length / seconds : 0 };
}
