/** Turning text into vectors: the encoder handle other layers use, and the sharded encode job. */
import { SentenceEncoder, type EncoderOptions } from '../models/index.js';

export { runEncodeJob, type EncodeJobOptions, type EncodeSummary } from './job.js';
export { readTextRecords, guessKind, type TextRecord } from './input.js';
export * from './shards.js';

/** What search and serving need of a model: vectors for queries (and passages), nothing about tensors. */
export interface TextEncoder {
  readonly dim: number;
  readonly similarity: 'dot' | 'cosine';
  encodeQueries(texts: string[]): Promise<Float32Array>;
  encodePassages(texts: string[]): Promise<Float32Array>;
  close(): void;
}

export async function openEncoder(model: string, opts: EncoderOptions & { batchSize?: number } = {}): Promise<TextEncoder> {
  const enc = await SentenceEncoder.fromPretrained(model, opts);
  const batchSize = opts.batchSize ?? 32;
  return {
    dim: enc.dim,
    similarity: enc.similarity,
    encodeQueries: (texts) => enc.encodeQueries(texts, { batchSize }),
    encodePassages: (texts) => enc.encodePassages(texts, { batchSize }),
    close: () => enc.dispose(),
  };
}
