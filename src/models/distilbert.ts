/** DistilBERT encoder, numerically as transformers' DistilBertModel (TAS-B's architecture). */
import { arange, scope, type Tensor } from '../tensor/index.js';
import type { DistilBertConfig } from '../io/hf-config.js';
import { Module } from './module.js';
import { Embedding, LayerNorm, Linear, activate, dropout, type Activation } from './layers.js';
import type { TokenBatch, TokenEncoder } from './transformer.js';
import type { WeightSource } from './weights.js';
import { DensekitError } from '../errors.js';

const EPS = 1e-12;

class DistilBertLayer extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly out: Linear;
  readonly saNorm: LayerNorm;
  readonly lin1: Linear;
  readonly lin2: Linear;
  readonly outNorm: LayerNorm;
  constructor(w: WeightSource, p: string, private readonly c: DistilBertConfig) {
    super();
    const d = c.dim;
    this.q = this.registerModule('attention.q_lin', new Linear(w, `${p}.attention.q_lin`, d, d));
    this.k = this.registerModule('attention.k_lin', new Linear(w, `${p}.attention.k_lin`, d, d));
    this.v = this.registerModule('attention.v_lin', new Linear(w, `${p}.attention.v_lin`, d, d));
    this.out = this.registerModule('attention.out_lin', new Linear(w, `${p}.attention.out_lin`, d, d));
    this.saNorm = this.registerModule('sa_layer_norm', new LayerNorm(w, `${p}.sa_layer_norm`, d, EPS));
    this.lin1 = this.registerModule('ffn.lin1', new Linear(w, `${p}.ffn.lin1`, d, c.hiddenDim));
    this.lin2 = this.registerModule('ffn.lin2', new Linear(w, `${p}.ffn.lin2`, c.hiddenDim, d));
    this.outNorm = this.registerModule('output_layer_norm', new LayerNorm(w, `${p}.output_layer_norm`, d, EPS));
  }
  forward(x: Tensor, padMask: Tensor): Tensor {
    const [b, l] = x.shape as [number, number, number];
    const heads = this.c.nHeads;
    const hd = this.c.dim / heads;
    const split = (t: Tensor) => t.view([b, l, heads, hd]).transpose(1, 2);
    // DistilBERT scales q before the product and masks with -inf (transformers 4.19), unlike BERT.
    const q = split(this.q.forward(x)).div(Math.sqrt(hd));
    const k = split(this.k.forward(x));
    const v = split(this.v.forward(x));
    const scores = q.matmul(k.transpose(2, 3)).maskedFill(padMask, -Infinity);
    const probs = dropout(scores.softmax(-1), this.c.attentionDropout, this.training);
    const ctx = probs.matmul(v).transpose(1, 2).reshape([b, l, this.c.dim]);
    const sa = this.saNorm.forward(this.out.forward(ctx).add(x));
    const h = activate(this.lin1.forward(sa), this.c.activation as Activation);
    const ff = dropout(this.lin2.forward(h), this.c.dropout, this.training);
    return this.outNorm.forward(ff.add(sa));
  }
}

export class DistilBertEncoder extends Module implements TokenEncoder {
  readonly hiddenSize: number;
  private readonly words: Embedding;
  private readonly positions: Embedding;
  private readonly embNorm: LayerNorm;
  private readonly layers: DistilBertLayer[] = [];

  constructor(readonly config: DistilBertConfig, w: WeightSource) {
    super();
    const c = config;
    // Sinusoidal position tables (sinusoidal_pos_embds) are stored as position_embeddings.weight too, so both load alike.
    this.hiddenSize = c.dim;
    this.words = this.registerModule('embeddings.word_embeddings', new Embedding(w, 'embeddings.word_embeddings', c.vocabSize, c.dim));
    this.positions = this.registerModule('embeddings.position_embeddings', new Embedding(w, 'embeddings.position_embeddings', c.maxPositionEmbeddings, c.dim));
    this.embNorm = this.registerModule('embeddings.LayerNorm', new LayerNorm(w, 'embeddings.LayerNorm', c.dim, EPS));
    for (let i = 0; i < c.nLayers; i++)
      this.layers.push(this.registerModule(`transformer.layer.${i}`, new DistilBertLayer(w, `transformer.layer.${i}`, c)));
  }

  forward({ inputIds, attentionMask }: TokenBatch): Tensor {
    const [b, l] = inputIds.shape as [number, number];
    if (l > this.config.maxPositionEmbeddings)
      throw new DensekitError(`DistilBERT input of ${l} tokens exceeds max_position_embeddings ${this.config.maxPositionEmbeddings}`);
    const positions = arange(0, l, 1, { dtype: 'int64', device: inputIds.device }).unsqueeze(0);
    let x = this.words.forward(inputIds).add(this.positions.forward(positions));
    x = dropout(this.embNorm.forward(x), this.config.dropout, this.training);
    const padMask = attentionMask.eq(0).view([b, 1, 1, l]);
    // One scope per layer: its intermediates go when it returns, not at the end of the forward pass.
    for (const layer of this.layers) x = scope(() => layer.forward(x, padMask));
    return x;
  }
}
