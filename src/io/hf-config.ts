/**
 * Hugging Face `config.json` for the three encoder families densekit runs (BERT, DistilBERT, T5), parsed into a
 * discriminated union with the defaults transformers applies when an old config omits a field, and a shape check
 * of a state dict against it so a mismatched checkpoint fails at load time with one line instead of deep inside
 * a matmul.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readJsonFileSync } from '../util/lines.js';
import type { HostTensor } from './host-tensor.js';

/** Activation functions by their transformers ACT2FN name ('gelu' is the erf form, 'gelu_new' the tanh one). */
export type Activation = 'relu' | 'gelu' | 'gelu_new' | 'silu';

export interface BertConfig {
  modelType: 'bert';
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenAct: Activation;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
  positionEmbeddingType: 'absolute';
  /** Dropout probabilities (training only). */
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
}

export interface DistilBertConfig {
  modelType: 'distilbert';
  vocabSize: number;
  dim: number;
  nLayers: number;
  nHeads: number;
  hiddenDim: number;
  activation: Activation;
  maxPositionEmbeddings: number;
  sinusoidalPosEmbds: boolean;
  padTokenId: number;
  /** Dropout probabilities (training only). */
  dropout: number;
  attentionDropout: number;
}

export interface T5Config {
  modelType: 't5';
  vocabSize: number;
  dModel: number;
  dKv: number;
  numHeads: number;
  dFf: number;
  /** Encoder layers. */
  numLayers: number;
  /** The raw `feed_forward_proj` string, e.g. "relu" (T5 v1.0, GTR) or "gated-gelu" (T5 v1.1). */
  feedForwardProj: string;
  /** `feed_forward_proj` as transformers interprets it: "gated-gelu" means gated with gelu_new. */
  feedForward: { gated: boolean; act: Activation };
  relativeAttentionNumBuckets: number;
  relativeAttentionMaxDistance: number;
  layerNormEpsilon: number;
  tieWordEmbeddings: boolean;
  padTokenId: number;
  /** Dropout probability (training only). */
  dropoutRate: number;
}

export type HfConfig = BertConfig | DistilBertConfig | T5Config;

/** Reads `config.json` from a model folder (or the file itself). */
export function readHfConfig(dirOrFile: string): HfConfig {
  let file = dirOrFile;
  try {
    if (statSync(dirOrFile).isDirectory()) file = join(dirOrFile, 'config.json');
  } catch {
    throw new InputError(dirOrFile, undefined, 'model folder or config.json does not exist');
  }
  return parseHfConfig(readJsonFileSync(file), file);
}

/** Parses config.json content; `file` names the source in errors. */
export function parseHfConfig(json: unknown, file: string): HfConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError(file, undefined, 'model config is not a JSON object');
  const f = new Fields(json as Record<string, unknown>, file);
  const type = modelTypeOf(json as Record<string, unknown>, file);
  switch (type) {
    case 'bert':
      return parseBert(f);
    case 'distilbert':
      return parseDistilBert(f);
    case 't5':
      return parseT5(f);
  }
}

function modelTypeOf(json: Record<string, unknown>, file: string): 'bert' | 'distilbert' | 't5' {
  const declared = json.model_type;
  if (declared !== undefined) {
    if (declared === 'bert' || declared === 'distilbert' || declared === 't5') return declared;
    // mT5 is the T5 v1.1 architecture with a larger vocabulary.
    if (declared === 'mt5') return 't5';
    throw new InputError(file, undefined, `field "model_type": unsupported architecture ${JSON.stringify(declared)} (supported: bert, distilbert, t5, mt5)`);
  }
  const archs = json.architectures;
  if (Array.isArray(archs) && typeof archs[0] === 'string') {
    const a = archs[0];
    if (a.startsWith('DistilBert')) return 'distilbert';
    if (a.startsWith('Bert')) return 'bert';
    if (a.startsWith('T5') || a.startsWith('MT5')) return 't5';
    throw new InputError(file, undefined, `field "architectures": unsupported architecture "${a}" (supported: Bert*, DistilBert*, T5*, MT5*)`);
  }
  throw new InputError(file, undefined, 'field "model_type" is missing (and no "architectures" to infer it from)');
}

