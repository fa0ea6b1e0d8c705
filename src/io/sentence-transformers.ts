/**
 * The sentence-transformers folder layout: modules.json lists the pipeline (Transformer -> Pooling -> [Dense] ->
 * [Normalize]), each module's settings live in its own folder, and the Transformer is a plain Hugging Face model
 * at the root. `readSentenceTransformer` turns such a folder into a spec (with the small Dense weights loaded);
 * `writeSentenceTransformer` writes one that Python's `SentenceTransformer(dir)` loads.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DensekitError, InputError } from '../errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { checkRecordedSizes, FOLDER_RECORDS, readFolderRecords, writeFolderRecords } from '../util/checksums.js';
import { readJsonFileSync as readJson } from '../util/lines.js';
import { pathInside } from '../util/paths.js';
import type { HostTensor } from './host-tensor.js';
import { readHfConfig } from './hf-config.js';
import { writeSafetensors, type TensorToWrite } from './safetensors.js';
import { hasStateDict, loadStateDict } from './state-dict.js';
import { packageVersion } from '../util/version.js';

export type DenseActivation = 'identity' | 'tanh' | 'relu' | 'gelu' | 'sigmoid';

export interface PoolingMode {
  cls: boolean;
  max: boolean;
  mean: boolean;
  meanSqrtLen: boolean;
}

export type ModuleSpec =
  | { kind: 'Transformer'; path: string }
  /** Several modes at once are concatenated in sentence-transformers' order: cls, max, mean, meanSqrtLen. */
  | { kind: 'Pooling'; path: string; mode: PoolingMode; dim: number }
  | {
      kind: 'Dense'; path: string; inFeatures: number; outFeatures: number; bias: boolean; activation: DenseActivation;
      /** [outFeatures, inFeatures], as torch.nn.Linear. */
      weight: HostTensor;
      biasTensor?: HostTensor;
    }
  | { kind: 'Normalize'; path: string };

export interface SentenceTransformerSpec extends SentenceTransformerInput {
  dir: string;
  modules: ModuleSpec[];
}

const MODULE_TYPES: Record<string, ModuleSpec['kind']> = {
  'sentence_transformers.models.Transformer': 'Transformer',
  'sentence_transformers.models.Pooling': 'Pooling',
  'sentence_transformers.models.Dense': 'Dense',
  'sentence_transformers.models.Normalize': 'Normalize',
};

const DENSE_ACTIVATIONS: Record<string, DenseActivation> = {
  'torch.nn.modules.linear.Identity': 'identity',
  'torch.nn.modules.activation.Tanh': 'tanh',
  'torch.nn.modules.activation.ReLU': 'relu',
  'torch.nn.modules.activation.GELU': 'gelu',
  'torch.nn.modules.activation.Sigmoid': 'sigmoid',
};
const DENSE_ACTIVATION_NAMES = Object.fromEntries(Object.entries(DENSE_ACTIVATIONS).map(([k, v]) => [v, k])) as Record<DenseActivation, string>;

/**
 * What a sentence-transformers folder says about the text a model sees, read without loading any weights:
 * the Transformer module's sentence_bert_config.json (max_seq_length, do_lower_case) and the prompts of
 * config_sentence_transformers.json. The one parser of these files (src/models/model-input.ts uses it for
 * `densekit tokenize` and the encoder alike).
 */
export interface SentenceTransformerInput {
  /** The Transformer module's folder, relative to the model folder ('' for the root). */
  transformerPath: string;
  maxSeqLength?: number;
  doLowerCase: boolean;
  /** `similarity_fn_name` ("cosine", "dot", "euclidean", "manhattan") when the folder declares it. */
  similarity?: string;
  /** Named prompts (e.g. {query: "query: "}) from config_sentence_transformers.json. */
  prompts?: Record<string, string>;
  defaultPromptName?: string;
  /**
   * Per-side token limits the model was trained or saved with (densekit's key in config_sentence_transformers.json;
   * sentence-transformers keeps one max_seq_length and ignores it).
   */
  trainedMaxLength?: { query: number; passage: number };
}

/** True for a folder the encoder can load: a sentence-transformers layout or a bare Hugging Face model. */
export function isModelFolder(dir: string): boolean {
  return ['modules.json', 'sentence_bert_config.json', 'config.json'].some((f) => existsSync(join(dir, f)));
}

export function readSentenceTransformerInput(dir: string): SentenceTransformerInput {
  if (!isDirectory(dir)) throw new DensekitError(`${dir}: model folder does not exist`);
  return inputOf(dir, readModuleEntries(dir));
}

