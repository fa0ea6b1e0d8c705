/**
 * A sentence-transformers model (Transformer -> Pooling -> [Dense...] -> [Normalize]) loaded from its folder:
 * the one object that turns text into vectors, for inference and for training.
 */
import { existsSync } from 'node:fs';
import { readJsonFileSync } from '../util/lines.js';
import { join } from 'node:path';
import { autocast, cpuCapabilities, noGrad, resolveDevice, scope, tensor, type Device, type Tensor } from '../tensor/index.js';
import { inMemory, openStateDict, readHfConfig, readSentenceTransformer, resolveModelPath, writeSentenceTransformer } from '../io/index.js';
import type { HfConfig, SentenceTransformerSpec, ModuleToWrite, DenseActivation } from '../io/index.js';
import type { HostTensor } from '../io/host-tensor.js';
import { padBatch, type Encoding, type Tokenizer } from '../text/index.js';
import { DensekitError, InputError, UsageError } from '../errors.js';
import { lengthSortedBatches, ModelInput, type ModelRecord, type TextKind } from './model-input.js';
import { Module } from './module.js';
import { quantizeDynamicInt8 } from './layers.js';
import { ensureModel, type DownloadOptions } from '../hub/index.js';
import { Pooling, Dense, l2Normalize } from './pooling.js';
import { applyHead, type SentenceHead } from './head.js';
import { BertEncoder } from './bert.js';
import { DistilBertEncoder } from './distilbert.js';
import { T5Encoder } from './t5.js';
import type { TokenBatch, TokenEncoder } from './transformer.js';
import { MetaWeights, RandomWeights, StateDictWeights, type WeightSource } from './weights.js';
import { chooseWeightsDtype, type WeightsDtype, type WeightsDtypeChoice } from './weights-dtype.js';

export type Precision = 'fp32' | 'bf16' | 'fp16' | 'int8';

export interface EncoderOptions {
  /** cpu (default), cuda, cuda:N; meta builds the model without storage (shapes only: for planning memory). */
  device?: Device;
  /**
   * Compute precision: fp32 (default, exact), bf16 (autocast), fp16 (CUDA only; refused for T5), int8 (CPU only:
   * the transformer's linear layers dynamically quantized as torch.ao's quantize_dynamic; the other ops under bf16
   * autocast where the CPU has native bf16, else in fp32; vectors move slightly with their batch, see src/tensor/cpu.ts).
   */
  dtype?: Precision;
  /**
   * Storage of the weight matrices: fp32, bf16 (half the memory), or auto (default: bf16 when the compute is bf16
   * or fp32 would not fit in memory, else fp32). See weights-dtype.ts.
   */
  weightsDtype?: WeightsDtype;
  /** Receives one line saying which weights dtype was chosen and why (the CLI prints it on stderr). */
  log?: (line: string) => void;
  /** Token limits per side; default: the checkpoint's max_seq_length. TAS-B trains with 30 / 200. */
  queryMaxLength?: number;
  passageMaxLength?: number;
  /** Fresh random weights (BERT's N(0, 0.02) from libtorch's generator; seed it with manualSeed) instead of the folder's: training from scratch. */
  randomWeights?: boolean;
  /** Pooling / projection / similarity to build onto a plain Hugging Face folder (or to check against a sentence-transformers one). */
  head?: SentenceHead;
}

export interface EncodeOptions {
  /** Texts per forward pass (default 32); with tokenBudget, the most texts per pass. */
  batchSize?: number;
  /**
   * Batch by padded tokens instead of by count: each pass holds as many length-sorted texts as fit in
   * rows x padded length <= tokenBudget (at least one), at most batchSize of them. Long passages then go in
   * small batches and short ones in large, so every pass is about the same amount of work and memory.
   */
  tokenBudget?: number;
  /** Called after each batch with the number of texts just encoded. */
  onProgress?: (done: number) => void;
}

export interface TokenizedBatch extends TokenBatch {
  /** How many of these texts were cut to the side's max length. */
  truncated: number;
}

export interface EmbedResult {
  /** Row-major [texts, dim]. */
  vectors: Float32Array;
  truncated: number;
  maxLength: number;
}

