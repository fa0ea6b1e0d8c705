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
