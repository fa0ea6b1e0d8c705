/**
 * In-batch duplicate masking: when the same passage occurs twice in a batch (two queries sharing a positive,
 * or a query's positive drawn as another query's negative), it must not act as a negative of the query it is
 * relevant to. Masks are additive (0 or -inf) so that the masked logits drop out of the softmax exactly.
 */
import { tensor, type Device, type Tensor } from '../../tensor/index.js';

export interface BatchIds {
  queries: readonly string[];
  positives: readonly string[];
  /** Hard negatives per query (same length as queries), or none. */
  negatives?: readonly string[];
}

/**
 * Additive masks for the two directions of the in-batch softmax, or undefined when nothing needs masking:
 * - query->passage (rows: queries; columns: the B positives then the B negatives): column j != i is masked
 *   when it is the same passage as query i's positive;
 * - passage->query (rows: positives; columns: queries): column j != i is masked when query j has the same
 *   positive, or is the same query, as row i.
 */
export function duplicateMasks(ids: BatchIds, device: Device = 'cpu'): { queryToPassage?: Tensor; passageToQuery?: Tensor } {
  const b = ids.queries.length;
  const columns = [...ids.positives, ...(ids.negatives ?? [])];
  const left = new Float32Array(b * columns.length);
  const right = new Float32Array(b * b);
  let anyLeft = false;
  let anyRight = false;
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < columns.length; j++) {
      if (j !== i && columns[j] === ids.positives[i]) {
        left[i * columns.length + j] = -Infinity;
        anyLeft = true;
      }
    }
    for (let j = 0; j < b; j++) {
      if (j !== i && (ids.positives[j] === ids.positives[i] || ids.queries[j] === ids.queries[i])) {
        right[i * b + j] = -Infinity;
        anyRight = true;
      }
    }
  }
  return {
    queryToPassage: anyLeft ? tensor(left, { shape: [b, columns.length], dtype: 'float32', device }) : undefined,
    passageToQuery: anyRight ? tensor(right, { shape: [b, b], dtype: 'float32', device }) : undefined,
  };
}
