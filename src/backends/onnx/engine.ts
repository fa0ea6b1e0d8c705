/**
 * The `onnx` engine: a TextEncoder (src/retrieval/types.ts) that runs an exported model.onnx with onnxruntime-node.
 *
 * It reads a folder `densekit export --format onnx` wrote (model.onnx, the tokenizer files, densekit-onnx.json) and
 * tokenizes with densekit's own tokenizers through ModelInput (the same prompts, strip, lowercasing and per-kind
 * limits as the torch engine), in the same length-sorted batches (lengthSortedBatches), so fp32 vectors equal the
 * torch engine's to float rounding (test/onnx.engine.test.ts: 1e-5).
 *
 * Model identity (what indexes, caches and manifests record, src/retrieval/dense.ts checkModel): an fp32 export is
 * the model it was exported from, so an index built with the torch engine is searched with the onnx engine and
 * vice versa. An int8 export computes other vectors (cosine ~0.999 to fp32): its identity is the source's with
 * `+onnx-int8` appended, so mixing int8 queries with an fp32 index (or the reverse) is refused like any other model
 * mismatch (`--allow-model-mismatch` when meant). Encoding manifests also record engine and quantization
 * (src/encode/job.ts), so a job never resumes with another engine.
 *
 * onnxruntime-node is an optional dependency, imported only here and only when the engine is used.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DensekitError, InputError, UsageError } from '../../errors.js';
import { lengthSortedBatches, ModelInput, type ModelRecord } from '../../models/model-input.js';
import type { Encoded, Similarity, TextEncoder, TextKind } from '../../retrieval/types.js';
import { loadTokenizer } from '../../text/load.js';
import { padBatch } from '../../text/pad.js';
import type { Encoding } from '../../text/types.js';
import { folderDigest } from '../../util/digest.js';

export const ONNX_EXPORT_JSON = 'densekit-onnx.json';
export const INT8_IDENTITY_SUFFIX = '+onnx-int8';

export type Quantization = 'none' | 'int8';

/** What densekit-onnx.json records about an exported model (the fields this engine needs). */
export interface OnnxExportInfo {
  /** The source model's identity (Hub id or folder) as indexes record it. */
  model: string;
  /** sha256 of the source model's files (src/util/digest.ts folderDigest): densekit-onnx.json's modelDigest. */
  modelSha256: string;
  dim: number;
  similarity: Similarity;
  maxLength: Record<TextKind, number>;
  prompts: Record<TextKind, string>;
  lowercase: boolean;
  quantization: Quantization;
}

/** Whether `dir` is a folder written by `densekit export --format onnx`. */
export function isOnnxExport(dir: string): boolean {
  return existsSync(join(dir, ONNX_EXPORT_JSON)) && existsSync(join(dir, 'model.onnx'));
}

function field<T>(file: string, o: Record<string, unknown>, name: string, check: (v: unknown) => v is T, what: string): T {
  if (o[name] === undefined) throw new InputError(file, undefined, `missing field "${name}"`);
  if (!check(o[name])) throw new InputError(file, undefined, `field "${name}" must be ${what}, got ${JSON.stringify(o[name])}`);
  return o[name] as T;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isLength = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 2 && (v as number) <= 1_048_576;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads and checks densekit-onnx.json (export.ts OnnxManifest); a bad or missing field is one line naming the file. */
export function readOnnxExportInfo(dir: string): OnnxExportInfo {
  const file = join(dir, ONNX_EXPORT_JSON);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(file, undefined, e instanceof SyntaxError ? `not valid JSON (${e.message})` : 'cannot be read');
  }
  if (!isObject(raw)) throw new InputError(file, undefined, 'expected a JSON object');
  const model = field(file, raw, 'model', isString, 'a string');
  const dim = field(file, raw, 'dim', (v): v is number => Number.isInteger(v) && (v as number) > 0, 'a positive integer');
  const similarity = field(file, raw, 'similarity', (v): v is Similarity => v === 'dot' || v === 'cosine', '"dot" or "cosine"');
  const lengths = field(file, raw, 'maxLength', isObject, 'an object {query, passage}');
  const maxLength = { query: field(file, lengths, 'query', isLength, 'an integer >= 2'), passage: field(file, lengths, 'passage', isLength, 'an integer >= 2') };
  const p = field(file, raw, 'prompts', isObject, 'an object {query, passage}');
  const prompts = { query: field(file, p, 'query', isString, 'a string'), passage: field(file, p, 'passage', isString, 'a string') };
  const lowercase = field(file, raw, 'lowercase', (v): v is boolean => typeof v === 'boolean', 'true or false');
  // Exports written before --quantize existed hold fp32 weights.
  const q = raw.quantization ?? 'none';
  if (q !== 'none' && q !== 'int8') throw new InputError(file, undefined, `field "quantization" must be "none" or "int8", got ${JSON.stringify(q)}`);
  const sha = field(file, raw, 'modelDigest', isString, 'a sha256 string');
  return { model, modelSha256: sha, dim, similarity, maxLength, prompts, lowercase, quantization: q };
}

