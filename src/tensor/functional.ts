/** F: torch.nn.functional's semantics for the ops the encoders and losses need. */
import { native } from './native.js';
import { Tensor } from './tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface Functional {
  /** x @ weight^T + bias; weight is [out, in]. */
  linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor;
  layerNorm(x: Tensor, normalizedShape: number[], weight?: Tensor, bias?: Tensor, eps?: number): Tensor;
  /** Rows of weight [vocab, dim] selected by ids (int64 or int32). */
  embedding(weight: Tensor, ids: Tensor): Tensor;
  dropout(x: Tensor, p: number, training: boolean): Tensor;
  /** logits [N, C] (or [C]) against int64 class ids [N] (or []); ignore_index -100 as in PyTorch. */
  crossEntropy(logits: Tensor, targets: Tensor, opts?: { reduction?: Reduction; labelSmoothing?: number }): Tensor;
  mseLoss(a: Tensor, b: Tensor, reduction?: Reduction): Tensor;
  /** x / max(||x||_p, eps) along dim (defaults p=2, dim=1, eps=1e-12). */
  normalize(x: Tensor, p?: number, dim?: number, eps?: number): Tensor;
  /** Present only when the linked libtorch has it (2.0+); mask is boolean (true = attend) or additive. */
  readonly scaledDotProductAttention?: (q: Tensor, k: Tensor, v: Tensor, mask?: Tensor) => Tensor;
}

function sdpa(q: Tensor, k: Tensor, v: Tensor, mask?: Tensor): Tensor {
  return new Tensor(native().scaledDotProductAttention!(q.handle, k.handle, v.handle, mask?.handle));
}

export const F: Functional = {
  linear: (x, weight, bias) => new Tensor(native().linear(x.handle, weight.handle, bias?.handle)),
  layerNorm: (x, normalizedShape, weight, bias, eps = 1e-5) =>
    new Tensor(native().layerNorm(x.handle, normalizedShape, weight?.handle, bias?.handle, eps)),
  embedding: (weight, ids) => new Tensor(native().embedding(weight.handle, ids.handle)),
  dropout: (x, p, training) => new Tensor(native().dropout(x.handle, p, training)),
  crossEntropy: (logits, targets, opts) =>
    new Tensor(native().crossEntropy(logits.handle, targets.handle, opts?.reduction ?? 'mean', opts?.labelSmoothing ?? 0)),
  mseLoss: (a, b, reduction = 'mean') => new Tensor(native().mseLoss(a.handle, b.handle, reduction)),
  normalize: (x, p = 2, dim = 1, eps = 1e-12) => new Tensor(native().normalize(x.handle, p, dim, eps)),
  get scaledDotProductAttention() {
    return native().scaledDotProductAttention === undefined ? undefined : sdpa;
  },
};
