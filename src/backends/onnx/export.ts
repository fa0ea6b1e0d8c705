/**
 * ONNX export of a sentence-transformers model from densekit's own model definitions: the model is loaded and run
 * once under the recorder (recorder.ts), which turns the very code libtorch runs into an opset-17 graph:
 *
 *   inputs  input_ids, attention_mask      int64 [batch, sequence]
 *   outputs sentence_embedding             float32 [batch, dim] (Pooling, Dense, Normalize as the model defines)
 *           token_embeddings               float32 [batch, sequence, hidden]
 *
 * BERT's token_type_ids are zeros inside the graph (single-text encoding, as densekit's encoder does).
 * Written beside model.onnx: the tokenizer files and densekit-onnx.json (what an ONNX engine needs to tokenize
 * and to describe the vectors). Weights over `externalDataThreshold` bytes (default 2 GB, protobuf's limit for
 * one message) go to model.onnx_data under ONNX's external-data convention (location, offset, length).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { ensureModel, type DownloadOptions } from '../../hub/index.js';
import { replaceDirectory, TOKENIZER_FILES } from '../../io/sentence-transformers.js';
import { SentenceEncoder } from '../../models/sentence-encoder.js';
import { Tensor, withBackend } from '../../tensor/index.js';
import { tokenizerDir } from '../../text/load.js';
import { folderDigest } from '../../util/digest.js';
import { writeFileAtomicSync } from '../../util/fs.js';
import { Progress } from '../../util/progress.js';
import { OnnxRecorder, type GraphIO, type Initializer } from './recorder.js';
import { IR_VERSION, ModelProto, ONNX_DTYPE, OPSET } from './schema.js';
import { quantizeForExport, type Int8Export } from './int8-check.js';

export type OnnxWeightsDtype = 'fp32' | 'fp16';
export const ONNX_WEIGHTS_DTYPES: readonly OnnxWeightsDtype[] = ['fp32', 'fp16'];
export const DEFAULT_EXTERNAL_DATA_THRESHOLD = 2 * 1024 ** 3 - 64 * 1024 ** 2;
const EXTERNAL_DATA_FILE = 'model.onnx_data';
/** External tensors start on page boundaries, as ONNX recommends (mmap). */
const EXTERNAL_ALIGN = 4096;

export interface OnnxExportOptions extends DownloadOptions {
  /** The folder to write (replaced atomically when it exists). */
  output: string;
  /** Storage of weight matrices: fp32 (exact) or fp16 (half the size; computation stays float32). */
  weightsDtype?: OnnxWeightsDtype;
  /** Initializer bytes above which weights go to model.onnx_data. */
  externalDataThreshold?: number;
  /** `int8`: ONNX Runtime's dynamic quantization (src/backends/onnx/quantize-int8.ts); the result reports its cosine to fp32. */
  quantize?: 'int8';
  log?: (line: string) => void;
}

export interface OnnxExportResult {
  dir: string;
  modelBytes: number;
  externalDataBytes: number;
  nodes: number;
  initializers: number;
  manifest: OnnxManifest;
  /** With `quantize: 'int8'`: what was quantized and the cosine of int8 to fp32 vectors on a sample. */
  int8?: Int8Export;
}

/** densekit-onnx.json: what an ONNX engine needs besides the graph. */
export interface OnnxManifest {
  format: 'densekit-onnx';
  version: 1;
  /** The model argument as given (a Hub id or a folder): the identity indexes record. */
  model: string;
  /** sha256 over the source folder's files (src/util/digest.ts folderDigest). */
  modelDigest: string;
  architecture: string;
  pooling: { cls: boolean; max: boolean; mean: boolean; meanSqrtLen: boolean };
  dense: { inFeatures: number; outFeatures: number; bias: boolean; activation: string }[];
  normalize: boolean;
  similarity: 'dot' | 'cosine';
  dim: number;
  hiddenSize: number;
  maxLength: { query: number; passage: number };
  prompts: { query: string; passage: string };
  lowercase: boolean;
  /** Token id used to pad batches. */
  padId: number;
  opset: number;
  weightsDtype: OnnxWeightsDtype;
  inputs: GraphIO[];
  outputs: GraphIO[];
  externalData: string | null;
  /** 'int8': weights int8 per output channel, activations quantized at run time; its vectors are another model's. */
  quantization: 'none' | 'int8';
}

