/** Building blocks shared by the encoders, each mirroring one torch.nn module and its parameter names. */
import { F, activeAutocast, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';
import type { WeightSource } from './weights.js';

export class Linear extends Module {
  #weight: Tensor;
  #bias: Tensor | undefined;
  #int8 = false;
  get weight(): Tensor {
    return this.#weight;
  }
  get bias(): Tensor | undefined {
    return this.#bias;
  }
  /** Whether quantizeInt8() has run: the weight is then int8 codes packed with the bias. */
  get isInt8(): boolean {
    return this.#int8;
  }
  constructor(w: WeightSource, key: string, inFeatures: number, outFeatures: number, bias = true) {
    super();
    this.#weight = this.registerParameter('weight', w.take(`${key}.weight`, [outFeatures, inFeatures]));
    this.#bias = bias ? this.registerParameter('bias', w.take(`${key}.bias`, [outFeatures], 'zeros')) : undefined;
  }

  /**
   * Dynamic int8 quantization of this layer (torch.ao.quantization.quantize_dynamic): the weight becomes its int8
   * codes (a scale per output row) packed with the bias, and the float weight and bias are freed. Inference only.
   */
  quantizeInt8(): void {
    if (this.#int8) return;
    const packed = F.linearInt8Pack(this.#weight, this.#bias);
    this.#weight.dispose();
    this.#bias?.dispose();
    this.#weight = this.registerParameter('weight', packed);
    if (this.#bias) this.unregisterParameter('bias');
    this.#bias = undefined;
    this.#int8 = true;
  }
  /**
   * Weights stored in bf16 (see weights-dtype.ts) are widened to the input's dtype for this call when autocast
   * is off; under autocast they go in as they are (autocast would round them to bf16 anyway).
   */
  forward(x: Tensor): Tensor {
    if (this.#int8) return F.linear(x, this.#weight);
    if (this.weight.dtype === x.dtype || activeAutocast() !== undefined) return F.linear(x, this.weight, this.bias);
    // The widened copy goes at once (autograd keeps its own reference when it needs one): one matrix at a time.
    const w = this.weight.to(x.dtype);
    const out = F.linear(x, w, this.bias);
    w.dispose();
    return out;
  }
}

export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(w: WeightSource, key: string, private readonly dim: number, private readonly eps: number) {
    super();
    this.weight = this.registerParameter('weight', w.take(`${key}.weight`, [dim], 'ones'));
    this.bias = this.registerParameter('bias', w.take(`${key}.bias`, [dim], 'zeros'));
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, [this.dim], this.weight, this.bias, this.eps);
  }
}

/** T5's LayerNorm: RMS scaling only (no mean, no bias), variance accumulated in float32. */
export class T5LayerNorm extends Module {
  readonly weight: Tensor;
  constructor(w: WeightSource, key: string, dim: number, private readonly eps: number) {
    super();
    this.weight = this.registerParameter('weight', w.take(`${key}.weight`, [dim], 'ones'));
  }
  forward(x: Tensor): Tensor {
    const x32 = x.dtype === 'float32' ? x : x.to('float32');
    const variance = x32.square().mean(-1, true);
    const normed = x32.mul(variance.add(this.eps).rsqrt());
    const cast = this.weight.dtype === 'float32' ? normed : normed.to(this.weight.dtype);
    return this.weight.mul(cast);
  }
}

export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(w: WeightSource, key: string, count: number, dim: number) {
    super();
    this.weight = this.registerParameter('weight', w.take(`${key}.weight`, [count, dim]));
  }
  /** Rows of a bf16-stored table are widened to float32 (exactly), the dtype the encoders compute in. */
  forward(ids: Tensor): Tensor {
    const rows = F.embedding(this.weight, ids);
    return rows.dtype === 'bfloat16' || rows.dtype === 'float16' ? rows.to('float32') : rows;
  }
}

export type Activation = 'gelu' | 'gelu_new' | 'relu' | 'silu' | 'tanh' | 'identity' | 'sigmoid';

/** Applies a Hugging Face activation by its config name (gelu = exact erf form; gelu_new = tanh approximation). */
export function activate(x: Tensor, act: Activation): Tensor {
  switch (act) {
    case 'gelu': return x.gelu('none');
    case 'gelu_new': return x.gelu('tanh');
    case 'relu': return x.relu();
    case 'silu': return x.mul(x.sigmoid());
    case 'tanh': return x.tanh();
    case 'sigmoid': return x.sigmoid();
    case 'identity': return x;
  }
}

export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  return training && p > 0 ? F.dropout(x, p, true) : x;
}

/**
 * torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8) for a densekit module tree: every
 * Linear below `root` becomes a dynamic int8 layer (Linear.quantizeInt8). Returns how many were quantized.
 */
export function quantizeDynamicInt8(root: Module): number {
  let n = 0;
  for (const m of root.modules()) {
    if (m instanceof Linear && !m.isInt8) {
      m.quantizeInt8();
      n++;
    }
  }
  return n;
}
