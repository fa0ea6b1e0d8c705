/**
 * T5 encoder stack (GTR's backbone), numerically as transformers' T5EncoderModel: RMS LayerNorm before each
 * sub-layer, unscaled attention with a bucketed relative-position bias from the first block, ReLU (v1.0) or
 * gated-GELU (v1.1) feed-forward. Never run in float16: published T5 weights overflow there.
 */
import { arange, scope, type Device, type Tensor } from '../tensor/index.js';
import type { T5Config } from '../io/hf-config.js';
import { Module } from './module.js';
import { Embedding, Linear, T5LayerNorm, activate, dropout } from './layers.js';
import type { TokenBatch, TokenEncoder } from './transformer.js';
import type { WeightSource } from './weights.js';
import { extendedMaskBias } from './bert.js';

class T5Attention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  readonly relativeBias: Embedding | undefined;
  private readonly inner: number;
  constructor(w: WeightSource, p: string, private readonly c: T5Config, hasRelativeBias: boolean) {
    super();
    this.inner = c.dKv * c.numHeads;
    this.q = this.registerModule('q', new Linear(w, `${p}.q`, c.dModel, this.inner, false));
    this.k = this.registerModule('k', new Linear(w, `${p}.k`, c.dModel, this.inner, false));
    this.v = this.registerModule('v', new Linear(w, `${p}.v`, c.dModel, this.inner, false));
    this.o = this.registerModule('o', new Linear(w, `${p}.o`, this.inner, c.dModel, false));
    this.relativeBias = hasRelativeBias
      ? this.registerModule('relative_attention_bias', new Embedding(w, `${p}.relative_attention_bias`, c.relativeAttentionNumBuckets, c.numHeads))
      : undefined;
  }

  /** [1, heads, l, l] bias from bucketed relative positions (bidirectional, as the encoder uses). */
  positionBias(l: number, device: Device): Tensor {
    if (!this.relativeBias) throw new Error('positionBias: only the first block holds relative_attention_bias');
    const buckets = relativePositionBuckets(l, this.c.relativeAttentionNumBuckets, this.c.relativeAttentionMaxDistance, device);
    return this.relativeBias.forward(buckets).permute([2, 0, 1]).unsqueeze(0);
  }

  forward(x: Tensor, bias: Tensor): Tensor {
    const [b, l] = x.shape as [number, number, number];
    const heads = this.c.numHeads;
    const split = (t: Tensor) => t.view([b, l, heads, this.c.dKv]).transpose(1, 2);
    const q = split(this.q.forward(x));
    const k = split(this.k.forward(x));
    const v = split(this.v.forward(x));
    let scores = q.matmul(k.transpose(3, 2));
    scores = scores.add(bias.dtype === scores.dtype ? bias : bias.to(scores.dtype));
    // softmax in float32, then back to the activations' dtype (as transformers does)
    const probs = dropout(scores.to('float32').softmax(-1).to(scores.dtype), this.c.dropoutRate, this.training);
    const ctx = probs.matmul(v).transpose(1, 2).reshape([b, l, this.inner]);
    return this.o.forward(ctx);
  }
}

/**
 * Relative position -> bucket id, computed with tensor ops so the float32 log and truncation are
 * PyTorch's own (a JS float64 version would disagree at bucket edges).
 */
export function relativePositionBuckets(l: number, numBuckets: number, maxDistance: number, device: Device): Tensor {
  const ctx = arange(0, l, 1, { dtype: 'int64', device }).unsqueeze(1);
  const mem = arange(0, l, 1, { dtype: 'int64', device }).unsqueeze(0);
  const rel = mem.sub(ctx);
  const half = Math.floor(numBuckets / 2);
  const base = rel.gt(0).to('int64').mul(half);
  const n = rel.abs();
  const maxExact = Math.floor(half / 2);
  const isSmall = n.lt(maxExact);
  const large = n
    .to('float32')
    .div(maxExact)
    .log()
    .div(Math.log(maxDistance / maxExact))
    .mul(half - maxExact)
    .to('int64')
    .add(maxExact)
    .clamp(undefined, half - 1);
  return base.add(n.where(isSmall, large));
}

