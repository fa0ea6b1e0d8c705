/** Searching a list of queries with any Retriever in batches, with progress and a queries/s summary. */
import { positiveInteger } from '../errors.js';
import { Progress } from '../util/progress.js';
import type { RunHits } from './fusion.js';
import type { Query, Retriever, SearchOptions } from './types.js';

export interface SearchAllOptions extends SearchOptions {
  k: number;
  /** Queries per search call (default 256 dense, 64 otherwise). */
  batchSize?: number;
  /** BEIR's option: drop a hit whose document id equals the query id (then still return k hits). */
  ignoreIdenticalIds?: boolean;
  progress?: boolean;
}

export interface SearchSummary {
  run: RunHits;
  queries: number;
  seconds: number;
  queriesPerSecond: number;
}

export async function searchAll(retriever: Retriever, queries: readonly Query[], opts: SearchAllOptions): Promise<SearchSummary> {
  const { k, batchSize, ignoreIdenticalIds, progress: showProgress, ...searchOptions } = opts;
  positiveInteger('k', k);
  const fetch = ignoreIdenticalIds ? k + 1 : k;
  const batch = positiveInteger('batchSize', batchSize ?? (retriever.kind === 'dense' ? 256 : 64));
  const progress = showProgress === false ? null : new Progress({ label: 'search', total: queries.length, unit: 'queries' });
  const run: RunHits = new Map();
  const start = performance.now();
  for (let i = 0; i < queries.length; i += batch) {
    const part = queries.slice(i, i + batch);
    const results = await retriever.search(part, fetch, searchOptions);
    part.forEach((q, j) => {
      let hits = results[j]!;
      if (ignoreIdenticalIds) hits = hits.filter((h) => h.id !== q.id);
      if (hits.length > k) hits = hits.slice(0, k);
      run.set(q.id, hits);
    });
    progress?.tick(part.length);
  }
  progress?.finish();
  const seconds = (performance.now() - start) / 1000;
  return { run, queries: queries.length, seconds, queriesPerSecond: seconds > 0 ? queries.length / seconds : 0 };
}
