/** An in-batch teacher: scores every (query, passage) combination of a batch, without gradients. */
import type { Tensor } from '../../tensor/index.js';

export interface InBatchTeacher {
  /** [queries, passages] float32 scores T(q_i, p_j). */
  scores(queries: readonly string[], passages: readonly string[]): Tensor;
  dispose(): void;
}
