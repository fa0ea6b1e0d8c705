/** Right-padding a batch of encodings into flat row-major arrays for the model. */
import type { Encoding } from './types.js';

export interface PaddedBatch {
  /** [batch, length] row-major token ids, padded with padId. Int32 (ids fit; widen to int64 when making tensors). */
  inputIds: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  attentionMask: Uint8Array;
  /** Segment ids, present when every encoding has them (WordPiece tokenizers); padding gets 0. */
  typeIds?: Int32Array;
  batch: number;
  length: number;
}

export function padBatch(encodings: readonly Encoding[], padId: number): PaddedBatch {
  const batch = encodings.length;
  let length = 0;
  for (const e of encodings) length = Math.max(length, e.ids.length);
  const inputIds = new Int32Array(batch * length).fill(padId);
  const attentionMask = new Uint8Array(batch * length);
  const withTypes = batch > 0 && encodings.every((e) => e.typeIds !== undefined);
  const typeIds = withTypes ? new Int32Array(batch * length) : undefined;
  encodings.forEach((e, row) => {
    const base = row * length;
    inputIds.set(e.ids, base);
    attentionMask.fill(1, base, base + e.ids.length);
    if (typeIds) typeIds.set(e.typeIds!, base);
  });
  return typeIds ? { inputIds, attentionMask, typeIds, batch, length } : { inputIds, attentionMask, batch, length };
}