/** Builds the token encoder a Hugging Face config names. */
export function createTokenEncoder(config: HfConfig, w: WeightSource): TokenEncoder {
  switch (config.modelType) {
    case 'bert': return new BertEncoder(config, w);
    case 'distilbert': return new DistilBertEncoder(config, w);
    case 't5': return new T5Encoder(config, w);
  }
}

/** Checkpoint key prefixes by architecture: task-head wrappers store the encoder under these. */
const PREFIXES: Record<HfConfig['modelType'], string[]> = {
  bert: ['', 'bert.'],
  distilbert: ['', 'distilbert.'],
  t5: [''],
};
const ALIASES: Record<HfConfig['modelType'], Record<string, string[]>> = {
  bert: {},
  distilbert: {},
  // T5EncoderModel ties the encoder's embed_tokens to shared; some checkpoints keep only one of the two.
  t5: { 'shared.weight': ['encoder.embed_tokens.weight'] },
};

const WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'];

/** The bytes of a model's parameters in float32, counted on the meta device (no memory is allocated). */
export function fp32ParameterBytes(config: HfConfig, extraParameters = 0): number {
  const meta = createTokenEncoder(config, new MetaWeights());
  let n = extraParameters;
  for (const p of meta.namedParameters().values()) n += p.numel();
  meta.dispose();
  return 4 * n;
}

export interface TransformerLoadOptions {
  random?: boolean;
  device?: Device;
  /** Storage of weight matrices (vectors stay float32). */
  matrixDtype?: 'float32' | 'bfloat16';
}

/** Loads the bare BERT/DistilBERT/T5 encoder of a Hugging Face folder, one weight at a time, onto the device. */
export function loadTransformer(dir: string, opts: TransformerLoadOptions = {}): { encoder: TokenEncoder; config: HfConfig } {
  const config = readHfConfig(dir);
  if (opts.random) return { encoder: createTokenEncoder(config, new RandomWeights()).to(opts.device ?? 'cpu'), config };
  const label = WEIGHT_FILES.map((f) => join(dir, f)).find((f) => existsSync(f)) ?? dir;
  const stateDict = openStateDict(dir);
  const w = new StateDictWeights(stateDict.tensors, label, {
    prefixes: PREFIXES[config.modelType], aliases: ALIASES[config.modelType], ...(opts.device ? { device: opts.device } : {}),
    ...(opts.matrixDtype ? { matrixDtype: opts.matrixDtype } : {}),
  });
  try {
    return { encoder: createTokenEncoder(config, w), config };
  } finally {
    w.release();
    stateDict.close();
  }
}

class SentencePipeline extends Module {
  constructor(readonly transformer: TokenEncoder, readonly pooling: Pooling, readonly dense: Dense[]) {
    super();
    this.registerModule('0.auto_model', transformer);
    dense.forEach((d, i) => this.registerModule(`${i + 2}`, d));
  }
}

export class SentenceEncoder {
  readonly dim: number;
  readonly similarity: 'dot' | 'cosine';
  readonly maxLength: { query: number; passage: number };
  private readonly precision: Precision;
  #device: Device;
  /** The storage dtype of the weight matrices, and why it was chosen. */
  readonly weights: WeightsDtypeChoice;

  /** The compute precision embeddings are made with (fp32, bf16 autocast, fp16). */
  get dtype(): Precision {
    return this.precision;
  }

  private constructor(
    readonly spec: SentenceTransformerSpec,
    readonly config: HfConfig,
    /** What the model sees (prompts, title + text, strip, lowercase, max length per kind). */
    readonly input: ModelInput,
    private readonly pipeline: SentencePipeline,
    readonly normalize: boolean,
    opts: EncoderOptions,
    /** config.json as read, written back verbatim on save (the source folder may be gone by then). */
    private readonly rawConfig: Record<string, unknown>,
    weights: WeightsDtypeChoice,
  ) {
    this.weights = weights;
    this.precision = opts.dtype ?? 'fp32';
    this.#device = opts.device ?? 'cpu';
    const last = pipeline.dense.at(-1);
    this.dim = last ? last.outFeatures : pipeline.pooling.outputDim;
    this.similarity = normalize ? 'cosine' : 'dot';
    // A model folder always has both limits (ModelInput falls back to 512).
    this.maxLength = { query: input.maxLength.query!, passage: input.maxLength.passage! };
  }