/** The identity an export's vectors are recorded under (see the module header). */
export function exportIdentity(info: Pick<OnnxExportInfo, 'model' | 'quantization'>): string {
  return info.quantization === 'int8' ? `${info.model}${INT8_IDENTITY_SUFFIX}` : info.model;
}

type Ort = typeof import('onnxruntime-node');

/** onnxruntime-node, or one line saying how to install it. */
export async function loadOrt(): Promise<Ort> {
  try {
    const mod = (await import('onnxruntime-node')) as Ort & { default?: Ort };
    return mod.InferenceSession ? mod : mod.default!;
  } catch {
    throw new UsageError('the onnx engine needs onnxruntime-node, an optional dependency that is not installed: run `npm install onnxruntime-node@1.30` (keep `onnxruntime-node-install=skip` in .npmrc to skip its CUDA download), or use --engine torch');
  }
}

export interface OnnxEngineOptions {
  /** Texts per forward pass (default 32); with tokenBudget the most per pass. */
  batchSize?: number;
  tokenBudget?: number;
  /** ORT intra-op threads (default: ORT's choice, one per physical core). */
  threads?: number;
  /** 'cpu' (default), or 'cuda' / 'cuda:N' when onnxruntime-node has its CUDA provider. */
  device?: string;
  queryMaxLength?: number;
  passageMaxLength?: number;
  log?: (line: string) => void;
}

type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

/** An ORT session with densekit's execution-provider and thread settings; CUDA refused in one line when absent. */
export async function createSession(ort: Ort, model: string | Uint8Array, opts: Pick<OnnxEngineOptions, 'threads' | 'device'>): Promise<Session> {
  const device = opts.device ?? 'cpu';
  const cuda = /^cuda(:(\d+))?$/.exec(device);
  if (device !== 'cpu' && !cuda) throw new UsageError(`the onnx engine runs on cpu or cuda[:N], not ${device}`);
  if (cuda && !ort.listSupportedBackends().some((b) => b.name === 'cuda'))
    throw new UsageError('--device cuda: this onnxruntime-node has no CUDA execution provider; reinstall it without onnxruntime-node-install=skip on a machine with CUDA 12, or use --device cpu');
  const options = {
    executionProviders: cuda ? [{ name: 'cuda' as const, deviceId: Number(cuda[2] ?? 0) }] : ['cpu'],
    graphOptimizationLevel: 'all' as const,
    ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
  };
  try {
    return await (typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options));
  } catch (e) {
    const first = String((e as Error)?.message ?? e).split('\n')[0];
    if (cuda) throw new UsageError(`--device ${device}: onnxruntime-node could not start its CUDA provider (${first}); use --device cpu`);
    throw new InputError(typeof model === 'string' ? model : 'model.onnx', undefined, `onnxruntime cannot load it: ${first}`);
  }
}

/** Pooling of token embeddings for published ONNX files that stop at the transformer (Optimum exports). */
export type HostPooling = 'cls' | 'mean';

