/** Opening any densekit index folder by what its index.json says it is. */
import { FlatIndex, type FlatSearchOptions } from './flat.js';
import { HnswIndex } from './hnsw.js';
import { readIndexMeta } from './meta.js';
import { Bm25Index } from './bm25/searcher.js';

export type DenseIndex = FlatIndex | HnswIndex;
export type AnyIndex = DenseIndex | Bm25Index;

export interface OpenIndexOptions extends FlatSearchOptions {
  /** HNSW: candidates explored per query (default: the value the index was built with). */
  efSearch?: number;
}

export async function openIndex(dir: string, opts: OpenIndexOptions = {}): Promise<AnyIndex> {
  const meta = readIndexMeta(dir);
  switch (meta.type) {
    case 'bm25':
      return Bm25Index.open(dir);
    case 'hnsw':
      return HnswIndex.open(dir, { ...(opts.efSearch ? { efSearch: opts.efSearch } : {}), ...(opts.threads !== undefined ? { threads: opts.threads } : {}) });
    case 'flat':
      return FlatIndex.open(dir, opts);
  }
}

export function isDense(index: AnyIndex): index is DenseIndex {
  return !(index instanceof Bm25Index);
}
