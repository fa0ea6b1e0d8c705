/**
 * What `densekit export --quantize int8` reports: how close the int8 graph's vectors are to the fp32 graph's,
 * as cosine per text (min and mean) over a sample, both run by ONNX Runtime with the export's own tokenizer
 * settings. The sample is fixed (below) unless the caller gives texts, so two exports report comparable figures.
 */
import type { ModelInput } from '../../models/model-input.js';
import type { Similarity, TextKind } from '../../retrieval/types.js';
import { OnnxTextEncoder } from './engine.js';
import { quantizeDynamicInt8, type ModelProtoLike, type QuantizeReport } from './quantize-int8.js';

/** Queries and passages of retrieval-like lengths and scripts (accents, digits, punctuation, a long one). */
export const INT8_SAMPLE_TEXTS: readonly string[] = [
  'what is the capital of france',
  'how do vaccines train the immune system',
  'symptoms of vitamin d deficiency in adults',
  'Paris is the capital and most populous city of France, on the Seine.',
  'Dense retrieval encodes queries and passages into one vector space and ranks passages by inner product.',
  'The mitochondrion is the powerhouse of the cell; it produces ATP through oxidative phosphorylation.',
  'Zürich, 1999: naïve café prices rose 12% while the franc held steady against the mark.',
  'BM25 scores a document by term frequency, inverse document frequency and document length normalization.',
  'a',
  'Transformers replaced recurrent networks in machine translation after 2017 because attention parallelizes over positions, and pre-training on large corpora followed soon after, giving BERT, T5 and their descendants.',
  'Randomized controlled trials remain the strongest evidence for treatment effects in clinical medicine.',
  'How many moons does Jupiter have?',
];

export interface Int8Agreement {
  texts: number;
  min: number;
  mean: number;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa === 0 && bb === 0 ? 1 : ab / Math.sqrt(aa * bb);
}

/** Cosine of int8 to fp32 vectors, text by text (one text per batch: no batch-wide activation scale shared). */
export async function int8Agreement(
  fp32: Uint8Array | string, int8: Uint8Array, input: ModelInput, info: { model: string; dim: number; similarity: Similarity },
  texts: readonly string[] = INT8_SAMPLE_TEXTS, kind: TextKind = 'passage', threads?: number,
): Promise<Int8Agreement> {
  const opts = { batchSize: 1, ...(threads ? { threads } : {}) };
  const a = await OnnxTextEncoder.fromBytes(fp32, input, { ...info, quantization: 'none' }, opts);
  const b = await OnnxTextEncoder.fromBytes(int8, input, { ...info, quantization: 'int8' }, opts);
  try {
    const [va, vb] = [(await a.encode(texts, kind)).vectors, (await b.encode(texts, kind)).vectors];
    let min = 1, sum = 0;
    for (let i = 0; i < texts.length; i++) {
      const c = cosine(va.subarray(i * info.dim, (i + 1) * info.dim), vb.subarray(i * info.dim, (i + 1) * info.dim));
      min = Math.min(min, c);
      sum += c;
    }
    return { texts: texts.length, min, mean: sum / texts.length };
  } finally {
    await a.close();
    await b.close();
  }
}

export interface Int8Export {
  /** The int8 model.onnx. */
  bytes: Uint8Array;
  report: QuantizeReport;
  agreement: Int8Agreement;
}

/**
 * `--quantize int8` at export: quantizes `model` in place (quantizeDynamicInt8) and measures the result against the
 * fp32 graph it came from (`opts.reference`, a model.onnx path, or `model` itself before the pass). `serialize` is the
 * exporter's ModelProto writer.
 */
export async function quantizeForExport(
  model: ModelProtoLike, serialize: (m: ModelProtoLike) => Uint8Array, input: ModelInput,
  info: { model: string; dim: number; similarity: Similarity }, opts: { texts?: readonly string[]; threads?: number; reference?: string } = {},
): Promise<Int8Export> {
  // The fp32 reference: a file already written (it may hold external data), else this model before the pass.
  const fp32 = opts.reference ?? serialize(model);
  const report = quantizeDynamicInt8(model);
  const bytes = serialize(model);
  const agreement = await int8Agreement(fp32, bytes, input, info, opts.texts ?? INT8_SAMPLE_TEXTS, 'passage', opts.threads);
  return { bytes, report, agreement };
}

/** The line `densekit export --quantize int8` prints. */
export function describeInt8(e: Int8Export): string {
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  return `int8: ${e.report.quantized} MatMul/Gemm weights quantized (${mb(e.report.floatBytes)} MiB fp32 -> ${mb(e.report.int8Bytes)} MiB int8); cosine to fp32 on ${e.agreement.texts} texts: min ${e.agreement.min.toFixed(6)}, mean ${e.agreement.mean.toFixed(6)}`;
}