export class OnnxTextEncoder implements TextEncoder {
  readonly engine = 'onnx' as const;
  private constructor(
    private readonly ort: Ort,
    private readonly session: Session,
    readonly input: ModelInput,
    readonly model: string,
    readonly dim: number,
    readonly similarity: Similarity,
    readonly quantization: Quantization,
    /** sha256 of the files that determine the vectors (recorded in encoding manifests). */
    readonly modelSha256: string,
    readonly batchSize: number,
    readonly tokenBudget: number | undefined,
    /** Where the vectors come from: the `sentence_embedding` output, or pooled here from token embeddings. */
    private readonly output: { name: string; pooling?: HostPooling; normalize?: boolean },
    readonly modelPath: string,
  ) {}

  get maxLength(): { query: number; passage: number } {
    return { query: this.input.maxLength.query!, passage: this.input.maxLength.passage! };
  }

  /** Opens a folder written by `densekit export --format onnx` (with or without --quantize int8). */
  static async open(dir: string, opts: OnnxEngineOptions = {}): Promise<OnnxTextEncoder> {
    const info = readOnnxExportInfo(dir);
    const ort = await loadOrt();
    const modelPath = join(dir, 'model.onnx');
    const session = await createSession(ort, modelPath, opts);
    if (!session.inputNames.includes('input_ids') || !session.inputNames.includes('attention_mask') || !session.outputNames.includes('sentence_embedding'))
      throw new InputError(modelPath, undefined, `expected inputs input_ids, attention_mask and output sentence_embedding (has ${session.inputNames.join(', ')} -> ${session.outputNames.join(', ')})`);
    const input = ModelInput.fromSettings(loadTokenizer(dir), {
      lowercase: info.lowercase, prompts: info.prompts,
      maxLength: { query: opts.queryMaxLength ?? info.maxLength.query, passage: opts.passageMaxLength ?? info.maxLength.passage },
    });
    const enc = new OnnxTextEncoder(
      ort, session, input, exportIdentity(info), info.dim, info.similarity, info.quantization,
      // fp32: the source's digest, as the torch engine records it; int8: the export's own files.
      info.quantization === 'none' ? info.modelSha256 : await folderDigest(dir),
      opts.batchSize ?? 32, opts.tokenBudget, { name: 'sentence_embedding' }, modelPath,
    );
    opts.log?.(`engine onnx: ${resolve(dir)} (${info.quantization === 'int8' ? 'int8 weights, dynamic int8 activations' : 'fp32'}, ${opts.device ?? 'cpu'}${opts.threads ? `, ${opts.threads} threads` : ''})`);
    return enc;
  }

  /**
   * A published ONNX file beside a sentence-transformers folder (`onnx/model.onnx`, as Hub repos ship), run with
   * that folder's tokenizer settings. The caller checks its vectors against the torch engine before using it.
   */
  static async openPublished(
    modelPath: string, input: ModelInput, identity: { model: string; modelSha256: string; dim: number; similarity: Similarity },
    head: { pooling: HostPooling; normalize: boolean }, opts: OnnxEngineOptions = {},
  ): Promise<OnnxTextEncoder> {
    const ort = await loadOrt();
    const session = await createSession(ort, modelPath, opts);
    const name = ['sentence_embedding', 'token_embeddings', 'last_hidden_state'].find((n) => session.outputNames.includes(n));
    if (!name || !session.inputNames.includes('input_ids')) throw new InputError(modelPath, undefined, `no input_ids -> sentence_embedding / token_embeddings / last_hidden_state (has ${session.inputNames.join(', ')} -> ${session.outputNames.join(', ')})`);
    const output = name === 'sentence_embedding' ? { name } : { name, pooling: head.pooling, normalize: head.normalize };
    return new OnnxTextEncoder(ort, session, input, identity.model, identity.dim, identity.similarity, 'none', identity.modelSha256, opts.batchSize ?? 32, opts.tokenBudget, output, modelPath);
  }

  /**
   * A model held in memory (`densekit export` checks its int8 graph against the fp32 one before writing either),
   * with the input settings of the export it belongs to.
   */
  static async fromBytes(bytes: Uint8Array | string, input: ModelInput, info: Pick<OnnxExportInfo, 'model' | 'dim' | 'similarity' | 'quantization'>, opts: OnnxEngineOptions = {}): Promise<OnnxTextEncoder> {
    const ort = await loadOrt();
    const session = await createSession(ort, bytes, opts);
    return new OnnxTextEncoder(ort, session, input, exportIdentity(info), info.dim, info.similarity, info.quantization, '', opts.batchSize ?? 32, opts.tokenBudget, { name: 'sentence_embedding' }, 'model.onnx');
  }

