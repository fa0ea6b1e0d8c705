/**
 * In-process searches (flat and HNSW scans, BM25) are synchronous: a request at the limits (64 queries x
 * k 1,000 over a 20,000-document flat index) held the event loop for 150 ms in one call, and four such clients
 * kept /health waiting past a second. The service therefore runs a request's queries in slices of about
 * SLICE_MS, yielding the event loop between them; the slice size adapts to the measured cost per query.
 * Remote indexes (pgvector) do not block and are not sliced. One query is the smallest slice: a single scan
 * over a very large index still runs in one piece.
 */
import { LocalVectorIndex } from '../retrieval/local-index.js';
import type { Hit, Query, Retriever, SearchOptions, VectorIndex } from '../retrieval/types.js';
import { CallerGoneError } from './micro-batcher.js';

const SLICE_MS = 5;

async function inSlices(n: number, signal: AbortSignal | undefined, run: (start: number, end: number) => Promise<Hit[][]>): Promise<Hit[][]> {
  const out: Hit[][] = [];
  let size = 1;
  for (let start = 0; start < n;) {
    const end = Math.min(n, start + size);
    const began = performance.now();
    out.push(...(await run(start, end)));
    const perQuery = (performance.now() - began) / (end - start);
    start = end;
    if (start < n) {
      await new Promise((resolve) => setImmediate(resolve));
      // The client left while its queries were searched: the rest is not worth the event loop.
      if (signal?.aborted) throw new CallerGoneError();
      size = Math.max(1, Math.floor(SLICE_MS / Math.max(perQuery, 0.01)));
    }
  }
  return out;
}

/** A local vector index whose batch searches yield the event loop between slices. */
export class SlicedIndex implements VectorIndex {
  constructor(private readonly inner: VectorIndex) {}
  get type(): string {
    return this.inner.type;
  }
  get dim(): number {
    return this.inner.dim;
  }
  get size(): number {
    return this.inner.size;
  }
  get similarity(): VectorIndex['similarity'] {
    return this.inner.similarity;
  }
  get model(): string | undefined {
    return this.inner.model;
  }
  searchVectors(vectors: Float32Array, k: number, opts?: SearchOptions): Promise<Hit[][]> {
    const dim = this.inner.dim;
    return inSlices(vectors.length / dim, opts?.signal, (a, b) => this.inner.searchVectors(vectors.subarray(a * dim, b * dim), k, opts));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** An in-process retriever (BM25) whose batch searches yield the event loop between slices. */
export class SlicedRetriever implements Retriever {
  constructor(private readonly inner: Retriever) {}
  get kind(): Retriever['kind'] {
    return this.inner.kind;
  }
  get size(): number {
    return this.inner.size;
  }
  search(queries: readonly Query[], k: number, opts?: SearchOptions): Promise<Hit[][]> {
    return inSlices(queries.length, opts?.signal, (a, b) => this.inner.search(queries.slice(a, b), k, opts));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Slices what blocks: local vector indexes; pgvector and other remote indexes pass through. */
export function slicedIndex(index: VectorIndex): VectorIndex {
  return index instanceof LocalVectorIndex ? new SlicedIndex(index) : index;
}
