/** BERT encoder, numerically as Hugging Face transformers' BertModel (absolute positions, post-LayerNorm). */
import { arange, scope, zeros, type Tensor } from '../tensor/index.js';
import type { BertConfig } from '../io/hf-config.js';
import { Module } from './module.js';
import { Embedding, LayerNorm, Linear, activate, dropout, type Activation } from './layers.js';
import type { TokenBatch, TokenEncoder } from './transformer.js';
import type { WeightSource } from './weights.js';

/** transformers 4.19 adds this to masked attention logits (not -inf), so fully padded rows stay finite. */
export const MASKED_LOGIT = -10000;

class BertSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly outDense: Linear;
  readonly outNorm: LayerNorm;
  private readonly headDim: number;
  constructor(w: WeightSource, p: string, private readonly c: BertConfig) {
    super();
    const h = c.hiddenSize;
    this.headDim = h / c.numAttentionHeads;
    this.query = this.registerModule('self.query', new Linear(w, `${p}.self.query`, h, h));
    this.key = this.registerModule('self.key', new Linear(w, `${p}.self.key`, h, h));
    this.value = this.registerModule('self.value', new Linear(w, `${p}.self.value`, h, h));
    this.outDense = this.registerModule('output.dense', new Linear(w, `${p}.output.dense`, h, h));
    this.outNorm = this.registerModule('output.LayerNorm', new LayerNorm(w, `${p}.output.LayerNorm`, h, c.layerNormEps));
  }
  forward(x: Tensor, maskBias: Tensor): Tensor {
    const [b, l] = x.shape as [number, number, number];
    const heads = this.c.numAttentionHeads;
    const split = (t: Tensor) => t.view([b, l, heads, this.headDim]).transpose(1, 2);
    const q = split(this.query.forward(x));
    const k = split(this.key.forward(x));
    const v = split(this.value.forward(x));
    const scores = q.matmul(k.transpose(-1, -2)).div(Math.sqrt(this.headDim)).add(maskBias);
    const probs = dropout(scores.softmax(-1), this.c.attentionProbsDropoutProb, this.training);
    const ctx = probs.matmul(v).transpose(1, 2).reshape([b, l, this.c.hiddenSize]);
    const out = dropout(this.outDense.forward(ctx), this.c.hiddenDropoutProb, this.training);
    return this.outNorm.forward(out.add(x));
  }
}

class BertLayer extends Module {
  readonly attention: BertSelfAttention;
  readonly intermediate: Linear;
  readonly output: Linear;
  readonly outputNorm: LayerNorm;
  constructor(w: WeightSource, p: string, private readonly c: BertConfig) {
    super();
    this.attention = this.registerModule('attention', new BertSelfAttention(w, `${p}.attention`, c));
    this.intermediate = this.registerModule('intermediate.dense', new Linear(w, `${p}.intermediate.dense`, c.hiddenSize, c.intermediateSize));
    this.output = this.registerModule('output.dense', new Linear(w, `${p}.output.dense`, c.intermediateSize, c.hiddenSize));
    this.outputNorm = this.registerModule('output.LayerNorm', new LayerNorm(w, `${p}.output.LayerNorm`, c.hiddenSize, c.layerNormEps));
  }
  forward(x: Tensor, maskBias: Tensor): Tensor {
    const a = this.attention.forward(x, maskBias);
    const h = activate(this.intermediate.forward(a), this.c.hiddenAct as Activation);
    const o = dropout(this.output.forward(h), this.c.hiddenDropoutProb, this.training);
    return this.outputNorm.forward(o.add(a));
  }
}

export class BertEncoder extends Module implements TokenEncoder {
  readonly hiddenSize: number;
  private readonly words: Embedding;
  private readonly positions: Embedding;
  private readonly types: Embedding;
  private readonly embNorm: LayerNorm;
  private readonly layers: BertLayer[] = [];

  constructor(readonly config: BertConfig, w: WeightSource) {
    super();
    const c = config;
    this.hiddenSize = c.hiddenSize;
    this.words = this.registerModule('embeddings.word_embeddings', new Embedding(w, 'embeddings.word_embeddings', c.vocabSize, c.hiddenSize));
    this.positions = this.registerModule('embeddings.position_embeddings', new Embedding(w, 'embeddings.position_embeddings', c.maxPositionEmbeddings, c.hiddenSize));
    this.types = this.registerModule('embeddings.token_type_embeddings', new Embedding(w, 'embeddings.token_type_embeddings', c.typeVocabSize, c.hiddenSize));
    this.embNorm = this.registerModule('embeddings.LayerNorm', new LayerNorm(w, 'embeddings.LayerNorm', c.hiddenSize, c.layerNormEps));
    for (let i = 0; i < c.numHiddenLayers; i++)
      this.layers.push(this.registerModule(`encoder.layer.${i}`, new BertLayer(w, `encoder.layer.${i}`, c)));
  }

  forward({ inputIds, attentionMask, tokenTypeIds }: TokenBatch): Tensor {
    const [b, l] = inputIds.shape as [number, number];
    const device = inputIds.device;
    const positions = arange(0, l, 1, { dtype: 'int64', device }).unsqueeze(0);
    const types = tokenTypeIds ?? zeros([b, l], { dtype: 'int64', device });
    let x = this.words.forward(inputIds).add(this.positions.forward(positions)).add(this.types.forward(types));
    x = dropout(this.embNorm.forward(x), this.config.hiddenDropoutProb, this.training);
    const maskBias = extendedMaskBias(attentionMask, x.dtype);
    // One scope per layer: its intermediates go when it returns, not at the end of the forward pass.
    for (const layer of this.layers) x = scope(() => layer.forward(x, maskBias));
    return x;
  }
}

/** [b, l] 0/1 mask -> [b, 1, 1, l] additive bias: 0 where attended, MASKED_LOGIT where padded. */
export function extendedMaskBias(attentionMask: Tensor, dtype: Tensor['dtype']): Tensor {
  return attentionMask.unsqueeze(1).unsqueeze(2).to(dtype === 'bfloat16' || dtype === 'float16' ? 'float32' : dtype).neg().add(1).mul(MASKED_LOGIT);
}