  private async run(encodings: readonly Encoding[]): Promise<Float32Array> {
    const p = padBatch(encodings, this.input.tokenizer.padId);
    const shape = [p.batch, p.length];
    const ids = new BigInt64Array(p.inputIds.length);
    const mask = new BigInt64Array(p.attentionMask.length);
    for (let i = 0; i < ids.length; i++) {
      ids[i] = BigInt(p.inputIds[i]!);
      mask[i] = BigInt(p.attentionMask[i]!);
    }
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = {
      input_ids: new this.ort.Tensor('int64', ids, shape),
    };
    if (this.session.inputNames.includes('attention_mask')) feeds.attention_mask = new this.ort.Tensor('int64', mask, shape);
    // Published BERT exports take segment ids; densekit encodes single texts (all zeros), as the torch engine does.
    if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new this.ort.Tensor('int64', new BigInt64Array(ids.length), shape);
    const result = await this.session.run(feeds, [this.output.name]);
    const out = result[this.output.name]!;
    const data = out.data as Float32Array;
    let rows: Float32Array;
    if (!this.output.pooling) rows = data;
    else rows = poolTokens(data, p.attentionMask, p.batch, p.length, Number(out.dims[2]), this.output.pooling, this.output.normalize ?? false);
    for (const t of Object.values(result)) t.dispose?.();
    if (rows.length !== p.batch * this.dim) throw new DensekitError(`${this.modelPath}: the model returned ${rows.length} values for ${p.batch} texts of dimension ${this.dim}`);
    return rows;
  }

  async encode(texts: readonly ModelRecord[], kind: TextKind, opts: { onProgress?: (done: number) => void } = {}): Promise<Encoded> {
    const encodings = this.input.encode(texts, kind);
    const out = new Float32Array(texts.length * this.dim);
    let truncated = 0;
    for (const idx of lengthSortedBatches(encodings, this.batchSize, this.tokenBudget)) {
      const batch = idx.map((i) => encodings[i]!);
      truncated += batch.filter((e) => e.truncated).length;
      const rows = await this.run(batch);
      idx.forEach((row, j) => out.set(rows.subarray(j * this.dim, (j + 1) * this.dim), row * this.dim));
      opts.onProgress?.(idx.length);
    }
    return { vectors: out, truncated };
  }

  async encodeQueries(texts: readonly string[]): Promise<Float32Array> {
    return (await this.encode(texts, 'query')).vectors;
  }

  async encodePassages(texts: readonly string[]): Promise<Float32Array> {
    return (await this.encode(texts, 'passage')).vectors;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** sentence-transformers' CLS or mean Pooling (then Normalize) on host floats [batch, length, hidden]. */
function poolTokens(tokens: Float32Array, mask: Uint8Array, batch: number, length: number, hidden: number, mode: HostPooling, normalize: boolean): Float32Array {
  const out = new Float32Array(batch * hidden);
  for (let b = 0; b < batch; b++) {
    const row = out.subarray(b * hidden, (b + 1) * hidden);
    if (mode === 'cls') row.set(tokens.subarray(b * length * hidden, b * length * hidden + hidden));
    else {
      let n = 0;
      for (let t = 0; t < length; t++) {
        if (!mask[b * length + t]) continue;
        n++;
        const base = (b * length + t) * hidden;
        for (let h = 0; h < hidden; h++) row[h]! += tokens[base + h]!;
      }
      for (let h = 0; h < hidden; h++) row[h]! /= Math.max(n, 1e-9);
    }
    if (normalize) {
      let s = 0;
      for (let h = 0; h < hidden; h++) s += row[h]! * row[h]!;
      const d = Math.max(Math.sqrt(s), 1e-12);
      for (let h = 0; h < hidden; h++) row[h]! /= d;
    }
  }
  return out;
}