  get tokenizer(): Tokenizer {
    return this.input.tokenizer;
  }

  /**
   * Loads a folder, or a Hugging Face Hub id (downloaded into the shared Hugging Face cache when it is not there;
   * see src/hub): `await SentenceEncoder.fromPretrained('sentence-transformers/msmarco-distilbert-base-tas-b')`.
   */
  static async fromPretrained(nameOrPath: string, opts: EncoderOptions & DownloadOptions = {}): Promise<SentenceEncoder> {
    return SentenceEncoder.load(await ensureModel(nameOrPath, opts), opts);
  }

  /** Loads a sentence-transformers folder (or a plain Hugging Face model folder, mean-pooled) by path or cached hub id; never downloads. */
  static load(nameOrPath: string, opts: EncoderOptions = {}): SentenceEncoder {
    const dir = resolveModelPath(nameOrPath);
    const spec = applyHead(readSentenceTransformer(dir), opts.head);
    const transformerSpec = spec.modules.find((m) => m.kind === 'Transformer');
    if (!transformerSpec) throw new DensekitError(`${join(dir, 'modules.json')}: no sentence_transformers.models.Transformer module`);
    const transformerDir = join(dir, transformerSpec.path);
    const device = resolveDevice(opts.device ?? 'cpu');
    const config = readHfConfig(transformerDir);
    if (opts.dtype === 'fp16' && config.modelType === 't5')
      throw new UsageError(`${dir}: T5 models must not run in fp16 (published GTR/T5 weights overflow there); use --dtype bf16 or fp32`);
    if (opts.dtype === 'fp16' && !device.startsWith('cuda'))
      throw new UsageError('fp16 is only supported on CUDA; on CPU use --dtype bf16 or fp32');
    if (opts.dtype === 'int8' && device !== 'cpu')
      throw new UsageError(`int8 runs on the CPU only (libtorch's int8 engines); on ${device} use --dtype fp16, bf16 or fp32`);
    const denseParameters = spec.modules.reduce((n, m) => n + (m.kind === 'Dense' ? m.inFeatures * m.outFeatures + (m.bias ? m.outFeatures : 0) : 0), 0);
    const weights = chooseWeightsDtype({
      requested: opts.weightsDtype ?? 'auto', compute: opts.dtype ?? 'fp32', fp32Bytes: fp32ParameterBytes(config, denseParameters), device,
    });
    opts.log?.(`${dir}: ${weights.reason}`);
    const { encoder } = loadTransformer(transformerDir, { device, matrixDtype: weights.dtype, random: opts.randomWeights ?? false });
    if (opts.dtype === 'int8') quantizeDynamicInt8(encoder);
    const poolSpec = spec.modules.find((m) => m.kind === 'Pooling');
    const mode = poolSpec?.kind === 'Pooling' ? poolSpec.mode : { cls: false, max: false, mean: true, meanSqrtLen: false };
    if (poolSpec?.kind === 'Pooling' && poolSpec.dim !== encoder.hiddenSize)
      throw new InputError(join(dir, poolSpec.path, 'config.json'), undefined, `word_embedding_dimension is ${poolSpec.dim} but the Transformer outputs ${encoder.hiddenSize}`);
    const pooling = new Pooling(mode, encoder.hiddenSize);
    const dense: Dense[] = [];
    let width = pooling.outputDim;
    for (const m of spec.modules) {
      if (m.kind !== 'Dense') continue;
      if (m.inFeatures !== width)
        throw new DensekitError(`${join(dir, m.path, 'config.json')}: in_features is ${m.inFeatures} but the previous module outputs ${width}`);
      const stored = new Map([['linear.weight', inMemory(m.weight)], ...(m.biasTensor ? ([['linear.bias', inMemory(m.biasTensor)]] as const) : [])]);
      const w = new StateDictWeights(stored, join(dir, m.path), { device, matrixDtype: weights.dtype });
      dense.push(new Dense(w, m.inFeatures, m.outFeatures, m.bias, m.activation));
      width = m.outFeatures;
    }
    const normalize = spec.modules.some((m) => m.kind === 'Normalize');
    const input = ModelInput.load(dir, opts, spec);
    const pipeline = new SentencePipeline(encoder, pooling, dense);
    const rawConfig = readJsonFileSync(join(transformerDir, 'config.json')) as Record<string, unknown>;
    return new SentenceEncoder(spec, config, input, pipeline, normalize, { ...opts, device }, rawConfig, weights);
  }

