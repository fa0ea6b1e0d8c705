/**
 * GTR's contrastive loss, as t5x_retrieval's InBatchCrossEntropyLoss computes it: cosine similarities (the
 * embeddings are unit vectors) times a logit scale of 100 (temperature 0.01), softmax cross-entropy in both
 * directions. The query->document direction scores each query against every positive and every hard negative
 * of the batch; the document->query direction scores each positive against the batch's queries only.
 *   L = CE(100 * q [P; N]^T, i) + CE(100 * P q^T, i)
 */
import { F, arange, cat, type Tensor } from '../../tensor/index.js';
import { duplicateMasks, type BatchIds } from './masks.js';

export interface GtrLossInputs {
  /** [B, d] query embeddings (unit length). */
  queries: Tensor;
  /** [B, d] positives, row i for query i. */
  positives: Tensor;
  /** [B, d] hard negatives, row i for query i (optional). */
  negatives?: Tensor;
  /** 1 / temperature; 100 in GTR. */
  logitScale: number;
  /** Ids for in-batch duplicate masking; no masking without them. */
  ids?: BatchIds;
}

export interface GtrLoss {
  loss: Tensor;
  queryToPassage: Tensor;
  passageToQuery: Tensor;
  /** The logits, for inspection (already scaled, before masking). */
  logitsLeft: Tensor;
  logitsRight: Tensor;
}

export function gtrLoss(inputs: GtrLossInputs): GtrLoss {
  const { queries, positives, negatives, logitScale } = inputs;
  const b = queries.shape[0]!;
  const passages = negatives ? cat([positives, negatives], 0) : positives;
  const logitsLeft = queries.matmul(passages.transpose(0, 1)).mul(logitScale);
  const logitsRight = positives.matmul(queries.transpose(0, 1)).mul(logitScale);
  const masks = inputs.ids ? duplicateMasks(inputs.ids, queries.device) : {};
  const targets = arange(0, b, 1, { dtype: 'int64', device: queries.device });
  const left = masks.queryToPassage ? logitsLeft.add(masks.queryToPassage) : logitsLeft;
  const right = masks.passageToQuery ? logitsRight.add(masks.passageToQuery) : logitsRight;
  const queryToPassage = F.crossEntropy(left, targets, { reduction: 'mean' });
  const passageToQuery = F.crossEntropy(right, targets, { reduction: 'mean' });
  return { loss: queryToPassage.add(passageToQuery), queryToPassage, passageToQuery, logitsLeft, logitsRight };
}
