/** What every token encoder (BERT, DistilBERT, T5) takes and gives. */
import type { Tensor } from '../tensor/index.js';
import type { Module } from './module.js';

export interface TokenBatch {
  /** int64 [batch, length], right-padded. */
  inputIds: Tensor;
  /** int64 [batch, length]: 1 for real tokens, 0 for padding. */
  attentionMask: Tensor;
  /** int64 [batch, length]; BERT only, zeros when absent. */
  tokenTypeIds?: Tensor;
}

export interface TokenEncoder extends Module {
  readonly hiddenSize: number;
  /** Last hidden state, [batch, length, hiddenSize]. */
  forward(batch: TokenBatch): Tensor;
}