  /** Where the parameters live, and where batches and every tensor of a forward pass are created. */
  get device(): Device {
    return this.#device;
  }

  /** Moves the model to another device (nn.Module.to); later batches are created there. */
  to(device: Device): this {
    const target = resolveDevice(device);
    this.pipeline.to(target);
    this.#device = target;
    return this;
  }

  get transformer(): TokenEncoder {
    return this.pipeline.transformer;
  }

  /** Parameters under sentence-transformers' state names: `0.auto_model.<hf key>`, `2.linear.weight`. */
  namedParameters(): Map<string, Tensor> {
    return this.pipeline.namedParameters();
  }

  train(flag = true): this {
    if (flag && this.precision === 'int8') throw new UsageError('a model loaded with dtype int8 is for inference only (no gradients through its int8 layers); train in fp32 or bf16');
    this.pipeline.train(flag);
    return this;
  }

  /** Whether dropout is on (train mode). */
  get isTraining(): boolean {
    return this.pipeline.isTraining;
  }

  /** What the model sees for each record (src/models/model-input.ts): the encodings every forward pass batches. */
  tokenizeTexts(records: readonly ModelRecord[], kind: TextKind): Encoding[] {
    return this.input.encode(records, kind);
  }

  /** Pads encodings into int64 tensors. */
  toBatch(encodings: readonly Encoding[]): TokenizedBatch {
    const p = padBatch(encodings, this.tokenizer.padId);
    const shape = [p.batch, p.length];
    const device = this.#device;
    const batch: TokenizedBatch = {
      inputIds: tensor(p.inputIds, { shape, dtype: 'int64', device }),
      attentionMask: tensor(p.attentionMask, { shape, dtype: 'int64', device }),
      truncated: encodings.filter((e) => e.truncated).length,
    };
    if (this.config.modelType === 'bert') batch.tokenTypeIds = tensor(p.typeIds ?? new Int32Array(p.batch * p.length), { shape, dtype: 'int64', device });
    return batch;
  }

  tokenize(records: readonly ModelRecord[], kind: TextKind): TokenizedBatch {
    return this.toBatch(this.tokenizeTexts(records, kind));
  }

  /** Last hidden state [B, L, hidden] (ColBERT-style teachers use it). */
  tokenEmbeddings(batch: TokenBatch): Tensor {
    return this.withPrecision(() => this.pipeline.transformer.forward(batch));
  }

  /** Sentence embeddings [B, dim], differentiable when grad mode is on. */
  forward(batch: TokenBatch): Tensor {
    return this.forwardWithTokens(batch).embeddings;
  }

  /**
   * The last hidden state and the sentence embeddings from one pass (the ONNX export records both outputs from
   * a single trace of this very code, so the head it records is the head inference runs).
   */
  forwardWithTokens(batch: TokenBatch): { tokens: Tensor; embeddings: Tensor } {
    return this.withPrecision(() => {
      const tokens = this.pipeline.transformer.forward(batch);
      let x = this.pipeline.pooling.forward(tokens, batch.attentionMask);
      for (const d of this.pipeline.dense) x = d.forward(x);
      if (x.dtype !== 'float32') x = x.to('float32');
      return { tokens, embeddings: this.normalize ? l2Normalize(x) : x };
    });
  }

