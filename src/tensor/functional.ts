/** F: torch.nn.functional's semantics for the ops the encoders and losses need; each runs in its first tensor's backend. */
import { currentBackend } from './backend.js';
import { Tensor } from './tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface Functional {
  /**
   * x @ weight^T + bias; weight is [out, in]. A weight from linearInt8Pack runs as torch.ao's dynamic int8
   * linear: float input quantized per call, int8 GEMM, float output (its bias is inside: pass none).
   */
  linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor;
  /**
   * torch.ao.quantization.quantize_dynamic for one nn.Linear: the int8 codes [out, in] of weight (symmetric, a
   * scale per output row), packed with bias for F.linear. Inference only; libtorch's fbgemm or oneDNN engine.
   */
  linearInt8Pack(weight: Tensor, bias?: Tensor): Tensor;
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
  const b = q.backend;
  if (b.scaledDotProductAttention === undefined) throw new Error('scaledDotProductAttention: not available in this backend');
  return new Tensor(b.scaledDotProductAttention(q.handle, k.handleIn(b), v.handleIn(b), mask?.handleIn(b)), b);
}

export const F: Functional = {
  linear: (x, weight, bias) => {
    const b = x.backend;
    return new Tensor(b.linear(x.handle, weight.handleIn(b), bias?.handleIn(b)), b);
  },
  linearInt8Pack: (weight, bias) => {
    const b = weight.backend;
    return new Tensor(b.linearInt8Pack(weight.handle, bias?.handleIn(b)), b);
  },
  layerNorm: (x, normalizedShape, weight, bias, eps = 1e-5) => {
    const b = x.backend;
    return new Tensor(b.layerNorm(x.handle, normalizedShape, weight?.handleIn(b), bias?.handleIn(b), eps), b);
  },
  embedding: (weight, ids) => {
    const b = weight.backend;
    return new Tensor(b.embedding(weight.handle, ids.handleIn(b)), b);
  },
  dropout: (x, p, training) => new Tensor(x.backend.dropout(x.handle, p, training), x.backend),
  crossEntropy: (logits, targets, opts) => {
    const b = logits.backend;
    return new Tensor(b.crossEntropy(logits.handle, targets.handleIn(b), opts?.reduction ?? 'mean', opts?.labelSmoothing ?? 0), b);
  },
  mseLoss: (a, y, reduction = 'mean') => new Tensor(a.backend.mseLoss(a.handle, y.handleIn(a.backend), reduction), a.backend),
  normalize: (x, p = 2, dim = 1, eps = 1e-12) => new Tensor(x.backend.normalize(x.handle, p, dim, eps), x.backend),
  // Asked before any tensor exists (to choose a code path), so it answers for the current backend.
  get scaledDotProductAttention() {
    return currentBackend().scaledDotProductAttention === undefined ? undefined : sdpa;
  },
};
