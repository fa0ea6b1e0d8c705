/**
 * Dense retrieval: a TextEncoder turns query texts into vectors, a VectorIndex ranks documents by them.
 * Queries that already carry a vector (precomputed, e.g. `densekit search --query-embeddings`) are not
 * encoded again. Refused at construction, not after a long search: an encoder whose dimension the index
 * does not hold, a cosine encoder against a dot-product index, and (unless allowed) an encoder of another
 * model than the one the index records.
 */
import { DensekitError, UsageError } from '../errors.js';
import { resolveModelPath } from '../io/resolve.js';
import type { Hit, Query, Retriever, SearchOptions, TextEncoder, VectorIndex } from './types.js';

export interface DenseRetrieverOptions {
  /** Search an index built with another model than the encoder's (default false: refused). */
  allowModelMismatch?: boolean;
}

export class DenseRetriever implements Retriever {
  readonly kind = 'dense' as const;

  /** encoder: undefined when every query will carry its vector. */
  constructor(readonly encoder: TextEncoder | undefined, readonly index: VectorIndex, opts: DenseRetrieverOptions = {}) {
    if (!encoder) return;
    checkDimension(index, encoder.dim);
    // A cosine index normalizes the queries it gets, so any encoder's vectors are ranked by cosine; a dot
    // index ranks raw inner products, which a normalizing (cosine) model was not trained for.
    if (index.similarity === 'dot' && encoder.similarity === 'cosine') {
      throw new DensekitError(`the index ranks by dot product but the model ${encoder.model} produces cosine (normalized) vectors (a different model?)`, { code: 'DENSEKIT_SIMILARITY_MISMATCH' });
    }
    if (!opts.allowModelMismatch) checkModel(index, encoder.model);
  }

  get size(): number {
    return this.index.size;
  }

  async search(queries: readonly Query[], k: number, opts?: SearchOptions): Promise<Hit[][]> {
    const dim = this.index.dim;
    const flat = new Float32Array(queries.length * dim);
    const toEncode: number[] = [];
    queries.forEach((q, i) => {
      if (!q.vector) toEncode.push(i);
      else {
        checkDimension(this.index, q.vector.length);
        flat.set(q.vector, i * dim);
      }
    });
    if (toEncode.length) {
      if (!this.encoder) throw new UsageError(`query ${JSON.stringify(queries[toEncode[0]!]!.id)} has no vector and this dense retriever has no encoder (give a model or precomputed query vectors)`);
      const vectors = await this.encoder.encodeQueries(toEncode.map((i) => queries[i]!.text), opts?.signal ? { signal: opts.signal } : undefined);
      if (vectors.length !== toEncode.length * dim) throw new Error(`encoder returned ${vectors.length} values for ${toEncode.length} texts of dim ${dim}`);
      toEncode.forEach((qi, j) => flat.set(vectors.subarray(j * dim, (j + 1) * dim), qi * dim));
    }
    return this.index.searchVectors(flat, k, opts);
  }

  /** Closes the index; the encoder belongs to whoever opened it. */
  close(): Promise<void> {
    return this.index.close();
  }
}

function checkDimension(index: VectorIndex, dim: number): void {
  if (dim !== index.dim) {
    throw new DensekitError(`the index has dimension ${index.dim} but the query vectors have dimension ${dim} (a different model?)`, { code: 'DENSEKIT_DIMENSION_MISMATCH' });
  }
}

/** Refuses query vectors of `model` for an index that records another one. */
export function checkModel(index: VectorIndex, model: string): void {
  if (index.model !== undefined && !sameModel(index.model, model)) {
    throw new DensekitError(`the index was built with the model ${index.model} but the queries are encoded with ${model}; use that model, or set allowModelMismatch`, { code: 'DENSEKIT_MODEL_MISMATCH', param: 'allowModelMismatch' });
  }
}

/** The same model named two ways (a relative and an absolute path, or a Hub id and its cache folder) is one model. */
export function sameModel(a: string, b: string): boolean {
  if (a === b) return true;
  const folder = (m: string): string | undefined => {
    try {
      return resolveModelPath(m);
    } catch {
      return undefined;
    }
  };
  const fa = folder(a);
  return fa !== undefined && fa === folder(b);
}