function parseBert(f: Fields): BertConfig {
  const positionEmbeddingType = f.str('position_embedding_type', 'absolute');
  if (positionEmbeddingType !== 'absolute') {
    f.fail('position_embedding_type', `"${positionEmbeddingType}" is not supported (only "absolute")`);
  }
  return {
    modelType: 'bert',
    vocabSize: f.int('vocab_size'),
    hiddenSize: f.int('hidden_size'),
    numHiddenLayers: f.int('num_hidden_layers'),
    numAttentionHeads: f.int('num_attention_heads'),
    intermediateSize: f.int('intermediate_size'),
    hiddenAct: activation(f, 'hidden_act', f.str('hidden_act', 'gelu')),
    maxPositionEmbeddings: f.int('max_position_embeddings'),
    typeVocabSize: f.int('type_vocab_size', 2),
    layerNormEps: f.num('layer_norm_eps', 1e-12),
    padTokenId: f.int('pad_token_id', 0, 0),
    positionEmbeddingType: 'absolute',
    hiddenDropoutProb: f.prob('hidden_dropout_prob', 0.1),
    attentionProbsDropoutProb: f.prob('attention_probs_dropout_prob', 0.1),
  };
}

function parseDistilBert(f: Fields): DistilBertConfig {
  return {
    modelType: 'distilbert',
    vocabSize: f.int('vocab_size'),
    dim: f.int('dim'),
    nLayers: f.int('n_layers'),
    nHeads: f.int('n_heads'),
    hiddenDim: f.int('hidden_dim'),
    activation: activation(f, 'activation', f.str('activation', 'gelu')),
    maxPositionEmbeddings: f.int('max_position_embeddings'),
    sinusoidalPosEmbds: f.bool('sinusoidal_pos_embds', false),
    padTokenId: f.int('pad_token_id', 0, 0),
    dropout: f.prob('dropout', 0.1),
    attentionDropout: f.prob('attention_dropout', 0.1),
  };
}

function parseT5(f: Fields): T5Config {
  const feedForwardProj = f.str('feed_forward_proj', 'relu');
  return {
    modelType: 't5',
    vocabSize: f.int('vocab_size'),
    dModel: f.int('d_model'),
    dKv: f.int('d_kv'),
    numHeads: f.int('num_heads'),
    dFf: f.int('d_ff'),
    numLayers: f.int('num_layers'),
    feedForwardProj,
    feedForward: parseFeedForwardProj(f, feedForwardProj),
    relativeAttentionNumBuckets: f.int('relative_attention_num_buckets', 32),
    relativeAttentionMaxDistance: f.int('relative_attention_max_distance', 128),
    layerNormEpsilon: f.num('layer_norm_epsilon', 1e-6),
    tieWordEmbeddings: f.bool('tie_word_embeddings', true),
    padTokenId: f.int('pad_token_id', 0, 0),
    dropoutRate: f.prob('dropout_rate', 0.1),
  };
}

/** transformers' T5Config: "[gated-]ACT", and for backward compatibility "gated-gelu" selects gelu_new. */
function parseFeedForwardProj(f: Fields, proj: string): { gated: boolean; act: Activation } {
  const parts = proj.split('-');
  if ((parts.length > 1 && parts[0] !== 'gated') || parts.length > 2) {
    f.fail('feed_forward_proj', `"${proj}" is not a valid activation function of the dense layer (expected "ACT" or "gated-ACT", e.g. "relu" or "gated-gelu")`);
  }
  const gated = parts[0] === 'gated';
  const act = proj === 'gated-gelu' ? 'gelu_new' : parts[parts.length - 1]!;
  return { gated, act: activation(f, 'feed_forward_proj', act) };
}

function activation(f: Fields, field: string, name: string): Activation {
  switch (name) {
    case 'relu':
    case 'gelu':
    case 'gelu_new':
    case 'silu':
      return name;
    case 'swish':
      return 'silu';
    // The same tanh approximation as gelu_new, computed by a fused kernel in PyTorch.
    case 'gelu_pytorch_tanh':
      return 'gelu_new';
    default:
      return f.fail(field, `activation "${name}" is not supported (supported: relu, gelu, gelu_new, gelu_pytorch_tanh, silu, swish)`);
  }
}

/** Typed access to config fields with one-line errors naming the file and the field. */
class Fields {
  constructor(private readonly json: Record<string, unknown>, private readonly file: string) {}