class T5Block extends Module {
  readonly attention: T5Attention;
  readonly attnNorm: T5LayerNorm;
  readonly ffNorm: T5LayerNorm;
  readonly wi: Linear | undefined;
  readonly wi0: Linear | undefined;
  readonly wi1: Linear | undefined;
  readonly wo: Linear;
  constructor(w: WeightSource, p: string, private readonly c: T5Config, first: boolean) {
    super();
    this.attention = this.registerModule('layer.0.SelfAttention', new T5Attention(w, `${p}.layer.0.SelfAttention`, c, first));
    this.attnNorm = this.registerModule('layer.0.layer_norm', new T5LayerNorm(w, `${p}.layer.0.layer_norm`, c.dModel, c.layerNormEpsilon));
    const ff = `${p}.layer.1.DenseReluDense`;
    if (c.feedForward.gated) {
      this.wi0 = this.registerModule('layer.1.DenseReluDense.wi_0', new Linear(w, `${ff}.wi_0`, c.dModel, c.dFf, false));
      this.wi1 = this.registerModule('layer.1.DenseReluDense.wi_1', new Linear(w, `${ff}.wi_1`, c.dModel, c.dFf, false));
    } else {
      this.wi = this.registerModule('layer.1.DenseReluDense.wi', new Linear(w, `${ff}.wi`, c.dModel, c.dFf, false));
    }
    this.wo = this.registerModule('layer.1.DenseReluDense.wo', new Linear(w, `${ff}.wo`, c.dFf, c.dModel, false));
    this.ffNorm = this.registerModule('layer.1.layer_norm', new T5LayerNorm(w, `${p}.layer.1.layer_norm`, c.dModel, c.layerNormEpsilon));
  }
  /**
   * Each sub-layer in its own scope: its intermediates (XXL: [batch, 128 heads, l, l] scores, [batch, l, 65,536]
   * feed-forward states) are freed as soon as it returns, not at the end of the whole forward pass.
   */
  forward(x: Tensor, bias: Tensor): Tensor {
    const h1 = scope(() => x.add(dropout(this.attention.forward(this.attnNorm.forward(x), bias), this.c.dropoutRate, this.training)));
    return scope(() => {
      const n = this.ffNorm.forward(h1);
      const hidden = this.c.feedForward.gated
        ? activate(this.wi0!.forward(n), this.c.feedForward.act).mul(this.wi1!.forward(n))
        : activate(this.wi!.forward(n), this.c.feedForward.act);
      const ff = this.wo.forward(dropout(hidden, this.c.dropoutRate, this.training));
      return h1.add(dropout(ff, this.c.dropoutRate, this.training));
    });
  }
}

export class T5Encoder extends Module implements TokenEncoder {
  readonly hiddenSize: number;
  private readonly embed: Embedding;
  private readonly blocks: T5Block[] = [];
  private readonly finalNorm: T5LayerNorm;

  /** `shared.weight` is the embedding; checkpoints that also store `encoder.embed_tokens.weight` hold the same values. */
  constructor(readonly config: T5Config, w: WeightSource) {
    super();
    const c = config;
    this.hiddenSize = c.dModel;
    this.embed = this.registerModule('shared', new Embedding(w, 'shared', c.vocabSize, c.dModel));
    for (let i = 0; i < c.numLayers; i++)
      this.blocks.push(this.registerModule(`encoder.block.${i}`, new T5Block(w, `encoder.block.${i}`, c, i === 0)));
    this.finalNorm = this.registerModule('encoder.final_layer_norm', new T5LayerNorm(w, 'encoder.final_layer_norm', c.dModel, c.layerNormEpsilon));
  }

  forward({ inputIds, attentionMask }: TokenBatch): Tensor {
    const l = inputIds.shape[1]!;
    let x = dropout(this.embed.forward(inputIds), this.config.dropoutRate, this.training);
    const bias = this.blocks[0]!.attention.positionBias(l, inputIds.device).add(extendedMaskBias(attentionMask, 'float32'));
    for (const block of this.blocks) x = block.forward(x, bias);
    return dropout(this.finalNorm.forward(x), this.config.dropoutRate, this.training);
  }
}