function inputOf(dir: string, entries: ModuleEntry[] | undefined): SentenceTransformerInput {
  const transformerPath = entries?.[0]?.path ?? '';
  // sentence-transformers reads it from the Transformer module's folder (0_Transformer/ in older models).
  const file = join(dir, transformerPath, 'sentence_bert_config.json');
  const stConfig = readOptionalJson(file);
  const maxSeqLength = optionalField(stConfig, 'max_seq_length', 'number', file);
  if (maxSeqLength !== undefined && (!Number.isSafeInteger(maxSeqLength) || maxSeqLength < 1)) {
    throw new InputError(file, undefined, `field "max_seq_length": expected a positive integer, got ${maxSeqLength}`);
  }
  const input: SentenceTransformerInput = { transformerPath, doLowerCase: optionalField(stConfig, 'do_lower_case', 'boolean', file) ?? false };
  if (maxSeqLength !== undefined) input.maxSeqLength = maxSeqLength;
  readSentenceTransformerConfig(dir, input);
  return input;
}

/** modules.json as (kind, path) pairs, checked (every path stays inside the model folder); undefined for a bare Hugging Face folder without one. */
interface ModuleEntry {
  kind: ModuleSpec['kind'];
  path: string;
}

function readModuleEntries(dir: string): ModuleEntry[] | undefined {
  const modulesPath = join(dir, 'modules.json');
  if (!existsSync(modulesPath)) return undefined;
  const list = readJson(modulesPath);
  if (!Array.isArray(list) || list.length === 0) throw new InputError(modulesPath, undefined, 'expected a non-empty JSON array of modules');
  const entries = list.map((entry, i) => {
    const where = `modules.json[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new InputError(modulesPath, undefined, `${where} is not an object`);
    const { type, path } = entry as { type?: unknown; path?: unknown };
    if (typeof type !== 'string') throw new InputError(modulesPath, undefined, `${where}: field "type" is missing`);
    if (typeof path !== 'string') throw new InputError(modulesPath, undefined, `${where}: field "path" is missing`);
    const kind = MODULE_TYPES[type];
    if (!kind) {
      throw new InputError(modulesPath, undefined, `${where}: module type "${type}" is not supported (supported: ${Object.keys(MODULE_TYPES).join(', ')})`);
    }
    if (kind === 'Transformer' && i !== 0) throw new InputError(modulesPath, undefined, `${where}: the Transformer must be the first module`);
    pathInside(dir, path, modulesPath, `${where}.path`);
    return { kind, path };
  });
  if (entries[0]!.kind !== 'Transformer') throw new InputError(modulesPath, undefined, 'the first module must be a sentence_transformers.models.Transformer');
  return entries;
}

/** Reads a sentence-transformers folder; a folder without modules.json is a plain HF model with mean pooling. */
export function readSentenceTransformer(dir: string): SentenceTransformerSpec {
  if (!isDirectory(dir)) throw new DensekitError(`${dir}: model folder does not exist`);
  // A folder densekit wrote records its files: a truncated or half-copied one fails here, naming the file.
  checkRecordedSizes(dir, readFolderRecords(dir), FOLDER_RECORDS);
  const entries = readModuleEntries(dir);
  const spec: SentenceTransformerSpec = { dir, modules: [], ...inputOf(dir, entries) };
  if (!entries) {
    // As sentence-transformers does for a bare Hugging Face model: Transformer + mean pooling.
    const config = readHfConfig(dir);
    const dim = config.modelType === 'bert' ? config.hiddenSize : config.modelType === 'distilbert' ? config.dim : config.dModel;
    spec.modules = [
      { kind: 'Transformer', path: '' },
      { kind: 'Pooling', path: '', mode: { cls: false, max: false, mean: true, meanSqrtLen: false }, dim },
    ];
    return spec;
  }

  for (const { kind, path } of entries) {
    const moduleDir = join(dir, path);
    switch (kind) {
      case 'Transformer':
        spec.modules.push({ kind, path });
        break;
      case 'Pooling':
        spec.modules.push(readPooling(moduleDir, path));
        break;
      case 'Dense':
        spec.modules.push(readDense(moduleDir, path));
        break;
      case 'Normalize':
        // sentence-transformers writes an empty folder for Normalize, which git and most copies drop.
        spec.modules.push({ kind, path });
        break;
    }
  }
  return spec;
}

function readSentenceTransformerConfig(dir: string, spec: SentenceTransformerInput): void {
  const file = join(dir, 'config_sentence_transformers.json');
  const cfg = readOptionalJson(file);
  if (!cfg) return;
  const similarity = optionalField(cfg, 'similarity_fn_name', 'string', file);
  if (similarity !== undefined) spec.similarity = similarity;
  const prompts = cfg.prompts;
  if (prompts !== undefined && prompts !== null) {
    if (typeof prompts !== 'object' || Array.isArray(prompts) || !Object.values(prompts).every((p) => typeof p === 'string')) {
      throw new InputError(file, undefined, 'field "prompts" must be an object of name -> prompt string');
    }
    if (Object.keys(prompts).length > 0) spec.prompts = { ...(prompts as Record<string, string>) };
  }
  const defaultPromptName = optionalField(cfg, 'default_prompt_name', 'string', file);
  if (defaultPromptName !== undefined) spec.defaultPromptName = defaultPromptName;
  const own = cfg.densekit;
  if (own !== undefined) {
    const lengths = typeof own === 'object' && own !== null ? (own as Record<string, unknown>) : {};
    const query = lengths.query_max_length;
    const passage = lengths.passage_max_length;
    const ok = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 2 && n <= 1_000_000;
    if (!ok(query) || !ok(passage))
      throw new InputError(file, undefined, 'field "densekit": expected {"query_max_length": N, "passage_max_length": N} with integers from 2 to 1000000');
    spec.trainedMaxLength = { query, passage };
  }
}

function readPooling(moduleDir: string, path: string): ModuleSpec {
  const file = join(moduleDir, 'config.json');
  const cfg = readJson(file) as Record<string, unknown>;
  const flag = (field: string): boolean => optionalField(cfg, field, 'boolean', file) ?? false;
  for (const unsupported of ['pooling_mode_weightedmean_tokens', 'pooling_mode_lasttoken']) {
    if (flag(unsupported)) throw new InputError(file, undefined, `field "${unsupported}": this pooling mode is not supported`);
  }
  if (optionalField(cfg, 'include_prompt', 'boolean', file) === false) {
    throw new InputError(file, undefined, 'field "include_prompt": false (excluding prompt tokens from pooling) is not supported');
  }
  const mode: PoolingMode = {
    cls: flag('pooling_mode_cls_token'),
    max: flag('pooling_mode_max_tokens'),
    mean: flag('pooling_mode_mean_tokens'),
    meanSqrtLen: flag('pooling_mode_mean_sqrt_len_tokens'),
  };
  if (!mode.cls && !mode.max && !mode.mean && !mode.meanSqrtLen) throw new InputError(file, undefined, 'no pooling mode is enabled');
  const dim = optionalField(cfg, 'word_embedding_dimension', 'number', file);
  if (dim === undefined || !Number.isSafeInteger(dim) || dim < 1) throw new InputError(file, undefined, 'field "word_embedding_dimension": expected a positive integer');
  return { kind: 'Pooling', path, mode, dim };
}

function readDense(moduleDir: string, path: string): ModuleSpec {
  const file = join(moduleDir, 'config.json');
  const cfg = readJson(file) as Record<string, unknown>;
  const int = (field: string): number => {
    const v = cfg[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new InputError(file, undefined, `field "${field}": expected a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const inFeatures = int('in_features');
  const outFeatures = int('out_features');
  const bias = optionalField(cfg, 'bias', 'boolean', file) ?? true;
  const actName = optionalField(cfg, 'activation_function', 'string', file) ?? 'torch.nn.modules.activation.Tanh';
  const activation = DENSE_ACTIVATIONS[actName];
  if (!activation) {
    throw new InputError(file, undefined, `field "activation_function": "${actName}" is not supported (supported: ${Object.keys(DENSE_ACTIVATIONS).join(', ')})`);
  }
  if (!hasStateDict(moduleDir)) throw new DensekitError(`${moduleDir}: Dense module has no weights (expected model.safetensors or pytorch_model.bin)`);
  const weights = loadStateDict(moduleDir);
  const weightsFile = join(moduleDir, existsSync(join(moduleDir, 'model.safetensors')) ? 'model.safetensors' : 'pytorch_model.bin');
  const tensor = (key: string, shape: number[]): HostTensor => {
    const t = weights.get(key);
    if (!t) throw new InputError(weightsFile, undefined, `tensor ${key} is missing, config implies [${shape.join(', ')}]`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new InputError(weightsFile, undefined, `tensor ${key} has shape [${t.shape.join(', ')}], config implies [${shape.join(', ')}]`);
    }
    if (t.dtype !== 'float32' && t.dtype !== 'float16' && t.dtype !== 'bfloat16' && t.dtype !== 'float64') {
      throw new InputError(weightsFile, undefined, `tensor ${key} has dtype ${t.dtype}, expected a floating dtype`);
    }
    return t;
  };
  const spec: ModuleSpec = { kind: 'Dense', path, inFeatures, outFeatures, bias, activation, weight: tensor('linear.weight', [outFeatures, inFeatures]) };
  if (bias) spec.biasTensor = tensor('linear.bias', [outFeatures]);
  else if (weights.has('linear.bias')) throw new InputError(weightsFile, undefined, 'tensor linear.bias is present but config.json says "bias": false');
  return spec;
}

/** A module to write: a ModuleSpec whose path is chosen by the writer (`<index>_<Kind>`). */
export type ModuleToWrite =
  | { kind: 'Transformer' }
  | { kind: 'Pooling'; mode: PoolingMode; dim: number }
  | { kind: 'Dense'; inFeatures: number; outFeatures: number; bias: boolean; activation: DenseActivation; weight: HostTensor; biasTensor?: HostTensor }
  | { kind: 'Normalize' };

export interface SentenceTransformerToWrite {
  /** The Transformer's weights under Hugging Face key names (e.g. "encoder.block.0.layer.0.SelfAttention.q.weight"). */
  weights: Map<string, TensorToWrite> | Record<string, TensorToWrite>;
  /** config.json content; when omitted, copied from `sourceDir`. */
  config?: Record<string, unknown>;
  /** The model this one derives from: its tokenizer files (and config.json unless `config` is given) are copied. */
  sourceDir?: string;
  modules: ModuleToWrite[];
  maxSeqLength?: number;
  doLowerCase?: boolean;
  similarity?: string;
  prompts?: Record<string, string>;
  defaultPromptName?: string;
  /** Per-side token limits to record (see SentenceTransformerSpec.trainedMaxLength). */
  trainedMaxLength?: { query: number; passage: number };
}

/** Tokenizer files transformers and sentence-transformers read, copied when present in the source model. */
/** The tokenizer files a model folder may hold (copied along when a model is written elsewhere). */
export const TOKENIZER_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json',
  'vocab.txt', 'spiece.model', 'sentencepiece.bpe.model', 'vocab.json', 'merges.txt',
];

/**
 * Writes a sentence-transformers folder. Everything goes into a sibling temp folder first, which is then renamed
 * into place (replacing an existing folder), so a partially written checkpoint never appears under `dir`.
 */
export function writeSentenceTransformer(dir: string, model: SentenceTransformerToWrite): void {
  if (model.modules[0]?.kind !== 'Transformer') throw new DensekitError(`${dir}: the first module to write must be the Transformer`);
  const config = model.config ?? (model.sourceDir ? readJson(join(model.sourceDir, 'config.json')) as Record<string, unknown> : undefined);
  if (!config) throw new DensekitError(`${dir}: writing a sentence-transformers model needs a config or a sourceDir to copy config.json from`);

  mkdirSync(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(tmp);
  try {
    writeJson(join(tmp, 'config.json'), config);
    const weights = writeSafetensors(join(tmp, 'model.safetensors'), model.weights);
    if (model.sourceDir) {
      for (const name of TOKENIZER_FILES) {
        const src = join(model.sourceDir, name);
        // Read and rewrite rather than copyFileSync, which would keep a read-only source's permissions.
        if (existsSync(src)) writeFileAtomicSync(join(tmp, name), readFileSync(src));
      }
    }
    const entries = model.modules.map((m, idx) => {
      const path = m.kind === 'Transformer' ? '' : `${idx}_${m.kind}`;
      writeModule(join(tmp, path), m, idx);
      return { idx, name: String(idx), path, type: `sentence_transformers.models.${m.kind}` };
    });
    writeJson(join(tmp, 'modules.json'), entries);
    writeJson(join(tmp, 'sentence_bert_config.json'), model.maxSeqLength !== undefined
      ? { max_seq_length: model.maxSeqLength, do_lower_case: model.doLowerCase ?? false }
      : { do_lower_case: model.doLowerCase ?? false });
    const stMeta: Record<string, unknown> = { __version__: { densekit: packageVersion() }, prompts: model.prompts ?? {}, default_prompt_name: model.defaultPromptName ?? null };
    if (model.similarity !== undefined) stMeta.similarity_fn_name = model.similarity;
    if (model.trainedMaxLength) stMeta.densekit = { query_max_length: model.trainedMaxLength.query, passage_max_length: model.trainedMaxLength.passage };
    writeJson(join(tmp, 'config_sentence_transformers.json'), stMeta);
    // The weights were hashed as written; the small files are hashed here.
    writeFolderRecords(tmp, { 'model.safetensors': weights });
    replaceDirectory(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

function writeModule(moduleDir: string, m: ModuleToWrite, idx: number): void {
  switch (m.kind) {
    case 'Transformer':
      return;
    case 'Normalize':
      mkdirSync(moduleDir);
      return;
    case 'Pooling':
      mkdirSync(moduleDir);
      // Exactly the keys sentence-transformers 2.x writes: older versions reject unknown constructor arguments.
      writeJson(join(moduleDir, 'config.json'), {
        word_embedding_dimension: m.dim,
        pooling_mode_cls_token: m.mode.cls,
        pooling_mode_mean_tokens: m.mode.mean,
        pooling_mode_max_tokens: m.mode.max,
        pooling_mode_mean_sqrt_len_tokens: m.mode.meanSqrtLen,
      });
      return;
    case 'Dense': {
      const where = `module ${idx} (Dense)`;
      const want = [m.outFeatures, m.inFeatures];
      if (m.weight.shape.length !== 2 || m.weight.shape[0] !== want[0] || m.weight.shape[1] !== want[1]) {
        throw new DensekitError(`${where}: weight has shape [${m.weight.shape.join(', ')}], expected [${want.join(', ')}]`);
      }
      if (m.bias !== (m.biasTensor !== undefined)) throw new DensekitError(`${where}: bias is ${m.bias} but a bias tensor was ${m.biasTensor ? '' : 'not '}given`);
      if (m.biasTensor && (m.biasTensor.shape.length !== 1 || m.biasTensor.shape[0] !== m.outFeatures)) {
        throw new DensekitError(`${where}: bias has shape [${m.biasTensor.shape.join(', ')}], expected [${m.outFeatures}]`);
      }
      mkdirSync(moduleDir);
      writeJson(join(moduleDir, 'config.json'), {
        in_features: m.inFeatures, out_features: m.outFeatures, bias: m.bias, activation_function: DENSE_ACTIVATION_NAMES[m.activation],
      });
      const tensors = new Map<string, HostTensor>([['linear.weight', m.weight]]);
      if (m.biasTensor) tensors.set('linear.bias', m.biasTensor);
      writeSafetensors(join(moduleDir, 'model.safetensors'), tensors);
      return;
    }
  }
}

/** Moves `tmp` to `dir`; an existing `dir` is moved aside first and removed only after the new one is in place. */
export function replaceDirectory(tmp: string, target: string): void {
  const found = lstatSync(target, { throwIfNoEntry: false });
  if (!found) {
    renameSync(tmp, target);
    return;
  }
  // As for files (util/fs atomic writes): a symlinked output folder is replaced at its target, and what is not a
  // folder (a file, a device such as /dev/full, a FIFO) is refused rather than renamed away and replaced.
  const dir = found.isSymbolicLink() ? realpathSync(target) : target;
  const st = found.isSymbolicLink() ? statSync(dir) : found;
  if (!st.isDirectory()) {
    throw new DensekitError(`${target}: exists and is not a folder (${fileKind(st)}); give a folder path for the output`);
  }
  const old = join(dirname(dir), `.${basename(dir)}.old-${process.pid}-${Date.now().toString(36)}`);
  renameSync(dir, old);
  try {
    renameSync(tmp, dir);
  } catch (e) {
    renameSync(old, dir);
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
}

function fileKind(st: Stats): string {
  if (st.isFile()) return 'a file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a folder';
}

function writeJson(path: string, value: unknown): void {
  writeFileAtomicSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}


function readOptionalJson(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  const v = readJson(file);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(file, undefined, 'expected a JSON object');
  return v as Record<string, unknown>;
}

function optionalField<T extends 'number' | 'boolean' | 'string'>(
  obj: Record<string, unknown> | undefined, field: string, type: T, file: string,
): (T extends 'number' ? number : T extends 'boolean' ? boolean : string) | undefined {
  const v = obj?.[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== type) throw new InputError(file, undefined, `field "${field}": expected a ${type}, got ${JSON.stringify(v)}`);
  return v as never;
}