  fail(field: string, problem: string): never {
    throw new InputError(this.file, undefined, `field "${field}": ${problem}`);
  }

  private get(field: string, fallback: unknown): unknown {
    const v = this.json[field];
    if (v === undefined || v === null) {
      if (fallback === undefined) this.fail(field, 'is missing');
      return fallback;
    }
    return v;
  }

  int(field: string, fallback?: number, min = 1): number {
    const v = this.get(field, fallback);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) this.fail(field, `expected an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v as number;
  }

  num(field: string, fallback?: number): number {
    const v = this.get(field, fallback);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) this.fail(field, `expected a non-negative number, got ${JSON.stringify(v)}`);
    return v as number;
  }

  prob(field: string, fallback: number): number {
    const v = this.get(field, fallback);
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) this.fail(field, `expected a probability in [0, 1), got ${JSON.stringify(v)}`);
    return v as number;
  }

  str(field: string, fallback?: string): string {
    const v = this.get(field, fallback);
    if (typeof v !== 'string') this.fail(field, `expected a string, got ${JSON.stringify(v)}`);
    return v as string;
  }

  bool(field: string, fallback?: boolean): boolean {
    const v = this.get(field, fallback);
    if (typeof v !== 'boolean') this.fail(field, `expected true or false, got ${JSON.stringify(v)}`);
    return v as boolean;
  }
}

/** What checkShapes found: the key prefix the checkpoint uses (e.g. "bert." for BertForMaskedLM checkpoints). */
export interface ShapeCheck {
  prefix: string;
  /** T5 only: which stored tensor holds the token embeddings ("shared.weight" or "encoder.embed_tokens.weight"). */
  embeddingKey?: string;
}

type Expected = Array<[key: string, shape: number[], optional?: boolean]>;

/**
 * Validates every weight the config implies against the state dict (keys as Hugging Face stores them) and throws
 * on the first missing tensor or shape mismatch: "file: tensor X has shape [..], config implies [..]". Extra
 * tensors (a pooler, a decoder, an LM head) are allowed; extra encoder layers are not.
 */
export function checkShapes(config: HfConfig, stateDict: Map<string, HostTensor>, file = 'state dict'): ShapeCheck {
  switch (config.modelType) {
    case 'bert': {
      const prefix = findPrefix(stateDict, ['', 'bert.'], 'embeddings.word_embeddings.weight', file);
      checkAll(stateDict, prefix, bertExpected(config), file);
      checkLayerCount(stateDict, `${prefix}encoder.layer.`, config.numHiddenLayers, 'num_hidden_layers', file);
      return { prefix };
    }
    case 'distilbert': {
      const prefix = findPrefix(stateDict, ['', 'distilbert.'], 'embeddings.word_embeddings.weight', file);
      checkAll(stateDict, prefix, distilBertExpected(config), file);
      checkLayerCount(stateDict, `${prefix}transformer.layer.`, config.nLayers, 'n_layers', file);
      return { prefix };
    }
    case 't5': {
      const candidates = ['shared.weight', 'encoder.embed_tokens.weight'];
      const present = candidates.filter((k) => stateDict.has(k));
      if (present.length === 0) throw new InputError(file, undefined, `tensor shared.weight (or encoder.embed_tokens.weight) is missing, config implies [${config.vocabSize}, ${config.dModel}]`);
      const expected: Expected = present.map((k) => [k, [config.vocabSize, config.dModel]]);
      checkAll(stateDict, '', [...expected, ...t5Expected(config)], file);
      checkLayerCount(stateDict, 'encoder.block.', config.numLayers, 'num_layers', file);
      return { prefix: '', embeddingKey: present[0]! };
    }
  }
}

function bertExpected(c: BertConfig): Expected {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const e: Expected = [
    ['embeddings.word_embeddings.weight', [c.vocabSize, H]],
    ['embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, H]],
    ['embeddings.token_type_embeddings.weight', [c.typeVocabSize, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ];
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const l = `encoder.layer.${i}.`;
    for (const m of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      e.push([`${l}${m}.weight`, [H, H]], [`${l}${m}.bias`, [H]]);
    }
    e.push(
      [`${l}attention.output.LayerNorm.weight`, [H]], [`${l}attention.output.LayerNorm.bias`, [H]],
      [`${l}intermediate.dense.weight`, [I, H]], [`${l}intermediate.dense.bias`, [I]],
      [`${l}output.dense.weight`, [H, I]], [`${l}output.dense.bias`, [H]],
      [`${l}output.LayerNorm.weight`, [H]], [`${l}output.LayerNorm.bias`, [H]],
    );
  }
  e.push(['pooler.dense.weight', [H, H], true], ['pooler.dense.bias', [H], true]);
  return e;
}

function distilBertExpected(c: DistilBertConfig): Expected {
  const D = c.dim;
  const F = c.hiddenDim;
  const e: Expected = [
    ['embeddings.word_embeddings.weight', [c.vocabSize, D]],
    // Present even with sinusoidal_pos_embds (then filled with the sinusoids and frozen).
    ['embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, D]],
    ['embeddings.LayerNorm.weight', [D]],
    ['embeddings.LayerNorm.bias', [D]],
  ];
  for (let i = 0; i < c.nLayers; i++) {
    const l = `transformer.layer.${i}.`;
    for (const m of ['q_lin', 'k_lin', 'v_lin', 'out_lin']) e.push([`${l}attention.${m}.weight`, [D, D]], [`${l}attention.${m}.bias`, [D]]);
    e.push(
      [`${l}sa_layer_norm.weight`, [D]], [`${l}sa_layer_norm.bias`, [D]],
      [`${l}ffn.lin1.weight`, [F, D]], [`${l}ffn.lin1.bias`, [F]],
      [`${l}ffn.lin2.weight`, [D, F]], [`${l}ffn.lin2.bias`, [D]],
      [`${l}output_layer_norm.weight`, [D]], [`${l}output_layer_norm.bias`, [D]],
    );
  }
  return e;
}

function t5Expected(c: T5Config): Expected {
  const M = c.dModel;
  const inner = c.numHeads * c.dKv;
  const e: Expected = [];
  for (let i = 0; i < c.numLayers; i++) {
    const b = `encoder.block.${i}.`;
    for (const m of ['q', 'k', 'v']) e.push([`${b}layer.0.SelfAttention.${m}.weight`, [inner, M]]);
    e.push([`${b}layer.0.SelfAttention.o.weight`, [M, inner]]);
    // Only the first block owns the relative position bias; the others reuse it.
    if (i === 0) e.push([`${b}layer.0.SelfAttention.relative_attention_bias.weight`, [c.relativeAttentionNumBuckets, c.numHeads]]);
    e.push([`${b}layer.0.layer_norm.weight`, [M]]);
    const ff = `${b}layer.1.DenseReluDense.`;
    if (c.feedForward.gated) e.push([`${ff}wi_0.weight`, [c.dFf, M]], [`${ff}wi_1.weight`, [c.dFf, M]]);
    else e.push([`${ff}wi.weight`, [c.dFf, M]]);
    e.push([`${ff}wo.weight`, [M, c.dFf]], [`${b}layer.1.layer_norm.weight`, [M]]);
  }
  e.push(['encoder.final_layer_norm.weight', [M]]);
  return e;
}

function findPrefix(sd: Map<string, HostTensor>, prefixes: string[], probe: string, file: string): string {
  const p = prefixes.find((x) => sd.has(`${x}${probe}`));
  if (p === undefined) throw new InputError(file, undefined, `tensor ${probe} is missing (also looked for ${prefixes.filter(Boolean).map((x) => x + probe).join(', ')})`);
  return p;
}

function checkAll(sd: Map<string, HostTensor>, prefix: string, expected: Expected, file: string): void {
  for (const [key, shape, optional] of expected) {
    const t = sd.get(prefix + key);
    if (!t) {
      if (optional) continue;
      throw new InputError(file, undefined, `tensor ${prefix}${key} is missing, config implies [${shape.join(', ')}]`);
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new InputError(file, undefined, `tensor ${prefix}${key} has shape [${t.shape.join(', ')}], config implies [${shape.join(', ')}]`);
    }
  }
}

function checkLayerCount(sd: Map<string, HostTensor>, layerPrefix: string, count: number, field: string, file: string): void {
  for (const key of sd.keys()) {
    if (!key.startsWith(layerPrefix)) continue;
    const index = Number.parseInt(key.slice(layerPrefix.length), 10);
    if (index >= count) throw new InputError(file, undefined, `tensor ${key} belongs to layer ${index}, but config ${field} = ${count}`);
  }
}