  private withPrecision<T>(fn: () => T): T {
    if (this.precision === 'fp32') return fn();
    if (this.precision === 'int8') {
      // The int8 linear layers take and give float32. The products of two activations (attention's q k^T and
      // weights x v) stay floating: in fp32 they are OpenBLAS's small batched GEMMs (~64 GFLOP/s here, 13% of
      // an int8 forward pass), in bf16 oneDNN's, so on a CPU with native bf16 they run under bf16 autocast
      // (DistilBERT-base: 38.3 -> 45.4 passages/s, cosine to fp32 unchanged at 0.99983; docs/cpu-speed.md).
      return cpuCapabilities().nativeBf16 ? autocast('bfloat16', fn, this.#device) : fn();
    }
    return autocast(this.precision === 'bf16' ? 'bfloat16' : 'float16', fn, this.#device);
  }

  /**
   * Encodes texts in length-sorted batches (padding per batch, so short texts cost little) and returns
   * rows in input order.
   */
  embed(texts: readonly ModelRecord[], kind: TextKind, opts: EncodeOptions = {}): EmbedResult {
    const batchSize = opts.batchSize ?? 32;
    const encodings = this.tokenizeTexts(texts, kind);
    const batches = lengthSortedBatches(encodings, batchSize, opts.tokenBudget);
    const out = new Float32Array(texts.length * this.dim);
    let truncated = 0;
    for (const idx of batches) {
      const rows = noGrad(() =>
        scope(() => {
          const batch = this.toBatch(idx.map((i) => encodings[i]!));
          truncated += batch.truncated;
          return this.forward(batch).toFloat32Array();
        }),
      );
      idx.forEach((row, j) => out.set(rows.subarray(j * this.dim, (j + 1) * this.dim), row * this.dim));
      opts.onProgress?.(idx.length);
    }
    return { vectors: out, truncated, maxLength: this.maxLength[kind] };
  }

  async encodeQueries(texts: readonly string[], opts?: EncodeOptions): Promise<Float32Array> {
    return this.embed(texts, 'query', opts).vectors;
  }

  async encodePassages(texts: readonly string[], opts?: EncodeOptions): Promise<Float32Array> {
    return this.embed(texts, 'passage', opts).vectors;
  }

  /** Writes the model in the sentence-transformers layout with safetensors weights (loadable from Python). */
  save(dir: string): void {
    // An int8 model holds its linear weights as packed int8 codes: the float checkpoint is gone.
    if (this.precision === 'int8') throw new UsageError(`${dir}: a model loaded with dtype int8 cannot be saved (its weights are packed int8 codes); load it in fp32 or bf16 to save or train it`);
    scope(() => this.saveUnscoped(dir));
  }

  private saveUnscoped(dir: string): void {
    const params = this.namedParameters();
    const weights = new Map<string, HostTensor>();
    for (const [name, t] of params) if (name.startsWith('0.auto_model.')) weights.set(name.slice('0.auto_model.'.length), t.detach().to('float32').toHost());
    const modules: ModuleToWrite[] = [{ kind: 'Transformer' }, { kind: 'Pooling', mode: this.pipeline.pooling.mode, dim: this.pipeline.pooling.inputDim }];
    this.pipeline.dense.forEach((d, i) => {
      const w = params.get(`${i + 2}.linear.weight`)!;
      const b = params.get(`${i + 2}.linear.bias`);
      modules.push({
        kind: 'Dense', inFeatures: d.inFeatures, outFeatures: d.outFeatures, bias: b !== undefined,
        activation: d.activation as DenseActivation, weight: w.detach().toHost(), ...(b ? { biasTensor: b.detach().toHost() } : {}),
      });
    });
    if (this.normalize) modules.push({ kind: 'Normalize' });
    writeSentenceTransformer(dir, {
      weights, config: this.rawConfig, sourceDir: join(this.spec.dir, this.spec.modules.find((m) => m.kind === 'Transformer')?.path ?? ''),
      modules, maxSeqLength: this.spec.maxSeqLength ?? this.maxLength.passage, doLowerCase: this.spec.doLowerCase,
      trainedMaxLength: this.maxLength,
      ...(this.spec.similarity ? { similarity: this.spec.similarity } : { similarity: this.similarity }),
    });
  }

  dispose(): void {
    this.pipeline.dispose();
  }
}