/** Records a loaded-from-folder model into a recorder; returns the encoder (its parameters are the initializers). */
export function recordModel(dir: string, weightsDtype: OnnxWeightsDtype = 'fp32', onWeightBytes?: (bytes: number) => void): { recorder: OnnxRecorder; encoder: SentenceEncoder } {
  const recorder = new OnnxRecorder({ matrixStorage: weightsDtype === 'fp16' ? 'float16' : 'float32', ...(onWeightBytes ? { onWeightBytes } : {}) });
  const backend = recorder.backend;
  const encoder = withBackend(backend, () => SentenceEncoder.load(dir, { weightsDtype: 'fp32' }));
  const inputIds = new Tensor(recorder.input('input_ids', 'int64', ['batch', 'sequence']), backend);
  const attentionMask = new Tensor(recorder.input('attention_mask', 'int64', ['batch', 'sequence']), backend);
  const { tokens, embeddings } = withBackend(backend, () => encoder.forwardWithTokens({ inputIds, attentionMask }));
  recorder.output('sentence_embedding', embeddings.handle);
  recorder.output('token_embeddings', tokens.handle);
  recorder.nameInitializers(encoder.namedParameters());
  return { recorder, encoder };
}

function valueInfo(io: GraphIO): object {
  return {
    name: io.name,
    type: {
      tensor_type: {
        elem_type: ONNX_DTYPE[io.dtype as keyof typeof ONNX_DTYPE],
        shape: { dim: io.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

/**
 * Serializes the recorded graph: model.onnx in `dir`, plus model.onnx_data when the initializers exceed the
 * threshold (each tensor at a 4096-aligned offset, streamed out one at a time).
 */
export function writeOnnxModel(recorder: OnnxRecorder, dir: string, opts: { threshold?: number; docString?: string } = {}): { modelBytes: number; externalDataBytes: number } {
  const total = recorder.initializers.reduce((n, i) => n + i.data.byteLength, 0);
  const external = total > (opts.threshold ?? DEFAULT_EXTERNAL_DATA_THRESHOLD);
  let externalBytes = 0;
  const tensors: object[] = [];
  let fd: number | undefined;
  try {
    if (external) fd = openSync(join(dir, EXTERNAL_DATA_FILE), 'wx');
    for (const init of recorder.initializers) tensors.push(external ? externalTensor(init, fd!, () => externalBytes, (n) => (externalBytes = n)) : tensorProto(init));
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const bytes = serializeModel(modelObject(recorder, tensors, opts.docString));
  writeFileAtomicSync(join(dir, 'model.onnx'), bytes);
  return { modelBytes: bytes.byteLength, externalDataBytes: externalBytes };
}

/** The recorded graph as a ModelProto object (schema.ts field names); `tensors` default to inline initializers. */
export function modelObject(recorder: OnnxRecorder, tensors: object[] = recorder.initializers.map(tensorProto), docString = ''): Record<string, unknown> {
  return {
    ir_version: IR_VERSION,
    producer_name: 'densekit',
    producer_version: '0.1.0',
    doc_string: docString,
    opset_import: [{ domain: '', version: OPSET }],
    graph: {
      name: 'densekit',
      node: recorder.nodes.map((n, i) => ({ name: `n${i}_${n.op}`, op_type: n.op, input: n.inputs, output: n.outputs, attribute: n.attributes })),
      initializer: tensors,
      input: recorder.inputs.map(valueInfo),
      output: recorder.outputs.map(valueInfo),
    },
  };
}

export function serializeModel(model: object): Uint8Array {
  return ModelProto.encode(ModelProto.fromObject(model as Record<string, unknown>)).finish();
}

function tensorProto(init: Initializer): object {
  return { name: init.name, dims: init.shape, data_type: ONNX_DTYPE[init.dtype as keyof typeof ONNX_DTYPE], raw_data: init.data };
}

function externalTensor(init: Initializer, fd: number, offsetNow: () => number, advance: (n: number) => void): object {
  // Scalars and shape vectors stay inline (ONNX Runtime reads them at graph build time); weights go out.
  if (init.data.byteLength < 1024) return tensorProto(init);
  const offset = Math.ceil(offsetNow() / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
  writeSync(fd, init.data, 0, init.data.byteLength, offset);
  advance(offset + init.data.byteLength);
  return {
    name: init.name, dims: init.shape, data_type: ONNX_DTYPE[init.dtype as keyof typeof ONNX_DTYPE], data_location: 1,
    external_data: [
      { key: 'location', value: EXTERNAL_DATA_FILE }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(init.data.byteLength) },
    ],
  };
}

/**
 * `densekit export --format onnx` as a library call: a model folder or Hub id -> `opts.output` with model.onnx,
 * the tokenizer files and densekit-onnx.json. The folder appears complete or not at all.
 */
export async function exportOnnx(modelDirOrId: string, opts: OnnxExportOptions): Promise<OnnxExportResult> {
  const weightsDtype = opts.weightsDtype ?? 'fp32';
  if (!ONNX_WEIGHTS_DTYPES.includes(weightsDtype)) throw new UsageError(`weights dtype must be one of ${ONNX_WEIGHTS_DTYPES.join('|')}, got '${weightsDtype}'`);
  if (opts.quantize !== undefined && opts.quantize !== 'int8') throw new UsageError(`quantize must be int8, got '${opts.quantize}'`, { param: 'quantize' });
  if (opts.quantize && weightsDtype !== 'fp32') throw new UsageError(`quantize int8 starts from fp32 weights; drop weights dtype ${weightsDtype}`, { param: 'quantize' });
  const src = await ensureModel(modelDirOrId, opts);
  opts.log?.(`${src}: recording the ONNX graph (weights ${weightsDtype})`);
  // Reading the checkpoint is the long part for GTR-XL/XXL (GBs): a byte count on a terminal while it streams in.
  const progress = new Progress({ label: 'weights read', bytes: true });
  const { recorder, encoder } = recordModel(src, weightsDtype, (n) => progress.tick(n));
  progress.finish();
  const out = resolve(opts.output);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(tmp);
  try {
    let sizes = writeOnnxModel(recorder, tmp, { threshold: opts.externalDataThreshold, docString: `exported by densekit from ${modelDirOrId}` });
    let int8: Int8Export | undefined;
    if (opts.quantize === 'int8') {
      // The fp32 file just written is the reference the int8 graph is measured against, then replaced by it.
      opts.log?.(`${src}: quantizing weights to int8 and comparing with fp32`);
      const info = { model: modelDirOrId, dim: encoder.dim, similarity: encoder.similarity };
      int8 = await quantizeForExport(modelObject(recorder, undefined, `exported by densekit from ${modelDirOrId}, int8`), serializeModel, encoder.input, info, { reference: join(tmp, 'model.onnx') });
      if (int8.bytes.byteLength > (opts.externalDataThreshold ?? DEFAULT_EXTERNAL_DATA_THRESHOLD))
        throw new UsageError(`the int8 model is ${int8.bytes.byteLength} bytes, over the ${DEFAULT_EXTERNAL_DATA_THRESHOLD}-byte limit of one ONNX file; int8 with external data is not supported yet`, { param: 'quantize' });
      rmSync(join(tmp, EXTERNAL_DATA_FILE), { force: true });
      writeFileAtomicSync(join(tmp, 'model.onnx'), int8.bytes);
      sizes = { modelBytes: int8.bytes.byteLength, externalDataBytes: 0 };
    }
    const tokDir = tokenizerDir(src);
    for (const name of TOKENIZER_FILES) {
      const file = join(tokDir, name);
      if (existsSync(file)) writeFileAtomicSync(join(tmp, name), readFileSync(file));
    }
    const spec = encoder.spec;
    const pooling = spec.modules.find((m) => m.kind === 'Pooling');
    const manifest: OnnxManifest = {
      format: 'densekit-onnx', version: 1, model: modelDirOrId, modelDigest: await folderDigest(src),
      architecture: encoder.config.modelType,
      pooling: pooling?.kind === 'Pooling' ? pooling.mode : { cls: false, max: false, mean: true, meanSqrtLen: false },
      dense: spec.modules.flatMap((m) => (m.kind === 'Dense' ? [{ inFeatures: m.inFeatures, outFeatures: m.outFeatures, bias: m.bias, activation: m.activation }] : [])),
      normalize: encoder.normalize, similarity: encoder.similarity, dim: encoder.dim, hiddenSize: encoder.transformer.hiddenSize,
      maxLength: encoder.maxLength, prompts: { ...encoder.input.prompts }, lowercase: encoder.input.lowercase, padId: encoder.tokenizer.padId,
      opset: OPSET, weightsDtype, inputs: recorder.inputs, outputs: recorder.outputs,
      externalData: sizes.externalDataBytes > 0 ? EXTERNAL_DATA_FILE : null,
      quantization: int8 ? 'int8' : 'none',
    };
    writeFileAtomicSync(join(tmp, 'densekit-onnx.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    replaceDirectory(tmp, out);
    return { dir: out, ...sizes, nodes: recorder.nodes.length, initializers: recorder.initializers.length, manifest, ...(int8 ? { int8 } : {}) };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
