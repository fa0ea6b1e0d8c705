/** Sentence-transformers' Pooling, Dense and Normalize modules: token vectors -> one sentence vector. */
import { F, cat, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';
import { Linear, activate, type Activation } from './layers.js';
import type { WeightSource } from './weights.js';

export interface PoolingMode {
  cls: boolean;
  max: boolean;
  mean: boolean;
  meanSqrtLen: boolean;
}

/** Several modes concatenate in sentence-transformers' order: cls, max, mean, mean_sqrt_len. */
export class Pooling extends Module {
  constructor(readonly mode: PoolingMode, readonly inputDim: number) {
    super();
  }

  get outputDim(): number {
    const m = this.mode;
    return this.inputDim * [m.cls, m.max, m.mean, m.meanSqrtLen].filter(Boolean).length;
  }

  forward(tokens: Tensor, attentionMask: Tensor): Tensor {
    const parts: Tensor[] = [];
    const mask = attentionMask.unsqueeze(-1).to(tokens.dtype);
    if (this.mode.cls) parts.push(tokens.select(1, 0));
    if (this.mode.max) parts.push(tokens.maskedFill(mask.eq(0).expand(tokens.shape), -1e9).amax(1));
    if (this.mode.mean || this.mode.meanSqrtLen) {
      const summed = tokens.mul(mask).sum(1);
      const count = mask.sum(1).clamp(1e-9);
      if (this.mode.mean) parts.push(summed.div(count));
      if (this.mode.meanSqrtLen) parts.push(summed.div(count.sqrt()));
    }
    return parts.length === 1 ? parts[0]! : cat(parts, 1);
  }
}

/** Linear layer + activation on the sentence vector (GTR's 768-d projection is Dense without bias). */
export class Dense extends Module {
  readonly linear: Linear;
  constructor(w: WeightSource, readonly inFeatures: number, readonly outFeatures: number, bias: boolean, readonly activation: Activation) {
    super();
    this.linear = this.registerModule('linear', new Linear(w, 'linear', inFeatures, outFeatures, bias));
  }
  forward(x: Tensor): Tensor {
    return activate(this.linear.forward(x), this.activation);
  }
}

export function l2Normalize(x: Tensor): Tensor {
  return F.normalize(x, 2, 1, 1e-12);
}
